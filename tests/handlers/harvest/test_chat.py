"""The harvest without any platform, on SQLite and PostgreSQL: each section's items and counts
on a hand-made community (tests/support/harvest_seed.py), the command and its deferred step
through the runtime, the share button, the audit log, and every export format."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from bot.runtime import Runtime
from handlers.core.events import Actor, ButtonPressed, CommandInvoked, Place
from handlers.core.replies import (
    Actions,
    Deferred,
    Ephemeral,
    PostMessage,
    Reply,
    Section,
    UploadFile,
)
from handlers.core.sections import SourceItem, SourceRegistry, SourceSection
from handlers.features import build_router
from handlers.harvest.chat import ACTION_SHARE, HarvestRequest, split_channel, summary_card
from handlers.harvest.periods import parse_period
from handlers.harvest.render import (
    csv_rows,
    harvest_from_json,
    render_csv,
    render_html,
    render_json,
    render_markdown,
)
from handlers.harvest.report import Harvest, HarvestOptions, collect_harvest, keywords
from handlers.privacy.guard import StructuredGuard
from prompts import load_texts
from storage.db import Database
from storage.models import HarvestLog, Member
from tests.support.harvest_seed import HOSTILE_TITLE, NOW, PRIVATE_SUCCESS, seed_story

PLACE = Place("slack", "C1", "T1", "casuistiek")
FACILITATOR = Actor("slack", "UFAC01", "Fenna", "T1")
STORED_FACILITATOR = Actor("slack", "UFAC02", "Fenna", "T1")
MEMBER = Actor("slack", "U2", "Bob", "T1")


def make_runtime(database: Database, language: str = "nl") -> Runtime:
    return Runtime(
        database,
        build_router(),
        load_texts(language),
        StructuredGuard(),
        facilitators=frozenset({"UFAC01"}),
        clock=lambda: NOW,
    )


def harvest_of(database: Database, text: str = "", channel_id: int | None = None) -> Harvest:
    with database.session() as session:
        return collect_harvest(
            session,
            parse_period(text, NOW),
            channel_id=channel_id,
            channel_label=None,
            now=NOW,
            options=HarvestOptions(registry=build_router().registry.harvest_sections),
        )


@pytest.fixture
def story(database: Database) -> dict[str, int]:
    return seed_story(database)


# --- sections and counts ------------------------------------------------------------------------


def test_casussen_counts_and_order(database: Database, story: dict[str, int]) -> None:
    harvest = harvest_of(database, "afgelopen 6 weken")
    c = harvest.casus
    assert (c.brought_in, c.closed, c.still_open, c.open_without_contributions) == (4, 1, 4, 2)
    assert (c.contributions, c.contributors) == (6, 4)
    # Open without contributions first (oldest first), then other open ones, then closed.
    ids = [item.id for item in harvest.casussen]
    assert ids == [story["c2"], story["c4"], story["c6"], story["c3"], story["c1"]]
    assert harvest.casussen_total == 5
    closed = harvest.casussen[-1]
    assert closed.status == "closed"
    assert closed.perspectives == ("schulden", "jeugd")
    assert closed.contributions == 3
    assert closed.contributing_organisations == ("Jeugdzorg Plus", "Schuldhulp Stad")
    assert closed.insight == "Vertrouwen groeit als ik kleine afspraken nakom."
    assert closed.next_step == "Morgen bel ik de moeder terug, zoals beloofd."
    assert closed.organisation == "Wijkteam Noord" and closed.inbrenger == "Anna"
    # Dirk has no organisation: he counts as a contributor but not as an organisation.
    c3 = next(i for i in harvest.casussen if i.id == story["c3"])
    assert (c3.contributions, c3.contributing_organisations) == (2, ("Wijkteam Noord",))


def test_successes_grouped_most_answered_first(database: Database, story: dict[str, int]) -> None:
    harvest = harvest_of(database)
    assert [(g.kind, g.respondents, g.private) for g in harvest.successes] == [
        ("wat-ging-goed", 3, False),
        ("wat-ging-goed", 1, True),  # same count: the newest prompt first
        ("succesvragen", 1, False),
    ]
    first = harvest.successes[0]
    assert first.run_id == story["r1"]
    anna = first.responses[0]
    assert anna.member == "Anna" and anna.organisation == "Wijkteam Noord"
    assert [line.question_id for line in anna.lines] == ["goed", "bijdrage"]
    assert harvest.reflection.success_responses == 5
    assert dict(harvest.reflection.responses_by_kind) == {
        "leervraag": 2,
        "succesvragen": 1,
        "wat-ging-goed": 4,
    }
    assert harvest.reflection.respondents == 4


def test_leervragen_addressed_when_a_later_casus_was_closed(
    database: Database, story: dict[str, int]
) -> None:
    harvest = harvest_of(database)
    assert [(v.member, v.addressed) for v in harvest.leervragen] == [
        ("Carla", False),  # her later casus is still open: open questions first
        ("Anna", True),  # she brought in and closed a casus after asking
    ]
    assert (harvest.reflection.leervragen, harvest.reflection.leervragen_addressed) == (2, 1)


def test_samenwerking_participants_and_cross_organisation_links(
    database: Database, story: dict[str, int]
) -> None:
    harvest = harvest_of(database)
    assert dict(harvest.participants) == {
        "Wijkteam Noord": 1,
        "Jeugdzorg Plus": 1,
        "Schuldhulp Stad": 1,
        None: 1,
    }
    assert (harvest.people, harvest.organisations) == (4, 3)
    links = {(lk.contributor_organisation, lk.owner_organisation): lk for lk in harvest.links}
    assert {k: (v.contributions, v.people) for k, v in links.items()} == {
        ("Jeugdzorg Plus", "Wijkteam Noord"): (3, 1),
        ("Schuldhulp Stad", "Wijkteam Noord"): (1, 1),
        ("Wijkteam Noord", "Schuldhulp Stad"): (1, 1),
    }
    assert harvest.cross_contributions == 5
    weekly = {}
    for row in harvest.activity:
        weekly[row.organisation] = weekly.get(row.organisation, 0) + row.count
    # Anna: casus c1, c4, bijdrage on c3, two answers (r1, r4) = 5 actions.
    # Dirk (no organisation): a bijdrage on c3 and an answer to r2.
    assert weekly == {"Wijkteam Noord": 5, "Jeugdzorg Plus": 6, "Schuldhulp Stad": 4, None: 2}
    assert all(row.week.weekday() == 0 for row in harvest.activity)


def test_themes_from_perspectives_and_keywords(database: Database, story: dict[str, int]) -> None:
    harvest = harvest_of(database)
    assert harvest.perspectives == (("jeugd", 2), ("schulden", 2), ("ggz", 1))
    assert harvest.keywords
    assert not {"de", "het", "een", "casus", "goed"} & set(harvest.keywords)


def test_keywords_skip_stop_words_and_privacy_markers() -> None:
    texts = [
        "De moeder heeft een grote huurachterstand en de huurachterstand groeit. [BSN]",
        "Bij huurachterstand helpt een vroege melding van de verhuurder. [BSN]",
        "Een schuldhulpmaatje hielp bij de huurachterstand en de vroege melding.",
    ]
    found = keywords(texts)
    assert any("huurachterstand" in k for k in found)
    assert not any("bsn" in k for k in found)
    assert not {"de", "een", "en", "het"} & {w for k in found for w in k.split()}
    assert keywords([]) == []


def test_one_channel_only(database: Database, story: dict[str, int]) -> None:
    with database.session() as session:
        from storage.models import Channel

        jeugd = session.scalars(select(Channel).where(Channel.name == "jeugd")).one().id
    harvest = harvest_of(database, channel_id=jeugd)
    assert [i.id for i in harvest.casussen] == [story["c4"]]
    assert (harvest.casus.brought_in, harvest.casus.contributions) == (1, 0)
    assert harvest.reflection.responses_by_kind == ()
    assert harvest.perspectives == (("jeugd", 1),)


def test_a_period_with_nothing_is_an_empty_harvest(
    database: Database, story: dict[str, int]
) -> None:
    harvest = harvest_of(database, "2025-01-01..2025-01-31")
    assert harvest.is_empty
    assert harvest.casussen == () and harvest.successes == () and harvest.links == ()
    # Every format still renders.
    texts = load_texts("nl")
    assert "nog niets te oogsten" in render_markdown(harvest, texts)
    ET.fromstring(render_html(harvest, texts).removeprefix("<!DOCTYPE html>\n"))


def test_pluggable_sources_join_the_report(database: Database, story: dict[str, int]) -> None:
    from sqlalchemy import literal

    from handlers.harvest.report import HarvestOptions
    from storage.models import UTCDateTime

    class Speedspar:
        key = "speedsparren"

        def collect(self, session: object, scope: object) -> SourceSection:
            return SourceSection(
                key="speedsparren",
                title="Speedsparren",
                figures=(("Sessies", 2),),
                items=(SourceItem("Ronde over schulden", ("Neem de tijd <b>samen</b>",), NOW),),
                texts=("Speedsparren over huurachterstand en vroegsignalering",),
            )

        def actions(self, scope: object) -> None:
            return None

    class Intervisie:
        """Another source: its actions join the chart and the participants, in SQL."""

        key = "intervisie"

        def collect(self, session: object, scope: object) -> SourceSection:
            return SourceSection(
                key="intervisie", title="Intervisie", figures=(("Bijeenkomsten", 1),)
            )

        def actions(self, scope: object) -> object:
            return select(
                Member.id.label("member_id"), literal(NOW, UTCDateTime()).label("at")
            ).where(Member.platform_user_id == "UFAC02")

    from handlers.casus.harvest import CasusSource
    from handlers.reflection.harvest import ReflectionSource

    registry = SourceRegistry()
    registry.register(CasusSource())
    registry.register(ReflectionSource())
    registry.register(Speedspar())
    registry.register(Intervisie())  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        registry.register(Speedspar())
    with database.session() as session:
        harvest = collect_harvest(
            session,
            parse_period("", NOW),
            channel_id=None,
            channel_label=None,
            now=NOW,
            options=HarvestOptions(registry=registry),
        )
    assert [s.key for s in harvest.sections] == [
        "casus",
        "reflection",
        "speedsparren",
        "intervisie",
    ]
    # Fenna (Wijkteam Noord) took part in the other source only.
    assert dict(harvest.participants)["Wijkteam Noord"] == 2
    texts = load_texts("nl")
    markdown = render_markdown(harvest, texts)
    assert "Ronde over schulden" in markdown and "Sessies: 2" in markdown
    assert "## Intervisie" in markdown and "Bijeenkomsten: 1" in markdown
    page = render_html(harvest, texts)
    assert "Neem de tijd &lt;b&gt;samen&lt;/b&gt;" in page and "<h2>Intervisie</h2>" in page
    figures = {r["id"]: r["count"] for r in csv_rows(harvest, texts) if r["section"] == "figure"}
    assert figures["intervisie:Bijeenkomsten"] == "1"


# --- the command, the deferred step, sharing, audit ------------------------------------


def run(runtime: Runtime, event: object) -> list[Reply]:
    outcome = runtime.handle_sync(event)  # type: ignore[arg-type]
    assert outcome.failure is None, outcome
    return outcome.replies


def command(runtime: Runtime, actor: Actor, text: str = "") -> list[Reply]:
    return run(runtime, CommandInvoked(actor, PLACE, "oogsten", text))


def test_non_facilitator_gets_a_polite_refusal_and_nothing_is_logged(
    database: Database, story: dict[str, int]
) -> None:
    runtime = make_runtime(database)
    replies = command(runtime, MEMBER)
    assert len(replies) == 1 and isinstance(replies[0], Ephemeral)
    assert "begeleiders" in replies[0].text.plain()
    with database.session() as session:
        assert session.scalars(select(HarvestLog)).all() == []


@pytest.mark.parametrize("actor", [FACILITATOR, STORED_FACILITATOR])
def test_facilitators_by_setting_or_by_member_flag(
    database: Database, story: dict[str, int], actor: Actor
) -> None:
    replies = command(make_runtime(database), actor)
    assert isinstance(replies[0], Ephemeral) and isinstance(replies[1], Deferred)


def test_unparseable_period_explains_with_examples(
    database: Database, story: dict[str, int]
) -> None:
    replies = command(make_runtime(database), FACILITATOR, "gisteravond laat")
    text = replies[0].text.plain()  # type: ignore[union-attr]
    assert "gisteravond laat" in text
    assert "sinds 1 september" in text and "dit kwartaal" in text
    en = command(make_runtime(database, "en"), FACILITATOR, "whenever")
    assert "since 1 September" in en[0].text.plain()  # type: ignore[union-attr]


def test_unknown_channel_is_named(database: Database, story: dict[str, int]) -> None:
    replies = command(make_runtime(database), FACILITATOR, "#bestaatniet")
    assert "bestaatniet" in replies[0].text.plain()  # type: ignore[union-attr]


def test_channel_forms() -> None:
    ref, rest = split_channel("sinds 1 september <#C123|casuistiek>")
    assert (ref.channel_id, ref.name, rest) == ("C123", "casuistiek", "sinds 1 september")  # type: ignore[union-attr]
    ref, rest = split_channel("#jeugd dit kwartaal")
    assert (ref.channel_id, ref.name, rest) == (None, "jeugd", "dit kwartaal")  # type: ignore[union-attr]
    ref, rest = split_channel("afgelopen 6 weken")
    assert ref is None and rest == "afgelopen 6 weken"


def test_facilitator_gets_summary_and_files_and_the_harvest_is_logged(
    database: Database, story: dict[str, int]
) -> None:
    runtime = make_runtime(database)
    first = command(runtime, FACILITATOR, "afgelopen 6 weken")
    assert "04-09-2026 – 15-10-2026" in first[0].text.plain()  # type: ignore[union-attr]
    deferred = first[1]
    assert isinstance(deferred, Deferred)
    request = deferred.args[0]
    assert isinstance(request, HarvestRequest) and request.channel_id is None
    replies = runtime.call_sync(deferred.step, *deferred.args)
    summary, html_file, png_file = replies
    assert isinstance(summary, Ephemeral) and summary.card is not None
    text = "\n".join(
        b.text.plain() + " " + " ".join(f.plain() for f in b.fields)
        for b in summary.card.blocks
        if isinstance(b, Section)
    )
    assert "4 ingebracht · 1 afgerond · 4 open" in text
    assert "6 bijdragen van 4 mensen" in text
    assert "4 deelnemers uit 3 organisaties" in text
    assert "Vertrouwen groeit als ik kleine afspraken nakom." in text
    assert "Jongere stopt met school" in text  # waiting for contributions
    assert PRIVATE_SUCCESS not in text  # private prompts are never quoted in the card
    assert "Het huisbezoek liep beter dan verwacht." in text
    buttons = [b for blk in summary.card.blocks if isinstance(blk, Actions) for b in blk.buttons]
    assert [b.action_id for b in buttons] == [ACTION_SHARE]
    assert isinstance(html_file, UploadFile) and html_file.user_id == "UFAC01"
    assert html_file.filename.endswith(".html") and b"<html" in html_file.content
    assert isinstance(png_file, UploadFile) and png_file.content.startswith(b"\x89PNG")
    with database.session() as session:
        logs = session.scalars(select(HarvestLog)).all()
        assert [(lg.requested_by, lg.channel_ref, lg.output) for lg in logs] == [
            ("slack:UFAC01", None, "chat,html,png")
        ]
        assert logs[0].created_at == NOW  # the runtime's clock
        assert logs[0].period_start == request.period.start
        assert logs[0].period_end == request.period.end
        assert buttons[0].value == f"{logs[0].id}@C1"  # shares where /oogsten was typed


def test_empty_period_gives_a_friendly_notice(database: Database, story: dict[str, int]) -> None:
    runtime = make_runtime(database)
    deferred = command(runtime, FACILITATOR, "2025-01-01..2025-01-31")[1]
    replies = runtime.call_sync(deferred.step, *deferred.args)  # type: ignore[union-attr]
    assert len(replies) == 1 and isinstance(replies[0], Ephemeral)
    assert "nog niets te oogsten" in replies[0].text.plain()


def test_share_posts_in_the_channel_without_quotes_from_elsewhere(
    database: Database, story: dict[str, int]
) -> None:
    runtime = make_runtime(database)
    deferred = command(runtime, FACILITATOR)[1]
    summary = runtime.call_sync(deferred.step, *deferred.args)[0]  # type: ignore[union-attr]
    log_id = next(
        b.value for blk in summary.card.blocks if isinstance(blk, Actions) for b in blk.buttons
    )
    # Not a facilitator: refused.
    refused = run(runtime, ButtonPressed(MEMBER, PLACE, ACTION_SHARE, log_id))
    assert not any(isinstance(r, PostMessage) for r in refused)
    replies = run(runtime, ButtonPressed(FACILITATOR, PLACE, ACTION_SHARE, log_id))
    post = next(r for r in replies if isinstance(r, PostMessage))
    assert post.place == PLACE
    shown = post.content.fallback.plain() + " ".join(
        b.text.plain() for b in post.content.blocks if isinstance(b, Section)
    )
    # An all-channel harvest shared in one channel: figures and themes, no quoted text.
    assert "Vertrouwen groeit" not in shown and HOSTILE_TITLE not in shown
    assert not any(isinstance(b, Actions) for b in post.content.blocks)
    # The harvest of this very channel may be shared with its highlights.
    deferred = command(runtime, FACILITATOR, "#casuistiek")[1]
    summary = runtime.call_sync(deferred.step, *deferred.args)[0]  # type: ignore[union-attr]
    log_id = next(
        b.value for blk in summary.card.blocks if isinstance(blk, Actions) for b in blk.buttons
    )
    replies = run(runtime, ButtonPressed(FACILITATOR, PLACE, ACTION_SHARE, log_id))
    post = next(r for r in replies if isinstance(r, PostMessage))
    shown = " ".join(b.text.plain() for b in post.content.blocks if isinstance(b, Section))
    assert "Vertrouwen groeit" in shown and PRIVATE_SUCCESS not in shown
    with database.session() as session:
        outputs = [lg.output for lg in session.scalars(select(HarvestLog).order_by(HarvestLog.id))]
    assert outputs == ["chat,html,png", "chat-shared", "chat,html,png", "chat-shared"]
    gone = run(runtime, ButtonPressed(FACILITATOR, PLACE, ACTION_SHARE, "99999"))
    assert "niet meer te vinden" in gone[0].text.plain()  # type: ignore[union-attr]


def test_facilitator_flag_on_member_is_respected(database: Database, story: dict[str, int]) -> None:
    with database.session() as session:
        fenna = session.scalars(select(Member).where(Member.platform_user_id == "UFAC02")).one()
        assert fenna.is_facilitator


# --- formats ------------------------------------------------------------------------------------


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.images: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "img":
            self.images.append(dict(attrs).get("src") or "")


def test_html_is_well_formed_escaped_and_has_the_chart(
    database: Database, story: dict[str, int]
) -> None:
    import base64

    texts = load_texts("nl")
    page = render_html(harvest_of(database), texts)
    root = ET.fromstring(page.removeprefix("<!DOCTYPE html>\n"))
    assert root.tag == "html"
    collector = _Collector()
    collector.feed(page)
    collector.close()
    assert {"h1", "h2", "article", "table", "img"} <= set(collector.tags)
    (src,) = collector.images
    assert src.startswith("data:image/png;base64,")
    assert base64.b64decode(src.split(",", 1)[1]).startswith(b"\x89PNG")
    assert "<script>" not in page and "&lt;script&gt;" in page and "&amp; [BSN]" in page
    headings = [el.text for el in root.iter("h2")]
    assert headings[:9] == [
        "Kerncijfers",
        "Casussen",
        "Successen",
        "Leervragen",
        "Speedsparren",
        "Werksessies",
        "Meedenken over casussen",
        "Praktijkvoorbeelden",
        "Samenwerking",
    ]
    assert "Thema's" in headings


def test_markdown_report_reads_as_a_history(database: Database, story: dict[str, int]) -> None:
    markdown = render_markdown(harvest_of(database), load_texts("nl"))
    for heading in (
        "# Oogst",
        "## Casussen",
        "## Successen",
        "## Leervragen",
        "## Speedsparren",
        "## Samenwerking",
        "## Thema's",
    ):
        assert heading in markdown
    assert "\\<script\\>" in markdown and "<script>" not in markdown
    assert "**Stap voor morgen:** Morgen bel ik de moeder terug, zoals beloofd." in markdown
    assert "[open] Hoe betrek ik school" in markdown
    english = render_markdown(harvest_of(database), load_texts("en"))
    assert "## Learning questions" in english


def test_json_round_trips(database: Database, story: dict[str, int]) -> None:
    harvest = harvest_of(database)
    raw = render_json(harvest, load_texts("nl"))
    assert harvest_from_json(raw) == harvest
    assert json.loads(raw)["figures"]["brought_in"] == 4


def test_json_keeps_its_shape_and_refuses_a_foreign_section_type(
    database: Database, story: dict[str, int]
) -> None:
    data = json.loads(render_json(harvest_of(database), load_texts("nl")))
    # A payload's fields are the harvest's own fields, as before the sections rendered themselves.
    assert data["harvest"]["casus"]["brought_in"] == 4
    assert [key for key, _ in data["harvest"]["perspectives"]] == ["jeugd", "schulden", "ggz"]
    assert "casus" not in {s["key"] for s in data["harvest"]["sections"]}
    for forged in ("os:system", "handlers.harvest.report:HarvestOptions.registry", "builtins:dict"):
        data["harvest"]["section_payloads"][0]["type"] = forged
        with pytest.raises(ValueError, match="unknown harvest section type"):
            harvest_from_json(json.dumps(data))


def test_a_sources_links_and_texts_join_the_shared_parts(
    database: Database, story: dict[str, int]
) -> None:
    """A source without a payload that contributes cross-organisation links and texts: they
    join who learned with whom and the keywords, in SQL, without the harvest knowing it."""
    from sqlalchemy import literal, select

    from handlers.core.sections import Scope

    with database.session() as session:
        fenna, bob = (
            session.scalars(select(Member.id).where(Member.platform_user_id == user)).one()
            for user in ("UFAC02", "U2")
        )

    class Mentoring:
        key = "mentoring"

        def collect(self, session: object, scope: object) -> SourceSection:
            return SourceSection(key="mentoring", title="Mentoring", figures=(("Koppels", 1),))

        def actions(self, scope: object) -> None:
            return None

        def links(self, scope: Scope) -> object:
            return select(literal(fenna).label("member_id"), literal(bob).label("owner_id"))

        def sample(self, session: object, scope: object, per_kind: int, chars: int) -> list[str]:
            return ["Mentoring over vroegsignalering"] * 3

    before = harvest_of(database)
    registry = build_router().registry.harvest_sections
    registry.register(Mentoring())  # type: ignore[arg-type]
    with database.session() as session:
        after = collect_harvest(
            session,
            parse_period("", NOW),
            channel_id=None,
            channel_label=None,
            now=NOW,
            options=HarvestOptions(registry=registry),
        )
    assert after.cross_contributions == before.cross_contributions + 1
    assert "vroegsignalering" in after.keywords and "vroegsignalering" not in before.keywords


def test_csv_round_trips(database: Database, story: dict[str, int]) -> None:
    harvest = replace(harvest_of(database), keywords=("=SUM(A1)", "huurachterstand"))
    texts = load_texts("nl")
    parsed = list(csv.DictReader(io.StringIO(render_csv(harvest, texts))))
    expected = csv_rows(harvest, texts)
    assert len(parsed) == len(expected)
    for got, want in zip(parsed, expected, strict=True):
        if want["title"].startswith("="):
            assert got["title"] == "'" + want["title"]  # no formulas in spreadsheets
        else:
            assert got == want
    casus = [r for r in parsed if r["section"] == "casus"]
    assert [int(r["id"]) for r in casus] == [i.id for i in harvest.casussen]
    assert any(r["title"] == HOSTILE_TITLE for r in casus)
    figures = {r["id"]: int(r["count"]) for r in parsed if r["section"] == "figure"}
    assert figures["cross"] == 5 and figures["leervragen"] == 2


def test_speedsparren_source_counts_sessions_and_takeaways(
    database: Database, story: dict[str, int]
) -> None:
    from tests.support.harvest_seed import seed_speedspar

    before = harvest_of(database)
    assert (empty := before.section("speedsparren")) is not None
    assert all(value == 0 for _, value in empty.figures)
    assert "Geen speedspar-sessies" in render_markdown(before, load_texts("nl"))

    seed_speedspar(database)
    harvest = harvest_of(database)
    section = harvest.section("speedsparren")
    assert section is not None
    figures = {name.rsplit(".", 1)[-1]: value for name, value in section.figures}
    assert figures == {
        "speedspar_sessions": 1,  # the cancelled one does not count
        "speedspar_people": 4,
        "speedspar_conversations": 4,
        "speedspar_cross": 2,
        "speedspar_takeaways": 2,
    }
    assert [item.lines[0] for item in section.items] == [
        "Een succes hardop vertellen maakt het herhaalbaar.",
        "Doorvragen op wat wel lukte opent het gesprek.",
    ]
    assert section.items[0].title == "Bob (Jeugdzorg Plus)"
    # Taking part is an action: each of the four gets one more in the week of 5 October.
    weekly = {}
    for row in harvest.activity:
        weekly[row.organisation] = weekly.get(row.organisation, 0) + row.count
    assert weekly == {"Wijkteam Noord": 6, "Jeugdzorg Plus": 7, "Schuldhulp Stad": 5, None: 3}
    texts = load_texts("nl")
    markdown = render_markdown(harvest, texts)
    assert "- Speedspar-sessies: 1" in markdown and "Doorvragen op wat wel lukte" in markdown
    card = summary_card(harvest, texts, zone="Europe/Amsterdam", share_id=1)
    fields = [f.plain() for b in card.blocks if isinstance(b, Section) for f in b.fields]
    assert "Speedspar-sessies\n1" in fields
    english = render_markdown(harvest, load_texts("en"))
    assert "- Speed sparring sessions: 1" in english


def test_summariser_seam_is_off_by_default_and_used_when_plugged_in(
    database: Database, story: dict[str, int]
) -> None:
    from handlers.harvest.report import HarvestOptions

    assert harvest_of(database).summary is None
    seen: list[int] = []

    def summarise(harvest: Harvest) -> str:
        seen.append(harvest.casus.brought_in)
        return "Vier casussen, veel meedenken over organisatiegrenzen heen."

    with database.session() as session:
        harvest = collect_harvest(
            session,
            parse_period("", NOW),
            channel_id=None,
            channel_label=None,
            now=NOW,
            options=HarvestOptions(
                summariser=summarise, registry=build_router().registry.harvest_sections
            ),
        )
    assert seen == [4]
    texts = load_texts("nl")
    assert "## Samenvatting" in render_markdown(harvest, texts)
    card = summary_card(harvest, texts, zone="Europe/Amsterdam", share_id=1)
    shown = " ".join(b.text.plain() for b in card.blocks if isinstance(b, Section))
    assert "veel meedenken over organisatiegrenzen" in shown
