"""Who someone is, without keeping who they are: the placeholder member that anonymous posts
point at, and the keyed hash that lets the author (and only someone with the secret) be
recognised again. Used by anonymous casussen (handlers/casus/anonymous.py) and by export and
erasure (rights.py), which must find a person's anonymous posts too."""

from __future__ import annotations

import hashlib
import hmac

ANONYMOUS_USER_ID = "~anoniem"  # no platform issues ids with a tilde


def inbrenger_hash(secret: bytes, platform: str, user_id: str) -> str:
    return hmac.new(secret, f"{platform}:{user_id}".encode(), hashlib.sha256).hexdigest()
