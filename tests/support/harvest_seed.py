"""A small, hand-made community for harvest tests: three organisations, two channels, casussen
in every state, contributions across organisations, and reflection answers of every kind.

The expected figures in tests/handlers/test_harvest.py are worked out by hand from this story.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from storage.db import Database
from storage.models import (
    Answer,
    Bijdrage,
    Casus,
    CasusStatus,
    Channel,
    Member,
    Organisation,
    PromptRun,
    RunStatus,
)

# Thursday 15 October 2026, 10:00 in Amsterdam. "afgelopen 6 weken" = 4 Sep .. 15 Oct 2026.
NOW = datetime(2026, 10, 15, 8, 0, tzinfo=UTC)
HOSTILE_TITLE = "Jongere <script>alert(1)</script> & [BSN] <!channel>"
PRIVATE_SUCCESS = "Geheim succes uit een besloten reflectie"


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


def seed_story(database: Database, platform: str = "slack") -> dict[str, int]:
    """The story on one platform (``teams``: the same people and channels, known by Teams)."""
    with database.session() as session:
        return _seed(session, platform)


def _seed(session: Session, platform: str = "slack") -> dict[str, int]:
    wijk, jeugd, schuld = (
        Organisation(name="Wijkteam Noord"),
        Organisation(name="Jeugdzorg Plus"),
        Organisation(name="Schuldhulp Stad"),
    )
    session.add_all([wijk, jeugd, schuld])
    session.flush()

    def member(user: str, name: str, org: Organisation | None, facilitator: bool = False) -> Member:
        m = Member(
            platform=platform,
            platform_user_id=user,
            display_name=name,
            organisation_id=org.id if org else None,
            is_facilitator=facilitator,
        )
        session.add(m)
        return m

    anna = member("U1", "Anna", wijk)
    bob = member("U2", "Bob", jeugd)
    carla = member("U3", "Carla", schuld)
    dirk = member("U4", "Dirk", None)
    member("UFAC02", "Fenna", wijk, facilitator=True)
    c1_channel = Channel(platform=platform, platform_channel_id="C1", name="casuistiek")
    c2_channel = Channel(platform=platform, platform_channel_id="C2", name="jeugd")
    session.add_all([c1_channel, c2_channel])
    session.flush()

    def casus(
        channel: Channel,
        who: Member,
        title: str,
        created: datetime,
        perspectives: list[str],
        closed: datetime | None = None,
        status: CasusStatus | None = None,
        insight: str | None = None,
        step: str | None = None,
    ) -> Casus:
        c = Casus(
            channel_id=channel.id,
            inbrenger_id=who.id,
            title=title,
            situation="Situatie zonder herkenbare gegevens.",
            question="Hoe bouw ik vertrouwen op?",
            perspectives=perspectives,
            status=status or (CasusStatus.CLOSED if closed else CasusStatus.OPEN),
            created_at=created,
            closed_at=closed,
            insight=insight,
            next_step=step,
            message_id=f"m{title[:5]}",
        )
        session.add(c)
        session.flush()
        return c

    def bijdrage(c: Casus, who: Member, when: datetime, text: str = "Ik denk mee.") -> None:
        session.add(Bijdrage(casus_id=c.id, author_id=who.id, text=text, created_at=when))

    c1 = casus(
        c1_channel,
        anna,
        "Moeder met huurachterstand wil geen hulp",
        at(9, 10),
        ["schulden", "jeugd"],
        closed=at(9, 20),
        insight="Vertrouwen groeit als ik kleine afspraken nakom.",
        step="Morgen bel ik de moeder terug, zoals beloofd.",
    )
    bijdrage(c1, bob, at(9, 11), "Begin bij wat zij zelf belangrijk vindt.")
    bijdrage(c1, bob, at(9, 12), "Vraag naar eerdere ervaringen met hulpverlening.")
    bijdrage(c1, carla, at(9, 13), "Een schuldhulpmaatje kan drempels verlagen.")
    c2 = casus(c1_channel, bob, "Jongere stopt met school", at(10, 1), ["ggz"])
    c3 = casus(c1_channel, carla, "Vader met gokschulden", at(9, 25), ["schulden"])
    bijdrage(c3, anna, at(9, 26))
    bijdrage(c3, dirk, at(9, 27))
    c4 = casus(c2_channel, anna, HOSTILE_TITLE, at(10, 5), ["jeugd"])
    c5 = casus(
        c1_channel,
        bob,
        "Oude casus uit juni",
        at(6, 1),
        ["wonen"],
        closed=at(6, 20),
        insight="Oud inzicht",
        step="Oude stap",
    )
    bijdrage(c5, carla, at(6, 2))
    c6 = casus(c1_channel, anna, "Lang lopende casus uit augustus", at(8, 1), ["zorg"])
    bijdrage(c6, bob, at(9, 15))
    casus(c1_channel, bob, "Nog niet gepost", at(10, 6), ["lvb"], status=CasusStatus.PENDING)

    def run(channel: Channel, kind: str, fired: datetime, private: bool = False) -> PromptRun:
        r = PromptRun(
            fire_key=f"{kind}:{fired.isoformat()}",
            channel_id=channel.id,
            kind=kind,
            delivery="channel",
            private=private,
            fire_at=fired,
            remind_at=fired,
            closes_at=fired,
            status=RunStatus.CLOSED,
        )
        session.add(r)
        session.flush()
        return r

    def answer(r: PromptRun, who: Member, question: str, text: str, when: datetime) -> None:
        session.add(
            Answer(run_id=r.id, member_id=who.id, question_id=question, text=text, created_at=when)
        )

    r0 = run(c1_channel, "wat-ging-goed", at(8, 1))
    answer(r0, anna, "goed", "Iets uit augustus", at(8, 1, 12))
    r1 = run(c1_channel, "wat-ging-goed", at(9, 18))
    answer(r1, anna, "goed", "Het huisbezoek liep beter dan verwacht.", at(9, 18, 12))
    answer(r1, anna, "bijdrage", "Ik nam de tijd en luisterde eerst.", at(9, 18, 12))
    answer(r1, bob, "goed", "Een jongere kwam zelf terug met een plan.", at(9, 18, 13))
    answer(r1, carla, "goed", "De schuldeiser ging akkoord met een regeling.", at(9, 19))
    r2 = run(c1_channel, "succesvragen", at(10, 2))
    answer(r2, dirk, "wat", "Ik vroeg door naar wat wel lukte.", at(10, 2, 14))
    r3 = run(c1_channel, "wat-ging-goed", at(10, 9), private=True)
    answer(r3, bob, "goed", PRIVATE_SUCCESS, at(10, 9, 12))
    r4 = run(c1_channel, "leervraag", at(9, 5))
    answer(r4, anna, "leervraag", "Hoe stel ik een succesvraag zonder te sturen?", at(9, 5, 12))
    answer(
        r4, carla, "leervraag", "Hoe betrek ik school zonder vertrouwen te schaden?", at(9, 5, 13)
    )
    answer(r4, carla, "aanleiding", "Een gesprek dat vastliep.", at(9, 5, 13))
    return {"c1": c1.id, "c2": c2.id, "c3": c3.id, "c4": c4.id, "c6": c6.id, "r1": r1.id}


def seed_speedspar(database: Database) -> None:
    """One speedspar session held on 8 October 2026 in C1 (two rounds, four people) and one
    cancelled session, on top of ``seed_story``."""
    from sqlalchemy import select

    from storage.models import (
        SpeedsparParticipant,
        SpeedsparSeat,
        SpeedsparSession,
        SpeedsparStatus,
        SpeedsparTakeaway,
    )

    with database.session() as session:
        people = {
            m.platform_user_id: m
            for m in session.scalars(select(Member).where(Member.platform_user_id.like("U_")))
        }
        channel = session.scalars(select(Channel).where(Channel.platform_channel_id == "C1")).one()
        held = SpeedsparSession(
            channel_id=channel.id,
            status=SpeedsparStatus.CLOSED,
            starts_at=at(10, 8, 13),
            rounds=2,
            minutes=6,
            deck="succesvragen",
            seed=7,
        )
        cancelled = SpeedsparSession(
            channel_id=channel.id,
            status=SpeedsparStatus.CANCELLED,
            starts_at=at(10, 9, 13),
            rounds=2,
            minutes=6,
            deck="succesvragen",
            seed=8,
        )
        session.add_all([held, cancelled])
        session.flush()
        for user in ("U1", "U2", "U3", "U4"):
            session.add(
                SpeedsparParticipant(session_id=held.id, member_id=people[user].id, user_id=user)
            )
        session.add(
            SpeedsparParticipant(session_id=cancelled.id, member_id=people["U1"].id, user_id="U1")
        )
        seats = [
            (1, "U1", 1, True), (1, "U2", 1, True), (1, "U3", 2, False), (1, "U4", 2, False),
            (2, "U1", 1, True), (2, "U3", 1, True), (2, "U2", 2, False), (2, "U4", 2, False),
        ]  # fmt: skip
        for round_no, user, group, cross in seats:
            session.add(
                SpeedsparSeat(
                    session_id=held.id,
                    round=round_no,
                    member_id=people[user].id,
                    group_no=group,
                    position=0,
                    cross_org=cross,
                )
            )
        session.add(
            SpeedsparTakeaway(
                session_id=held.id,
                member_id=people["U1"].id,
                text="Doorvragen op wat wel lukte opent het gesprek.",
                created_at=at(10, 8, 14),
            )
        )
        session.add(
            SpeedsparTakeaway(
                session_id=held.id,
                member_id=people["U2"].id,
                text="Een succes hardop vertellen maakt het herhaalbaar.",
                created_at=at(10, 8, 14),
            )
        )
