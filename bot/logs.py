"""Logs never contain what people typed.

Our own log lines name events, ids and categories only. Some libraries log whole request and
response bodies at DEBUG (slack_sdk writes every ``chat.postMessage`` payload, casus text
included), so their loggers are held at INFO whatever ``LEERKRING_LOG_LEVEL`` says.
``tests/bot/test_privacy_logs.py`` runs every text-taking flow at DEBUG and scans the logs.
"""

from __future__ import annotations

import logging
from typing import Final

PAYLOAD_LOGGERS: Final = ("slack_sdk", "slack_bolt", "botbuilder", "botframework", "msrest")


def keep_payloads_out_of_logs() -> None:
    for name in PAYLOAD_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.INFO:  # NOTSET (0) inherits DEBUG from the root
            logger.setLevel(logging.INFO)
