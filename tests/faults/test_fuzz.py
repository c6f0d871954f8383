"""Property-based tests (Hypothesis) of every endpoint with generated payloads that are
correctly signed and shaped like the real thing, so they get past authentication and reach the
handlers: Slack slash commands for every registered command, events (thread replies, members
joining), block actions for every registered action and view submissions for every form;
Teams messages, commands, card submissions for every action and form, and invokes, each with
a valid Bot Framework token.

Whatever the payload: no 5xx, no traceback in the log, and no state change the actor was not
allowed. The actors are ordinary members: neither a facilitator nor the inbrenger of the seeded
casussen. So schedules, pauses, facilitator rights, the seeded casussen, other people's
profiles and the harvest log must stay as they are, and whatever new content appears (a
casus, a bijdrage, an answer) belongs to the actor.

``LEERKRING_FUZZ_EXAMPLES`` sets the examples per test (default 50); the terminal summary
reports how many ran."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, select
from sqlalchemy.engine import Engine

from bot.server import SLACK, TEAMS, build_app
from bot.services import build_services
from bot.settings import load_settings
from handlers.casus.queries import CasusRepository
from handlers.core.context import Repositories
from handlers.features import build_router
from prompts import load_texts
from storage.db import Database
from storage.models import (
    Answer,
    Bijdrage,
    Casus,
    Channel,
    HarvestLog,
    Member,
    MemberProfile,
    PromptRun,
    Schedule,
)
from tests.bot.teams.conftest import outbound_token  # noqa: F401 (fixture)
from tests.conftest import DatabaseTarget
from tests.faults.test_hostile_payloads import LEAKS, Background, request
from tests.support.signing import SIGNING_SECRET, signed_headers
from tests.support.slack_standin import TOKEN, SlackStandIn
from tests.support.teams_standin import (
    APP_ID,
    CHANNEL,
    FLOOR,
    KARIM,
    TEAM,
    ConnectorStandIn,
    IdentityStandIn,
    TeamsUser,
    file_consent_invoke,
    message,
)

EXAMPLES = int(os.environ.get("LEERKRING_FUZZ_EXAMPLES", "50"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SLACK_CASUS_TS = "1700000000.000100"
TEAMS_CASUS_POST = "1700000000555"
FACILITATOR = "UFAC01"
INBRENGER = "UANNA1"
SLACK_ACTORS = ["UKARIM1", "UNEW0001"]
ANNA = TeamsUser("a1a1a1a1-0000-4000-8000-00000000000a", "29:1anna", "Anna de Vries")
NEWCOMER = TeamsUser("d4d4d4d4-0000-4000-8000-00000000000d", "29:1nieuw", "Nieuw Lid")
TEAMS_ACTORS = [KARIM, NEWCOMER]
FORM = "application/x-www-form-urlencoded"
CRASHES = re.compile(r"listener failed|request failed|turn failed|handler failed|Traceback")

# Outgoing connector calls carry a stand-in token instead of one fetched from Entra ID.
pytestmark = pytest.mark.usefixtures("outbound_token")


# --- the arena: one Slack + Teams (emulator) app and one authenticated Teams app --------------


@dataclass
class Arena:
    background: Background
    open_url: str
    secured_url: str
    slack: SlackStandIn
    connector: ConnectorStandIn
    identity: IdentityStandIn
    engine: Engine
    apps: list[web.Application]
    casus_ids: list[int]
    run_id: int

    def settle(self) -> None:
        """Wait for deliveries that run after the ack (button presses in Slack)."""

        async def idle() -> None:
            for app in self.apps:
                adapter = app[SLACK]
                tasks = set(adapter._tasks) if adapter is not None else set()
                if tasks:
                    await asyncio.wait(tasks, timeout=20)

        self.background.run(idle())

    def snapshot(self) -> dict[str, Any]:
        """What no ordinary member may change, and the owners of the content rows."""
        with self.engine.connect() as conn:

            def rows(statement: Any) -> list[tuple[Any, ...]]:
                return [tuple(row) for row in conn.execute(statement)]

            return {
                "schedules": rows(
                    select(
                        Schedule.id,
                        Schedule.cron,
                        Schedule.paused,
                        Schedule.kind,
                        Schedule.delivery,
                        Schedule.window_hours,
                        Schedule.next_fire_at,
                    ).order_by(Schedule.id)
                ),
                "pauses": rows(select(Channel.id, Channel.paused_until).order_by(Channel.id)),
                "facilitators": rows(select(Member.platform_user_id).where(Member.is_facilitator)),
                "members": {
                    row[0]: row[1:]
                    for row in rows(
                        select(
                            Member.platform_user_id,
                            Member.organisation_id,
                            Member.role,
                            Member.is_facilitator,
                            Member.snoozed_until,
                        )
                    )
                },
                "profiles": {
                    row[0]: row[1:]
                    for row in rows(
                        select(Member.platform_user_id, MemberProfile.expertise).join(
                            MemberProfile, MemberProfile.member_id == Member.id
                        )
                    )
                },
                "seeded": rows(
                    select(Casus.id, Casus.status, Casus.title, Casus.situation, Casus.question)
                    .where(Casus.id.in_(self.casus_ids))
                    .order_by(Casus.id)
                ),
                "runs": rows(select(PromptRun.id, PromptRun.status).order_by(PromptRun.id)),
                "harvests": rows(select(HarvestLog.id)),
                "casus_by": rows(
                    select(Casus.id, Member.platform_user_id)
                    .join(Member, Member.id == Casus.inbrenger_id)
                    .order_by(Casus.id)
                ),
                "bijdragen_by": rows(
                    select(Bijdrage.id, Member.platform_user_id)
                    .join(Member, Member.id == Bijdrage.author_id)
                    .order_by(Bijdrage.id)
                ),
                "answers_by": rows(
                    select(Answer.id, Member.platform_user_id)
                    .join(Member, Member.id == Answer.member_id)
                    .order_by(Answer.id)
                ),
            }


def assert_allowed(before: dict[str, Any], after: dict[str, Any], actor: str) -> None:
    for key in ("schedules", "pauses", "facilitators", "seeded", "runs", "harvests"):
        assert after[key] == before[key], key
    for who, state in before["members"].items():
        if who != actor:
            assert after["members"][who] == state, who
    for who, state in before["profiles"].items():
        if who != actor:
            assert after["profiles"].get(who) == state, who
    for key in ("casus_by", "bijdragen_by", "answers_by"):
        old = set(before[key])
        assert set(after[key]) >= old, key  # nothing of anyone else disappeared
        new_owners = {owner for _, owner in set(after[key]) - old}
        assert new_owners <= {actor}, (key, new_owners)


def seed(database_url: str) -> tuple[list[int], int]:
    """A posted casus by someone else in each platform's channel, a facilitator's weekly
    schedule with an open run, and the facilitators."""
    from datetime import UTC, datetime

    from handlers.reflection.chat import NewSchedule, create_schedule

    database = Database.from_url(database_url)
    casus_ids = []
    try:
        with database.session() as session:
            repos = Repositories(session)
            for platform, channel_id, team, user, post in (
                ("slack", "C100", "T1", INBRENGER, SLACK_CASUS_TS),
                ("teams", CHANNEL, TEAM, ANNA.aad, TEAMS_CASUS_POST),
            ):
                channel = repos.channels.ensure(platform, channel_id, team, "casuistiek")
                inbrenger = repos.members.ensure(platform, user, "Anna")
                casus = CasusRepository(session).add(
                    channel=channel,
                    inbrenger=inbrenger,
                    title="Gezin met schulden",
                    situation="Huurachterstand.",
                    obstacle=None,
                    uncertainty=None,
                    question="Hoe nu verder?",
                    perspectives=[],
                )
                CasusRepository(session).mark_posted(casus, post)
                repos.posted.record(platform, channel_id, post, "casus", casus.id)
                casus_ids.append(casus.id)
            for platform, user in (("slack", FACILITATOR), ("teams", FLOOR.aad)):
                repos.members.ensure(platform, user, "Floor").is_facilitator = True
            session.flush()
        runtime_like = _Context(database)
        run_id = runtime_like.schedule_and_run(
            lambda ctx: create_schedule(
                ctx,
                ctx.repos.channels.ensure("slack", "C100"),
                NewSchedule("succesvragen", "vrijdag 15:00", skip_holidays=False),
                None,
            ),
            datetime(2026, 3, 27, 14, 0, tzinfo=UTC),
        )
    finally:
        database.dispose()
    return casus_ids, run_id


class _Context:
    """Just enough of the runtime to create a schedule and fire one run through the handlers."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def schedule_and_run(self, create: Callable[[Any], Any], now: Any) -> int:
        from datetime import timedelta

        from handlers.core.context import HandlerContext
        from handlers.privacy.guard import StructuredGuard
        from handlers.reflection.steps import fire_due

        texts = load_texts("nl")
        with self.database.session() as session:
            ctx = HandlerContext(
                repos=Repositories(session),
                texts=texts,
                guard=StructuredGuard(),
                facilitators=frozenset({FACILITATOR}),
                now=lambda: now,
                zone="Europe/Amsterdam",
                hmac_secret=None,
            )
            schedule = create(ctx)
            session.flush()
            fire_at = schedule.next_fire_at
            later = fire_at + timedelta(minutes=1)
            ctx = HandlerContext(
                repos=Repositories(session),
                texts=texts,
                guard=StructuredGuard(),
                facilitators=frozenset({FACILITATOR}),
                now=lambda: later,
                zone="Europe/Amsterdam",
                hmac_secret=None,
            )
            fire_due(ctx, timedelta(hours=1))
            session.flush()
            run = session.scalars(select(PromptRun)).one()
            return int(run.id)


