"""Reflection DM fan-out to many members against a rate-limited Slack, beside a bare loop.

    .venv/bin/python bench/fanout.py                      # 500 members, SQLite, 2 rounds
    .venv/bin/python bench/fanout.py --db postgresql --members 500 --rounds 1

Leerkring runs its real path: a DM schedule added with `leerkring schedule add`, then
`leerkring schedule run <id>` in a process of its own (the same fire_now -> deliver_pending
path as the scheduler's tick: a row per recipient written first, bounded concurrency, 429s
waited out by the Web API client). The reference is a bare slack-sdk AsyncWebClient loop, also
in a process of its own, with the built-in AsyncRateLimitErrorRetryHandler: for each member
conversations.open, then chat.postMessage. The two alternate (L R, then R L, ...) against one
loopback Web API stand-in that enforces Slack-shaped limits (tests/support/slack_standin.py):

- chat.postMessage: one token bucket per channel (60/min, burst 3: "1 per second per
  channel, short bursts allowed") and one for the workspace (--per-minute, --burst: Slack does
  not publish this figure; 600/min with a burst of 20 is our assumption);
- conversations.open: Tier 3 ("50+ per minute") only with --limit-open, because both sides
  call it once per member and it would then set the pace for both;
- a refused call gets HTTP 429 with Retry-After in whole seconds and is not recorded.

The lower bound is the time the buckets need for N messages at least: (N - burst) / rate,
from the first chat.postMessage to the last. Reported per side: that span and its ratio to the
bound, the process's wall time, 429s, lost members (not exactly one DM) and duplicates.
Leerkring keeps each member's DM channel id in the database. Every Leerkring run starts cold
(the stored ids are removed first), as a first fan-out does; with --warm each cold run is
followed by a second `schedule run` on the same database ("warm"), as every later fan-out and
every fan-out after a restart is: it needs no conversations.open.

Goals for Leerkring: span <= 1.15x the bound, 0 lost, 0 duplicates. With few members the
bound is short and any 429 costs a whole second (Retry-After is whole seconds, the client adds
up to 1 s of jitter), so the ratio only means something from a few hundred members on.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.signing import SIGNING_SECRET  # noqa: E402
from tests.support.slack_standin import (  # noqa: E402
    POST_PER_CHANNEL,
    TIER_3,
    TOKEN,
    SlackStandIn,
    Tier,
)

CHANNEL = "CFANOUT01"
POSTGRES_URL = os.environ.get(
    "LEERKRING_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MAX_RETRIES = 6  # as Leerkring's client (bot/slack/adapter.py make_slack_client)
REFERENCE_BLOCKS = [
    {"type": "header", "text": {"type": "plain_text", "text": "Wat ging goed"}},
    {"type": "section", "text": {"type": "mrkdwn", "text": "Kijk terug op je week."}},
    {"type": "section", "text": {"type": "mrkdwn", "text": "*Wat ging er goed deze week?*"}},
    {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": "reflectie_antwoord",
                "text": {"type": "plain_text", "text": "Antwoorden"},
                "value": "1",
                "style": "primary",
            }
        ],
    },
]


@dataclass
class Result:
    side: str
    wall: float
    span: float
    rate_limited: int
    lost: int
    duplicates: int
    pending_rows: int | None = None
    opened: int = 0


# --- the reference: a bare slack-sdk loop, run as `fanout.py --reference URL N` -------------


async def reference(api_url: str, members: int) -> None:
    from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(
        token=TOKEN,
        base_url=api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=MAX_RETRIES)],
    )
    for user in member_ids(members):
        opened = await client.conversations_open(users=user)
        await client.chat_postMessage(
            channel=opened["channel"]["id"],
            text="Wat ging goed: Wat ging er goed deze week?",
            blocks=REFERENCE_BLOCKS,
        )


# --- the benchmark ---------------------------------------------------------------------------


def member_ids(n: int) -> list[str]:
    return [f"U{i:07d}" for i in range(1, n + 1)]


async def run_command(command: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *command,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout=900)
    except TimeoutError:
        raise SystemExit(f"timed out: {' '.join(command)}") from None
    finally:
        if process.returncode is None:  # timed out or interrupted: leave no process behind
            process.kill()
            await process.wait()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{out.decode()}\n{err.decode()[-3000:]}")
    return time.perf_counter() - started


def tally(standin: SlackStandIn, members: list[str], since: int) -> tuple[float, int, int]:
    """(span first..last chat.postMessage, lost, duplicates) for calls after index ``since``."""
    posts = [c for c in standin.calls[since:] if c.method == "chat.postMessage"]
    per_channel = Counter(str(c.args.get("channel")) for c in posts)
    lost = sum(1 for user in members if per_channel.get("D" + user, 0) == 0)
    duplicates = sum(n - 1 for n in per_channel.values() if n > 1)
    span = posts[-1].at - posts[0].at if posts else 0.0
    return span, lost, duplicates


def forget_dm_channels(database_url: str) -> None:
    """A cold start: no DM channel ids stored yet."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM direct_channels"))
    finally:
        engine.dispose()


