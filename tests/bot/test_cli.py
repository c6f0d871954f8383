"""The `leerkring` program: settings errors, serve without Slack, db upgrade."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from storage import migrate
from tests.conftest import POSTGRES_URL, postgres_problem
from tests.support.operator import STATUS_HEADERS, STATUS_TOKEN


def _env(**extra: str) -> dict[str, str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DATABASE_", "LEERKRING_", "PORT"))
    }
    return {**base, "LEERKRING_PRIVACY_GUARD": "basic", "LEERKRING_METRICS_PORT": "0", **extra}


def leerkring(
    *args: str, env: dict[str, str], cwd: Path, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    "variable,value",
    [
        ("PORT", "abc"),
        ("PORT", "70000"),
        ("DATABASE_URL", "mysql://x"),
        ("LEERKRING_TIMEZONE", "Mars/Olympus"),
        ("LEERKRING_LANGUAGE", "de"),
        ("SLACK_BOT_TOKEN", "not-a-token"),
        ("SLACK_API_URL", "ftp://nope"),
    ],
)
def test_bad_setting_stops_with_one_line_naming_it(
    tmp_path: Path, variable: str, value: str
) -> None:
    env = _env(**{variable: value})
    if variable == "SLACK_BOT_TOKEN":
        env["SLACK_SIGNING_SECRET"] = "s"
    result = leerkring("serve", env=env, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert variable in lines[0]
    assert "Traceback" not in result.stderr


def test_signing_secret_is_required_in_http_mode(tmp_path: Path) -> None:
    result = leerkring("serve", env=_env(SLACK_BOT_TOKEN="xoxb-1"), cwd=tmp_path)
    assert result.returncode == 2
    assert "SLACK_SIGNING_SECRET" in result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(
    port: int, process: subprocess.Popen[str], within: float = 30
) -> dict[str, object]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {process.communicate()[1]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
                assert json.loads(resp.read()) == {"status": "ok"}
            status = urllib.request.Request(
                f"http://127.0.0.1:{port}/status", headers=STATUS_HEADERS
            )
            with urllib.request.urlopen(status, timeout=2) as resp:
                return json.loads(resp.read())  # type: ignore[no-any-return]
        except OSError:
            time.sleep(0.2)
    raise AssertionError("server did not become healthy")


def test_serve_without_slack_starts_on_sqlite_and_serves_healthz(tmp_path: Path) -> None:
    port = _free_port()
    env = _env(PORT=str(port), LEERKRING_HOST="127.0.0.1", LEERKRING_STATUS_TOKEN=STATUS_TOKEN)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        health = _wait_healthy(port, process)
        assert health["status"] == "ok"
        assert health["slack"] == "off"
        assert health["database"] == {
            "ok": True,
            "detail": "ok",
            "backend": "sqlite",
            "schema": migrate.head_revision(),
        }
        assert (tmp_path / "leerkring.db").exists()  # the embedded default, migrated at start
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=20)
    assert "Slack is off" in stderr
    assert "Traceback" not in stderr


def test_postgres_needs_db_upgrade_before_serve(tmp_path: Path) -> None:
    problem = postgres_problem()
    if problem:
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    schema = f"lk_cli_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
        result = leerkring("serve", env=_env(DATABASE_URL=url), cwd=tmp_path)
        assert result.returncode == 2
        assert "leerkring db upgrade" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        result = leerkring("db", "upgrade", env=_env(DATABASE_URL=url), cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert str(migrate.head_revision()) in result.stdout
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:9/none"
    result = leerkring("db", "upgrade", env=_env(DATABASE_URL=url), cwd=tmp_path)
    assert result.returncode == 1
    assert "DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr
