"""`leerkring teams-package`: a zip Teams accepts, with the RSC permission and proper icons."""

from __future__ import annotations

import json
import re
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from jsonschema import Draft4Validator

from bot.cli import main
from handlers.features import build_router
from tests.bot.teams.conftest import TeamsServer
from tests.support.teams_standin import APP_ID, message


def build(tmp_path: Path, *args: str) -> zipfile.ZipFile:
    out = tmp_path / "leerkring-teams.zip"
    result = CliRunner().invoke(
        main, ["teams-package", "--app-id", APP_ID, "--out", str(out), *args]
    )
    assert result.exit_code == 0, result.output
    assert str(out) in result.output
    return zipfile.ZipFile(out)


def decode_png(data: bytes) -> tuple[int, int, list[tuple[int, int, int, int]]]:
    """Width, height and RGBA pixels of an 8-bit RGBA PNG without row filters."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, {}
    idat = b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        if kind == b"IDAT":
            idat += body
        chunks[kind] = body
        position += 12 + length
    width, height, depth, color_type, *_ = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, color_type) == (8, 6)
    raw = zlib.decompress(idat)
    pixels = []
    stride = 1 + width * 4
    for y in range(height):
        row = raw[y * stride : (y + 1) * stride]
        assert row[0] == 0
        pixels.extend(struct.iter_unpack("BBBB", row[1:]))
    return width, height, pixels


def test_the_package_holds_a_manifest_and_two_icons(tmp_path: Path) -> None:
    package = build(tmp_path)
    assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
    manifest: dict[str, Any] = json.loads(package.read("manifest.json"))
    assert manifest["manifestVersion"] == "1.19"
    assert manifest["$schema"].endswith("/v1.19/MicrosoftTeams.schema.json")
    assert manifest["id"] == APP_ID
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert re.fullmatch(r"#[0-9A-F]{6}", manifest["accentColor"])


def test_the_bot_is_declared_for_teams_chats_and_personal_use(tmp_path: Path) -> None:
    manifest = json.loads(build(tmp_path).read("manifest.json"))
    (bot,) = manifest["bots"]
    assert bot["botId"] == APP_ID
    assert set(bot["scopes"]) == {"team", "groupChat", "personal"}
    (commands,) = bot["commandLists"]
    assert set(commands["scopes"]) == {"team", "groupChat", "personal"}
    titles = [c["title"] for c in commands["commands"]]
    assert titles[0] == "casus"
    # Every command the router knows, except "leerkring": in Teams that is a word for help.
    assert set(titles) == set(build_router().commands) - {"leerkring"}
    assert len(titles) == len(set(titles))
    for command in commands["commands"]:
        assert 0 < len(command["title"]) <= 32
        assert 0 < len(command["description"]) <= 128


def test_replies_reach_the_bot_through_the_rsc_permission(tmp_path: Path) -> None:
    manifest = json.loads(build(tmp_path).read("manifest.json"))
    permissions = manifest["authorization"]["permissions"]["resourceSpecific"]
    assert {"name": "ChannelMessage.Read.Group", "type": "Application"} in permissions
    assert manifest["webApplicationInfo"]["id"] == APP_ID


def test_developer_names_and_descriptions_fit_teams(tmp_path: Path) -> None:
    manifest = json.loads(
        build(tmp_path, "--developer", "Gemeente Oost", "--privacy-url", "https://oost.nl/p").read(
            "manifest.json"
        )
    )
    developer = manifest["developer"]
    assert developer["name"] == "Gemeente Oost"
    assert developer["privacyUrl"] == "https://oost.nl/p"
    for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
        assert developer[key].startswith("https://")
    assert 0 < len(manifest["name"]["short"]) <= 30
    assert 0 < len(manifest["name"]["full"]) <= 100
    assert 0 < len(manifest["description"]["short"]) <= 80
    assert 0 < len(manifest["description"]["full"]) <= 4000
    assert "casus" in manifest["description"]["full"]


def test_descriptions_follow_the_language(tmp_path: Path) -> None:
    english = json.loads(build(tmp_path, "--language", "en").read("manifest.json"))
    assert english["description"]["short"].startswith("Learning together")
    assert english["bots"][0]["commandLists"][0]["commands"][0]["description"].startswith("Bring")


def test_the_icons_have_the_sizes_and_colours_teams_requires(tmp_path: Path) -> None:
    package = build(tmp_path)
    width, height, color = decode_png(package.read("color.png"))
    assert (width, height) == (192, 192)
    assert all(alpha == 255 for *_, alpha in color)  # a full, opaque square
    assert len(set(color)) > 1
    width, height, outline = decode_png(package.read("outline.png"))
    assert (width, height) == (32, 32)
    drawn = [p for p in outline if p[3] > 0]
    assert drawn and len(drawn) < len(outline)  # white shapes on a transparent background
    assert all(p[:3] == (255, 255, 255) for p in drawn)
    assert all(p == (0, 0, 0, 0) for p in outline if p[3] == 0)


@pytest.mark.parametrize(
    "args,message",
    [
        (["--app-id", "niet-een-guid"], "GUID"),
        (["--app-id", APP_ID, "--website-url", "http://plain.example"], "https"),
    ],
)
def test_bad_options_fail_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "x.zip"
    result = CliRunner().invoke(main, ["teams-package", *args, "--out", str(out)])
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()


# --- issue #12, item 11 ----------------------------------------------------------------------

SCHEMA_DIR = Path(__file__).parent / "schema"


def microsoft_schema(version: str) -> dict[str, Any]:
    """Microsoft's published manifest schema for ``version``, vendored (schema/SOURCE.md)."""
    path = SCHEMA_DIR / f"MicrosoftTeams.v{version}.schema.json"
    assert path.exists(), f"vendor the v{version} schema into {SCHEMA_DIR} (see SOURCE.md)"
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize(
    "developer",
    [
        [],
        ["--developer", "x" * 32],
        ["--developer", "Gemeente Súdwest-Fryslân", "--privacy-url", "https://sudwest.nl/p"],
    ],
    ids=["default", "longest-name", "accents"],
)
def test_the_manifest_is_valid_against_microsofts_schema_for_its_version(
    tmp_path: Path, language: str, developer: list[str]
) -> None:
    manifest = json.loads(build(tmp_path, "--language", language, *developer).read("manifest.json"))
    schema = microsoft_schema(manifest["manifestVersion"])
    assert manifest["$schema"].endswith(
        f"/v{manifest['manifestVersion']}/MicrosoftTeams.schema.json"
    )
    validator = Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(manifest)]
    assert errors == []


