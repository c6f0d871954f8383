"""/reflectieverslag and the reflection after a werksessie.

The question comes as a private message (engine.py); its button opens a form with the three
dimensions, each optional, which pass the privacy guard like every other text and are stored
on the person's own row. ``/reflectieverslag [periode]`` sends the person their own record as
two private files (HTML to read and print, JSON to keep); ``bewaar <jaren>`` sets how long
their own reflections are kept; ``verklaring <iemand> [periode]`` gives a facilitator a
statement of participation for one person, without any reflection."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from zoneinfo import ZoneInfo

from handlers.core.context import HandlerContext
from handlers.core.events import Actor, ButtonPressed, CommandInvoked, FormSubmitted
from handlers.core.forms import FieldRule, clean_text
from handlers.core.replies import (
    Actions,
    Block,
    Button,
    Card,
    Ephemeral,
    Form,
    FormErrors,
    OpenForm,
    Reply,
    Section,
    TextInput,
    UploadFile,
)
from handlers.core.router import FileRefused, Router
from handlers.privacy.flow import (
    CHECK,
    PRIVACY_FIELD,
    check_submission,
    finds_names,
    privacy_choice_field,
)
from handlers.reflectieverslag import queries
from handlers.reflectieverslag.record import (
    DIMENSIONS,
    Period,
    PeriodError,
    build_record,
    build_statement,
    hours_text,
    local_day,
    method_name,
    parse_period,
    record_json,
    render_record_html,
)
from prompts import LANGUAGES, Texts, load_texts
from storage.models import Member, Werksessie, WerksessieReflectie

COMMAND = "reflectieverslag"
ACTION_REFLECT = "reflectieverslag_reflecteer"
FORM = "reflectieverslag_reflectie"
RECORD_FILES = "reflectieverslag"
STATEMENT_FILES = "reflectieverslag-verklaring"
ANSWER_MAX = 1500
KEEP_WORDS = frozenset({"bewaar", "bewaren", "keep"})
STATEMENT_WORDS = frozenset({"verklaring", "statement"})
HELP_WORDS = frozenset({"help", "hulp", "?"})
REFLECT_WORDS = frozenset({"reflecteer", "reflecteren", "reflect"})
REFLECT_LIST = 10


def _today(ctx: HandlerContext) -> date:
    return ctx.now().astimezone(ZoneInfo(ctx.zone)).date()


def is_facilitator(ctx: HandlerContext, member: Member) -> bool:
    return member.is_facilitator or member.platform_user_id in ctx.facilitators


# --- /reflectieverslag ----------------------------------------------------------------------


def command(event: CommandInvoked, ctx: HandlerContext) -> list[Reply]:
    texts = ctx.texts
    words = event.text.split()
    first = words[0].lower() if words else ""
    if first in HELP_WORDS:
        return [Ephemeral(texts.rich("reflectieverslag.usage"))]
    if first in KEEP_WORDS:
        return _keep(event, ctx, words[1:])
    if first in STATEMENT_WORDS:
        return _statement(event, ctx, words[1:])
    if first in REFLECT_WORDS:
        return _open_reflections(event, ctx)
    try:
        period = parse_period(event.text, _today(ctx))
    except PeriodError:
        return [
            Ephemeral(texts.rich("reflectieverslag.bad_period", text=event.text.strip()[:80])),
            Ephemeral(texts.rich("reflectieverslag.usage")),
        ]
    return _record_replies(ctx, event.actor, period)


def _record_replies(ctx: HandlerContext, actor: Actor, period: Period) -> list[Reply]:
    texts = ctx.texts
    member = ctx.member(actor)
    record = build_record(ctx.session, member, period, texts, ctx.zone, ctx.now())
    label = period.label(texts)
    if record.is_empty:
        return [Ephemeral(texts.rich("reflectieverslag.empty", period=label))]
    args = {
        "first": period.first.isoformat(),
        "last": period.last.isoformat(),
        "language": texts.language,
    }
    name = f"leerkring-reflectieverslag-{period.slug()}"
    return [
        UploadFile(
            f"{name}.html",
            render_record_html(record, texts, period, ctx.zone),
            texts.rich("reflectieverslag.file_title.html", period=label).plain(),
            user_id=actor.user_id,
            source=RECORD_FILES,
            source_args={**args, "format": "html"},
        ),
        UploadFile(
            f"{name}.json",
            record_json(record),
            texts.rich("reflectieverslag.file_title.json", period=label).plain(),
            user_id=actor.user_id,
            source=RECORD_FILES,
            source_args={**args, "format": "json"},
        ),
        Ephemeral(
            texts.rich(
                "reflectieverslag.sent",
                period=label,
                sessions=texts.count("werksessie", record.sessions),
                reflections=texts.count("reflectie", record.reflections),
                answers=texts.count("antwoord", record.answers),
                takeaways=texts.count("inzicht", record.takeaways),
            )
        ),
    ]


def _keep(event: CommandInvoked, ctx: HandlerContext, words: list[str]) -> list[Reply]:
    texts = ctx.texts
    member = ctx.member(event.actor)
    if not words:
        years = queries.years_kept(ctx.session, member.id)
        return [Ephemeral(texts.rich("reflectieverslag.kept", years=years))]
    value = words[0]
    if (
        len(words) > 2
        or not value.isdigit()
        or not (queries.MIN_YEARS <= int(value) <= queries.MAX_YEARS)
    ):
        return [
            Ephemeral(
                texts.rich(
                    "reflectieverslag.keep_range", min=queries.MIN_YEARS, max=queries.MAX_YEARS
                )
            )
        ]
    queries.keep_years(ctx.session, member.id, int(value), ctx.now())
    return [Ephemeral(texts.rich("reflectieverslag.keep_set", years=int(value)))]


def _statement(event: CommandInvoked, ctx: HandlerContext, words: list[str]) -> list[Reply]:
    texts = ctx.texts
    asker = ctx.member(event.actor)
    if not is_facilitator(ctx, asker):
        return [Ephemeral(texts.rich("reflectieverslag.only_facilitators"))]
    if not words:
        return [Ephemeral(texts.rich("reflectieverslag.statement_usage"))]
    # A name may be several words (Teams keeps a mention as the person's name): the longest
    # run of words at the start that names exactly one person; the rest is the period.
    person, rest = None, ""
    for size in range(min(len(words), 6), 0, -1):
        who = " ".join(words[:size])
        person = queries.member_by_reference(ctx.session, event.actor.platform, who)
        if person is not None:
            rest = " ".join(words[size:])
            break
    if person is None:
        return [Ephemeral(texts.rich("reflectieverslag.no_such_person", who=words[0][:80]))]
    try:
        period = parse_period(rest, _today(ctx))
    except PeriodError:
        return [Ephemeral(texts.rich("reflectieverslag.bad_period", text=rest[:80]))]
    statement = build_statement(ctx.session, person, period, texts, ctx.zone)
    label = period.label(texts)
    if not statement.sessions:
        return [
            Ephemeral(
                texts.rich("reflectieverslag.statement_empty", name=statement.name, period=label)
            )
        ]
    return [
        UploadFile(
            f"leerkring-verklaring-werksessies-{period.slug()}.html",
            statement.html,
            texts.rich(
                "reflectieverslag.file_title.statement", name=statement.name, period=label
            ).plain(),
            user_id=event.actor.user_id,
            source=STATEMENT_FILES,
            source_args={
                "member": str(person.id),
                "first": period.first.isoformat(),
                "last": period.last.isoformat(),
                "language": texts.language,
            },
        ),
        Ephemeral(
            texts.rich(
                "reflectieverslag.statement_ready",
                name=statement.name,
                period=label,
                sessions=texts.count("werksessie", statement.sessions),
                hours=hours_text(statement.hours, texts.language),
            )
        ),
    ]


def _open_reflections(event: CommandInvoked, ctx: HandlerContext) -> list[Reply]:
    """The person's latest sessions with a button each: a question that did not arrive, or a
    reflection to add to later, is one command away."""
    texts = ctx.texts
    member = ctx.member(event.actor)
    rows = queries.reflections_of(ctx.session, member.id, REFLECT_LIST)
    if not rows:
        return [Ephemeral(texts.rich("reflectieverslag.reflect.none"))]
    blocks: list[Block] = [Section(texts.rich("reflectieverslag.reflect.intro"))]
    for row in rows:
        key = (
            "reflectieverslag.reflect.done" if row.answered_at else "reflectieverslag.reflect.open"
        )
        blocks.append(Section(texts.rich(key, **describe(ctx, row))))
        label = (
            "reflectieverslag.reflect.edit" if row.answered_at else "reflectieverslag.ask.button"
        )
        blocks.append(Actions((Button(ACTION_REFLECT, texts.get(label), str(row.id)),)))
    text = texts.rich("reflectieverslag.reflect.intro")
    return [Ephemeral(text, Card(tuple(blocks), fallback=text))]


# --- files made again (Teams asks before it sends a file) ------------------------------------


def _args_period(args: Mapping[str, str]) -> tuple[Period, Texts] | None:
    language = args.get("language", "")
    try:
        first = date.fromisoformat(args.get("first", ""))
        last = date.fromisoformat(args.get("last", ""))
    except ValueError:
        return None
    if language not in LANGUAGES or last < first:
        return None
    return Period(first, last), load_texts(language)


def record_file(
    ctx: HandlerContext, platform: str, user_id: str, args: Mapping[str, str]
) -> bytes | None:
    """The record of whoever accepted the file: never anyone else's."""
    found = _args_period(args)
    if found is None or args.get("format") not in ("html", "json"):
        return None
    period, texts = found
    member = ctx.member(Actor(platform, user_id))
    record = build_record(ctx.session, member, period, texts, ctx.zone, ctx.now())
    if args["format"] == "json":
        return record_json(record)
    return render_record_html(record, texts, period, ctx.zone)


