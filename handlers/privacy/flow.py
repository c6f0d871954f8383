"""What a form does with the guard's findings: hard identifiers block, soft ones warn.

A soft finding (a name, a place, an institution) may be a client, or a colleague, a method or an
organisation. Forms that offer the choice carry a :data:`PRIVACY_FIELD` select:

* ``controleer`` (the default): soft findings keep the form open with a warning on that field;
* ``geen_client``: the person confirms that they are not about a client; the text is kept;
* ``anonimiseer``: soft findings are replaced by stable placeholders (``[PERSOON-1]``). The casus
  intake shows the result for approval before anything is posted; shorter texts (bijdragen,
  closing notes, reflection answers, speedspar takeaways) are stored and posted as replaced.

:func:`check_submission` is the one place that turns a submission and the choice into errors
or the values to store; every form with the choice goes through it. :func:`pseudonymise_posted`
is its counterpart for text that is already in a channel (thread replies): nothing to ask, the
findings are replaced before the text is stored.

:func:`pseudonymise` numbers placeholders per category and value, across all fields of one
submission: the same name is the same placeholder everywhere in it. Hard identifiers become
the plain category marker (``[BSN]``), as :func:`handlers.core.forms.redact` writes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from handlers.core.events import FormValue
from handlers.core.forms import FieldRule, group_findings, redact, validate
from handlers.core.replies import Option, Rich, Select
from handlers.privacy.guard import Finding, GuardNotReady, PrivacyGuard, StructuredGuard, is_soft
from prompts import Texts

PRIVACY_FIELD = "privacy_bevestiging"
CHECK = "controleer"
NOT_CLIENT = "geen_client"
PSEUDONYMISE = "anonimiseer"
CHOICES = (CHECK, NOT_CLIENT, PSEUDONYMISE)
# Texts per guard call for replies already posted (see check_posted).
GUARD_TEXTS_PER_CALL = 10


def finds_names(guard: PrivacyGuard) -> bool:
    """True for a guard that reports soft findings (the strict one)."""
    return bool(getattr(guard, "finds_names", False))


def privacy_choice_field(texts: Texts, initial: str = CHECK, approval: bool = False) -> Select:
    """``approval``: the pseudonymised result is shown for approval first (the casus intake);
    elsewhere it is stored and posted as replaced, and the option says so."""
    pseudonymise_label = "privacy.choice.pseudonymise" if approval else "privacy.choice.direct"
    return Select(
        field_id=PRIVACY_FIELD,
        label=texts.get("privacy.choice.label"),
        options=(
            Option(CHECK, texts.get("privacy.choice.check")),
            Option(NOT_CLIENT, texts.get("privacy.choice.not_client")),
            Option(PSEUDONYMISE, texts.get(pseudonymise_label)),
        ),
        required=True,
        initial=initial,
        hint=texts.get("privacy.choice.hint"),
    )


class _SoftAside:
    """Passes hard findings to ``validate`` and keeps the soft ones for the caller."""

    def __init__(self, guard: PrivacyGuard) -> None:
        self._guard = guard
        self.soft: list[Finding] = []

    def check(self, fields: Mapping[str, str]) -> list[Finding]:
        found = self._guard.check(fields)
        self.soft = [f for f in found if is_soft(f.category)]
        return [f for f in found if not is_soft(f.category)]


@dataclass(frozen=True)
class Screening:
    errors: dict[str, str]  # required fields, lengths, hard identifiers: the form stays open
    soft: list[Finding]  # names, places, institutions: the person decides


def screen(
    values: Mapping[str, str], rules: Sequence[FieldRule], texts: Texts, guard: PrivacyGuard
) -> Screening:
    aside = _SoftAside(guard)
    errors = validate(values, rules, texts, aside)
    return Screening(errors, aside.soft)


@dataclass(frozen=True)
class Checked:
    """A submission with the person's choice applied. ``errors``: keep the form open, store
    nothing. Otherwise ``values`` is what to store and show (with placeholders when the person
    chose to pseudonymise, then ``soft`` holds what was replaced)."""

    values: dict[str, str]
    errors: dict[str, str]
    soft: list[Finding]
    pseudonymised: bool = False


def check_submission(
    values: Mapping[str, str],
    rules: Sequence[FieldRule],
    texts: Texts,
    guard: PrivacyGuard,
    choice: str,
) -> Checked:
    """Required fields, lengths and hard identifiers first; then soft findings by ``choice``
    (the :data:`PRIVACY_FIELD` value). Anything but "not a client" or "pseudonymise" warns."""
    screening = screen(values, rules, texts, guard)
    if screening.errors:
        return Checked(dict(values), screening.errors, screening.soft)
    if not screening.soft or choice == NOT_CLIENT:
        return Checked(dict(values), {}, screening.soft)
    if choice == PSEUDONYMISE:
        return Checked(pseudonymise(values, screening.soft, texts), {}, screening.soft, True)
    return Checked(dict(values), soft_errors(screening.soft, texts), screening.soft)


def pseudonymise_posted(
    field_id: str, text: str, guard: PrivacyGuard, texts: Texts
) -> tuple[str, list[Finding]]:
    """For text already in a channel: the version to store (every finding, hard or soft,
    replaced) and what was found, to tell the author privately."""
    findings = check_posted(guard, {field_id: text})
    return pseudonymise({field_id: text}, findings, texts)[field_id], findings


def check_posted(guard: PrivacyGuard, texts: Mapping[str, str]) -> list[Finding]:
    """The guard on texts already in a channel, a few per call, so the name-aware guard answers
    each call within its own timeout however many texts a batch of thread replies holds. When
    names cannot be checked in time, identifiers still stay out of the store, and the rest of
    the batch does not wait for the guard again."""
    fields = list(texts.items())
    findings: list[Finding] = []
    for start in range(0, len(fields), GUARD_TEXTS_PER_CALL):
        chunk = dict(fields[start : start + GUARD_TEXTS_PER_CALL])
        try:
            findings.extend(guard.check(chunk))
        except GuardNotReady:
            guard = StructuredGuard()
            findings.extend(guard.check(chunk))
    return findings


def describe_soft(findings: Sequence[Finding], texts: Texts) -> str:
    parts = list(
        dict.fromkeys(
            texts.rich(f"privacy.{finding.category.value}", found=finding.masked).plain()
            for finding in findings
        )
    )[:4]
    return (
        f"{texts.get('privacy.soft_intro')}: {', '.join(parts)}. {texts.get('privacy.soft_advice')}"
    )


def thread_notice(findings: Sequence[Finding], texts: Texts) -> Rich:
    """For a reply that is already in the channel: what was found, what was stored, and how
    to edit or delete the message (the bot cannot change someone else's message)."""
    parts = list(
        dict.fromkeys(
            texts.rich(f"privacy.{finding.category.value}", found=finding.masked).plain()
            for finding in findings
        )
    )[:4]
    return texts.rich("privacy.thread.notice", found=", ".join(parts))


def soft_errors(findings: Sequence[Finding], texts: Texts) -> dict[str, str]:
    """The warning, on the choice field (where the person answers it)."""
    return {PRIVACY_FIELD: describe_soft(findings, texts)}


def pseudonymise(
    fields: Mapping[str, str], findings: Sequence[Finding], texts: Texts
) -> dict[str, str]:
    """Replace findings by placeholders, numbered per category and value across all fields."""
    numbers: dict[tuple[str, str], int] = {}
    counters: dict[str, int] = {}
    placeholders: dict[tuple[str, int, int], str] = {}
    # Number in reading order, field by field, so [PERSOON-1] is the first name one reads.
    grouped = group_findings(findings)
    for field_id, text in fields.items():
        for finding in sorted(grouped.get(field_id, []), key=lambda f: f.start):
            category = finding.category.value
            if not is_soft(finding.category):
                placeholders[(field_id, finding.start, finding.end)] = f"[{category.upper()}]"
                continue
            key = (category, " ".join(text[finding.start : finding.end].split()).casefold())
            if key not in numbers:
                counters[category] = counters.get(category, 0) + 1
                numbers[key] = counters[category]
            label = texts.get(f"privacy.placeholder.{category}")
            placeholders[(field_id, finding.start, finding.end)] = f"[{label}-{numbers[key]}]"
    result: dict[str, str] = {}
    for field_id, text in fields.items():
        out = text
        for finding in sorted(grouped.get(field_id, []), key=lambda f: f.start, reverse=True):
            placeholder = placeholders[(field_id, finding.start, finding.end)]
            out = out[: finding.start] + placeholder + out[finding.end :]
        result[field_id] = out
    return result


def without_hard_identifiers(
    guard: PrivacyGuard, values: Mapping[str, FormValue]
) -> dict[str, FormValue]:
    """Form values safe to show again in a form that comes back with errors: hard identifiers
    are redacted. Names and places stay: the person decides about them (not a client, or
    pseudonymise), and needs to see them to do so. Before the strict guard has loaded, the
    structured checks still apply."""
    safe: dict[str, FormValue] = {}
    for field_id, value in values.items():
        if isinstance(value, str) and value:
            try:
                findings = guard.check({field_id: value})
            except GuardNotReady:
                findings = StructuredGuard().check({field_id: value})
            hard = [f for f in findings if not is_soft(f.category)]
            safe[field_id] = redact(value, hard)
        else:
            safe[field_id] = value
    return safe