@pytest.fixture
def arena(database_target: DatabaseTarget) -> Iterator[Arena]:
    casus_ids, run_id = seed(database_target.url)
    background = Background()
    identity = IdentityStandIn()
    identity.start()
    apps: list[web.Application] = []
    runners: list[web.AppRunner] = []

    async def start() -> tuple[SlackStandIn, ConnectorStandIn, list[str]]:
        slack, connector = SlackStandIn(), ConnectorStandIn()
        await slack.start()
        await connector.start()
        slack.members["C100"] = [INBRENGER, *SLACK_ACTORS]
        base = {
            "DATABASE_URL": database_target.url,
            "LEERKRING_PRIVACY_GUARD": "basic",
            "LEERKRING_SCHEDULER": "false",
            "LEERKRING_FACILITATORS": f"{FACILITATOR},{FLOOR.aad}",
            "LEERKRING_HMAC_SECRET": "fuzz-hmac-secret-0123456789",
        }
        environments = [
            {
                **base,
                "SLACK_BOT_TOKEN": TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": slack.url,
            },
            {
                **base,
                "MICROSOFT_APP_ID": APP_ID,
                "MICROSOFT_APP_PASSWORD": "test-password",
                "MICROSOFT_OPENID_METADATA_URL": identity.metadata_url,
            },
        ]
        urls = []
        for env in environments:
            app = build_app(build_services(load_settings(env)))
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            apps.append(app)
            runners.append(runner)
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            urls.append(f"http://127.0.0.1:{port}")
        return slack, connector, urls

    async def stop(slack: SlackStandIn, connector: ConnectorStandIn) -> None:
        for runner in runners:
            await runner.cleanup()
        await slack.stop()
        await connector.stop()

    engine = create_engine(database_target.url)
    slack, connector, urls = background.run(start())
    try:
        assert apps[1][TEAMS] is not None
        yield Arena(
            background,
            urls[0],
            urls[1],
            slack,
            connector,
            identity,
            engine,
            apps,
            casus_ids,
            run_id,
        )
    finally:
        try:
            background.run(stop(slack, connector))
        finally:
            background.close()
            identity.stop()
            engine.dispose()


