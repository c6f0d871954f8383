"""The privacy guard's contract: what a guard finds and how the core and the features ask it.
The guards themselves are the privacy feature's (handlers/privacy/guard.py, deduce.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Protocol


class Category(StrEnum):
    """Kind of identifier that was found."""

    BSN = "bsn"
    IBAN = "iban"
    PHONE = "phone"
    EMAIL = "email"
    POSTCODE = "postcode"
    BIRTHDATE = "birthdate"
    # Soft findings (from the name-aware guard): they warn, and the person may confirm that the
    # text is not about a client, or pseudonymise it.
    PERSON = "person"
    PLACE = "place"
    INSTITUTION = "institution"


SOFT_CATEGORIES: Final = frozenset({Category.PERSON, Category.PLACE, Category.INSTITUTION})


def is_soft(category: Category) -> bool:
    """Hard identifiers block; soft findings (names, places, institutions) warn."""
    return category in SOFT_CATEGORIES


class GuardNotReady(Exception):
    """The guard could not check in time (still loading, or its worker is gone). Callers
    refuse the submission rather than let it through unchecked."""


@dataclass(frozen=True)
class Finding:
    """One identifier found in one field.

    ``masked`` is safe to show back to the user; it never contains the full value. ``start`` and
    ``end`` are the span of the match in the original field text (``text[start:end]``).
    """

    field_id: str
    category: Category
    masked: str
    start: int
    end: int


class PrivacyGuard(Protocol):
    """Anything that can inspect form fields for identifiers."""

    def check(self, fields: Mapping[str, str]) -> list[Finding]:
        """Return findings ordered by field (mapping order), then by position."""
        ...
