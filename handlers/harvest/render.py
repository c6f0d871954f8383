"""The full harvest report: Markdown, a self-contained HTML leergeschiedenis (chart inline as
base64 PNG), CSV and JSON exports, and the participation chart (matplotlib, Agg backend).

No platform is imported here. Every piece of people's text is escaped for the format it goes
into: HTML entities in HTML, backslashes in Markdown, quoting in CSV.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import importlib
import io
import json
import re
import types
import typing
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from handlers.core.reporting import (
    deck_name,
    local_day,
    md_escape,
    org_label,
    question_label,
    report_text,
    source_label,
)
from handlers.core.reporting import html_escape as _h
from handlers.core.sections import SourceSection, Themes
from handlers.harvest.report import TOP_ORGANISATIONS, Harvest
from prompts import Texts

__all__ = [
    "FORMATS",
    "chart_png",
    "csv_rows",
    "deck_name",
    "figures",
    "file_name",
    "harvest_from_json",
    "local_day",
    "md_escape",
    "org_label",
    "question_label",
    "render",
    "render_csv",
    "render_html",
    "render_json",
    "render_markdown",
    "source_label",
]

FORMATS = ("md", "html", "csv", "json")


# --- shared helpers ----------------------------------------------------------------------------


def _t(texts: Texts, key: str, **params: str | int) -> str:
    """Our own wording, filled with already-safe values (numbers, our labels)."""
    return report_text(texts, key, **params)


def figures(harvest: Harvest, texts: Texts) -> list[tuple[str, str, int]]:
    """(key, label, value) for the key figures, the same in every format: the leading
    sections' own figures, the shared ones, then the other sections' figures."""
    rows = [
        ("people", harvest.people),
        ("organisations", harvest.organisations),
        ("cross", harvest.cross_contributions),
    ]
    payloads = [s.payload for s in harvest.sections if s.payload is not None]
    out = [row for p in payloads if p.lead for row in p.figures(texts)]
    out += [(key, texts.get(f"oogsten.report.fig_{key}"), value) for key, value in rows]
    out += [row for p in payloads if not p.lead for row in p.figures(texts)]
    for source in harvest.sections:
        if source.payload is not None:
            continue
        if not any(value for _, value in source.figures):
            continue  # a source with nothing in this period: its section says so
        out.extend(
            (f"{source.key}:{name.rsplit('.', 1)[-1]}", source_label(texts, name), value)
            for name, value in source.figures
        )
    return out


def top_organisations(harvest: Harvest, limit: int = TOP_ORGANISATIONS) -> list[str | None]:
    totals: dict[str | None, int] = {}
    for row in harvest.activity:
        totals[row.organisation] = totals.get(row.organisation, 0) + row.count
    ranked = sorted(totals, key=lambda o: (-totals[o], o or "\uffff"))
    return ranked[:limit]


def matrix(harvest: Harvest, limit: int = TOP_ORGANISATIONS) -> tuple[list[str], list[list[int]]]:
    """Cross-organisation contributions as a square table over the busiest organisations;
    the others are folded into one "other" row and column (label "")."""
    totals: dict[str, int] = {}
    for link in harvest.links:
        totals[link.contributor_organisation] = (
            totals.get(link.contributor_organisation, 0) + link.contributions
        )
        totals[link.owner_organisation] = (
            totals.get(link.owner_organisation, 0) + link.contributions
        )
    names = sorted(totals, key=lambda o: (-totals[o], o))
    shown = names[:limit]
    labels = shown + ([""] if len(names) > limit else [])
    index = {name: i for i, name in enumerate(shown)}
    other = len(shown)
    table = [[0] * len(labels) for _ in labels]
    for link in harvest.links:
        row = index.get(link.contributor_organisation, other)
        col = index.get(link.owner_organisation, other)
        table[row][col] += link.contributions
    return labels, table


def weeks(harvest: Harvest) -> list[date]:
    first = harvest.period.first_day - timedelta(days=harvest.period.first_day.weekday())
    out, week = [], first
    while week <= harvest.period.last_day:
        out.append(week)
        week += timedelta(weeks=1)
    return out


# --- chart ---------------------------------------------------------------------------------------

PALETTE = (
    "#2f5d62",
    "#5e8b7e",
    "#a7c4bc",
    "#dfb68f",
    "#c06c4d",
    "#7d5a80",
    "#4f7cac",
    "#9bb34f",
    "#b8b8b8",
)


BARS_UP_TO_WEEKS = 26


def chart_png(harvest: Harvest, texts: Texts) -> bytes:
    """Activity per week per organisation, stacked bars; the busiest organisations by name."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    all_weeks = weeks(harvest)
    top = top_organisations(harvest)
    series: dict[str, list[int]] = {}
    labels = [org_label(texts, o) for o in top]
    other_label = texts.get("oogsten.report.other")
    position = {w: i for i, w in enumerate(all_weeks)}
    for row in harvest.activity:
        label = org_label(texts, row.organisation) if row.organisation in top else other_label
        values = series.setdefault(label, [0] * len(all_weeks))
        index = position.get(row.week)
        if index is None:  # a week the SQL bucketed differently at the edges
            index = min(range(len(all_weeks)), key=lambda i: abs((all_weeks[i] - row.week).days))
        values[index] += row.count
    order = [label for label in [*labels, other_label] if label in series]

    figure = Figure(figsize=(10, 4.2), dpi=110)
    axes = figure.add_subplot()
    bottom = [0] * len(all_weeks)
    x = list(range(len(all_weeks)))
    # Bars read best for a few months; beyond that, one stepped area per organisation draws
    # the same stack in a fraction of the time (a bar is a patch each: 100 weeks × 9 is slow).
    as_bars = len(all_weeks) <= BARS_UP_TO_WEEKS
    for i, label in enumerate(order):
        stacked = [b + v for b, v in zip(bottom, series[label], strict=True)]
        color = PALETTE[i % len(PALETTE)]
        if as_bars:
            axes.bar(x, series[label], bottom=bottom, label=label, color=color, width=0.8)
        else:
            axes.fill_between(x, bottom, stacked, step="mid", label=label, color=color, linewidth=0)
        bottom = stacked
    axes.set_title(_t(texts, "chart"), loc="left", fontsize=12, color="#203a3d")
    axes.set_ylabel(_t(texts, "chart_axis"), fontsize=8, color="#555555")
    step = max(1, len(all_weeks) // 12)
    axes.set_xticks(x[::step], [w.strftime("%d-%m") for w in all_weeks[::step]], fontsize=8)
    axes.tick_params(axis="y", labelsize=8)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    if order:
        axes.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    else:
        axes.text(
            0.5,
            0.5,
            _t(texts, "none"),
            ha="center",
            va="center",
            transform=axes.transAxes,
            color="#777777",
        )
    figure.subplots_adjust(left=0.07, right=0.8, top=0.9, bottom=0.1)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


# --- Markdown ------------------------------------------------------------------------------------


def render_markdown(harvest: Harvest, texts: Texts, zone: str = "Europe/Amsterdam") -> str:
    out: list[str] = []
    add = out.append
    period = harvest.period.label()
    add(f"# {_t(texts, 'title')}")
    add("")
    add(f"**{_t(texts, 'subtitle', period=period)}** · {_scope(harvest, texts, md_escape)}")
    add("")
    add(f"_{_t(texts, 'generated', at=local_day(harvest.generated_at, zone))}_")
    add("")
    if harvest.summary:
        add(f"## {_t(texts, 'summary')}\n\n{md_escape(harvest.summary)}\n")
    if harvest.is_empty:
        add(_t(texts, "empty"))
        add("")
    add(f"## {_t(texts, 'key_figures')}\n")
    add("| | |\n|---|---:|")
    for _key, label, value in figures(harvest, texts):
        add(f"| {md_escape(label)} | {value} |")
    add("")

    for section in harvest.sections:
        if section.payload is not None:
            out.extend(section.payload.markdown(texts, zone))
            continue
        add(f"## {md_escape(source_label(texts, section.title))}\n")
        _md_source(add, section, texts, zone, source_label(texts, section.empty))

    add(f"## {_t(texts, 'samenwerking')}\n")
    add(f"### {_t(texts, 'participants')}\n")
    add(f"| {_t(texts, 'organisation')} | {_t(texts, 'people')} |\n|---|---:|")
    for organisation, people in harvest.participants:
        add(f"| {md_escape(org_label(texts, organisation))} | {people} |")
    add("")
    add(f"### {_t(texts, 'links')}\n")
    add(_t(texts, "links_intro", count=texts.count("bijdrage", harvest.cross_contributions)) + "\n")
    names, table = matrix(harvest)
    if names:
        add(_t(texts, "matrix") + "\n")
        headers = [md_escape(name or _t(texts, "other")) for name in names]
        add("| | " + " | ".join(headers) + " |")
        add("|---|" + "---:|" * len(headers))
        for name, row in zip(headers, table, strict=True):
            add(f"| {name} | " + " | ".join(str(v) if v else "·" for v in row) + " |")
        add("")

    add(f"## {_t(texts, 'themas')}\n")
    themes = section_themes(harvest, texts)
    for group in themes:
        add(
            f"**{group.heading}:** "
            + ", ".join(f"{md_escape(label)} ({n})" for _, label, n in group.entries)
        )
        add("")
    if harvest.keywords:
        add(
            f"**{_t(texts, 'themes_keywords')}:** "
            + ", ".join(md_escape(k) for k in harvest.keywords)
        )
        add("")
    if not themes and not harvest.keywords:
        add(_t(texts, "none") + "\n")
    return "\n".join(out).rstrip() + "\n"


def _md_source(
    add: Callable[[str], None], source: SourceSection, texts: Texts, zone: str, empty: str
) -> None:
    if source.is_empty:
        add(empty + "\n")
        return
    for name, value in source.figures:
        add(f"- {md_escape(source_label(texts, name))}: {value}")
    for item in source.items:
        when = f" ({local_day(item.at, zone)})" if item.at else ""
        add(f"- **{md_escape(item.title)}**{when}")
        for line in item.lines:
            add(f"  - {md_escape(line)}")
    add("")


def _scope(harvest: Harvest, texts: Texts, escape: Callable[[str], str]) -> str:
    if harvest.channel:
        return texts.rich("oogsten.report.scope_channel", channel=harvest.channel).render(
            escape=escape, mention=lambda u: u
        )
    return _t(texts, "scope_all")


# --- HTML ----------------------------------------------------------------------------------------

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2d2f;
background:#f6f4ef;margin:0;line-height:1.5}
main{max-width:60rem;margin:0 auto;padding:2rem 1.5rem 4rem;background:#fff}
header{border-bottom:4px solid #2f5d62;margin-bottom:1.5rem}
h1{color:#2f5d62;margin:0 0 .25rem;font-size:1.9rem}
h2{color:#2f5d62;border-bottom:1px solid #d9e3e0;padding-bottom:.2rem;margin-top:2.2rem}
h3{margin:1.2rem 0 .3rem;font-size:1.05rem}
.meta{color:#5b6b6d;font-size:.9rem}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(10rem,1fr));gap:.6rem;
padding:0;list-style:none}
.figures li{background:#eef4f2;border-radius:.5rem;padding:.6rem .8rem}
.figures b{display:block;font-size:1.6rem;color:#2f5d62}
.casus{border-left:4px solid #a7c4bc;padding:.2rem 0 .2rem 1rem;margin:1rem 0}
.casus.open{border-color:#dfb68f}
.badge{display:inline-block;font-size:.75rem;padding:0 .5rem;border-radius:1rem;
background:#eef4f2;color:#2f5d62;margin-left:.4rem;vertical-align:middle}
.badge.open{background:#fbeee0;color:#8a5a2b}
dl{margin:.3rem 0}dt{font-weight:600;color:#44585a}dd{margin:0 0 .4rem 0}
blockquote{margin:.3rem 0 .6rem;padding:.2rem .8rem;border-left:3px solid #d9e3e0;color:#333}
table{border-collapse:collapse;margin:.5rem 0}
th,td{border:1px solid #d9e3e0;padding:.25rem .6rem;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
img{max-width:100%;height:auto}
.tags span{display:inline-block;background:#eef4f2;border-radius:1rem;padding:.1rem .6rem;
margin:.15rem}
"""


def render_html(
    harvest: Harvest, texts: Texts, chart: bytes | None = None, zone: str = "Europe/Amsterdam"
) -> str:
    """A complete XHTML-compatible document (every tag closed), so it parses as XML too."""
    if chart is None:
        chart = chart_png(harvest, texts)
    period = harvest.period.label()
    out: list[str] = []
    add = out.append
    add("<!DOCTYPE html>")
    add(f'<html lang="{_h(texts.language)}"><head><meta charset="utf-8" />')
    add('<meta name="viewport" content="width=device-width, initial-scale=1" />')
    add(f"<title>{_h(_t(texts, 'title'))} · {_h(period)}</title>")
    add(f"<style>{_STYLE}</style></head><body><main>")
    add(f"<header><h1>{_h(_t(texts, 'title'))}</h1>")
    add(
        f"<p><strong>{_h(_t(texts, 'subtitle', period=period))}</strong> · "
        f"{_scope(harvest, texts, _h)}</p>"
    )
    generated = _t(texts, "generated", at=local_day(harvest.generated_at, zone))
    add(f'<p class="meta">{_h(generated)}</p></header>')
    if harvest.summary:
        add(f"<section><h2>{_h(_t(texts, 'summary'))}</h2><p>{_h(harvest.summary)}</p></section>")
    if harvest.is_empty:
        add(f"<p>{_h(_t(texts, 'empty'))}</p>")

    add(f'<section><h2>{_h(_t(texts, "key_figures"))}</h2><ul class="figures">')
    for key, label, value in figures(harvest, texts):
        add(f'<li data-key="{_h(key)}"><b>{value}</b>{_h(label)}</li>')
    add("</ul>")
    encoded = base64.b64encode(chart).decode("ascii")
    add(
        f'<figure><img alt="{_h(_t(texts, "chart"))}" src="data:image/png;base64,{encoded}" />'
        f'<figcaption class="meta">{_h(_t(texts, "chart_axis"))}</figcaption></figure></section>'
    )

    for section in harvest.sections:
        if section.payload is not None:
            out.extend(section.payload.html(texts, zone))
            continue
        title, empty = source_label(texts, section.title), source_label(texts, section.empty)
        _html_source(add, title, section, texts, zone, empty)

    add(f"<section><h2>{_h(_t(texts, 'samenwerking'))}</h2>")
    add(
        f"<h3>{_h(_t(texts, 'participants'))}</h3><table><thead><tr>"
        f"<th>{_h(_t(texts, 'organisation'))}</th><th>{_h(_t(texts, 'people'))}</th>"
        "</tr></thead><tbody>"
    )
    for organisation, people in harvest.participants:
        add(f'<tr><td>{_h(org_label(texts, organisation))}</td><td class="n">{people}</td></tr>')
    add("</tbody></table>")
    add(f"<h3>{_h(_t(texts, 'links'))}</h3>")
    add(f"<p>{_h(_t(texts, 'links_intro', count=harvest.cross_contributions))}</p>")
    names, table = matrix(harvest)
    if names:
        columns = [name or _t(texts, "other") for name in names]
        add(f'<p class="meta">{_h(_t(texts, "matrix"))}</p><table><thead><tr><th></th>')
        add("".join(f"<th>{_h(name)}</th>" for name in columns) + "</tr></thead><tbody>")
        for name, row in zip(columns, table, strict=True):
            cells = "".join(f'<td class="n">{v if v else "·"}</td>' for v in row)
            add(f"<tr><th>{_h(name)}</th>{cells}</tr>")
        add("</tbody></table>")
    add("</section>")

    add(f"<section><h2>{_h(_t(texts, 'themas'))}</h2>")
    themes = section_themes(harvest, texts)
    for group in themes:
        tags = "".join(f"<span>{_h(label)} ({n})</span>" for _, label, n in group.entries)
        add(f'<h3>{_h(group.heading)}</h3><p class="tags">{tags}</p>')
    if harvest.keywords:
        tags = "".join(f"<span>{_h(k)}</span>" for k in harvest.keywords)
        add(f'<h3>{_h(_t(texts, "themes_keywords"))}</h3><p class="tags">{tags}</p>')
    if not themes and not harvest.keywords:
        add(f"<p>{_h(_t(texts, 'none'))}</p>")
    add("</section></main></body></html>")
    return "\n".join(out) + "\n"


def _html_source(
    add: Callable[[str], None],
    title: str,
    source: SourceSection,
    texts: Texts,
    zone: str,
    empty: str,
) -> None:
    add(f"<section><h2>{_h(title)}</h2>")
    if source.is_empty:
        add(f"<p>{_h(empty)}</p></section>")
        return
    add("<ul>" + "".join(f"<li>{_h(source_label(texts, n))}: {v}</li>" for n, v in source.figures))
    add("</ul>")
    for item in source.items:
        when = f' <span class="meta">{local_day(item.at, zone)}</span>' if item.at else ""
        add(f"<h3>{_h(item.title)}{when}</h3>")
        for line in item.lines:
            add(f"<blockquote>{_h(line)}</blockquote>")
    add("</section>")


# --- CSV -----------------------------------------------------------------------------------------

CSV_COLUMNS = (
    "section",
    "id",
    "date",
    "title",
    "status",
    "organisation",
    "count",
    "text",
    "detail",
)


def csv_rows(harvest: Harvest, texts: Texts) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []

    def row(section: str, **values: object) -> None:
        rows.append(
            {c: "" if values.get(c) is None else str(values.get(c)) for c in CSV_COLUMNS}
            | {"section": section}
        )

    row(
        "period",
        date=harvest.period.first_day.isoformat(),
        detail=harvest.period.last_day.isoformat(),
        title=harvest.channel or "",
    )
    for key, label, value in figures(harvest, texts):
        row("figure", id=key, title=label, count=value)
    for source in harvest.sections:
        if source.payload is not None:
            for values in source.payload.csv_rows(texts):
                row(str(values["section"]), **{k: v for k, v in values.items() if k != "section"})
            continue
        for entry in source.items:
            row(
                f"source:{source.key}",
                date=entry.at.isoformat() if entry.at else "",
                title=entry.title,
                text="\n".join(entry.lines),
            )
    for org, people in harvest.participants:
        row("participants", organisation=org, count=people)
    for link in harvest.links:
        row(
            "link",
            organisation=link.contributor_organisation,
            title=link.owner_organisation,
            count=link.contributions,
            detail=link.people,
        )
    for activity in harvest.activity:
        row(
            "activity",
            date=activity.week.isoformat(),
            organisation=activity.organisation,
            count=activity.count,
        )
    for group in section_themes(harvest, texts):
        for theme, label, count in group.entries:
            row(group.csv, id=theme, title=label, count=count)
    for keyword in harvest.keywords:
        row("keyword", title=keyword)
    return rows


def render_csv(harvest: Harvest, texts: Texts) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for values in csv_rows(harvest, texts):
        writer.writerow({k: _csv_safe(v) for k, v in values.items()})
    return buffer.getvalue()


def _csv_safe(value: str) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas; people's text must not."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") and not _NUMBER.match(value) else value


_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


# --- JSON ----------------------------------------------------------------------------------------


def to_data(value: Any) -> Any:
    if isinstance(value, SourceSection):
        fields = dataclasses.fields(value)
        return {f.name: to_data(getattr(value, f.name)) for f in fields if f.name != "payload"}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [to_data(v) for v in value]
    return value


def section_themes(harvest: Harvest, texts: Texts) -> list[Themes]:
    """The sections' own themes (such as the perspectives sought), in section order."""
    found = [s.payload.themes(texts) for s in harvest.sections if s.payload is not None]
    return [group for group in found if group is not None and group.entries]


# In the JSON export a payload's fields are fields of the harvest (``harvest.casussen``, as in
# Python), "sections" lists the sections without one, and "section_payloads" says where each
# payload section stood and which type reads it back: only a dataclass of our own handlers.
_NOT_EXPORTED = frozenset({"lead"})


def harvest_data(harvest: Harvest) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for f in dataclasses.fields(harvest):
        if f.name != "sections":
            data[f.name] = to_data(getattr(harvest, f.name))
            continue
        placed = []
        for index, section in enumerate(harvest.sections):
            payload = section.payload
            if payload is None:
                continue
            kind = type(payload)
            for own in dataclasses.fields(payload):
                if own.name not in _NOT_EXPORTED:
                    data[own.name] = to_data(getattr(payload, own.name))
            placed.append(
                {
                    "at": index,
                    "key": section.key,
                    "title": section.title,
                    "empty": section.empty,
                    "type": f"{kind.__module__}:{kind.__qualname__}",
                }
            )
        data["sections"] = [to_data(s) for s in harvest.sections if s.payload is None]
        data["section_payloads"] = placed
    return data


def _payload_type(name: str) -> Any:
    module_name, _, qualname = name.partition(":")
    if module_name.startswith("handlers.") and qualname.isidentifier():
        kind = getattr(importlib.import_module(module_name), qualname, None)
        if kind is not None and dataclasses.is_dataclass(kind):
            return kind
    raise ValueError(f"unknown harvest section type {name!r}")


def render_json(harvest: Harvest, texts: Texts) -> str:
    data = {
        "format": "leerkring-oogst/1",
        "figures": {key: value for key, _label, value in figures(harvest, texts)},
        "harvest": harvest_data(harvest),
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def harvest_from_json(raw: str) -> Harvest:
    """Read an exported harvest back (the JSON export round-trips)."""
    data = json.loads(raw)["harvest"]
    sections = [_from_data(SourceSection, s) for s in data.get("sections", [])]
    for placed in sorted(data.get("section_payloads", []), key=lambda p: int(p["at"])):
        kind = _payload_type(str(placed["type"]))
        own = {f.name: data[f.name] for f in dataclasses.fields(kind) if f.name in data}
        section = SourceSection(
            key=str(placed["key"]),
            title=str(placed["title"]),
            empty=str(placed["empty"]),
            payload=_from_data(kind, own),
        )
        sections.insert(int(placed["at"]), section)
    shared = {k: v for k, v in data.items() if k != "sections"} | {"sections": []}
    harvest: Harvest = _from_data(Harvest, shared)
    return dataclasses.replace(harvest, sections=tuple(sections))


def _from_data(kind: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(kind)
    if origin in (types.UnionType, typing.Union):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        return _from_data(options[0], value)
    if origin is tuple:
        args = typing.get_args(kind)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_from_data(args[0], v) for v in value)
        return tuple(_from_data(a, v) for a, v in zip(args, value, strict=True))
    if dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        return kind(  # type: ignore[operator]
            **{
                f.name: _from_data(hints[f.name], value[f.name])
                for f in dataclasses.fields(kind)
                if f.name in value
            }
        )
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        return date.fromisoformat(value)
    return value


# --- one entry point for the CLI and the chat ----------------------------------------------------


def render(harvest: Harvest, texts: Texts, fmt: str, zone: str = "Europe/Amsterdam") -> bytes:
    if fmt == "md":
        return render_markdown(harvest, texts, zone).encode("utf-8")
    if fmt == "html":
        return render_html(harvest, texts, zone=zone).encode("utf-8")
    if fmt == "csv":
        return render_csv(harvest, texts).encode("utf-8")
    if fmt == "json":
        return render_json(harvest, texts).encode("utf-8")
    if fmt == "png":
        return chart_png(harvest, texts)
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def file_name(harvest: Harvest, fmt: str) -> str:
    scope = re.sub(r"[^a-z0-9-]+", "-", (harvest.channel or "alle-kanalen").lower()).strip("-")
    return (
        f"oogst-{scope or 'kanaal'}-{harvest.period.first_day:%Y%m%d}-"
        f"{harvest.period.last_day:%Y%m%d}.{fmt}"
    )
