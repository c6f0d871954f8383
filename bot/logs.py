"""Logs never contain what people typed.

Our own log lines name events, ids and categories only. Some libraries log whole request and
response bodies at DEBUG (slack_sdk writes every ``chat.postMessage`` payload, casus text
included), so their loggers are held at INFO whatever ``LEERKRING_LOG_LEVEL`` says.
``tests/bot/test_privacy_logs.py`` runs every text-taking flow at DEBUG and scans the logs.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from pythonjsonlogger.json import JsonFormatter

PAYLOAD_LOGGERS: Final = ("slack_sdk", "slack_bolt", "botbuilder", "botframework", "msrest")


class PayloadFilter(logging.Filter):
    """On our log handler: drops the SDKs' records below INFO whatever their logger's level.
    slack_bolt sets the level of each app's logger (``slack_bolt.AsyncApp``) to the root's, so
    at DEBUG it would write every response body it sends to Slack."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.INFO:
            return True
        return not any(
            record.name == name or record.name.startswith(name + ".") for name in PAYLOAD_LOGGERS
        )


def keep_payloads_out_of_logs() -> None:
    for name in PAYLOAD_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.INFO:  # NOTSET (0) inherits DEBUG from the root
            logger.setLevel(logging.INFO)


# What a JSON line holds: when, how bad, which logger, our message, and a traceback if any.
JSON_FIELDS: Final = ("time", "level", "logger", "message", "exc_info", "stack_info")


class JsonLines(JsonFormatter):
    """``LEERKRING_LOG_FORMAT=json``: one JSON object per line for log shippers, with the same
    message as the text format and nothing more. A record's ``extra`` attributes and a logged
    dict are left out: a library could put a request body there."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            datefmt="%Y-%m-%dT%H:%M:%S%z",
        )

    def add_fields(
        self, log_record: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_record, record, {})
        for key in list(log_record):
            if key not in JSON_FIELDS:
                del log_record[key]
