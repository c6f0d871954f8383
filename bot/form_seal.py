"""Tamper-evident form metadata: a form can only be submitted as the bot opened it.

What a handler puts in a form (the casus id, the run id) travels through the platform and
comes back with the submission: Slack's ``private_metadata`` (with the channel the form was
opened in), a Teams card's ``Action.Submit`` data. Both can be forged by whoever can send us
a request, so the adapters add an HMAC over the form id, the metadata and the place when they
render a form, and refuse a submission whose seal does not match before any handler sees it.

The key: ``LEERKRING_HMAC_SECRET`` when set; otherwise one derived from a secret every
replica of one installation already shares (the Slack signing secret, the Teams app
password, the bot or app token, or, in the Teams emulator with none of those, the database
URL). Nothing is stored and no replica needs to agree with another at run time; changing the
secret only makes forms that are open at that moment ask to be opened again. The key is
always derived with a label, so the seal never reveals or reuses the secret itself."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence

from bot.settings import Settings

LABEL = b"leerkring form metadata seal v1"


def form_key(settings: Settings) -> bytes:
    """The seal key of this installation (see the module docstring for the order)."""
    for secret in (
        settings.hmac_secret,
        settings.slack_signing_secret,
        settings.microsoft_app_password,
        settings.slack_bot_token,
        settings.slack_app_token,
    ):
        if secret is not None and secret.get_secret_value():
            return derive(secret.get_secret_value().encode())
    return derive(settings.database_url.encode())


def derive(secret: bytes) -> bytes:
    return hmac.new(secret, LABEL, hashlib.sha256).digest()


class FormSeal:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def sign(
        self, form_id: str, metadata: Mapping[str, object], place: Sequence[object] | None
    ) -> str:
        canonical = json.dumps(
            {"f": form_id, "m": dict(metadata), "p": list(place) if place is not None else None},
            sort_keys=True,
            separators=(",", ":"),
        )
        return hmac.new(self._key, canonical.encode(), hashlib.sha256).hexdigest()

    def valid(
        self,
        seal: object,
        form_id: str,
        metadata: Mapping[str, object],
        place: Sequence[object] | None,
    ) -> bool:
        if not isinstance(seal, str):
            return False
        try:
            expected = self.sign(form_id, metadata, place)
        except (TypeError, ValueError):
            return False
        return hmac.compare_digest(expected, seal)
