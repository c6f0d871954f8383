"""Form checks shared by every handler: clean text, required fields, lengths, privacy."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from handlers.core.guard import Finding, GuardNotReady, PrivacyGuard, is_soft
from prompts import Texts

# Control characters (NUL included, which PostgreSQL refuses in text) except tab and newline.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: str) -> str:
    """Normalise what a person typed: NFC, no control characters, no outer whitespace."""
    return _CONTROL.sub("", unicodedata.normalize("NFC", value)).replace("\r\n", "\n").strip()


@dataclass(frozen=True)
class FieldRule:
    field_id: str
    required: bool = False
    max_length: int | None = None


def validate(
    values: Mapping[str, str],
    rules: Sequence[FieldRule],
    texts: Texts,
    guard: PrivacyGuard,
) -> dict[str, str]:
    """Errors per field id; empty when the submission may be stored.

    Privacy findings are described by category and a masked excerpt, never by the value itself,
    so the error text is safe to show and to keep in a modal.
    """
    errors: dict[str, str] = {}
    for rule in rules:
        value = values.get(rule.field_id, "")
        if rule.required and not value:
            errors[rule.field_id] = texts.get("general.field_required")
        elif rule.max_length is not None and len(value) > rule.max_length:
            errors[rule.field_id] = texts.rich(
                "general.field_too_long", max=rule.max_length, length=len(value)
            ).plain()
    checked = {rule.field_id: values.get(rule.field_id, "") for rule in rules}
    try:
        found = guard.check(checked)
    except GuardNotReady:
        # Refuse rather than let text through unchecked; what was typed stays in the form.
        first = next((f for f, v in checked.items() if v), rules[0].field_id if rules else "")
        errors.setdefault(first, texts.get("privacy.not_ready"))
        return errors
    # Soft findings (names, places) warn only where a form offers the choice what to do with
    # them (handlers/privacy_flow.py); here only hard identifiers block.
    hard = [f for f in found if not is_soft(f.category)]
    for field_id, findings in group_findings(hard).items():
        errors.setdefault(field_id, describe_findings(findings, texts))
    return errors


def group_findings(findings: Sequence[Finding]) -> dict[str, list[Finding]]:
    grouped: dict[str, list[Finding]] = {}
    for finding in findings:
        grouped.setdefault(finding.field_id, []).append(finding)
    return grouped


def describe_findings(findings: Sequence[Finding], texts: Texts) -> str:
    parts = [
        texts.rich(f"privacy.{finding.category.value}", found=finding.masked).plain()
        for finding in findings[:3]
    ]
    return f"{texts.get('privacy.intro')}: {', '.join(parts)}. {texts.get('privacy.advice')}"


def redact(text: str, findings: Sequence[Finding]) -> str:
    """Replace each finding by a category placeholder such as ``[BSN]``."""
    out = text
    for finding in sorted(findings, key=lambda f: f.start, reverse=True):
        out = out[: finding.start] + f"[{finding.category.value.upper()}]" + out[finding.end :]
    return out