# --- strategies --------------------------------------------------------------------------------

ROUTER = build_router()
TEXTS = load_texts("nl")
_FIELD_PATTERN = re.compile(r'\b(?:TextInput|MultiSelect|Select)\(\s*(?:field_id=)?"([a-z_]+)"')
FIELD_IDS = sorted(
    {
        match.group(1)
        for path in (Path(__file__).parents[2] / "handlers").rglob("*.py")
        for match in _FIELD_PATTERN.finditer(path.read_text(encoding="utf-8"))
    }
    | {q.id for q in TEXTS.casus_questions}
    | {q.id for deck in TEXTS.decks.values() for q in deck.questions}
)
PERSPECTIVES = [p.id for p in TEXTS.perspectives]

# Ids as they come in a button value or form metadata: real-looking ones (the seeded rows
# among them), and ones no row has.
# Also ids that only look like numbers (superscripts, other scripts' digits) and ids beyond
# every key's range: each must be "not found", never a traceback.
small_ids = (
    st.integers(min_value=0, max_value=2**31 - 1).map(str)
    | st.integers(min_value=2**31, max_value=2**70).map(str)
    | st.sampled_from(["²", "¹²", "٣", "１２", "-1", "0x10", "1e3", " 7", "7 "])
)
texts = st.text(max_size=120) | st.sampled_from(
    [
        "",
        " ",
        "nu",
        "annuleer",
        "pauze 1 januari",
        "hervat",
        "verwijder",
        "elke vrijdag om 15:00",
        "afgelopen 6 weken",
        "<!channel>",
        "@here",
        "BSN 111222333",
        "a\x00b",
        "ü" * 80,
        "1' OR '1'='1",
        "{{7*7}}",
        "*vet* _schuin_",
        "https://evil.example/x",
    ]
)
field_values = st.dictionaries(
    st.sampled_from(FIELD_IDS) | st.text(max_size=10),
    texts | st.lists(st.sampled_from(PERSPECTIVES) | st.text(max_size=8), max_size=4),
    max_size=8,
)
slack_channels = st.sampled_from(["C100", "C200", "D0DM0001"])


