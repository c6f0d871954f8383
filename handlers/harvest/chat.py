"""``/oogsten [periode] [#kanaal]``: facilitators harvest what the network learned.

The command answers at once ("gathering…") and hands the harvest itself to a ``Deferred``
step, so Slack gets its ack in time even for a long period. The step collects the harvest in
SQL, logs it in harvest_log, and replies with a private summary card (key figures, highlights,
a "share in the channel" button) plus the full report as files: the HTML leergeschiedenis and
the participation chart.

The files are also a file source (``HARVEST_FILES``): a platform that asks before it sends a
file (Teams) offers them with the harvest's parameters (period, channel, language), and on
accept they are made again from the database for that same request, after checking that the
person is still a facilitator. Each delivered file is written to harvest_log.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from handlers.core.context import HandlerContext
from handlers.core.events import Actor, ButtonPressed, CommandInvoked, Place
from handlers.core.replies import (
    Actions,
    Block,
    Button,
    Card,
    Context,
    Deferred,
    Ephemeral,
    Header,
    Mention,
    PostMessage,
    Reply,
    Rich,
    Section,
    UploadFile,
)
from handlers.core.reporting import short, source_label
from handlers.core.router import FileRefused, Router
from handlers.harvest.periods import Period, PeriodError, parse_period
from handlers.harvest.queries import channel_by_platform_id
from handlers.harvest.render import chart_png, file_name, render_html, section_themes
from handlers.harvest.report import Harvest, HarvestOptions, collect_harvest
from handlers.ids import parse_id
from prompts import LANGUAGES, Texts, load_texts
from storage.models import Channel, HarvestLog, Member

COMMAND = "oogsten"
ACTION_SHARE = "oogsten_deel"
HARVEST_FILES = "oogsten"  # the file source of the report and the chart
FILE_FORMATS = ("html", "png")

_SLACK_CHANNEL = re.compile(r"<#(?P<id>[A-Z0-9]+)(?:\|(?P<name>[^>]*))?>")
_HASH_CHANNEL = re.compile(r"(?:^|\s)#(?P<name>[\w.-]+)")


# --- parsing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelRef:
    channel_id: str | None  # the platform's id, when the platform sent one
    name: str | None

    @property
    def shown(self) -> str:
        return self.name or self.channel_id or ""


def split_channel(text: str) -> tuple[ChannelRef | None, str]:
    """The channel named in the command (Slack's ``<#C123|naam>`` or ``#naam``) and the rest."""
    if match := _SLACK_CHANNEL.search(text):
        rest = text[: match.start()] + " " + text[match.end() :]
        return ChannelRef(match.group("id"), match.group("name") or None), rest.strip()
    if match := _HASH_CHANNEL.search(text):
        rest = text[: match.start()] + " " + text[match.end() :]
        return ChannelRef(None, match.group("name")), rest.strip()
    return None, text.strip()


def find_channel(session: Session, platform: str, ref: ChannelRef) -> Channel | None:
    for key in (ref.channel_id, ref.name):
        if key:
            channel = channel_by_platform_id(session, platform, key)
            if channel is not None:
                return channel
    return None


def is_facilitator(ctx: HandlerContext, member: Member) -> bool:
    return member.is_facilitator or member.platform_user_id in ctx.facilitators


def channel_ref(channel: Channel) -> str:
    return f"{channel.platform}:{channel.platform_channel_id}"


def channel_label(channel: Channel) -> str:
    return channel.name or channel.platform_channel_id


# --- the command --------------------------------------------------------------------------------


@dataclass(frozen=True)
class HarvestRequest:
    """Everything the deferred step needs, as plain values."""

    platform: str
    user_id: str
    period: Period
    channel_id: int | None
    channel_label: str | None
    channel_ref: str | None
    # The conversation (platform id) where /oogsten was typed: "Deel in het kanaal" shares
    # there, also when the summary is shown elsewhere (Teams: in the 1:1 chat).
    origin: str | None = None


def oogsten_command(event: CommandInvoked, ctx: HandlerContext) -> list[Reply]:
    texts = ctx.texts
    member = ctx.member(event.actor)
    if not is_facilitator(ctx, member):
        return [Ephemeral(texts.rich("oogsten.only_facilitators"))]
    ref, period_text = split_channel(event.text)
    try:
        period = parse_period(period_text, ctx.now(), ctx.zone)
    except PeriodError:
        return [Ephemeral(texts.rich("oogsten.bad_period", text=period_text))]
    channel = None
    if ref is not None:
        channel = find_channel(ctx.session, event.actor.platform, ref)
        if channel is None:
            return [Ephemeral(texts.rich("oogsten.unknown_channel", channel=ref.shown))]
    request = HarvestRequest(
        platform=event.actor.platform,
        user_id=event.actor.user_id,
        period=period,
        channel_id=channel.id if channel else None,
        channel_label=channel_label(channel) if channel else None,
        channel_ref=channel_ref(channel) if channel else None,
        origin=event.place.channel_id,
    )
    notice = (
        texts.rich(
            "oogsten.collecting_channel", period=period.label(), channel=channel_label(channel)
        )
        if channel
        else texts.rich("oogsten.collecting_all", period=period.label())
    )
    return [Ephemeral(notice), Deferred(deliver_harvest, (request,))]


def deliver_harvest(ctx: HandlerContext, request: HarvestRequest) -> list[Reply]:
    """The deferred step: collect, log, and reply privately with the summary and the files."""
    texts = ctx.texts.on(request.platform)  # the files note in the adapter's own words
    session = ctx.session
    harvest = collect_harvest(
        session,
        request.period,
        channel_id=request.channel_id,
        channel_label=request.channel_label,
        now=ctx.now(),
        options=HarvestOptions(registry=ctx.registry.harvest_sections),
        zone=ctx.zone,
    )
    who = f"{request.platform}:{request.user_id}"
    entry = log_harvest(session, who, request.channel_ref, request.period, "", ctx.now())
    if harvest.is_empty:
        entry.output = "chat-empty"
        return [Ephemeral(empty_notice(harvest, texts))]
    card = summary_card(harvest, texts, zone=ctx.zone, share_id=entry.id, share_in=request.origin)
    html = render_html(harvest, texts, chart=(chart := chart_png(harvest, texts)), zone=ctx.zone)
    period = harvest.period.label()
    entry.output = "chat,html,png"
    return [
        Ephemeral(card.fallback, card),
        UploadFile(
            file_name(harvest, "html"),
            html.encode("utf-8"),
            texts.rich("oogsten.file_title.report", period=period).plain(),
            user_id=request.user_id,
            comment=texts.rich("oogsten.files_comment", period=period),
            source=HARVEST_FILES,
            source_args=file_args(request, "html", texts.language),
        ),
        UploadFile(
            file_name(harvest, "png"),
            chart,
            texts.rich("oogsten.file_title.chart", period=period).plain(),
            user_id=request.user_id,
            source=HARVEST_FILES,
            source_args=file_args(request, "png", texts.language),
        ),
    ]


def file_args(request: HarvestRequest, fmt: str, language: str) -> dict[str, str]:
    """What a file offer carries to make the file again: the request's parameters only."""
    return {
        "format": fmt,
        "start": request.period.start.isoformat(),
        "end": request.period.end.isoformat(),
        "channel": request.channel_ref or "",
        "language": language,
    }


@dataclass(frozen=True)
class FileRequest:
    fmt: str
    period: Period
    channel_ref: str | None
    language: str


def _file_request(args: Mapping[str, str], zone: str) -> FileRequest | None:
    fmt, language = args.get("format", ""), args.get("language", "")
    try:
        start = datetime.fromisoformat(args.get("start", ""))
        end = datetime.fromisoformat(args.get("end", ""))
    except ValueError:
        return None
    if fmt not in FILE_FORMATS or language not in LANGUAGES or start.tzinfo is None:
        return None
    if end.tzinfo is None or end <= start:
        return None
    return FileRequest(fmt, period_between(start, end, zone), args.get("channel") or None, language)


def harvest_file(
    ctx: HandlerContext, platform: str, user_id: str, args: Mapping[str, str]
) -> bytes | None:
    """The report (HTML, chart inline) or the chart (PNG) of an earlier /oogsten, made again
    now for the same period, channel and language; only for a facilitator."""
    request = _file_request(args, ctx.zone)
    if request is None:
        return None
    texts = load_texts(request.language)
    if not is_facilitator(ctx, ctx.member(Actor(platform, user_id))):
        raise FileRefused(texts.rich("oogsten.only_facilitators"))
    session = ctx.session
    channel = None
    if request.channel_ref:
        channel = _channel_of(session, request.channel_ref)
        if channel is None:
            return None
    harvest = collect_harvest(
        session,
        request.period,
        channel_id=channel.id if channel else None,
        channel_label=channel_label(channel) if channel else None,
        now=ctx.now(),
        options=HarvestOptions(registry=ctx.registry.harvest_sections),
        zone=ctx.zone,
    )
    chart = chart_png(harvest, texts)
    if request.fmt == "png":
        return chart
    return render_html(harvest, texts, chart=chart, zone=ctx.zone).encode("utf-8")


def harvest_file_delivered(
    ctx: HandlerContext, platform: str, user_id: str, args: Mapping[str, str]
) -> None:
    request = _file_request(args, ctx.zone)
    if request is None:
        return
    log_harvest(
        ctx.session,
        f"{platform}:{user_id}",
        request.channel_ref,
        request.period,
        f"file-{request.fmt}",
        ctx.now(),
    )


def _channel_of(session: Session, ref: str) -> Channel | None:
    platform, _, platform_id = ref.partition(":")
    return channel_by_platform_id(session, platform, platform_id)


def log_harvest(
    session: Session, who: str, channel: str | None, period: Period, output: str, at: datetime
) -> HarvestLog:
    entry = HarvestLog(
        requested_by=who[:200],
        channel_ref=channel,
        period_start=period.start,
        period_end=period.end,
        output=output,
        created_at=at,
    )
    session.add(entry)
    session.flush()
    return entry


def empty_notice(harvest: Harvest, texts: Texts) -> Rich:
    scope = (
        texts.rich("oogsten.report.scope_channel", channel=harvest.channel).plain()
        if harvest.channel
        else texts.get("oogsten.report.scope_all")
    )
    return texts.rich("oogsten.empty", period=harvest.period.label(), scope=scope)


# --- sharing ------------------------------------------------------------------------------------


def period_of(entry: HarvestLog, zone: str) -> Period:
    return period_between(entry.period_start, entry.period_end, zone)


def period_between(start: datetime, end: datetime, zone: str) -> Period:
    """The period of the UTC interval [start, end), with its local first and last day."""
    tz = ZoneInfo(zone)
    return Period(
        start,
        end,
        start.astimezone(tz).date(),
        (end - timedelta(microseconds=1)).astimezone(tz).date(),
    )


def share_harvest(event: ButtonPressed, ctx: HandlerContext) -> list[Reply]:
    texts = ctx.texts
    if not is_facilitator(ctx, ctx.member(event.actor)):
        return [Ephemeral(texts.rich("oogsten.only_facilitators"))]
    session = ctx.session
    log_id, _, origin = event.value.partition("@")
    entry_id = parse_id(log_id)
    entry = None if entry_id is None else session.get(HarvestLog, entry_id)
    if entry is None:
        return [Ephemeral(texts.rich("oogsten.gone"))]
    place = event.place
    if origin and (place is None or place.channel_id != origin):
        place = Place(event.actor.platform, origin)
    if place is None:
        return [Ephemeral(texts.rich("oogsten.no_place"))]
    channel = _channel_of(session, entry.channel_ref) if entry.channel_ref else None
    period = period_of(entry, ctx.zone)
    harvest = collect_harvest(
        session,
        period,
        channel_id=channel.id if channel else None,
        channel_label=channel_label(channel) if channel else None,
        now=ctx.now(),
        options=HarvestOptions(registry=ctx.registry.harvest_sections),
        zone=ctx.zone,
    )
    target = f"{place.platform}:{place.channel_id}"
    log_harvest(
        session,
        f"{event.actor.platform}:{event.actor.user_id}",
        entry.channel_ref,
        period,
        "chat-shared",
        ctx.now(),
    )
    # Quotes (insights, successes, titles) only when the harvest is of this very channel: an
    # all-channel harvest must not carry text from other (perhaps private) channels into it.
    card = summary_card(
        harvest,
        texts,
        zone=ctx.zone,
        share_id=None,
        shared_by=event.actor.user_id,
        quotes=entry.channel_ref == target,
    )
    return [PostMessage(place, card), Ephemeral(texts.rich("oogsten.shared"))]


# --- the summary card ---------------------------------------------------------------------------


def summary_card(
    harvest: Harvest,
    texts: Texts,
    *,
    zone: str,
    share_id: int | None,
    share_in: str | None = None,
    shared_by: str | None = None,
    quotes: bool = True,
) -> Card:
    """Key figures and highlights, well within Slack's limits (about 15 blocks, short quotes).
    Answers to private prompts are never quoted here: the card may be shared in a channel.
    ``share_in``: the conversation the share button posts in (default: where it is pressed)."""
    period = harvest.period.label()
    payloads = [s.payload for s in harvest.sections if s.payload is not None]
    scope = (
        texts.rich("oogsten.card.scope_channel", channel=harvest.channel, days=harvest.period.days)
        if harvest.channel
        else texts.rich("oogsten.card.scope_all", days=harvest.period.days)
    )
    fields = [field for p in payloads if p.lead for field in p.card_fields(texts)]
    fields += [
        texts.rich(
            "oogsten.card.people",
            people=texts.count("deelnemer", harvest.people),
            organisations=texts.count("organisatie", harvest.organisations),
        ),
        texts.rich(
            "oogsten.card.cross", count=texts.count("bijdrage", harvest.cross_contributions)
        ),
    ]
    fields += [field for p in payloads if not p.lead for field in p.card_fields(texts)]
    for source in harvest.sections:
        if source.payload is not None:
            continue
        for name, value in source.figures[:1]:
            if value:
                shown = source_label(texts, name)
                fields.append(texts.rich("oogsten.card.source", label=shown, value=value))
    blocks: list[Block] = [
        Header(texts.rich("oogsten.card.title", period=period).plain()),
        Section(scope, fields=tuple(fields[:10])),
    ]
    if shared_by:
        blocks.insert(
            1, Context(texts.rich("oogsten.card.shared_by", facilitator=Mention(shared_by)))
        )
    if harvest.summary:
        blocks.append(
            Section(texts.rich("oogsten.card.summary", text=short(harvest.summary, 1500)))
        )
    if quotes:
        highlights = [h for p in payloads for h in p.card_highlights(texts, zone)]
        for highlight in sorted(highlights, key=lambda h: h.rank):
            blocks.extend(highlight.blocks)
    own = [label for group in section_themes(harvest, texts) for _, label, _ in group.entries]
    themes = own[:5]
    themes += [k for k in harvest.keywords[:6] if k not in {t.lower() for t in themes}]
    if themes:
        blocks.append(Section(texts.rich("oogsten.card.themes", themes=" · ".join(themes))))
    if share_id is not None:
        blocks.append(Context(texts.rich("oogsten.files_note")))
        blocks.append(
            Actions(
                (
                    Button(
                        ACTION_SHARE,
                        texts.get("oogsten.card.share"),
                        f"{share_id}@{share_in}" if share_in else str(share_id),
                        "primary",
                    ),
                )
            )
        )
    # The fallback's figures come from the sections that have them (card_values).
    values: dict[str, int] = {}
    for payload in payloads:
        values.update(payload.card_values())
    fallback = texts.rich("oogsten.card.fallback", period=period, **values)
    return Card(tuple(blocks), fallback=fallback)


def register(router: Router) -> None:
    router.command(COMMAND, oogsten_command)
    router.action(ACTION_SHARE, share_harvest)
    router.file_source(HARVEST_FILES, harvest_file, delivered=harvest_file_delivered)
