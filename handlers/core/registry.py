"""What features declare beyond their chat handlers: schedule kinds, harvest sections, scheduler
steps and what they store about a person (handlers/core/personal.py). The router holds one
``Registry``; the runtime hands it to every handler as ``ctx.registry``, and the scheduler runs
its steps. Core code and other features reach a feature only through these declarations, never
by its name."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from handlers.core.personal import PersonalData, PersonalRegistry
from handlers.core.replies import Button, DirectMessage, Record, Reply
from handlers.core.sections import SourceRegistry
from prompts import Texts
from storage.models import Channel, Member, Schedule

if TYPE_CHECKING:
    from handlers.core.context import HandlerContext
    from handlers.core.events import MessageRef
    from handlers.core.messaging import Messengers
    from handlers.core.sending import Caller


@dataclass(frozen=True)
class FireResult:
    """What firing one schedule did."""

    run_id: int | None  # a prompt run that was created
    skipped: str | None = None  # why nothing was started: holiday, paused, missed, duplicate, busy
    started_id: int | None = None  # what a feature's schedule kind started (its own row id)
    notice: DirectMessage | None = None  # for a facilitator, when nothing was started
    kind: str | None = None  # the schedule kind that started ``started_id``

    @property
    def fired(self) -> bool:
        return self.run_id is not None or self.started_id is not None


@dataclass(frozen=True)
class KindOption:
    """An option a schedule kind takes on the command line: ``leerkring schedule add --kind
    <key> --<name> …``. ``type`` is ``int``, ``text`` or ``flag``."""

    name: str
    help: str
    type: str = "text"


class ScheduleError(ValueError):
    """Bad input for a new schedule: a friendly message per field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class ScheduleKind(Protocol):
    """A kind of schedule a feature adds beside the reflection decks (``/reflectie`` lists,
    pauses and fires every schedule; the kind decides what firing means)."""

    key: str
    options: tuple[KindOption, ...]  # what ``leerkring schedule add`` takes for this kind

    def label(self, texts: Texts) -> str:
        """The kind's name in the schedule overview."""
        ...

    def details(self, texts: Texts, schedule: Schedule) -> str:
        """How it is delivered, for the overview line."""
        ...

    def send_now_label(self, texts: Texts) -> str: ...

    def plan_button(self, texts: Texts) -> Button | None:
        """A button under the overview that plans a new schedule of this kind."""
        ...

    def fire(
        self, ctx: HandlerContext, schedule: Schedule, fire_at: datetime, key: str
    ) -> FireResult:
        """The schedule is due (pauses and holidays are already checked)."""
        ...

    def fired_now(
        self, ctx: HandlerContext, schedule: Schedule, result: FireResult
    ) -> list[Reply] | None:
        """The answer to "send now", or None for the general one."""
        ...

    async def started(self, engine: Engine, started_id: int) -> None:
        """After ``leerkring schedule run`` started something: deliver it right away."""
        ...

    def create(
        self,
        ctx: HandlerContext,
        channel: Channel,
        rule: str,
        values: Mapping[str, Any],
        *,
        skip_holidays: bool,
        creator: Member | None,
    ) -> Schedule:
        """``leerkring schedule add --kind <key>``: ``values`` maps each of ``options`` to what
        was given (None when not). Raises ScheduleError; nothing is stored then."""
        ...

    def run_line(self, result: FireResult) -> str:
        """What ``leerkring schedule run`` prints when firing started something
        (``started_id``) or was skipped because it is still going (``busy``)."""
        ...


class Engine(Protocol):
    """What a scheduler step may use (``bot.scheduler.Scheduler``)."""

    @property
    def runtime(self) -> Caller:
        """Runs synchronous steps; the owner of this process's claims."""
        ...

    messengers: Messengers
    semaphore: asyncio.Semaphore  # bounds the platform calls in flight
    registry: Registry
    state: dict[str, Any]  # what a step keeps between ticks, in this process

    async def call(self, step: Callable[..., Any], *args: Any) -> Any:
        """``step(ctx, *args)`` in a unit of work of its own, in a worker thread."""
        ...

    async def posted(self, record: Record, ref: MessageRef) -> list[Reply]:
        """A post was found on the platform after all: record it (the posted-hook)."""
        ...

    async def notify(self, notice: DirectMessage) -> None:
        """A word for a facilitator; logged if it cannot be sent."""
        ...

    def now(self) -> datetime: ...

    def option(self, name: str, default: Any) -> Any:
        """A feature's setting as the scheduler was started with it, else ``default``."""
        ...

    def wake_at(self, moment: datetime, key: str) -> None:
        """Run the tick at ``moment`` too (one wake-up per ``key``; a later call moves it)."""
        ...


StepFunction = Callable[[Engine], Awaitable[Mapping[str, int]]]


@dataclass(frozen=True)
class EngineStep:
    """One step of the scheduler's tick: ``run(engine)`` returns what it did as counts, which
    the tick adds up. Steps run in ``order`` (lower first), then in registration order."""

    name: str
    run: StepFunction
    order: int = 50


@dataclass
class Registry:
    harvest_sections: SourceRegistry = field(default_factory=SourceRegistry)
    schedule_kinds: dict[str, ScheduleKind] = field(default_factory=dict)
    engine_steps: list[EngineStep] = field(default_factory=list)
    personal_data: PersonalRegistry = field(default_factory=PersonalRegistry)

    def schedule_kind(self, kind: ScheduleKind) -> None:
        if kind.key in self.schedule_kinds:
            raise ValueError(f"schedule kind {kind.key!r} is registered twice")
        self.schedule_kinds[kind.key] = kind

    def engine_step(self, step: EngineStep) -> None:
        if any(s.name == step.name for s in self.engine_steps):
            raise ValueError(f"scheduler step {step.name!r} is registered twice")
        self.engine_steps.append(step)

    def personal(self, part: PersonalData) -> None:
        self.personal_data.register(part)

    def ordered_steps(self) -> list[EngineStep]:
        return sorted(self.engine_steps, key=lambda step: step.order)
