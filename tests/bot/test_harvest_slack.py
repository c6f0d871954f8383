"""/oogsten on Slack, end to end: signed requests into the running server, the loopback Web API
stand-in (including files_upload_v2's three steps), on SQLite and PostgreSQL. Plus Block Kit
validity of the summary card on large data, with slack_sdk's own models."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from sqlalchemy import select

from bot.slack import render
from handlers.casus.harvest import CasusCounts, CasusHarvest, CasusItem
from handlers.core.sections import SourceSection
from handlers.harvest.chat import summary_card
from handlers.harvest.periods import parse_period
from handlers.harvest.queries import Link
from handlers.harvest.report import Harvest
from handlers.reflection.harvest import (
    AnswerLine,
    Leervraag,
    ReflectionCounts,
    ReflectionHarvest,
    Response,
    SuccessGroup,
)
from prompts import load_texts
from storage.models import HarvestLog
from tests.bot.slack.test_casus_flow import post
from tests.conftest import RunningServer
from tests.support.harvest_seed import HOSTILE_TITLE, NOW, PRIVATE_SUCCESS, seed_story
from tests.support.signing import block_action, command_body, interactive_body


def valid_blocks(blocks: list[dict[str, Any]]) -> None:
    assert 0 < len(blocks) <= render.MAX_BLOCKS
    for block in blocks:
        Block.parse(block).validate_json()  # type: ignore[union-attr]
        if block["type"] == "section" and "text" in block:
            assert 0 < len(block["text"]["text"]) <= render.MAX_SECTION


async def wait_for_response(server: RunningServer, key: str, count: int = 1) -> list[Any]:
    for _ in range(1000):
        found = [body for k, body in server.slack.responses if k == key]
        if len(found) >= count:
            return found
        await asyncio.sleep(0.01)
    raise AssertionError(f"no response_url post for {key}: {server.slack.responses}")


def section_text(blocks: list[dict[str, Any]]) -> str:
    out = []
    for block in blocks:
        if block["type"] == "section":
            out.append(block["text"]["text"])
            out.extend(f["text"] for f in block.get("fields", []))
        elif block["type"] in ("context", "header"):
            items = block.get("elements") or [block.get("text")]
            out.extend(str(e.get("text", "")) for e in items)
    return "\n".join(out)


async def test_oogsten_gives_a_private_summary_and_the_report_files(
    server: RunningServer,
) -> None:
    seed_story(server.database)
    # The server's clock is real; the story lies in 2026, so ask for its period explicitly.
    respond = server.slack.response_base + "oogst"
    status, text = await post(
        server,
        command_body(
            "/oogsten", "2026-09-04..2026-10-15", user="UFAC01", channel="C1", response_url=respond
        ),
    )
    assert status == 200, text
    ack = json.loads(text)
    assert ack["response_type"] == "ephemeral"
    assert "04-09-2026 – 15-10-2026" in ack["text"]

    (summary,) = await wait_for_response(server, "oogst")
    assert summary["response_type"] == "ephemeral"
    blocks = summary["blocks"]
    valid_blocks(blocks)
    shown = section_text(blocks)
    assert "Oogst 04-09-2026 – 15-10-2026" in shown
    assert "4 ingebracht · 1 afgerond · 4 open" in shown
    assert "6 bijdragen van 4 mensen" in shown and "4 deelnemers uit 3 organisaties" in shown
    assert "Vertrouwen groeit als ik kleine afspraken nakom." in shown
    assert PRIVATE_SUCCESS not in shown
    # The hostile title is escaped: no live <!channel>, no markup.
    assert "<!channel>" not in json.dumps(blocks) and "&lt;!channel&gt;" in shown
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert [b["action_id"] for b in buttons] == ["oogsten_deel"]

    # files_upload_v2: a URL per file, the bytes to that URL, then one completion each.
    completions = await server.slack.wait_for("files.completeUploadExternal", 2)
    assert [c["users"] for c in server.slack.calls_to("conversations.open")] == ["UFAC01"]
    assert {c["channel_id"] for c in completions} == {"DUFAC01"}
    names = [c["filename"] for c in server.slack.calls_to("files.getUploadURLExternal")]
    assert names[0].endswith(".html") and names[1].endswith(".png")
    html_bytes, png_bytes = (server.slack.uploads[f"F{i:08d}"] for i in (1, 2))
    page = html_bytes.decode("utf-8")
    assert page.startswith("<!DOCTYPE html>") and "data:image/png;base64," in page
    assert "Vader met gokschulden" in page and "&lt;script&gt;" in page
    assert png_bytes.startswith(b"\x89PNG")
    sizes = [int(c["length"]) for c in server.slack.calls_to("files.getUploadURLExternal")]
    assert sizes == [len(html_bytes), len(png_bytes)]
    titles = [json.loads(c["files"])[0]["title"] for c in completions]
    assert titles == [
        "Oogstverslag 04-09-2026 – 15-10-2026 (het volledige verslag, om te bewaren)",
        "Oogstgrafiek 04-09-2026 – 15-10-2026 (de activiteit per week, als afbeelding)",
    ]

    with server.database.session() as session:
        logs = session.scalars(select(HarvestLog)).all()
        assert [(lg.requested_by, lg.output) for lg in logs] == [("slack:UFAC01", "chat,html,png")]
        log_id = logs[0].id
    assert buttons[0]["value"] == f"{log_id}@C1"  # shares where /oogsten was typed

    # "Deel in het kanaal": the summary is posted in the channel, without the button.
    before = len(server.slack.calls_to("chat.postMessage"))
    status, _ = await post(
        server,
        interactive_body(
            block_action("oogsten_deel", buttons[0]["value"], user="UFAC01", channel="C1")
        ),
    )
    assert status == 200
    posted = (await server.slack.wait_for("chat.postMessage", before + 1))[-1]
    assert posted["channel"] == "C1"
    valid_blocks(posted["blocks"])
    assert "actions" not in {b["type"] for b in posted["blocks"]}
    assert "Gedeeld door <@UFAC01>" in section_text(posted["blocks"])


async def test_oogsten_refuses_non_facilitators_and_explains_bad_periods(
    server: RunningServer,
) -> None:
    seed_story(server.database)
    status, text = await post(server, command_body("/oogsten", "", user="U2"))
    assert status == 200
    assert "begeleiders" in json.loads(text)["text"]
    status, text = await post(server, command_body("/oogsten", "ooit eens", user="UFAC01"))
    reply = json.loads(text)["text"]
    assert "ooit eens" in reply and "sinds 1 september" in reply
    await asyncio.sleep(0.2)
    assert server.slack.calls_to("files.getUploadURLExternal") == []
    with server.database.session() as session:
        assert session.scalars(select(HarvestLog)).all() == []


async def test_an_empty_period_is_a_friendly_notice_without_files(server: RunningServer) -> None:
    respond = server.slack.response_base + "leeg"
    status, _ = await post(
        server,
        command_body("/oogsten", "vorige maand", user="UFAC01", response_url=respond),
    )
    assert status == 200
    (notice,) = await wait_for_response(server, "leeg")
    assert "nog niets te oogsten" in notice["text"]
    assert server.slack.calls_to("files.getUploadURLExternal") == []


# --- Block Kit limits on large data --------------------------------------------------------------


def big_harvest() -> Harvest:
    long = "Een lange tekst met <tekens> & *sterren* _lijnen_ " * 60
    title = ("Titel met <!here> & " * 10)[:150]
    casussen = tuple(
        CasusItem(
            id=i,
            title=title,
            status="closed" if i % 2 else "open",
            channel="casuistiek",
            inbrenger="Naam " * 30,
            organisation="Organisatie " * 10,
            created_at=NOW - timedelta(days=i),
            closed_at=NOW if i % 2 else None,
            perspectives=("jeugd", "schulden", "ggz"),
            contributions=0 if i % 4 == 0 else i,
            contributing_organisations=("A", "B"),
            insight=long,
            next_step=long,
        )
        for i in range(200)
    )
    successes = tuple(
        SuccessGroup(
            run_id=i,
            kind="wat-ging-goed",
            channel="casuistiek",
            fired_at=NOW,
            private=False,
            respondents=15,
            responses=tuple(
                Response(
                    "Naam", "Org", NOW, (AnswerLine("goed", long), AnswerLine("bijdrage", long))
                )
                for _ in range(15)
            ),
        )
        for i in range(12)
    )
    casus = CasusHarvest(
        casus=CasusCounts(20000, 15000, 5000, 1200, 200000, 4000),
        casussen=casussen,
        casussen_total=20000,
        perspectives=tuple((p.id, 100) for p in load_texts("nl").perspectives),
    )
    reflection = ReflectionHarvest(
        reflection=ReflectionCounts((("wat-ging-goed", 40000),), 3000, 40000, 9000, 4000),
        successes=successes,
        leervragen=tuple(
            Leervraag(i, "Naam", "Org", NOW, long, bool(i % 2), False) for i in range(100)
        ),
    )
    return Harvest(
        period=parse_period("afgelopen 2 jaar", NOW),
        channel="kanaal-met-een-hele-lange-naam-" * 5,
        generated_at=NOW,
        sections=(
            SourceSection(key="casus", title="Casussen", payload=casus),
            SourceSection(key="reflection", title="Reflectie", payload=reflection),
        ),
        participants=tuple((f"Organisatie {i}", 100 + i) for i in range(30)),
        links=tuple(Link(f"Organisatie {i}", f"Organisatie {i + 1}", 50, 10) for i in range(29)),
        activity=(),
        keywords=tuple(f"trefwoord{i} <b>&" for i in range(12)),
        summary=long,
    )


def with_payloads(harvest: Harvest, **changes: Any) -> Harvest:
    """The harvest with fields of its sections' payloads replaced (e.g. ``casussen``)."""
    sections = []
    for section in harvest.sections:
        own = {k: v for k, v in changes.items() if hasattr(section.payload, k)}
        payload = replace(section.payload, **own) if own else section.payload
        sections.append(replace(section, payload=payload))
    rest = {k: v for k, v in changes.items() if k in {"summary", "keywords"}}
    return replace(harvest, sections=tuple(sections), **rest)


