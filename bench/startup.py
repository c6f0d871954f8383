"""Start-up time and idle memory: `leerkring serve` beside the bare slack-bolt app, same run.

    .venv/bin/python bench/startup.py                # 5 runs each, alternating, + strict once
    .venv/bin/python bench/startup.py --runs 7 --strict-runs 2

Start-up: from spawning the process to its first healthy answer. Leerkring: `GET /healthz`
answering 200 (a fresh SQLite file each time, so the migrations run). The bare app
(bench/bare_bolt_app.py) has no health route: its first HTTP answer on /slack/events counts.
Both run with a Slack token against the loopback Web API stand-in.

Idle memory: resident set size (VmRSS in /proc) 3 s after the process is healthy and idle.
With LEERKRING_PRIVACY_GUARD=strict deduce loads in a worker process (spawned; multiprocessing
also starts its resource tracker): the run waits until the server logs "privacy guard: deduce
is ready" (/healthz does not say), then reports the server and each child separately and the
sum. Linux only (/proc). Temporary folders and every process are cleaned up.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.signing import SIGNING_SECRET  # noqa: E402
from tests.support.slack_standin import TOKEN, SlackStandIn  # noqa: E402

READY_LINE = "privacy guard: deduce is ready"
SETTLE_SECONDS = 3.0


@dataclass
class Sample:
    side: str
    startup: float
    rss_mb: float
    children_mb: dict[str, float] = field(default_factory=dict)
    guard_ready: float | None = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.extend(int(child) for child in text)
    return found


def describe(pid: int) -> str:
    raw = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    if "resource_tracker" in raw:
        return "resource tracker"
    if "multiprocessing" in raw or "spawn_main" in raw:
        return "deduce worker"
    return raw[:60]


async def healthy(
    http: aiohttp.ClientSession, url: str, process: asyncio.subprocess.Process, ok: set[int]
) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < 120:
        if process.returncode is not None:
            raise SystemExit(f"process exited early ({url})")
        try:
            async with http.get(url) as resp:
                if resp.status in ok:
                    return time.perf_counter()
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.01)
    raise SystemExit(f"not healthy within 120 s: {url}")


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), timeout=20)
        except TimeoutError:
            process.kill()
            await process.wait()


async def one_run(side: str, guard: str, standin: SlackStandIn, tmp: Path) -> Sample:
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix=f"{side}-", dir=tmp))
    log_path = workdir / "stderr.log"
    if side == "leerkring":
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LEERKRING_"))},
            "PORT": str(port),
            "LEERKRING_HOST": "127.0.0.1",
            "DATABASE_URL": f"sqlite:///{workdir / 'leerkring.db'}",
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": standin.url,
            "LEERKRING_PRIVACY_GUARD": guard,
            "LEERKRING_LOG_LEVEL": "INFO",
        }
        command = [sys.executable, "-m", "bot.cli", "serve"]
        url, ok = f"http://127.0.0.1:{port}/healthz", {200}
    else:
        env = dict(os.environ)
        command = [sys.executable, str(ROOT / "bench" / "bare_bolt_app.py"), str(port),
                   standin.url, SIGNING_SECRET]  # fmt: skip
        url, ok = f"http://127.0.0.1:{port}/slack/events", set(range(200, 500))
    with log_path.open("wb") as log_file:
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            *command, env=env, cwd=workdir, stdout=asyncio.subprocess.DEVNULL, stderr=log_file
        )
        try:
            async with aiohttp.ClientSession() as http:
                at = await healthy(http, url, process, ok)
            sample = Sample(side if guard == "basic" else f"{side} strict", at - started, 0.0)
            if guard == "strict":
                while READY_LINE not in log_path.read_text(errors="replace"):
                    if process.returncode is not None or time.perf_counter() - started > 300:
                        raise SystemExit("the strict guard did not become ready")
                    await asyncio.sleep(0.1)
                sample.guard_ready = time.perf_counter() - started
            await asyncio.sleep(SETTLE_SECONDS)
            sample.rss_mb = rss_mb(process.pid)
            for child in children(process.pid):
                sample.children_mb[f"{describe(child)} ({child})"] = rss_mb(child)
            return sample
        finally:
            await stop(process)


async def main(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="lk-startup-"))
    standin = SlackStandIn()
    await standin.start()
    samples: list[Sample] = []
    try:
        # Warm the file system cache for both, not measured.
        for side in ("leerkring", "bare bolt"):
            await one_run(side, "basic", standin, tmp)
        for r in range(args.runs):
            order = ["leerkring", "bare bolt"] if r % 2 == 0 else ["bare bolt", "leerkring"]
            for side in order:
                samples.append(await one_run(side, "basic", standin, tmp))
                print(f"{side:10} start-up {samples[-1].startup:.2f} s", flush=True)
        for _ in range(args.strict_runs):
            samples.append(await one_run("leerkring", "strict", standin, tmp))
            print(f"strict: healthy {samples[-1].startup:.2f} s, guard ready "
                  f"{samples[-1].guard_ready:.1f} s", flush=True)  # fmt: skip
    finally:
        await standin.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    report(args, samples)


def report(args: argparse.Namespace, samples: list[Sample]) -> None:
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"\nStart-up and idle memory, {args.runs} runs per side alternating (median)")
    print(f"load average {load} ({os.cpu_count()} cores)\n")
    by = {side: [s for s in samples if s.side == side]
          for side in ("leerkring", "bare bolt", "leerkring strict")}  # fmt: skip
    bare_start = statistics.median(s.startup for s in by["bare bolt"])
    bare_rss = statistics.median(s.rss_mb for s in by["bare bolt"])
    print(f"{'process':28} {'start-up s':>10} {'x bare':>7} {'RSS MB':>8} {'x bare':>7}")
    for side in ("bare bolt", "leerkring"):
        start = statistics.median(s.startup for s in by[side])
        rss = statistics.median(s.rss_mb for s in by[side])
        label = "leerkring serve (basic)" if side == "leerkring" else "bare slack-bolt app"
        print(f"{label:28} {start:10.2f} {start / bare_start:7.2f} {rss:8.0f} "
              f"{rss / bare_rss:7.2f}")  # fmt: skip
    strict = by["leerkring strict"]
    if strict:
        start = statistics.median(s.startup for s in strict)
        ready = statistics.median(s.guard_ready or 0.0 for s in strict)
        server = statistics.median(s.rss_mb for s in strict)
        print(f"{'leerkring serve (strict)':28} {start:10.2f} {start / bare_start:7.2f} "
              f"{server:8.0f} {server / bare_rss:7.2f}   server process")  # fmt: skip
        total = server
        for name, mb in strict[-1].children_mb.items():
            print(f"{'  child: ' + name:28} {'':10} {'':7} {mb:8.0f}")
            total += mb
        print(f"{'  sum (strict, last run)':28} {'':10} {'':7} {total:8.0f} "
              f"{total / bare_rss:7.2f}")  # fmt: skip
        print(f"\nstrict guard ready (log line) after {ready:.1f} s from process start")
    print("start-up: spawn to first healthy answer (Leerkring: /healthz 200 on a fresh SQLite")
    print(f"file, migrations included); RSS {SETTLE_SECONDS:.0f} s after healthy and idle")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--strict-runs", type=int, default=1)
    asyncio.run(main(parser.parse_args()))
