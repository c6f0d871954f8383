"""/oogsten in Teams: the summary card and, through Teams' file consent, the HTML report and the
PNG chart. The consent cards carry the harvest's parameters (period, channel, language), never
its content; on *Toestaan* the file is made again from the database for that same request, for
the facilitator who asked and only while they are a facilitator, uploaded to the upload URL
Teams gives, and written to harvest_log. Every activity carries a Bot Framework JWT checked
against the loopback identity service; both databases."""

from __future__ import annotations

import base64
import json
import logging
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from handlers.core.context import Repositories
from storage.models import Casus, CasusStatus, Channel, HarvestLog, Member
from tests.bot.teams.conftest import TeamsServer
from tests.support.harvest_seed import PRIVATE_SUCCESS, seed_story
from tests.support.teams_standin import (
    CHANNEL,
    FILE_CONSENT,
    FILE_INFO,
    FLOOR,
    KARIM,
    OUTBOUND_TOKEN,
    IdentityStandIn,
    Sent,
    TeamsUser,
    card_submit,
    card_text,
    file_consent_invoke,
    message,
)

pytestmark = pytest.mark.usefixtures("outbound_token")
PERIOD = "2026-09-04..2026-10-15"
INSIGHT = "Vertrouwen groeit als ik kleine afspraken nakom."
TITLES = {
    "html": "Oogstverslag 04-09-2026 – 15-10-2026 (het volledige verslag, om te bewaren)",
    "png": "Oogstgrafiek 04-09-2026 – 15-10-2026 (de activiteit per week, als afbeelding)",
}


def seed(server: TeamsServer) -> None:
    """The harvest story, known by Teams, and Floor as a facilitator (by her member flag)."""
    seed_story(server.services.database, platform="teams")
    with server.services.database.session() as session:
        Repositories(session).members.ensure("teams", FLOOR.aad, FLOOR.name, facilitator=True)


async def signed(server: TeamsServer, identity: IdentityStandIn, activity: dict[str, Any]) -> None:
    status, text = await server.post(activity, token=identity.token(server.connector.url))
    assert status == 200, text


def answer(
    server: TeamsServer,
    context: dict[str, Any],
    action: str = "accept",
    *,
    upload: str,
    user: TeamsUser = FLOOR,
) -> dict[str, Any]:
    """The invoke Teams sends when ``user`` answers a consent card (the upload URL named
    ``upload`` at the connector stand-in)."""
    return file_consent_invoke(
        server.connector.url,
        context,
        action,
        upload_url=server.connector.upload_url(upload),
        user=user,
    )


def consents(server: TeamsServer) -> dict[str, Sent]:
    """The consent cards sent so far, by file type."""
    found = {}
    for sent in server.connector.messages():
        attachment = (sent.body.get("attachments") or [{}])[0]
        if attachment.get("contentType") == FILE_CONSENT:
            found[attachment["name"].rsplit(".", 1)[-1]] = sent
    return found


def context_of(consent: Sent, which: str = "acceptContext") -> dict[str, Any]:
    content: dict[str, Any] = consent.body["attachments"][0]["content"][which]
    return content


async def harvest_in_personal_chat(
    server: TeamsServer, identity: IdentityStandIn, text: str = PERIOD
) -> dict[str, Sent]:
    await signed(
        server,
        identity,
        message(server.connector.url, f"oogsten {text}", user=FLOOR, kind="personal"),
    )
    return consents(server)


def harvest_logs(server: TeamsServer) -> list[tuple[str, str | None, str]]:
    with server.services.database.session() as session:
        return [
            (row.requested_by, row.channel_ref, row.output)
            for row in session.scalars(select(HarvestLog).order_by(HarvestLog.id))
        ]


def figures(page: str) -> dict[str, int]:
    root = ET.fromstring(page.removeprefix("<!DOCTYPE html>\n"))
    return {
        li.attrib["data-key"]: int(li.findtext("b") or "")
        for li in root.iter("li")
        if "data-key" in li.attrib
    }


