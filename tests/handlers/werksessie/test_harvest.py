"""The werksessie harvest section counts a seeded set of sessions, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handlers.core.sections import Scope
from handlers.harvest.render import source_label
from handlers.werksessie.harvest import WerksessieSource, method_label
from handlers.werksessie.methods import load_methods
from prompts import load_texts
from storage import migrate
from storage.db import Database
from storage.models import (
    Casus,
    CasusStatus,
    Channel,
    Member,
    Organisation,
    Werksessie,
    WerksessieParticipant,
    WerksessieStatus,
)

START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 4, 1, tzinfo=UTC)


def test_harvest_counts_match_a_seeded_set_of_sessions(database: Database) -> None:
    migrate.upgrade(database.engine)
    at = START + timedelta(days=3)
    with database.session() as session:
        orgs = [Organisation(name=n) for n in ("Gemeente", "Buurtteam", "Jeugdzorg")]
        channel = Channel(platform="slack", platform_channel_id="C1")
        session.add_all([*orgs, channel])
        session.flush()
        people = {
            uid: Member(platform="slack", platform_user_id=uid, organisation_id=org.id)
            for uid, org in (("G1", orgs[0]), ("G2", orgs[0]), ("B1", orgs[1]), ("J1", orgs[2]))
        }
        session.add_all(people.values())
        session.flush()

        def casus(owner: str, insight: str | None) -> Casus:
            made = Casus(
                channel_id=channel.id,
                inbrenger_id=people[owner].id,
                title=f"Casus van {owner}",
                situation="s",
                question="v",
                perspectives=[],
                status=CasusStatus.CLOSED if insight else CasusStatus.OPEN,
                insight=insight,
                next_step="Morgen bellen" if insight else None,
                created_at=at,
            )
            session.add(made)
            session.flush()
            return made

        def held(c: Casus, method: str, status: WerksessieStatus, done: int, *who: str,
                 when: datetime = at) -> None:  # fmt: skip
            werksessie = Werksessie(
                casus_id=c.id, method=method, mode="live", begeleider_id=people["G1"].id,
                started_by_id=people["G1"].id, anonymous=False, status=status, phase=done,
                phases_done=done, created_at=when,
            )  # fmt: skip
            session.add(werksessie)
            session.flush()
            for uid in who:
                session.add(
                    WerksessieParticipant(
                        session_id=werksessie.id, member_id=people[uid].id, joined_at=when
                    )
                )

        first, second, third = casus("G1", "Eerst vertrouwen"), casus("B1", None), casus("J1", None)
        held(first, "incidentmethode", WerksessieStatus.FINISHED, 7, "G1", "G2", "B1", "J1")
        held(second, "schrijf_eerst", WerksessieStatus.STOPPED, 2, "B1", "G2")
        held(third, "incidentmethode", WerksessieStatus.OPEN, 0, "J1", "G1")  # never started
        held(third, "alact", WerksessieStatus.FINISHED, 5, "G1", when=START - timedelta(days=1))
        session.flush()

        section = WerksessieSource().collect(session, Scope(START, END))
        actions = session.execute(WerksessieSource().actions(Scope(START, END))).all()
    figures = dict(section.figures)
    assert figures["oogsten.report.werksessie_sessions"] == 2
    assert figures["oogsten.report.werksessie_phases"] == 9
    assert figures["oogsten.report.werksessie_closed"] == 1
    method = "oogsten.report.werksessie_methode."
    assert figures[method + "incidentmethode"] == 1 and figures[method + "schrijf_eerst"] == 1
    assert method + "alact" not in figures
    items = {item.title: item.lines for item in section.items}
    assert items["Casus van G1"] == ("Eerst vertrouwen", "Morgen bellen")
    assert items["Gemeente → Gemeente"] == ("1",)  # G2 in G1's casus
    assert items["Buurtteam → Gemeente"] == ("1",)
    assert items["Jeugdzorg → Gemeente"] == ("1",)
    assert items["Gemeente → Buurtteam"] == ("1",)  # G2 in B1's casus
    assert len(actions) == 6  # sign-ups of the two sessions held in the period

    # Every label of the section is the report's language's own.
    labels = {
        language: [source_label(load_texts(language), key) for key, _ in section.figures]
        for language in ("nl", "en")
    }
    assert labels["nl"] == [
        "Werksessies gehouden",
        "Fasen doorlopen",
        "Casussen afgerond met een stap voor morgen",
        "Werksessies met de incidentmethode",
        "Werksessies met Balint-stijl: schrijf eerst",
    ]
    assert labels["en"] == [
        "Working sessions held",
        "Phases completed",
        "Cases closed with a step for tomorrow",
        "Working sessions with the incident method",
        "Working sessions with Balint style: write first",
    ]
    for language in ("nl", "en"):
        texts = load_texts(language)
        assert source_label(texts, section.title) == texts.get("oogsten.report.werksessies")


def test_every_shipped_method_has_a_harvest_label_in_both_languages() -> None:
    for language in ("nl", "en"):
        texts = load_texts(language)
        for key, method in load_methods(language).items():
            label = source_label(texts, method_label(key, {}))
            assert label.startswith(("Werksessies met", "Working sessions with")), label
            assert method.name.split(":")[0].split(" (")[0].lower() in label.lower(), label


def test_a_method_a_facilitator_added_is_labelled_with_its_name() -> None:
    assert method_label("eigen_methode", {"eigen_methode": "Onze eigen methode"}) == (
        "Onze eigen methode"
    )