def metadata(ids: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(
        st.sampled_from(["casus_id", "run_id", "session_id", "anoniem", "kind"]),
        ids.map(lambda v: int(v) if v.isascii() and v.isdigit() and len(v) < 12 else v)
        | st.booleans(),
        max_size=3,
    )


# --- helpers ---------------------------------------------------------------------------------


@dataclass
class Run:
    name: str
    examples: int = 0
    statuses: dict[int, int] | None = None

    def count(self, status: int) -> None:
        self.examples += 1
        self.statuses = self.statuses or {}
        self.statuses[status] = self.statuses.get(status, 0) + 1


def report(request_node: Any, run: Run) -> None:
    request_node.user_properties.append(("fuzz", (run.name, run.examples, run.statuses)))


def check_logs(caplog: pytest.LogCaptureFixture, start: int) -> None:
    records = caplog.records[start:]
    crashed = [r.getMessage() for r in records if r.exc_info or CRASHES.search(r.getMessage())]
    assert not crashed, crashed


def slack_post(arena: Arena, body: str, content_type: str) -> tuple[int, str]:
    return request(
        f"{arena.open_url}/slack/events", body.encode(), signed_headers(body, content_type)
    )


def exercise(
    arena: Arena,
    caplog: pytest.LogCaptureFixture,
    run: Run,
    actor: str,
    send: Callable[[], tuple[int, str]],
) -> None:
    before = arena.snapshot()
    start = len(caplog.records)
    status, answer = send()
    arena.settle()
    run.count(status)
    assert status < 500, (status, answer[:300])
    assert not LEAKS.search(answer), answer[:300]
    check_logs(caplog, start)
    assert_allowed(before, arena.snapshot(), actor)


def slack_user(user: str) -> dict[str, Any]:
    return {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T1"}


# --- Slack -----------------------------------------------------------------------------------


def test_slack_slash_commands(
    arena: Arena, caplog: pytest.LogCaptureFixture, request: pytest.FixtureRequest
) -> None:
    caplog.set_level(logging.INFO)
    run = Run("slack commands")

    @FUZZ
    @given(
        command=st.sampled_from(ROUTER.commands),
        words=texts,
        actor=st.sampled_from(SLACK_ACTORS),
        channel=slack_channels,
    )
    def one(command: str, words: str, actor: str, channel: str) -> None:
        body = urlencode(
            {
                "token": "legacy",
                "team_id": "T1",
                "team_domain": "leerkring-test",
                "channel_id": channel,
                "channel_name": "casuistiek",
                "user_id": actor,
                "user_name": actor.lower(),
                "command": f"/{command}",
                "text": words,
                "api_app_id": "A1",
                "response_url": "",
                "trigger_id": "1.2.3",
            }
        )
        exercise(
            arena,
            caplog,
            run,
            actor,
            lambda: slack_post(arena, body, FORM),
        )

    one()
    report(request.node, run)
    assert run.examples >= min(EXAMPLES, 10)


def test_slack_events(
    arena: Arena, caplog: pytest.LogCaptureFixture, request: pytest.FixtureRequest
) -> None:
    caplog.set_level(logging.INFO)
    run = Run("slack events")

    @FUZZ
    @given(
        kind=st.sampled_from(["thread_reply", "member_joined", "other"]),
        words=texts,
        actor=st.sampled_from(SLACK_ACTORS),
        thread=st.sampled_from([SLACK_CASUS_TS, "1700000000.000999"]),
        subtype=st.sampled_from([None, "thread_broadcast", "message_changed", "bot_message"]),
        other_type=st.sampled_from(["reaction_added", "app_mention", "channel_rename"]),
    )
    def one(
        kind: str, words: str, actor: str, thread: str, subtype: str | None, other_type: str
    ) -> None:
        ts = f"1700000{uuid.uuid4().int % 10**6:06d}.000001"
        event: dict[str, Any]
        if kind == "thread_reply":
            event = {
                "type": "message",
                "user": actor,
                "text": words,
                "ts": ts,
                "thread_ts": thread,
                "channel": "C100",
                "team": "T1",
            }
            if subtype:
                event["subtype"] = subtype
        elif kind == "member_joined":
            event = {
                "type": "member_joined_channel",
                "user": actor,
                "channel": "C100",
                "team": "T1",
            }
        else:
            event = {"type": other_type, "user": actor, "text": words}
        body = json.dumps(
            {
                "token": "legacy",
                "team_id": "T1",
                "api_app_id": "A1",
                "event": event,
                "type": "event_callback",
                "event_id": f"Ev{uuid.uuid4().hex[:10]}",
                "event_time": 1700000100,
            }
        )
        exercise(arena, caplog, run, actor, lambda: slack_post(arena, body, "application/json"))

    one()
    report(request.node, run)


def test_slack_block_actions(
    arena: Arena, caplog: pytest.LogCaptureFixture, request: pytest.FixtureRequest
) -> None:
    caplog.set_level(logging.INFO)
    run = Run("slack block actions")
    known = st.sampled_from([str(i) for i in (*arena.casus_ids, arena.run_id)])

    @FUZZ
    @given(
        action_id=st.sampled_from(ROUTER.actions),
        value=known | small_ids | texts,
        actor=st.sampled_from(SLACK_ACTORS),
        channel=slack_channels,
        message_ts=st.sampled_from([SLACK_CASUS_TS, "1700000000.000999"]),
    )
    def one(action_id: str, value: str, actor: str, channel: str, message_ts: str) -> None:
        payload = {
            "type": "block_actions",
            "user": slack_user(actor),
            "api_app_id": "A1",
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel},
            "trigger_id": "1.2.3",
            "team": {"id": "T1", "domain": "x"},
            "channel": {"id": channel, "name": "casuistiek"},
            "message": {"type": "message", "ts": message_ts, "user": "UBOT000001", "text": "x"},
            "response_url": "",
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": "b1",
                    "value": value,
                    "type": "button",
                    "action_ts": "1700000001.000000",
                }
            ],
        }
        body = urlencode({"payload": json.dumps(payload)})
        exercise(
            arena,
            caplog,
            run,
            actor,
            lambda: slack_post(arena, body, FORM),
        )

    one()
    report(request.node, run)