async def test_in_a_channel_the_summary_and_two_consent_cards_go_to_the_personal_chat(
    secured: TeamsServer, identity: IdentityStandIn
) -> None:
    seed(secured)
    secured.connector.members[CHANNEL] = [FLOOR.account(), KARIM.account()]
    await signed(
        secured,
        identity,
        message(secured.connector.url, f"oogsten {PERIOD}", user=FLOOR, mention_bot=True),
    )
    # In the channel's thread only "gathering…"; the rest in a new 1:1 chat with Floor.
    in_channel = [s for s in secured.connector.messages() if s.conversation_id.startswith(CHANNEL)]
    assert len(in_channel) == 1 and "verzamel de oogst" in card_text(in_channel[0].card)
    created = secured.connector.last("create")
    assert created.body["members"][0]["id"] == FLOOR.teams_id
    private = [s for s in secured.connector.messages() if s not in in_channel]
    assert private and all(s.conversation_id == created.response_id for s in private)
    summary = card_text(private[0].card)
    assert "Oogst 04-09-2026 – 15-10-2026" in summary and INSIGHT in summary
    assert PRIVATE_SUCCESS not in summary

    cards = consents(secured)
    assert sorted(cards) == ["html", "png"]
    html, png = cards["html"], cards["png"]
    assert html.authorization == f"Bearer {OUTBOUND_TOKEN}"
    assert html.body["attachments"][0]["name"] == "oogst-alle-kanalen-20260904-20261015.html"
    assert png.body["attachments"][0]["name"] == "oogst-alle-kanalen-20260904-20261015.png"
    # Each card names its own file: the report and the chart are told apart before consenting.
    descriptions = {}
    for card, fmt in ((html, "html"), (png, "png")):
        content = card.body["attachments"][0]["content"]
        assert content["sizeInBytes"] > 1000
        assert content["acceptContext"] == content["declineContext"]
        assert content["acceptContext"] == {
            "kind": "leerkring-file-1",
            "source": "oogsten",
            "user": FLOOR.aad,
            "filename": f"oogst-alle-kanalen-20260904-20261015.{fmt}",
            "title": TITLES[fmt],
            "args": {
                "format": fmt,
                "start": "2026-09-03T22:00:00+00:00",
                "end": "2026-10-15T22:00:00+00:00",
                "channel": "",
                "language": "nl",
            },
        }
        descriptions[fmt] = content["description"]
        assert f"‘{TITLES[fmt]}’" in descriptions[fmt] and "Toestaan" in descriptions[fmt]
        assert card.body["summary"] == descriptions[fmt]
    assert descriptions["html"] != descriptions["png"]
    # The offers carry parameters only: no report text, and nothing is uploaded yet.
    offers = json.dumps([html.body, png.body], ensure_ascii=False)
    assert "Vader met gokschulden" not in offers and INSIGHT not in offers
    assert secured.connector.uploads == []
    assert harvest_logs(secured) == [(f"teams:{FLOOR.aad}", None, "chat,html,png")]


async def test_shared_from_the_personal_chat_it_goes_to_the_channel_it_was_asked_in(
    secured: TeamsServer, identity: IdentityStandIn
) -> None:
    seed(secured)
    secured.connector.members[CHANNEL] = [FLOOR.account()]
    url = secured.connector.url
    await signed(secured, identity, message(url, f"oogsten {PERIOD}", user=FLOOR, mention_bot=True))
    created = secured.connector.last("create")
    summary = next(
        s
        for s in secured.connector.messages()
        if s.conversation_id == created.response_id and "Oogst 04-09" in card_text(s.card)
    )
    (share,) = [
        i for i, a in enumerate(summary.card["actions"]) if a["data"]["action_id"] == "oogsten_deel"
    ]
    assert summary.response_id is not None
    before = len(secured.connector.sent)
    await signed(
        secured,
        identity,
        card_submit(
            url, summary.card, summary.response_id, action=share, user=FLOOR, kind="personal"
        ),
    )
    sent = secured.connector.sent[before:]
    (posted,) = [s for s in sent if s.conversation_id == CHANNEL]
    shown = card_text(posted.card)
    assert "Oogst 04-09-2026 – 15-10-2026" in shown and "Gedeeld door" in shown
    # An all-channel harvest shared in one channel: figures, no quotes from elsewhere.
    assert INSIGHT not in shown and "actions" not in posted.card
    assert "staat nu in het kanaal" in secured.connector.everything()
    assert [output for *_, output in harvest_logs(secured)] == ["chat,html,png", "chat-shared"]


