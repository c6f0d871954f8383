"""Anonymous casussen: the post does not show the inbrenger, and the database keeps no link to
them beyond what closing the casus needs.

The casus points at one placeholder member per platform (:data:`ANONYMOUS_USER_ID`) and stores
``HMAC-SHA256(LEERKRING_HMAC_SECRET, "platform:user id")`` as ``inbrenger_hash``. Whoever presses
*afronden* is hashed the same way and compared in constant time. Without the secret the hash
cannot be recomputed from a list of user ids, so a copy of the database alone does not say who
brought the casus in. Losing or changing the secret means anonymous casussen can no longer be
closed by their inbrenger (a facilitator can still see them in a harvest, without a name).
"""

from __future__ import annotations

import hmac

from handlers.core.events import Actor
from handlers.core.replies import Mention, Option, Param, Select
from handlers.privacy.anonymity import ANONYMOUS_USER_ID, inbrenger_hash
from prompts import Texts
from storage.models import Casus

__all__ = [
    "ANONYMOUS",
    "ANONYMOUS_FIELD",
    "ANONYMOUS_USER_ID",
    "NAMED",
    "anonymous_field",
    "inbrenger_hash",
    "inbrenger_label",
    "is_inbrenger",
]

ANONYMOUS_FIELD = "anoniem"
NAMED = "nee"
ANONYMOUS = "ja"


def is_inbrenger(casus: Casus, actor: Actor, secret: bytes | None) -> bool:
    if casus.anonymous:
        if secret is None or casus.inbrenger_hash is None:
            return False
        expected = inbrenger_hash(secret, actor.platform, actor.user_id)
        return hmac.compare_digest(expected, casus.inbrenger_hash)
    inbrenger = casus.inbrenger
    return (inbrenger.platform, inbrenger.platform_user_id) == (actor.platform, actor.user_id)


def inbrenger_label(casus: Casus, texts: Texts) -> Param:
    """A mention of the inbrenger, or the word for "anonymous"."""
    if casus.anonymous:
        return texts.get("privacy.anonymous.name")
    return Mention(casus.inbrenger.platform_user_id)


def anonymous_field(texts: Texts) -> Select:
    return Select(
        field_id=ANONYMOUS_FIELD,
        label=texts.get("privacy.anonymous.label"),
        options=(
            Option(NAMED, texts.get("privacy.anonymous.named")),
            Option(ANONYMOUS, texts.get("privacy.anonymous.anonymous")),
        ),
        required=True,
        initial=NAMED,
        hint=texts.get("privacy.anonymous.hint"),
    )