def test_slack_view_submissions_for_every_form(
    arena: Arena, caplog: pytest.LogCaptureFixture, request: pytest.FixtureRequest
) -> None:
    caplog.set_level(logging.INFO)
    run = Run("slack view submissions")
    known = st.sampled_from([str(i) for i in (*arena.casus_ids, arena.run_id)])

    @FUZZ
    @given(
        form_id=st.sampled_from(ROUTER.forms),
        values=field_values,
        meta=metadata(known | small_ids),
        place=st.none() | slack_channels,
        actor=st.sampled_from(SLACK_ACTORS),
    )
    def one(
        form_id: str, values: dict[str, Any], meta: dict[str, Any], place: str | None, actor: str
    ) -> None:
        state: dict[str, Any] = {}
        blocks = []
        for field_id, value in values.items():
            if isinstance(value, list):
                element = {
                    "type": "multi_static_select",
                    "selected_options": [
                        {"text": {"type": "plain_text", "text": v}, "value": v} for v in value
                    ],
                }
            else:
                element = {"type": "plain_text_input", "value": value}
            state[field_id] = {field_id: element}
            blocks.append(
                {
                    "type": "input",
                    "block_id": field_id,
                    "element": {"type": element["type"], "action_id": field_id},
                }
            )
        private: dict[str, Any] = {"m": meta}
        if place is not None:
            private["p"] = [place, "T1", "casuistiek"]
        payload = {
            "type": "view_submission",
            "team": {"id": "T1", "domain": "x"},
            "user": slack_user(actor),
            "api_app_id": "A1",
            "trigger_id": "1.2.3",
            "view": {
                "id": "V1",
                "team_id": "T1",
                "type": "modal",
                "blocks": blocks,
                "private_metadata": json.dumps(private),
                "callback_id": form_id,
                "state": {"values": state},
                "hash": "1.2",
                "title": {"type": "plain_text", "text": "x"},
            },
            "response_urls": [],
        }
        body = urlencode({"payload": json.dumps(payload)})
        exercise(
            arena,
            caplog,
            run,
            actor,
            lambda: slack_post(arena, body, FORM),
        )

    one()
    report(request.node, run)


