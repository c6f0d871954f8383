"""The operator's view of a running server: ``GET /status`` with its bearer token."""

from __future__ import annotations

STATUS_TOKEN = "operator-status-token-0123456789"
STATUS_HEADERS = {"Authorization": f"Bearer {STATUS_TOKEN}"}