def pending_rows(database_url: str) -> int:
    """Recipient rows of the last run that are not 'sent' (Leerkring's own view of losses)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT count(*) FROM prompt_deliveries WHERE status != 'sent' AND "
                        "run_id = (SELECT max(id) FROM prompt_runs)"
                    )
                ).scalar_one()
            )
    finally:
        engine.dispose()


async def main(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="lk-fanout-"))
    standin = SlackStandIn()
    await standin.start()
    members = member_ids(args.members)
    standin.members[CHANNEL] = members
    workspace = Tier(args.per_minute, args.burst)
    standin.slack_limits["chat.postMessage"] = workspace
    standin.per_channel["chat.postMessage"] = POST_PER_CHANNEL
    if args.limit_open:
        standin.slack_limits["conversations.open"] = TIER_3

    database_url = f"sqlite:///{tmp / 'fanout.db'}"
    drop_schema = None
    if args.db == "postgresql":
        from sqlalchemy import create_engine, text

        schema = f"lk_fanout_{uuid.uuid4().hex[:8]}"
        admin = create_engine(POSTGRES_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        database_url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"

        def drop_schema() -> None:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()

    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LEERKRING_"))},
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": standin.url,
        "LEERKRING_PRIVACY_GUARD": "basic",
        "LEERKRING_LOG_LEVEL": "WARNING",
    }
    cli = [sys.executable, "-m", "bot.cli"]
    results: list[Result] = []
    try:
        if args.db == "postgresql":
            await run_command([*cli, "db", "upgrade"], env, tmp)
        await run_command(
            [*cli, "schedule", "add", "--channel", CHANNEL, "--when", "vrijdag 15:00",
             "--delivery", "dm", "--on-holidays"], env, tmp,
        )  # fmt: skip
        for round_no in range(args.rounds):
            sides = ["leerkring", "reference"]
            order = list(sides) if round_no % 2 == 0 else sides[::-1]
            if args.warm:
                order.insert(order.index("leerkring") + 1, "warm")
            for side in order:
                standin.reset_limits()
                if side == "leerkring":
                    forget_dm_channels(database_url)
                since = len(standin.calls)
                if side in ("leerkring", "warm"):
                    wall = await run_command([*cli, "schedule", "run", "1"], env, tmp)
                else:
                    command = [sys.executable, __file__, "--reference", standin.url]
                    wall = await run_command([*command, "--members", str(args.members)], env, tmp)
                span, lost, duplicates = tally(standin, members, since)
                pending = pending_rows(database_url) if side != "reference" else None
                opened = sum(1 for c in standin.calls[since:] if c.method == "conversations.open")
                limited = standin.rate_limited
                results.append(Result(side, wall, span, limited, lost, duplicates, pending, opened))
                print(
                    f"round {round_no + 1} {side:9}: span {span:6.1f} s, wall {wall:6.1f} s, "
                    f"429s {standin.rate_limited}, lost {lost}, duplicates {duplicates}, "
                    f"conversations.open {opened}",
                    flush=True,
                )
    finally:
        await standin.stop()
        if drop_schema is not None:
            drop_schema()
        shutil.rmtree(tmp, ignore_errors=True)
    report(args, workspace, results)


def report(args: argparse.Namespace, workspace: Tier, results: list[Result]) -> None:
    n = args.members
    rate = workspace.per_minute / 60
    warm_bound = max(0.0, (n - workspace.burst) / rate)
    bound = warm_bound
    if args.limit_open:
        bound = max(bound, (n - TIER_3.burst) / (TIER_3.per_minute / 60))
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"\nFan-out of {n} DMs, {args.db}, {args.rounds} round(s) per side, alternating")
    print(
        f"limits: chat.postMessage {workspace.per_minute:g}/min burst {workspace.burst} for the "
        f"workspace + {POST_PER_CHANNEL.per_minute:g}/min burst {POST_PER_CHANNEL.burst} per "
        f"channel; conversations.open {'Tier 3 50/min' if args.limit_open else 'unlimited'}"
    )
    print(f"lower bound {bound:.1f} s (warm, no conversations.open: {warm_bound:.1f} s); "
          f"load average {load} ({os.cpu_count()} cores)\n")  # fmt: skip
    print(f"{'side':10} {'span s':>7} {'/bound':>7} {'wall s':>7} {'429s':>6} {'lost':>5} "
          f"{'dupl.':>6} {'rows not sent':>14} {'opens':>6}")  # fmt: skip
    medians = {}
    for side in ("leerkring", "warm", "reference"):
        mine = [r for r in results if r.side == side]
        if not mine:
            continue
        side_bound = warm_bound if side == "warm" else bound
        span = statistics.median(r.span for r in mine)
        wall = statistics.median(r.wall for r in mine)
        medians[side] = span
        rate_limited = statistics.median(r.rate_limited for r in mine)
        lost = max(r.lost for r in mine)
        duplicates = max(r.duplicates for r in mine)
        rows = "-" if mine[0].pending_rows is None else str(max(r.pending_rows or 0 for r in mine))
        opened = statistics.median(r.opened for r in mine)
        print(f"{side:10} {span:7.1f} {span / side_bound:7.2f} {wall:7.1f} {rate_limited:6.0f} "
              f"{lost:5d} {duplicates:6d} {rows:>14} {opened:6.0f}")  # fmt: skip
    lk = [r for r in results if r.side in ("leerkring", "warm")]
    ok = medians["leerkring"] <= 1.15 * bound and all(r.lost == 0 and r.duplicates == 0 for r in lk)
    ratio = medians["leerkring"] / medians["reference"] if medians["reference"] else float("nan")
    print(f"\nleerkring / reference span: {ratio:.2f}")
    print("medians over rounds; lost and duplicates: worst round")
    print(f"goal: span <= 1.15x bound, 0 lost, 0 duplicates: {'met' if ok else 'MISSED'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--per-minute", type=float, default=600, help="workspace-wide")
    parser.add_argument("--burst", type=int, default=20, help="workspace-wide")
    parser.add_argument("--limit-open", action="store_true", help="conversations.open: Tier 3")
    parser.add_argument(
        "--warm",
        action="store_true",
        help="after each (cold) Leerkring run, run it again on the same database",
    )
    parser.add_argument("--reference", help=argparse.SUPPRESS)  # internal: the child process
    arguments = parser.parse_args()
    if arguments.reference:
        asyncio.run(reference(arguments.reference, arguments.members))
    else:
        asyncio.run(main(arguments))
