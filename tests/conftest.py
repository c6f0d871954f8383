"""Shared fixtures: a real database on SQLite and on PostgreSQL, the running server, and the
loopback Slack Web API stand-in.

PostgreSQL: ``LEERKRING_TEST_POSTGRES_URL`` (default the local cluster, database ``test``). If it
is down, the fixture starts the local cluster with ``pg_ctlcluster``. If it still cannot be
reached, the run fails under CI (``CI=true``) and elsewhere every PostgreSQL test is reported
as skipped with a loud warning; ``LEERKRING_TEST_DATABASES=sqlite`` opts out explicitly.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import create_engine, text

from bot.server import build_app
from bot.services import Services, build_services
from bot.settings import Settings, load_settings
from storage import migrate
from storage.db import Database
from tests.support.operator import STATUS_TOKEN
from tests.support.signing import SIGNING_SECRET
from tests.support.slack_standin import TOKEN, SlackStandIn

POSTGRES_URL = os.environ.get(
    "LEERKRING_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
DATABASES = [
    d.strip()
    for d in os.environ.get("LEERKRING_TEST_DATABASES", "sqlite,postgresql").split(",")
    if d.strip()
]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# Every server a test builds from the environment (Teams fixtures too) uses the structured guard;
# subprocesses that drop LEERKRING_* variables set it again themselves.
os.environ.setdefault("LEERKRING_PRIVACY_GUARD", "basic")
# No test server takes the default metrics port; tests/bot/test_metrics.py gives its own one.
os.environ.setdefault("LEERKRING_METRICS_PORT", "0")

_postgres_state: dict[str, Any] = {}


def _postgres_reachable() -> str | None:
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"


def _start_local_cluster() -> None:
    if shutil.which("pg_ctlcluster") is None or not Path("/etc/postgresql").is_dir():
        return
    for version in sorted(os.listdir("/etc/postgresql")):
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
            capture_output=True,
            timeout=60,
            check=False,
        )
    for _ in range(30):
        if _postgres_reachable() is None:
            return
        time.sleep(0.5)


def postgres_problem() -> str | None:
    """None when PostgreSQL is usable; otherwise why not. Tries to start it once."""
    if "problem" not in _postgres_state:
        problem = _postgres_reachable()
        if problem is not None:
            _start_local_cluster()
            problem = _postgres_reachable()
        _postgres_state["problem"] = problem
    return _postgres_state["problem"]


def pytest_sessionstart(session: pytest.Session) -> None:
    if "postgresql" not in DATABASES:
        return
    problem = postgres_problem()
    if problem is None:
        return
    message = f"PostgreSQL at {POSTGRES_URL} is NOT reachable ({problem})"
    if IN_CI:
        pytest.exit(f"{message}; CI must test PostgreSQL. Failing the run.", returncode=3)
    warnings.warn(f"{message}: PostgreSQL tests will be SKIPPED", stacklevel=1)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    problem = _postgres_state.get("problem")
    if problem:
        terminalreporter.write_sep("!", f"PostgreSQL NOT TESTED: {problem}", red=True, bold=True)


@dataclass
class DatabaseTarget:
    backend: str
    url: str


@pytest.fixture(params=DATABASES)
def database_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DatabaseTarget]:
    """An empty, migrated database on each backend: a file for SQLite, a schema for PG."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'leerkring.db'}"
        engine = create_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield DatabaseTarget("sqlite", url)
        return
    problem = postgres_problem()
    if problem is not None:
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    schema = f"lk_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    engine = create_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    try:
        yield DatabaseTarget("postgresql", url)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def database(database_target: DatabaseTarget) -> Iterator[Database]:
    db = Database.from_url(database_target.url)
    yield db
    db.dispose()


@pytest.fixture
async def slack_api() -> AsyncIterator[SlackStandIn]:
    standin = SlackStandIn()
    await standin.start()
    yield standin
    await standin.stop()


def make_settings(database_url: str, **extra: str) -> Settings:
    env = {
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "LEERKRING_FACILITATORS": "UFAC01",
        "LEERKRING_SCHEDULER": "false",  # scheduler tests drive ticks themselves
        # deduce (strict) is loaded once per session, by the privacy corpus tests only.
        "LEERKRING_PRIVACY_GUARD": "basic",
        "LEERKRING_STATUS_TOKEN": STATUS_TOKEN,
        "LEERKRING_METRICS_PORT": "0",
        **extra,
    }
    return load_settings(env)


@dataclass
class RunningServer:
    url: str
    services: Services
    slack: SlackStandIn
    http: aiohttp.ClientSession

    @property
    def database(self) -> Database:
        return self.services.database


@pytest.fixture
async def server(
    database_target: DatabaseTarget, slack_api: SlackStandIn
) -> AsyncIterator[RunningServer]:
    """The real aiohttp app on a loopback TCP port, wired to the stand-in and a real DB."""
    settings = make_settings(database_target.url, SLACK_API_URL=slack_api.url)
    services = build_services(settings)
    app = build_app(services)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    async with aiohttp.ClientSession() as http:
        yield RunningServer(f"http://127.0.0.1:{port}", services, slack_api, http)
    await runner.cleanup()


@pytest.fixture(scope="session")
def strict_guard() -> Iterator[Any]:
    """deduce, loaded once per test session (about 10 s; the first run after an install also
    builds its lookup cache, one to two minutes) in its worker process."""
    from handlers.privacy.deduce import DeduceGuard

    guard = DeduceGuard(wait_seconds=0)
    guard.start()
    assert guard.wait_ready(timeout=600), "deduce did not load"
    yield guard
    guard.stop()
