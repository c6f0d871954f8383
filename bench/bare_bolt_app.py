"""The reference for bench/ack_latency.py: a bare slack-bolt AsyncApp that does what every
Slack developer writes first. It acks ``/casus`` and opens a static modal through the same
loopback Web API stand-in, and acks message events. Run by the benchmark; not part of
Leerkring.

    python bench/bare_bolt_app.py PORT API_URL
"""

from __future__ import annotations

import sys
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

STATIC_MODAL = {
    "type": "modal",
    "callback_id": "casus_intake",
    "title": {"type": "plain_text", "text": "Casus inbrengen"},
    "submit": {"type": "plain_text", "text": "Delen"},
    "blocks": [
        {
            "type": "input",
            "block_id": "titel",
            "label": {"type": "plain_text", "text": "Titel"},
            "element": {"type": "plain_text_input", "action_id": "titel"},
        }
    ],
}


def main() -> None:
    port, api_url = int(sys.argv[1]), sys.argv[2]
    client = AsyncWebClient(token="xoxb-test-token", base_url=api_url)
    app = AsyncApp(client=client, signing_secret=sys.argv[3] if len(sys.argv) > 3 else "")

    @app.command("/casus")
    async def casus(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=STATIC_MODAL)

    @app.event("message")
    async def message(ack: Any) -> None:
        await ack()

    app.start(port=port, path="/slack/events", host="127.0.0.1")


if __name__ == "__main__":
    main()
