"""A seeded practice for the reflectieverslag tests, on any platform: three people from two
organisations and a facilitator, werksessies in two channels (series), prompt answers and
speedspar takeaways, with texts that must never reach someone else's record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from handlers.casus.queries import CasusRepository
from storage.db import Database
from storage.models import (
    Answer,
    Member,
    Organisation,
    PromptRun,
    RunStatus,
    SpeedsparSession,
    SpeedsparStatus,
    SpeedsparTakeaway,
    Werksessie,
    WerksessieParticipant,
    WerksessiePost,
    WerksessieStatus,
)
from storage.repositories import ChannelRepository, MemberRepository

T0 = datetime(2026, 3, 23, 13, 0, tzinfo=UTC)

CLIENT_TITLE = "Moeder Fatima weigert hulp"
CLIENT_SITUATION = "Gezin Jansen aan de Dorpsstraat 12 heeft huurachterstand."
ANNA_ANSWER = "Ik bleef rustig toen het gesprek spannend werd."
BOB_ANSWER = "Bobs eigen antwoord over zijn week."
ANNA_FOLLOW_UP = "Annas vervolg op een casus over een gezin."
ANNA_TAKEAWAY = "Annas inzicht: eerst vragen, dan pas adviseren."
BOB_TAKEAWAY = "Bobs inzicht uit het speedsparren."


@dataclass(frozen=True)
class People:
    anna: str
    bob: str
    carla: str
    facilitator: str


@dataclass(frozen=True)
class Seeded:
    incident: int  # Anna takes part in Bob's casus (series one), live, 65 minutes
    guided: int  # Anna is procesbegeleider on Carla's casus (series two), live, 45 minutes
    without_anna: int  # Bob and Carla only, two days earlier
    earlier: int  # Anna took part in 2024
    running: int  # Anna signed up; not closed yet


def _member(session: Session, platform: str, user_id: str, name: str, org: str) -> Member:
    member = MemberRepository(session).ensure(platform, user_id, display_name=name)
    organisation = session.query(Organisation).filter_by(name=org).one_or_none()
    if organisation is None:
        organisation = Organisation(name=org)
        session.add(organisation)
        session.flush()
    member.organisation_id = organisation.id
    member.role = "jeugdconsulent"
    return member


def _werksessie(
    session: Session,
    casus_id: int,
    begeleider: Member,
    participants: list[Member],
    started: datetime,
    minutes: int,
    *,
    method: str = "incidentmethode",
    status: WerksessieStatus = WerksessieStatus.FINISHED,
) -> int:
    closed = status in (WerksessieStatus.FINISHED, WerksessieStatus.STOPPED)
    werksessie = Werksessie(
        casus_id=casus_id,
        method=method,
        mode="live",
        begeleider_id=begeleider.id,
        started_by_id=begeleider.id,
        status=status,
        phase=6 if closed else 2,
        phases_done=6 if closed else 2,
        created_at=started - timedelta(minutes=10),
        finished_at=started + timedelta(minutes=minutes) if closed else None,
    )
    session.add(werksessie)
    session.flush()
    for member in participants:
        session.add(
            WerksessieParticipant(session_id=werksessie.id, member_id=member.id, joined_at=started)
        )
    session.add(WerksessiePost(session_id=werksessie.id, phase=0, kind="fase", created_at=started))
    session.flush()
    return werksessie.id


def seed(database: Database, platform: str, people: People, channels: tuple[str, str]) -> Seeded:
    with database.session() as session:
        anna = _member(session, platform, people.anna, "Anna", "Gemeente Utrecht")
        bob = _member(session, platform, people.bob, "Bob", "Buurtteam Noord")
        carla = _member(session, platform, people.carla, "Carla", "Buurtteam Noord")
        facilitator = _member(session, platform, people.facilitator, "Fenna", "Leerkring")
        facilitator.is_facilitator = True
        one = ChannelRepository(session).ensure(platform, channels[0], None, "intervisie-jeugd")
        two = ChannelRepository(session).ensure(platform, channels[1], None, "intervisie-schulden")
        casussen = CasusRepository(session)

        def casus(channel: object, inbrenger: Member, title: str) -> int:
            return casussen.add(
                channel=channel,  # type: ignore[arg-type]
                inbrenger=inbrenger,
                title=title,
                situation=CLIENT_SITUATION,
                obstacle=None,
                uncertainty=None,
                question="Hoe verder?",
                perspectives=[],
            ).id

        bobs = casus(one, bob, CLIENT_TITLE)
        carlas = casus(two, carla, "Carla zoekt houvast")
        incident = _werksessie(session, bobs, facilitator, [anna, bob, carla], T0, 65)
        guided = _werksessie(
            session, carlas, anna, [carla], T0 + timedelta(hours=3), 45, method="vijf_keer_waarom"
        )
        without = _werksessie(session, bobs, facilitator, [bob, carla], T0 - timedelta(days=2), 30)
        in_2024 = datetime(2024, 5, 1, tzinfo=UTC)
        earlier = _werksessie(session, carlas, facilitator, [anna], in_2024, 50)
        running = _werksessie(
            session,
            bobs,
            facilitator,
            [anna],
            T0 + timedelta(hours=5),
            0,
            status=WerksessieStatus.RUNNING,
        )

        def answer(
            member: Member, kind: str, question: str, text: str, casus_id: int | None
        ) -> None:
            run = PromptRun(
                fire_key=f"seed:{member.id}:{kind}",
                channel_id=one.id,
                casus_id=casus_id,
                kind=kind,
                delivery="dm",
                fire_at=T0,
                remind_at=T0 + timedelta(days=1),
                closes_at=T0 + timedelta(days=2),
                status=RunStatus.CLOSED,
            )
            session.add(run)
            session.flush()
            session.add(
                Answer(
                    run_id=run.id,
                    member_id=member.id,
                    question_id=question,
                    text=text,
                    created_at=T0 + timedelta(days=2),
                )
            )

        answer(anna, "wat-ging-goed", "goed", ANNA_ANSWER, None)
        answer(bob, "wat-ging-goed", "goed", BOB_ANSWER, None)
        answer(anna, "casus-vervolg", "stap", ANNA_FOLLOW_UP, bobs)
        spar = SpeedsparSession(
            channel_id=one.id,
            status=SpeedsparStatus.CLOSED,
            starts_at=T0 + timedelta(days=4),
            deck="speedsparren",
            seed=1,
        )
        session.add(spar)
        session.flush()
        for member, text in ((anna, ANNA_TAKEAWAY), (bob, BOB_TAKEAWAY)):
            session.add(
                SpeedsparTakeaway(
                    session_id=spar.id,
                    member_id=member.id,
                    text=text,
                    created_at=T0 + timedelta(days=4),
                )
            )
        session.flush()
        return Seeded(incident, guided, without, earlier, running)
