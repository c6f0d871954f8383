"""`leerkring serve` with Teams: emulator mode never listens beyond loopback; with an app id the
configured host is used. A real process, so these are marked slow."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.operator import STATUS_HEADERS, STATUS_TOKEN
from tests.support.teams_standin import APP_ID

pytestmark = pytest.mark.slow


def _env(**extra: str) -> dict[str, str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DATABASE_", "LEERKRING_", "MICROSOFT_", "PORT"))
    }
    return {
        **base,
        "LEERKRING_PRIVACY_GUARD": "basic",
        "LEERKRING_STATUS_TOKEN": STATUS_TOKEN,
        "LEERKRING_METRICS_PORT": "0",
        **extra,
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _health(host: str, port: int) -> dict[str, object] | None:
    try:
        status = urllib.request.Request(f"http://{host}:{port}/status", headers=STATUS_HEADERS)
        with urllib.request.urlopen(status, timeout=2) as resp:
            return json.loads(resp.read())  # type: ignore[no-any-return]
    except OSError:
        return None


def _serve(tmp_path: Path, host: str, **env: str) -> tuple[subprocess.Popen[str], int]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve"],
        env=_env(PORT=str(port), **env),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {process.communicate()[1]}")
        if _health(host, port) is not None:
            return process, port
        time.sleep(0.2)
    process.kill()
    raise AssertionError("server did not become healthy")


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=20)
    return stderr


def test_emulator_mode_listens_on_loopback_only_and_warns(tmp_path: Path) -> None:
    process, port = _serve(
        tmp_path, "127.0.0.1", LEERKRING_TEAMS_EMULATOR="true", LEERKRING_HOST="0.0.0.0"
    )
    try:
        health = _health("127.0.0.1", port)
        assert health is not None and health["teams"] == "emulator"
        # 127.0.0.2 is loopback too, but a socket bound to 127.0.0.1 does not answer it;
        # one bound to 0.0.0.0 would.
        assert _health("127.0.0.2", port) is None
    finally:
        stderr = _stop(process)
    assert "NOT authenticated" in stderr and "LEERKRING_HOST=0.0.0.0 ignored" in stderr
    assert f"listening on 127.0.0.1:{port}" in stderr
    assert "Traceback" not in stderr


def test_with_an_app_id_the_configured_host_is_used(tmp_path: Path) -> None:
    process, port = _serve(
        tmp_path,
        "127.0.0.2",
        MICROSOFT_APP_ID=APP_ID,
        MICROSOFT_APP_PASSWORD="x",
        LEERKRING_HOST="127.0.0.2",
    )
    try:
        health = _health("127.0.0.2", port)
        assert health is not None and health["teams"] == "on"
        request = urllib.request.Request(
            f"http://127.0.0.2:{port}/api/messages",
            data=json.dumps({"type": "message", "text": "casus"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 401
        refused.value.close()
    finally:
        stderr = _stop(process)
    assert "Teams listening at POST /api/messages" in stderr
    assert "NOT authenticated" not in stderr


def test_without_teams_settings_api_messages_does_not_exist(tmp_path: Path) -> None:
    process, port = _serve(tmp_path, "127.0.0.1", LEERKRING_HOST="127.0.0.1")
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/messages",
            data=b"{}",
            headers={"Content-Type": "application/json"},
        )
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(request, timeout=5)
        assert missing.value.code == 404
        missing.value.close()
    finally:
        stderr = _stop(process)
    assert "Teams is off" in stderr
