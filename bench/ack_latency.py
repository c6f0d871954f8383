"""Ack latency and throughput: `leerkring serve` beside a bare slack-bolt app, same run.

    .venv/bin/python bench/ack_latency.py                       # SQLite, 50 concurrent
    .venv/bin/python bench/ack_latency.py --db postgresql --requests 2000

A signed-request load generator sends `/casus` commands (each opens a modal through the
loopback Web API stand-in) and thread-reply events (Leerkring stores each as a bijdrage) to
both servers, alternating in rounds so that the noise of a shared 2-core machine falls on both
alike. It prints p50/p99 latency and requests per second for each, and the ratios. It also
prints the CPU time each server process spent per request (from /proc, Linux only): throughput
on a shared machine swings with the neighbours, CPU per request much less.
Goals: p99 ≤ 1.5× the bare app, throughput ≥ 0.7×, every ack well under Slack's 3 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.signing import (  # noqa: E402
    SIGNING_SECRET,
    command_body,
    interactive_body,
    signed_headers,
    thread_reply_event,
    view_submission,
)
from tests.support.slack_standin import SlackStandIn  # noqa: E402

# /status needs the operator token; the guard state is not on the public /healthz.
STATUS_TOKEN = uuid.uuid4().hex
FORM = "application/x-www-form-urlencoded"


def spawn(command: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux /proc), None elsewhere."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_ready(
    http: aiohttp.ClientSession, url: str, process: subprocess.Popen[bytes]
) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit(f"server exited early ({url})")
        try:
            async with http.get(url) as resp:
                if resp.status < 500:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit(f"server not ready: {url}")


async def wait_guard(http: aiohttp.ClientSession, url: str) -> None:
    """The strict guard loads deduce after start-up (the first time after an install it also
    builds a lookup cache): measure once names are checked, not while replies wait for it."""
    for _ in range(3000):
        async with http.get(url, headers={"Authorization": f"Bearer {STATUS_TOKEN}"}) as resp:
            if (await resp.json()).get("privacy_guard") == "ready":
                return
        await asyncio.sleep(0.1)
    raise SystemExit("the strict privacy guard did not load within 5 minutes")


async def send(http: aiohttp.ClientSession, url: str, body: str, content_type: str) -> float:
    headers = signed_headers(body, content_type)
    start = time.perf_counter()
    async with http.post(url, data=body.encode(), headers=headers) as resp:
        await resp.read()
        if resp.status != 200:
            raise RuntimeError(f"{url}: HTTP {resp.status}")
    return time.perf_counter() - start


def requests_for(kind: str, thread_ts: str, n: int) -> list[tuple[str, str]]:
    out = []
    for i in range(n):
        if kind == "command":
            out.append((command_body("/casus", f"Casus {i}", user=f"U{i % 97:03d}"), FORM))
        else:
            event = thread_reply_event(
                f"Bijdrage {i}: ik zou eerst vragen wat de moeder zelf wil.",
                thread_ts=thread_ts,
                ts=f"1700001000.{i:06d}",
                user=f"U{i % 89:03d}",
                event_id=f"Ev{uuid.uuid4().hex[:12]}",
            )
            out.append((json.dumps(event), "application/json"))
    return out


async def run_batch(
    http: aiohttp.ClientSession, url: str, batch: list[tuple[str, str]], concurrency: int
) -> tuple[list[float], float]:
    semaphore = asyncio.Semaphore(concurrency)

    async def one(body: str, content_type: str) -> float:
        async with semaphore:
            return await send(http, url, body, content_type)

    start = time.perf_counter()
    latencies = await asyncio.gather(*(one(b, c) for b, c in batch))
    return list(latencies), time.perf_counter() - start


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def seed_casus(http: aiohttp.ClientSession, url: str, standin: SlackStandIn) -> str:
    """Bring in one casus through Leerkring's real flow; its thread receives the replies."""
    await send(http, url, command_body("/casus", "Benchmark", user="U001"), FORM)
    view = (await standin.wait_for("views.open"))[-1]["view"]
    values = {"titel": "Benchmark", "situatie": "Een gezin met schulden.", "vraag": "Wat nu?"}
    body = interactive_body(view_submission(view, values, user="U001"))
    await send(http, url, body, FORM)
    posted = await standin.wait_for("chat.postMessage")
    return str(posted[-1].get("ts") or "1700000000.000001")


async def main(args: argparse.Namespace) -> None:
    standin = SlackStandIn()
    await standin.start()
    tmp = Path(tempfile.mkdtemp(prefix="lk-bench-"))
    database_url = f"sqlite:///{tmp / 'bench.db'}"
    drop_schema = None
    if args.db == "postgresql":
        from sqlalchemy import create_engine, text

        base = os.environ.get(
            "LEERKRING_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        )
        schema = f"lk_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(base)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        database_url = f"{base}?options=-csearch_path%3D{schema}"

        def drop_schema() -> None:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()

        spawn([sys.executable, "-m", "bot.cli", "db", "upgrade"],
              {**os.environ, "DATABASE_URL": database_url}, tmp).wait(timeout=60)  # fmt: skip
    lk_port, bolt_port = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LEERKRING_"))},
        "PORT": str(lk_port),
        "LEERKRING_HOST": "127.0.0.1",
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": standin.url,
        "LEERKRING_SCHEDULER": "false",
        "LEERKRING_PRIVACY_GUARD": args.guard,
        "LEERKRING_STATUS_TOKEN": STATUS_TOKEN,
        "LEERKRING_LOG_LEVEL": "WARNING",
    }
    leerkring = spawn([sys.executable, "-m", "bot.cli", "serve"], env, tmp)
    bare = spawn(
        [sys.executable, str(ROOT / "bench" / "bare_bolt_app.py"), str(bolt_port), standin.url,
         SIGNING_SECRET], dict(os.environ), tmp,
    )  # fmt: skip
    targets = {
        "leerkring": f"http://127.0.0.1:{lk_port}/slack/events",
        "bare bolt": f"http://127.0.0.1:{bolt_port}/slack/events",
    }
    connector = aiohttp.TCPConnector(limit=args.concurrency * 2)
    try:
        async with aiohttp.ClientSession(connector=connector) as http:
            await wait_ready(http, f"http://127.0.0.1:{lk_port}/healthz", leerkring)
            if args.guard == "strict":
                await wait_guard(http, f"http://127.0.0.1:{lk_port}/status")
            await wait_ready(http, targets["bare bolt"], bare)
            thread_ts = await seed_casus(http, targets["leerkring"], standin)
            results: dict[tuple[str, str], list[float]] = {}
            elapsed: dict[tuple[str, str], float] = {}
            cpu: dict[tuple[str, str], float | None] = {}
            pids = {"leerkring": leerkring.pid, "bare bolt": bare.pid}
            rounds = max(1, args.requests // args.round_size)
            for kind in ("command", "event"):
                # Warm-up, not measured.
                for url in targets.values():
                    await run_batch(http, url, requests_for(kind, thread_ts, 50), args.concurrency)
                for r in range(rounds):
                    order = list(targets.items()) if r % 2 == 0 else list(targets.items())[::-1]
                    for name, url in order:
                        batch = requests_for(kind, thread_ts, args.round_size)
                        before = cpu_seconds(pids[name])
                        latencies, seconds = await run_batch(http, url, batch, args.concurrency)
                        after = cpu_seconds(pids[name])
                        results.setdefault((name, kind), []).extend(latencies)
                        elapsed[(name, kind)] = elapsed.get((name, kind), 0.0) + seconds
                        spent = cpu.get((name, kind), 0.0)
                        # Work a command left running after its ack (views.open) is counted
                        # in the next round of that server: rounds are many, so it evens out.
                        cpu[(name, kind)] = (
                            None
                            if before is None or after is None or spent is None
                            else spent + after - before
                        )
            await asyncio.sleep(1)  # let views.open calls after the acks finish
    finally:
        for process in (leerkring, bare):
            process.terminate()
            process.wait(timeout=20)
        await standin.stop()
        if drop_schema is not None:
            drop_schema()
        shutil.rmtree(tmp, ignore_errors=True)

    per_app = rounds * args.round_size
    load = os.getloadavg()[0]
    print(
        f"\nAck latency, {args.db}, guard {args.guard}, {args.concurrency} concurrent, "
        f"{per_app} requests"
    )
    print(f"per kind per app, 1-minute load average {load:.2f}\n")
    header = f"{'kind':8} {'app':10} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'req/s':>8}"
    print(f"{header} {'CPU µs/req':>11}")
    summary = {}
    for kind in ("command", "event"):
        for name in targets:
            lat = results[(name, kind)]
            rps = len(lat) / elapsed[(name, kind)]
            summary[(name, kind)] = (pct(lat, 0.5), pct(lat, 0.99), max(lat), rps)
            p50, p99, top, _ = summary[(name, kind)]
            ms = f"{p50 * 1000:8.1f} {p99 * 1000:8.1f} {top * 1000:8.1f}"
            spent = cpu.get((name, kind))
            per_request = "–" if spent is None else f"{spent / len(lat) * 1e6:.0f}"
            print(f"{kind:8} {name:10} {ms} {rps:8.0f} {per_request:>11}")
    print()
    print("goals: p99 ≤ 1.5× the bare app, req/s ≥ 0.7×, every ack < 3 s")
    print(f"{'kind':8} {'p99 ratio':>10} {'req/s ratio':>12} {'CPU ratio':>10}")
    for kind in ("command", "event"):
        lk, bolt = summary[("leerkring", kind)], summary[("bare bolt", kind)]
        p99_ratio, rps_ratio = lk[1] / bolt[1], lk[3] / bolt[3]
        ok = p99_ratio <= 1.5 and rps_ratio >= 0.7 and lk[2] < 3.0
        lk_cpu, bolt_cpu = cpu.get(("leerkring", kind)), cpu.get(("bare bolt", kind))
        cpu_ratio = f"{lk_cpu / bolt_cpu:10.2f}" if lk_cpu and bolt_cpu else f"{'–':>10}"
        verdict = "met" if ok else "MISSED"
        print(f"{kind:8} {p99_ratio:10.2f} {rps_ratio:12.2f} {cpu_ratio}   {verdict}")
    views = len(standin.calls_to("views.open"))
    median = statistics.median(results[("leerkring", "command")]) * 1000
    print(f"\nviews.open calls recorded: {views}; Leerkring command median {median:.1f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--requests", type=int, default=1000, help="per kind per app")
    parser.add_argument("--round-size", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument(
        "--guard",
        choices=["basic", "strict"],
        default="basic",
        help="Leerkring's LEERKRING_PRIVACY_GUARD (strict loads deduce first, about a minute)",
    )
    asyncio.run(main(parser.parse_args()))