def test_summary_card_stays_within_block_kit_limits_on_large_data() -> None:
    for language in ("nl", "en"):
        texts = load_texts(language)
        harvest = big_harvest()
        for kwargs in ({"share_id": 123456}, {"share_id": None, "shared_by": "UFAC01"}):
            card = summary_card(harvest, texts, zone="Europe/Amsterdam", **kwargs)  # type: ignore[arg-type]
            rendered = render.render_card(card)
            assert rendered.overflow == []  # everything fits in one message
            valid_blocks(rendered.blocks)
            assert len(rendered.text) <= 3000
            assert "<!here>" not in json.dumps(rendered.blocks)
        empty = with_payloads(harvest, casussen=(), successes=(), summary=None, keywords=())
        valid_blocks(render.render_card(summary_card(empty, texts, zone="UTC", share_id=1)).blocks)


def test_hostile_title_never_reaches_block_kit_unescaped() -> None:
    harvest = with_payloads(
        big_harvest(),
        casussen=tuple(replace(c, title=HOSTILE_TITLE) for c in big_harvest().casussen[:4]),
    )
    rendered = render.render_card(
        summary_card(harvest, load_texts("nl"), zone="Europe/Amsterdam", share_id=1)
    )
    dumped = json.dumps(rendered.blocks)
    assert "<script>" not in dumped and "<!channel>" not in dumped