def test_the_vendored_schema_catches_what_teams_refuses() -> None:
    """The check has teeth: a manifest over Teams' limits fails the same schema."""
    from bot.teams.package import manifest as make_manifest

    good = make_manifest(APP_ID)
    validator = Draft4Validator(microsoft_schema(good["manifestVersion"]))
    for path, value in (
        (("developer", "name"), "x" * 33),
        (("name", "short"), "x" * 31),
        (("bots", 0, "commandLists", 0, "commands", 0, "title"), "x" * 33),
        (("bots", 0, "supportsFiles"), "yes"),
    ):
        bad = json.loads(json.dumps(good))
        target: Any = bad
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        assert list(validator.iter_errors(bad)), path


def test_the_bot_supports_files_for_consent_cards(tmp_path: Path) -> None:
    manifest = json.loads(build(tmp_path).read("manifest.json"))
    assert manifest["bots"][0]["supportsFiles"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--developer", "Gemeente Súdwest-Fryslân en Omstreken"], "--developer"),
        (["--developer", "   "], "--developer"),
        (["--privacy-url", "https://p.example/" + "x" * 2048], "--privacy-url"),
    ],
    ids=["developer-33-plus", "developer-blank", "long-url"],
)
def test_over_long_options_fail_with_one_friendly_line_and_no_file(
    tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "x.zip"
    result = CliRunner().invoke(
        main, ["teams-package", "--app-id", APP_ID, *args, "--out", str(out)]
    )
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith("leerkring: ") and message in line
    assert "Traceback" not in result.output
    assert not out.exists()


async def test_every_listed_command_is_one_the_bot_answers_in_teams(
    teams: TeamsServer, tmp_path: Path
) -> None:
    manifest = json.loads(build(tmp_path).read("manifest.json"))
    titles = [c["title"] for c in manifest["bots"][0]["commandLists"][0]["commands"]]
    unknown = "ken ik niet"  # teams.unknown_command
    for title in titles:
        before = len(teams.connector.sent)
        status, _ = await teams.post(message(teams.connector.url, title, kind="personal"))
        assert status == 200
        answers = teams.connector.sent[before:]
        assert answers, title
        assert unknown not in json.dumps([a.body for a in answers], ensure_ascii=False), title