# --- Teams -----------------------------------------------------------------------------------


def teams_post(arena: Arena, activity: dict[str, Any]) -> tuple[int, str]:
    token = arena.identity.token(arena.connector.url)
    return request(
        f"{arena.secured_url}/api/messages",
        json.dumps(activity).encode(),
        {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )


def test_teams_messages_and_commands(
    arena: Arena, caplog: pytest.LogCaptureFixture, request: pytest.FixtureRequest
) -> None:
    caplog.set_level(logging.INFO)
    run = Run("teams messages")

    @FUZZ
    @given(
        word=st.sampled_from([*ROUTER.commands, "help", ""]) | st.text(max_size=12),
        words=texts,
        actor=st.sampled_from(TEAMS_ACTORS),
        shape=st.sampled_from(["mention", "personal", "thread", "group"]),
    )
    def one(word: str, words: str, actor: TeamsUser, shape: str) -> None:
        url = arena.connector.url
        if shape == "mention":
            activity = message(url, f"{word} {words}", user=actor, mention_bot=True)
        elif shape == "personal":
            activity = message(url, f"{word} {words}", user=actor, kind="personal")
        elif shape == "thread":
            activity = message(url, words, user=actor, thread=TEAMS_CASUS_POST)
        else:
            activity = message(
                url, f"{word} {words}", user=actor, kind="groupChat", mention_bot=True
            )
        exercise(arena, caplog, run, actor.aad, lambda: teams_post(arena, activity))

    one()
    report(request.node, run)


def test_teams_card_submissions_for_every_action_and_form(
    arena: Arena, caplog: pytest.LogCaptureFixture, request: pytest.FixtureRequest
) -> None:
    caplog.set_level(logging.INFO)
    run = Run("teams card submissions")
    known = st.sampled_from([str(i) for i in (*arena.casus_ids, arena.run_id)])

    @FUZZ
    @given(
        kind=st.sampled_from(["button", "form", "cancel"]),
        action_id=st.sampled_from(ROUTER.actions),
        form_id=st.sampled_from(ROUTER.forms),
        value=known | small_ids | texts,
        values=field_values,
        meta=metadata(known | small_ids),
        actor=st.sampled_from(TEAMS_ACTORS),
        personal=st.booleans(),
        reply_to=st.sampled_from([None, TEAMS_CASUS_POST, "1700000000999"]),
    )
    def one(
        kind: str,
        action_id: str,
        form_id: str,
        value: str,
        values: dict[str, Any],
        meta: dict[str, Any],
        actor: TeamsUser,
        personal: bool,
        reply_to: str | None,
    ) -> None:
        submitted: dict[str, Any] = {"leerkring": kind}
        if kind == "button":
            submitted.update({"action_id": action_id, "value": value})
        else:
            submitted.update({"form_id": form_id, "metadata": meta, "title": "x"})
            fields = []
            for field_id, given_value in values.items():
                choices = isinstance(given_value, list)
                fields.append([field_id, "choices" if choices else "text", field_id])
                submitted[field_id] = ",".join(given_value) if choices else given_value
            submitted["fields"] = fields
        activity = message(
            arena.connector.url,
            None,
            user=actor,
            kind="personal" if personal else "channel",
            value=submitted,
            reply_to=reply_to,
            thread=None if personal else TEAMS_CASUS_POST,
        )
        exercise(arena, caplog, run, actor.aad, lambda: teams_post(arena, activity))

    one()
    report(request.node, run)


def test_teams_invokes(
    arena: Arena, caplog: pytest.LogCaptureFixture, request: pytest.FixtureRequest
) -> None:
    caplog.set_level(logging.INFO)
    run = Run("teams invokes")
    invoke_names = (
        st.just("fileConsent/invoke")
        | st.sampled_from(
            [
                "fileConsent/invoke",
                "adaptiveCard/action",
                "task/fetch",
                "task/submit",
                "composeExtension/query",
                "signin/verifyState",
                "config/fetch",
                "actionableMessage/executeAction",
            ]
        )
        | st.text(max_size=20)
    )
    json_values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=8,
    )

    @FUZZ
    @given(
        name=invoke_names,
        action=st.sampled_from(["accept", "decline"]) | st.text(max_size=8),
        context=st.dictionaries(
            st.sampled_from(["source", "filename", "args", "kind"]) | st.text(max_size=6),
            json_values,
            max_size=4,
        ),
        value=json_values,
        actor=st.sampled_from(TEAMS_ACTORS),
    )
    def one(name: str, action: str, context: dict[str, Any], value: Any, actor: TeamsUser) -> None:
        url = arena.connector.url
        activity = file_consent_invoke(
            url, context, action, upload_url=arena.connector.upload_url("f.json"), user=actor
        )
        activity["name"] = name
        if name != "fileConsent/invoke":
            activity["value"] = value
        exercise(arena, caplog, run, actor.aad, lambda: teams_post(arena, activity))

    one()
    report(request.node, run)