async def test_oogsten_of_one_channel_named_the_slack_way(server: RunningServer) -> None:
    seed_story(server.database)
    respond = server.slack.response_base + "kanaal"
    status, text = await post(
        server,
        command_body(
            "/oogsten",
            "<#C2|jeugd> 2026-09-04..2026-10-15",
            user="UFAC01",
            channel="C1",
            response_url=respond,
        ),
    )
    assert status == 200 and "#jeugd" in json.loads(text)["text"]
    (summary,) = await wait_for_response(server, "kanaal")
    valid_blocks(summary["blocks"])
    shown = section_text(summary["blocks"])
    assert "#jeugd" in shown and "1 ingebracht · 0 afgerond · 1 open" in shown
    await server.slack.wait_for("files.completeUploadExternal", 2)
    names = [c["filename"] for c in server.slack.calls_to("files.getUploadURLExternal")]
    assert names[0].startswith("oogst-jeugd-20260904-20261015")
    with server.database.session() as session:
        (log,) = session.scalars(select(HarvestLog)).all()
        assert log.channel_ref == "slack:C2"


async def test_a_refused_upload_still_leaves_the_summary(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    seed_story(server.database)
    server.slack.fail["files.getUploadURLExternal"] = "missing_scope"
    respond = server.slack.response_base + "zonder-bestand"
    status, _ = await post(
        server,
        command_body("/oogsten", "2026-09-04..2026-10-15", user="UFAC01", response_url=respond),
    )
    assert status == 200
    (summary,) = await wait_for_response(server, "zonder-bestand")
    assert "4 ingebracht" in section_text(summary["blocks"])
    await server.slack.wait_for("files.getUploadURLExternal", 2)
    assert (
        server.slack.uploads == {} and server.slack.calls_to("files.completeUploadExternal") == []
    )
    for _ in range(100):
        if "file upload failed: missing_scope" in caplog.text:
            break
        await asyncio.sleep(0.01)
    assert "file upload failed: missing_scope" in caplog.text