async def test_accept_makes_the_report_again_from_the_database_and_uploads_it(
    secured: TeamsServer, identity: IdentityStandIn
) -> None:
    seed(secured)
    cards = await harvest_in_personal_chat(secured, identity)
    # Stored after the offer, within the period: the report made on accept holds it.
    with secured.services.database.session() as session:
        channel = session.scalars(select(Channel).where(Channel.name == "casuistiek")).one()
        anna = session.scalars(select(Member).where(Member.display_name == "Anna")).one()
        session.add(
            Casus(
                channel_id=channel.id,
                inbrenger_id=anna.id,
                title="Na het aanbod ingebracht",
                situation="Situatie.",
                question="Vraag?",
                perspectives=["wonen"],
                status=CasusStatus.OPEN,
                created_at=datetime(2026, 10, 12, 9, 0, tzinfo=UTC),
                message_id="m-na",
            )
        )
    before = len(secured.connector.sent)
    await signed(
        secured,
        identity,
        answer(secured, context_of(cards["html"]), upload="r"),
    )
    (upload,) = secured.connector.uploads
    assert upload.name == "r"
    size = len(upload.body)
    assert upload.headers["Content-Range"] == f"bytes 0-{size - 1}/{size}"
    page = upload.body.decode("utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="nl">' in page
    root = ET.fromstring(page.removeprefix("<!DOCTYPE html>\n"))
    headings = [h.text for h in root.iter("h2")]
    for heading in ("Kerncijfers", "Casussen", "Successen", "Leervragen", "Samenwerking"):
        assert heading in headings
    assert "Thema's" in headings
    shown = figures(page)
    assert (shown["brought_in"], shown["closed"], shown["open"]) == (5, 1, 5)
    assert (shown["contributions"], shown["contributors"], shown["cross"]) == (6, 4, 5)
    assert (shown["people"], shown["organisations"]) == (4, 3)
    assert (shown["leervragen"], shown["addressed"]) == (2, 1)
    assert "Na het aanbod ingebracht" in page and "Vader met gokschulden" in page
    assert INSIGHT in page and "&lt;script&gt;" in page and "<script>" not in page
    (image,) = [img.attrib["src"] for img in root.iter("img")]
    assert base64.b64decode(image.split(",", 1)[1]).startswith(b"\x89PNG")

    (info,) = secured.connector.sent[before:]
    assert info.method == "reply" and info.conversation_id == FLOOR.personal_chat
    assert info.body["attachments"][0]["contentType"] == FILE_INFO
    assert info.body["attachments"][0]["contentUrl"].startswith("https://contoso.sharepoint.com/")

    await signed(
        secured,
        identity,
        answer(secured, context_of(cards["png"]), upload="g"),
    )
    assert [u.name for u in secured.connector.uploads] == ["r", "g"]
    assert secured.connector.uploads[1].body.startswith(b"\x89PNG")
    who = f"teams:{FLOOR.aad}"
    assert harvest_logs(secured) == [
        (who, None, "chat,html,png"),
        (who, None, "file-html"),
        (who, None, "file-png"),
    ]
    with secured.services.database.session() as session:
        periods = {(r.period_start, r.period_end) for r in session.scalars(select(HarvestLog))}
    assert periods == {
        (datetime(2026, 9, 3, 22, 0, tzinfo=UTC), datetime(2026, 10, 15, 22, 0, tzinfo=UTC))
    }


async def test_a_harvest_of_one_channel_is_made_again_for_that_channel(
    secured: TeamsServer, identity: IdentityStandIn
) -> None:
    seed(secured)
    cards = await harvest_in_personal_chat(secured, identity, f"#jeugd {PERIOD}")
    context = context_of(cards["html"])
    assert context["args"]["channel"] == "teams:C2"
    assert context["filename"] == "oogst-jeugd-20260904-20261015.html"
    invoke = answer(secured, context, upload="j")
    await signed(secured, identity, invoke)
    (upload,) = secured.connector.uploads
    page = upload.body.decode("utf-8")
    shown = figures(page)
    assert (shown["brought_in"], shown["contributions"]) == (1, 0)
    assert "Jongere &lt;script&gt;" in page and "Vader met gokschulden" not in page
    assert harvest_logs(secured)[-1] == (f"teams:{FLOOR.aad}", "teams:C2", "file-html")


async def test_someone_else_accepting_the_card_gets_nothing(
    secured: TeamsServer, identity: IdentityStandIn
) -> None:
    seed(secured)
    cards = await harvest_in_personal_chat(secured, identity)
    invoke = answer(secured, context_of(cards["html"]), upload="k", user=KARIM)
    await signed(secured, identity, invoke)
    assert secured.connector.uploads == []
    notice = secured.connector.sent[-1]
    assert notice.conversation_id == KARIM.personal_chat
    assert "iemand anders" in card_text(notice.card)
    assert "Vader met gokschulden" not in secured.connector.everything()
    assert [output for *_, output in harvest_logs(secured)] == ["chat,html,png"]


async def test_no_file_for_someone_who_is_no_longer_a_facilitator(
    secured: TeamsServer, identity: IdentityStandIn
) -> None:
    seed(secured)
    cards = await harvest_in_personal_chat(secured, identity)
    with secured.services.database.session() as session:
        floor = session.scalars(select(Member).where(Member.platform_user_id == FLOOR.aad)).one()
        floor.is_facilitator = False
    before = len(secured.connector.sent)
    invoke = answer(secured, context_of(cards["html"]), upload="f")
    await signed(secured, identity, invoke)
    assert secured.connector.uploads == []
    (notice,) = secured.connector.sent[before:]
    assert notice.conversation_id == FLOOR.personal_chat
    assert "begeleiders" in card_text(notice.card)
    assert [output for *_, output in harvest_logs(secured)] == ["chat,html,png"]


async def test_decline_uploads_nothing_logs_it_and_says_how_to_get_it_again(
    secured: TeamsServer, identity: IdentityStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seed(secured)
    cards = await harvest_in_personal_chat(secured, identity)
    before = len(secured.connector.sent)
    invoke = answer(secured, context_of(cards["png"], "declineContext"), "decline", upload="d")
    caplog.clear()
    await signed(secured, identity, invoke)  # answered 200
    assert secured.connector.uploads == []
    (notice,) = secured.connector.sent[before:]
    assert notice.method == "reply" and notice.conversation_id == FLOOR.personal_chat
    shown = card_text(notice.card)
    assert shown.startswith(f"Je hebt {TITLES['png']} geweigerd; dat bestand is niet verstuurd.")
    assert shown.endswith("Typ opnieuw oogsten met dezelfde periode en kies Toestaan."), shown
    assert FILE_INFO not in secured.connector.everything()
    assert [output for *_, output in harvest_logs(secured)] == ["chat,html,png"]
    # Logged by file source and type; nothing of the person, the harvest or its file.
    (declined,) = [r for r in caplog.records if "declined" in r.getMessage()]
    assert declined.levelno == logging.INFO
    assert declined.getMessage() == "Teams file consent declined (source 'oogsten', type 'png')"
    logged = caplog.text
    for private in (FLOOR.name, FLOOR.aad, FLOOR.teams_id, "Oogstgrafiek", "04-09-2026"):
        assert private not in logged
    assert "Vader met gokschulden" not in logged and INSIGHT not in logged

    # The report's card is still there to accept: declining one file leaves the other.
    await signed(
        secured,
        identity,
        answer(secured, context_of(cards["html"]), upload="r"),
    )
    assert [u.name for u in secured.connector.uploads] == ["r"]
    assert [output for *_, output in harvest_logs(secured)] == ["chat,html,png", "file-html"]


async def test_a_redelivered_accept_uploads_once(
    secured: TeamsServer, identity: IdentityStandIn
) -> None:
    seed(secured)
    cards = await harvest_in_personal_chat(secured, identity)
    invoke = answer(secured, context_of(cards["html"]), upload="once")
    for _ in range(2):  # Teams delivers the same activity twice
        await signed(secured, identity, invoke)
    assert [u.name for u in secured.connector.uploads] == ["once"]
    assert secured.connector.everything().count(FILE_INFO) == 1
    assert [output for *_, output in harvest_logs(secured)] == ["chat,html,png", "file-html"]


async def test_an_empty_period_offers_no_files(
    secured: TeamsServer, identity: IdentityStandIn
) -> None:
    seed(secured)
    cards = await harvest_in_personal_chat(secured, identity, "2025-01-01..2025-01-31")
    assert cards == {}
    assert "nog niets te oogsten" in secured.connector.everything()


async def test_a_consent_answer_with_arguments_that_do_not_hold_uploads_nothing(
    secured: TeamsServer, identity: IdentityStandIn
) -> None:
    """Teams gives back the context it was given; should it ever differ (a format we do not
    make, a period turned round, a channel that is gone), nothing is made or uploaded."""
    seed(secured)
    cards = await harvest_in_personal_chat(secured, identity)
    context = context_of(cards["html"])
    broken = [
        {**context["args"], "format": "exe"},
        {**context["args"], "start": context["args"]["end"]},
        {**context["args"], "channel": "teams:bestaat-niet"},
    ]
    for number, args in enumerate(broken):
        before = len(secured.connector.sent)
        invoke = answer(secured, {**context, "args": args}, upload=f"x{number}")
        await signed(secured, identity, invoke)
        (notice,) = secured.connector.sent[before:]
        assert "niet worden verstuurd" in card_text(notice.card)
    assert secured.connector.uploads == []
    assert [output for *_, output in harvest_logs(secured)] == ["chat,html,png"]