def statement_file(
    ctx: HandlerContext, platform: str, user_id: str, args: Mapping[str, str]
) -> bytes | None:
    found = _args_period(args)
    member_id = args.get("member", "")
    if found is None or not member_id.isdigit():
        return None
    period, texts = found
    if not is_facilitator(ctx, ctx.member(Actor(platform, user_id))):
        raise FileRefused(texts.rich("reflectieverslag.only_facilitators"))
    person = ctx.session.get(Member, int(member_id))
    if person is None or person.platform != platform:
        raise FileRefused(texts.rich("reflectieverslag.file_refused"))
    return build_statement(ctx.session, person, period, texts, ctx.zone).html


# --- the reflection ---------------------------------------------------------------------------


def _own_row(ctx: HandlerContext, row_id: object, actor: Actor) -> WerksessieReflectie | None:
    if not isinstance(row_id, int):
        return None
    row = ctx.session.get(WerksessieReflectie, row_id)
    if row is None or row.member_id != ctx.member(actor).id:
        return None
    return row


def describe(ctx: HandlerContext, row: WerksessieReflectie) -> dict[str, str]:
    """The session as the question and the form name it: date, method and role."""
    texts = ctx.texts
    werksessie = ctx.session.get(Werksessie, row.session_id)
    moment = (werksessie.finished_at or werksessie.created_at) if werksessie else row.created_at
    return {
        "date": local_day(moment, ctx.zone),
        "method": method_name(texts.language, werksessie.method) if werksessie else "-",
        "role": texts.get(f"reflectieverslag.role.{row.role}"),
    }


