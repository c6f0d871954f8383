"""Real ``leerkring serve`` processes for the fault tests: started with a clean environment,
logging to a file (a full pipe would stall the server), waited for by health check, and
always ended, also when a test fails half-way."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from tests.support.signing import SIGNING_SECRET
from tests.support.slack_standin import TOKEN


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_env(database_url: str, slack_api_url: str, **extra: str) -> dict[str, str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DATABASE_", "LEERKRING_", "MICROSOFT_", "PORT"))
    }
    return {
        **base,
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack_api_url,
        "LEERKRING_HOST": "127.0.0.1",
        "LEERKRING_PRIVACY_GUARD": "basic",
        "LEERKRING_SCHEDULER": "false",
        "LEERKRING_FACILITATORS": "UFAC01",
        "LEERKRING_LOG_LEVEL": "INFO",
        "LEERKRING_METRICS_PORT": "0",
        **extra,
    }


@dataclass
class Served:
    """One ``leerkring serve`` process."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill9(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGINT (a clean shutdown), then SIGKILL if it does not exit in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill9()


@dataclass
class Fleet:
    """Every server a test started; ``close`` ends those still running."""

    directory: Path
    servers: list[Served] = field(default_factory=list)

    def start(self, name: str, env: dict[str, str]) -> Served:
        port = free_port()
        log = self.directory / f"{name}-{len(self.servers)}.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "serve"],
                env={**env, "PORT": str(port)},
                cwd=self.directory,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        served = Served(name, process, port, log)
        self.servers.append(served)
        return served

    def close(self) -> None:
        for served in self.servers:
            served.stop()


async def wait_healthy(served: Served, within: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    async with aiohttp.ClientSession() as http:
        while True:
            if served.process.poll() is not None:
                raise AssertionError(f"{served.name} exited:\n{served.output()[-3000:]}")
            try:
                async with http.get(
                    f"{served.url}/healthz", timeout=aiohttp.ClientTimeout(total=2)
                ) as resp:
                    if resp.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{served.name} not healthy:\n{served.output()[-3000:]}")
            await asyncio.sleep(0.1)


async def wait_until(condition: object, within: float, what: str, step: float = 0.05) -> float:
    """Poll ``condition()`` (sync or async) until true; returns the seconds it took."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while True:
        result = condition()  # type: ignore[operator]
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return loop.time() - start
        if loop.time() - start > within:
            raise AssertionError(f"not within {within}s: {what}")
        await asyncio.sleep(step)
