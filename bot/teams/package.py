"""The Teams app package: ``manifest.json`` with the bot, its commands and the RSC permission
to read channel messages, plus the two icons Teams requires, drawn here so the package needs
no binary files in the repository."""

from __future__ import annotations

import io
import json
import math
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from prompts import load_texts

MANIFEST_VERSION = "1.19"
SCHEMA = f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
SCOPES = ["team", "groupChat", "personal"]
# Replies under a casus reach the bot without an @mention only with this consent.
RSC_PERMISSIONS = ["ChannelMessage.Read.Group"]
ACCENT = (0x1F, 0x6F, 0x78)
# Teams' limits (manifest schema v1.19), checked before anything is written: Teams refuses a
# package that exceeds one, at upload, with a message that does not say which.
MAX_DEVELOPER_NAME = 32
MAX_URL = 2048
MAX_NAME_SHORT, MAX_NAME_FULL = 30, 100
MAX_DESCRIPTION_SHORT, MAX_DESCRIPTION_FULL = 80, 4000
MAX_COMMANDS, MAX_COMMAND_TITLE, MAX_COMMAND_DESCRIPTION = 10, 32, 128
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass(frozen=True)
class Developer:
    name: str = "Leerkring"
    website_url: str = "https://leerkring.example.org"
    privacy_url: str = "https://leerkring.example.org/privacy"
    terms_url: str = "https://leerkring.example.org/voorwaarden"


def manifest(
    app_id: str,
    *,
    language: str = "nl",
    developer: Developer = Developer(),
    version: str = "1.0.0",
) -> dict[str, Any]:
    if not _GUID.fullmatch(app_id):
        raise ValueError("the app id is the bot's Microsoft app registration id (a GUID)")
    if not developer.name.strip():
        raise ValueError("--developer: the publisher name cannot be empty")
    _fits("--developer", developer.name, MAX_DEVELOPER_NAME)
    for option, url in (
        ("--website-url", developer.website_url),
        ("--privacy-url", developer.privacy_url),
        ("--terms-url", developer.terms_url),
    ):
        if not url.startswith("https://"):
            raise ValueError(f"Teams requires https URLs for the developer fields: {url}")
        _fits(option, url, MAX_URL)
    from handlers.core.help import help_entries

    texts = load_texts(language)
    name = texts.get("general.bot_name")
    entries = help_entries(texts)  # the one source of /help (prompts/<taal>/texts-help.toml)
    commands = [
        {
            "title": command,
            "description": entries[command]["menu"]
            if command in entries
            else texts.get(f"teams.manifest.command_{command}"),
        }
        for command in teams_commands()
    ]
    if len(commands) > MAX_COMMANDS:
        raise ValueError(f"Teams lists at most {MAX_COMMANDS} commands, not {len(commands)}")
    full_name = f"{name}: {texts.get('teams.manifest.short_description')}"
    for what, value, limit in (
        ("the app name", name, MAX_NAME_SHORT),
        ("the full app name", full_name, MAX_NAME_FULL),
        ("the short description", texts.get("teams.manifest.short_description"),
         MAX_DESCRIPTION_SHORT),
        ("the full description", texts.get("teams.manifest.full_description"),
         MAX_DESCRIPTION_FULL),
        *((f"command {c['title']!r}", c["title"], MAX_COMMAND_TITLE) for c in commands),
        *((f"the description of {c['title']!r}", c["description"], MAX_COMMAND_DESCRIPTION)
          for c in commands),
    ):  # fmt: skip
        _fits(what, value, limit)
    return {
        "$schema": SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": app_id,
        "developer": {
            "name": developer.name,
            "websiteUrl": developer.website_url,
            "privacyUrl": developer.privacy_url,
            "termsOfUseUrl": developer.terms_url,
        },
        "name": {"short": name, "full": full_name},
        "description": {
            "short": texts.get("teams.manifest.short_description"),
            "full": texts.get("teams.manifest.full_description"),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [
            {
                "botId": app_id,
                "scopes": SCOPES,
                "isNotificationOnly": False,
                # File consent cards (/oogsten, mijn-gegevens) only work with this on.
                "supportsFiles": True,
                "supportsCalling": False,
                "supportsVideo": False,
                "commandLists": [
                    {
                        "scopes": SCOPES,
                        "commands": commands,
                    }
                ],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [],
        "webApplicationInfo": {"id": app_id},
        "authorization": {
            "permissions": {
                "resourceSpecific": [
                    {"name": permission, "type": "Application"} for permission in RSC_PERMISSIONS
                ]
            }
        },
    }


def teams_commands() -> list[str]:
    """Every command word a Teams user can type after @Leerkring: the router's commands, with
    the words Teams treats as help (``leerkring``, Slack's /leerkring) folded into ``help``."""
    from bot.teams.adapter import HELP_WORDS
    from handlers.features import build_router

    words = [c for c in build_router().commands if c == "help" or c not in HELP_WORDS]
    return sorted(words, key=lambda word: word != "casus")  # the first is what Teams suggests


def _fits(what: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise ValueError(f"{what}: Teams allows at most {limit} characters, this has {len(value)}")


def build_package(
    app_id: str, *, language: str = "nl", developer: Developer = Developer()
) -> bytes:
    """The zip to upload in Teams: manifest.json, color.png (192x192), outline.png (32x32)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        content = manifest(app_id, language=language, developer=developer)
        package.writestr("manifest.json", json.dumps(content, indent=2, ensure_ascii=False))
        package.writestr("color.png", color_icon())
        package.writestr("outline.png", outline_icon())
    return buffer.getvalue()


# --- icons --------------------------------------------------------------------------------------

Pixel = tuple[int, int, int, int]


def _png(size: int, pixel: Callable[[float, float], Pixel]) -> bytes:
    """An RGBA PNG; ``pixel`` gets coordinates scaled to 0..1."""
    rows = bytearray()
    for y in range(size):
        rows.append(0)  # filter: none
        for x in range(size):
            rows.extend(pixel((x + 0.5) / size, (y + 0.5) / size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def _circle_of_people(x: float, y: float, scale: float) -> bool:
    """Six heads in a ring around a centre: a kring of people. ``scale`` sizes the drawing."""
    cx, cy = x - 0.5, y - 0.5
    ring = 0.28 * scale
    head = 0.085 * scale
    for i in range(6):
        angle = math.pi / 2 + i * math.pi / 3
        hx, hy = ring * math.cos(angle), ring * math.sin(angle)
        if (cx - hx) ** 2 + (cy - hy) ** 2 <= head**2:
            return True
    return (cx * cx + cy * cy) <= (0.07 * scale) ** 2


def color_icon() -> bytes:
    """192x192, the full square in the accent colour with the drawing in white."""
    white: Pixel = (255, 255, 255, 255)
    accent: Pixel = (*ACCENT, 255)
    return _png(192, lambda x, y: white if _circle_of_people(x, y, 1.0) else accent)


def outline_icon() -> bytes:
    """32x32, white on transparent: Teams tints it for its own bars."""
    white: Pixel = (255, 255, 255, 255)
    clear: Pixel = (0, 0, 0, 0)
    return _png(32, lambda x, y: white if _circle_of_people(x, y, 1.25) else clear)
