"""/leerkring and /help on Slack: every command, grouped per role, in one private answer."""

from __future__ import annotations

import json

import pytest

from handlers.core.help import HELP_COMMANDS
from handlers.features import build_router
from tests.conftest import RunningServer
from tests.support.signing import command_body, signed_headers

FORM = "application/x-www-form-urlencoded"


async def _post(server: RunningServer, body: str) -> tuple[int, str]:
    headers = signed_headers(body, FORM)
    async with server.http.post(
        f"{server.url}/slack/events", data=body.encode(), headers=headers
    ) as resp:
        return resp.status, await resp.text()


@pytest.mark.parametrize("command", ["/leerkring", "/help"])
async def test_help_on_slack_lists_every_command_per_role(
    server: RunningServer, command: str
) -> None:
    status, text = await _post(server, command_body(command, "", user="U1"))
    assert status == 200
    answer = json.loads(text)
    assert answer["response_type"] == "ephemeral"
    shown = answer["text"]
    members, _, facilitators = shown.partition("Voor begeleiders")
    assert "Voor iedereen" in members
    for word in build_router().commands:
        if word not in HELP_COMMANDS:
            assert f"/{word}" in shown, word
    assert "/oogsten" in facilitators and "/oogsten" not in members
    assert "/casus" in members
    # Usage hints such as <datum> are escaped, not taken for Slack markup.
    assert "&lt;datum&gt;" in shown
