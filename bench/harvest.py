"""Benchmark of the harvest (/oogsten, leerkring oogst) on a large community.

    .venv/bin/python bench/harvest.py --db sqlite --scale 1.0
    .venv/bin/python bench/harvest.py --db postgresql --scale 1.0
    .venv/bin/python bench/harvest.py --db sqlite --items 10000,100000,300000

Seeds (scale 1.0) 20,000 casussen, 200,000 bijdragen and 80,000 reflection answers over two
years across 30 organisations, then times the harvest of the last 6 weeks and of 2 years in a
fresh process (so its peak memory is the harvest's, not the seeding's), and prints a table.
Goals: ≤ 3 s for two years, peak memory ≤ 400 MB. Not a test: nothing here fails a build.
``--items`` runs several sizes (casussen + bijdragen + answers, in the same proportions) one
after the other, each in a fresh database, and adds a table of how the time grows with the data.

SQLite goes to a file in a temporary folder (or --path); PostgreSQL to a new schema in
LEERKRING_TEST_POSTGRES_URL (default the local test database), dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, text  # noqa: E402

from storage import migrate  # noqa: E402
from storage.models import (  # noqa: E402
    Answer,
    Bijdrage,
    Casus,
    Channel,
    Member,
    Organisation,
    PromptRun,
)

POSTGRES_URL = os.environ.get(
    "LEERKRING_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BATCH = 5_000
DAYS = 730
ORGANISATIONS = 30
MEMBERS_PER_ORGANISATION = 20
CHANNELS = 6
PERIODS = ("afgelopen 6 weken", "afgelopen 2 jaar")
REPEAT = 3

_WORDS = (
    "moeder vader jongere gezin school wijkteam schulden huurachterstand vertrouwen regie "
    "netwerk hulpverlening afspraak huisbezoek leerplicht budgetbeheer beschermingsbewind "
    "mantelzorg eenzaamheid verslaving werkgever uitkering toeslagen woningcorporatie "
    "huisarts jeugdarts wachtlijst zorgaanbieder gemeente beleid indicatie ervaringsdeskundige "
    "veiligheid signalen zorgen grenzen motivatie keukentafel gesprek samen plan stap "
    "luisteren doorvragen erkennen ruimte tijd"
)
WORDS = _WORDS.split()
_FILLER = "de het een en in op met voor naar van bij dat die is was wil kan ik we zij"
FILLER = _FILLER.split()
PERSPECTIVES = (
    "jeugd",
    "onderwijs",
    "schulden",
    "wonen",
    "ggz",
    "lvb",
    "veiligheid",
    "werk-inkomen",
    "zorg",
    "ervaringsdeskundigheid",
    "beleid",
    "juridisch",
)
KINDS = {
    "wat-ging-goed": ("goed", "bijdrage"),
    "succesvragen": ("wat", "gezien", "opnieuw"),
    "reflectie": ("gebeurd", "belangrijk", "voornemen"),
    "leervraag": ("leervraag", "aanleiding"),
}


def sentence(rng: random.Random, words: int) -> str:
    out = [rng.choice(WORDS) if rng.random() < 0.55 else rng.choice(FILLER) for _ in range(words)]
    return " ".join(out).capitalize() + "."


def batches(rows: Any, size: int = BATCH) -> Any:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def seed(url: str, scale: float, now: datetime) -> dict[str, int]:
    rng = random.Random(6)
    engine = create_engine(url)
    migrate.upgrade(engine)
    casussen = int(20_000 * scale)
    bijdragen = int(200_000 * scale)
    answers = int(80_000 * scale)
    start = now - timedelta(days=DAYS)

    def moment(after: datetime | None = None, within_days: float = DAYS) -> datetime:
        base = after or start
        span = min(within_days * 86400, (now - base).total_seconds())
        return base + timedelta(seconds=rng.random() * max(span, 1))

    members = ORGANISATIONS * MEMBERS_PER_ORGANISATION
    with engine.begin() as conn:
        conn.execute(
            insert(Organisation),
            [
                {"id": i + 1, "name": f"Organisatie {i + 1:02d}", "created_at": start}
                for i in range(ORGANISATIONS)
            ],
        )
        conn.execute(
            insert(Member),
            [
                {
                    "id": i + 1,
                    "platform": "slack",
                    "platform_user_id": f"U{i + 1:06d}",
                    "display_name": f"Deelnemer {i + 1}",
                    "organisation_id": (i % ORGANISATIONS) + 1 if i % 25 else None,
                    "is_facilitator": i == 0,
                    "created_at": start,
                }
                for i in range(members)
            ],
        )
        conn.execute(
            insert(Channel),
            [
                {
                    "id": i + 1,
                    "platform": "slack",
                    "platform_channel_id": f"C{i + 1:04d}",
                    "name": f"kanaal-{i + 1}",
                    "created_at": start,
                }
                for i in range(CHANNELS)
            ],
        )
    created: list[datetime] = []

    def casus_rows() -> Any:
        for i in range(casussen):
            at = moment()
            created.append(at)
            is_open = rng.random() < (0.6 if (now - at).days < 30 else 0.08)
            closed = None if is_open else min(now, at + timedelta(days=rng.uniform(1, 40)))
            yield {
                "id": i + 1,
                "channel_id": rng.randint(1, CHANNELS),
                "inbrenger_id": rng.randint(1, members),
                "title": sentence(rng, rng.randint(4, 9))[:150],
                "situation": sentence(rng, rng.randint(30, 80)),
                "obstacle": sentence(rng, 15),
                "uncertainty": None,
                "question": sentence(rng, rng.randint(8, 20)),
                "perspectives": rng.sample(PERSPECTIVES, rng.randint(0, 3)),
                "status": "open" if is_open else "closed",
                "message_id": f"m{i}",
                "insight": None if is_open else sentence(rng, rng.randint(10, 30)),
                "next_step": None if is_open else sentence(rng, rng.randint(6, 15)),
                "created_at": at,
                "closed_at": closed,
            }

    def bijdrage_rows() -> Any:
        for i in range(bijdragen):
            casus = rng.randint(1, casussen)
            yield {
                "id": i + 1,
                "casus_id": casus,
                "author_id": rng.randint(1, members),
                "text": sentence(rng, rng.randint(15, 60)),
                "message_id": f"b{i}",
                "created_at": moment(created[casus - 1], 14),
            }

    weeks = DAYS // 7
    run_specs = [(c, w, kind) for c in range(1, CHANNELS + 1) for w in range(weeks)
                 for kind in rng.sample(list(KINDS), 2)]  # fmt: skip
    per_run = max(1, -(-answers // len(run_specs)))

    def run_rows() -> Any:
        for i, (channel, week, kind) in enumerate(run_specs):
            fired = start + timedelta(weeks=week, hours=rng.randint(0, 100))
            yield {
                "id": i + 1,
                "fire_key": f"bench:{i}",
                "channel_id": channel,
                "kind": kind,
                "delivery": "channel",
                "private": rng.random() < 0.1,
                "fire_at": fired,
                "remind_at": fired,
                "closes_at": fired + timedelta(hours=48),
                "status": "closed",
                "created_at": fired,
            }

    def answer_rows() -> Any:
        produced = 0
        for i, (_channel, week, kind) in enumerate(run_specs):
            fired = start + timedelta(weeks=week)
            questions = KINDS[kind]
            people = rng.sample(range(1, members + 1), per_run)
            row_budget = per_run
            for person in people:
                for question in questions[: rng.randint(1, len(questions))]:
                    if row_budget <= 0 or produced >= answers:
                        break
                    yield {
                        "run_id": i + 1,
                        "member_id": person,
                        "question_id": question,
                        "text": sentence(rng, rng.randint(8, 40)),
                        "late": False,
                        "created_at": min(now, fired + timedelta(hours=rng.uniform(0, 47))),
                    }
                    produced += 1
                    row_budget -= 1

    counts: dict[str, int] = {}
    with engine.begin() as conn:
        for name, model, rows in (
            ("casussen", Casus, casus_rows()),
            ("bijdragen", Bijdrage, bijdrage_rows()),
            ("prompt_runs", PromptRun, run_rows()),
            ("answers", Answer, answer_rows()),
        ):
            total = 0
            for chunk in batches(rows):
                conn.execute(insert(model), chunk)
                total += len(chunk)
            counts[name] = total
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return counts


def measure(url: str) -> list[dict[str, Any]]:
    """Runs in a fresh process: times each period, reports peak memory (max RSS)."""
    from bot.slack import render as slack_render
    from handlers.features import build_router
    from handlers.harvest.chat import summary_card
    from handlers.harvest.periods import parse_period
    from handlers.harvest.render import chart_png, render_csv, render_html, render_json
    from handlers.harvest.report import HarvestOptions, collect_harvest

    sections = build_router().registry.harvest_sections
    from prompts import load_texts
    from storage.db import Database

    texts = load_texts("nl")
    database = Database.from_url(url)
    now = datetime.now(UTC)
    results = []
    for period_text in PERIODS:
        period = parse_period(period_text, now)
        collect_times, report_times, cpu_times = [], [], []
        harvest = None
        for _ in range(REPEAT):
            started = time.perf_counter()
            cpu = time.process_time()
            with database.session() as session:
                harvest = collect_harvest(
                    session,
                    period,
                    channel_id=None,
                    channel_label=None,
                    now=now,
                    options=HarvestOptions(registry=sections),
                )
            collected = time.perf_counter()
            card = summary_card(harvest, texts, zone="Europe/Amsterdam", share_id=1)
            slack_render.render_card(card)
            chart = chart_png(harvest, texts)
            render_html(harvest, texts, chart=chart)
            render_csv(harvest, texts)
            render_json(harvest, texts)
            done = time.perf_counter()
            cpu_times.append(time.process_time() - cpu)
            collect_times.append(collected - started)
            report_times.append(done - started)
        assert harvest is not None
        results.append(
            {
                "period": period_text,
                "casussen": harvest.casussen_total,
                "bijdragen": harvest.casus.contributions,
                "answers": sum(n for _, n in harvest.reflection.responses_by_kind),
                "collect_first": collect_times[0],
                "collect_median": statistics.median(collect_times),
                "total_first": report_times[0],
                "total_median": statistics.median(report_times),
                "cpu_median": statistics.median(cpu_times),
            }
        )
    database.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for row in results:
        row["peak_mb"] = peak_mb
    return results


ITEMS_AT_SCALE_1 = 300_000  # casussen + bijdragen + answers


def run_size(
    db: str, scale: float, sqlite_path: str | None
) -> tuple[dict[str, int], float, list[dict[str, Any]]]:
    """Seed one database at ``scale``, measure in a fresh process, clean up; (counts, seed s,
    rows per period)."""
    cleanup = None
    if db == "sqlite":
        folder = tempfile.mkdtemp(prefix="leerkring-bench-")
        path = Path(sqlite_path) if sqlite_path else Path(folder) / "bench.db"
        if path.exists():
            path.unlink()
        url = f"sqlite:///{path}"

        def cleanup() -> None:
            shutil.rmtree(folder, ignore_errors=True)  # --path files are kept
    else:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(POSTGRES_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"

        def cleanup() -> None:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()

    try:
        started = time.perf_counter()
        counts = seed(url, scale, datetime.now(UTC))
        seeded = time.perf_counter() - started
        print(
            f"seeded {db} (scale {scale:g}) in {seeded:.0f} s: "
            + ", ".join(f"{n:,} {name}" for name, n in counts.items()),
            flush=True,
        )
        child = subprocess.run(
            [sys.executable, __file__, "--measure", url],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        rows = json.loads(child.stdout.strip().splitlines()[-1])
    finally:
        if cleanup is not None:
            cleanup()
    return counts, seeded, rows


def print_periods(db: str, rows: list[dict[str, Any]]) -> None:
    header = ("database", "period", "casussen", "bijdragen", "answers", "collect s",
              "full report s", "our CPU s", "peak MB")  # fmt: skip
    print()
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    for row in rows:
        print(
            f"{db} | {row['period']} | {row['casussen']:,} | {row['bijdragen']:,} | "
            f"{row['answers']:,} | {row['collect_first']:.2f} (median {row['collect_median']:.2f})"
            f" | {row['total_first']:.2f} (median {row['total_median']:.2f}) | "
            f"{row['cpu_median']:.2f} | {row['peak_mb']:.0f}"
        )


def print_scaling(db: str, sizes: list[tuple[int, float, list[dict[str, Any]]]]) -> None:
    """Full-report medians per size; growth against the smallest and the previous size."""
    print()
    print(f"Scaling ({db}): full report, median of {REPEAT}; growth = time x / items x")
    header = ("items", "seed s", "6 weeks s", "2 years s", "2 years our CPU s", "peak MB",
              "growth vs smallest", "growth vs previous")  # fmt: skip
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    for i, (items, seeded, rows) in enumerate(sizes):
        short, full = rows[0]["total_median"], rows[1]["total_median"]
        growth = []
        for items_before, _, rows_before in (sizes[0], sizes[max(0, i - 1)]):
            time_x = full / rows_before[1]["total_median"]
            growth.append(f"{time_x / (items / items_before):.2f}" if i else "-")
        print(
            f"{items:,} | {seeded:.0f} | {short:.2f} | {full:.2f} | {rows[1]['cpu_median']:.2f} | "
            f"{rows[0]['peak_mb']:.0f} | {growth[0]} | {growth[1]}"
        )
    print("growth 1.00: time grows as the data (linear); below 1: slower (sublinear)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument(
        "--items",
        help="comma-separated sizes in casussen + bijdragen + answers, e.g. 10000,100000,300000 "
        f"(instead of --scale; {ITEMS_AT_SCALE_1:,} is scale 1.0), with a scaling table",
    )
    parser.add_argument("--path", help="SQLite file to use (kept); default: a temporary one")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # internal: the child process
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return

    wanted = [int(n) for n in args.items.split(",")] if args.items else None
    scales = [n / ITEMS_AT_SCALE_1 for n in wanted] if wanted else [args.scale]
    sizes: list[tuple[int, float, list[dict[str, Any]]]] = []
    for scale in scales:
        counts, seeded, rows = run_size(args.db, scale, args.path)
        items = counts["casussen"] + counts["bijdragen"] + counts["answers"]
        sizes.append((items, seeded, rows))
        print_periods(args.db, rows)
    if len(sizes) > 1:
        print_scaling(args.db, sizes)
    print()
    print(f"goals: 2 years ≤ 3 s, peak memory ≤ 400 MB; {REPEAT} runs each, first and median")
    print("full report = collect + summary card + chart + HTML + CSV + JSON; our CPU = this")
    print("process's CPU for the full report (PostgreSQL's own work is not in it)")
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, load average {load} (other work slows the timings)")


if __name__ == "__main__":
    main()