def open_form(event: ButtonPressed, ctx: HandlerContext) -> list[Reply]:
    texts = ctx.texts
    row_id = int(event.value) if event.value.isdigit() else None
    row = _own_row(ctx, row_id, event.actor)
    if row is None:
        return [Ephemeral(texts.rich("reflectieverslag.form.not_yours"))]
    fields = tuple(
        TextInput(
            name,
            texts.get(f"reflectieverslag.dimensie.{name}.label"),
            required=False,
            multiline=True,
            max_length=ANSWER_MAX,
            initial=getattr(row, name) or None,
            hint=texts.get(f"reflectieverslag.dimensie.{name}.hint"),
        )
        for name in DIMENSIONS
    )
    form = Form(
        form_id=FORM,
        title=texts.get("reflectieverslag.form.title"),
        submit_label=texts.get("reflectieverslag.form.submit"),
        cancel_label=texts.get("reflectieverslag.form.cancel"),
        fields=(*fields, *((privacy_choice_field(texts),) if finds_names(ctx.guard) else ())),
        intro=texts.rich("reflectieverslag.form.intro", **describe(ctx, row)),
        metadata={"reflectie_id": row.id},
    )
    return [OpenForm(form)]


def submit(event: FormSubmitted, ctx: HandlerContext) -> list[Reply]:
    texts = ctx.texts
    row = _own_row(ctx, event.metadata.get("reflectie_id"), event.actor)
    if row is None:
        return [FormErrors({DIMENSIONS[0]: texts.get("reflectieverslag.form.not_yours")})]
    values = {name: clean_text(event.text(name)) for name in DIMENSIONS}
    if not any(values.values()):
        return [FormErrors({DIMENSIONS[0]: texts.get("reflectieverslag.form.empty")})]
    checked = check_submission(
        values,
        [FieldRule(name, False, ANSWER_MAX) for name in DIMENSIONS],
        texts,
        ctx.guard,
        event.text(PRIVACY_FIELD) or CHECK,
    )
    if checked.errors:
        return [FormErrors(checked.errors)]  # the form stays open with what was typed
    for name in DIMENSIONS:
        setattr(row, name, checked.values[name] or None)
    row.answered_at = ctx.now()
    ctx.session.flush()
    return [Ephemeral(texts.rich("reflectieverslag.form.saved"))]


def register(router: Router) -> None:
    router.command(COMMAND, command)
    router.action(ACTION_REFLECT, open_form)
    router.form(FORM, submit)
    router.file_source(RECORD_FILES, record_file)
    router.file_source(STATEMENT_FILES, statement_file)
