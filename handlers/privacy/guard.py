"""Structured privacy guard: detect Dutch client identifiers in free text.

Professionals in the sociaal domein discuss client cases in Leerkring. Whatever they type must
never contain direct identifiers of a client. This module finds them *before* anything is stored
or posted, so the platform layer can refuse the input and show the user what to remove.

Detected categories:

* ``BSN``: burgerservicenummer, validated with the 11-proef (``stdnum.nl.bsn``).
* ``IBAN``: any country, validated with mod-97 and the registry format (``stdnum.iban``).
* ``PHONE``: phone numbers, found with ``phonenumbers`` (region NL).
* ``EMAIL``: e-mail addresses.
* ``POSTCODE``: an address: postcode with house number, or street with house number followed by a
  postcode or place (or preceded by an address cue such as "woont" or "adres").
* ``BIRTHDATE``: a date that reads as a date of birth (a cue such as "geboren" or "DOB" nearby).

Deliberate choices, to keep false alarms low in texts full of ages, amounts and meeting dates:
a postcode without a house number, a date without a birth cue and digit runs that fail the
11-proef are not reported. When candidates overlap, the better validated category wins
(IBAN, e-mail, BSN, birth date, address, phone), except that a BSN-shaped part of a longer phone
number is reported as that phone number.

``Finding.masked`` keeps the first two characters and replaces every later letter or digit by
``*`` (spaces and punctuation stay), e.g. ``"11* *** ***"`` for ``"111 222 333"``.

The module is platform neutral: it knows nothing about Slack, Teams or storage. Guards implement
the small :class:`PrivacyGuard` protocol, so a different implementation (for instance one based on
a language model) can be plugged in next to or instead of :class:`StructuredGuard`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Final

import phonenumbers
from stdnum import iban as stdnum_iban
from stdnum.nl import bsn as stdnum_bsn

from handlers.core.guard import (
    SOFT_CATEGORIES,
    Category,
    Finding,
    GuardNotReady,
    PrivacyGuard,
    is_soft,
)

__all__ = [
    "SOFT_CATEGORIES",
    "Category",
    "Finding",
    "GuardNotReady",
    "PrivacyGuard",
    "StructuredGuard",
    "check_text",
    "is_soft",
]


# --------------------------------------------------------------------------------------------
# Internal representation and helpers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Span:
    start: int
    end: int
    category: Category

    def overlaps(self, other: _Span) -> bool:
        return self.start < other.end and other.start < self.end

    def strictly_inside(self, other: _Span) -> bool:
        """True when ``self`` lies within ``other`` and ``other`` is strictly larger."""
        return (
            other.start <= self.start
            and self.end <= other.end
            and (self.start, self.end) != (other.start, other.end)
        )


# Lower number wins when two candidates overlap: the more specific (better validated) category.
_PRIORITY: Final[Mapping[Category, int]] = {
    Category.IBAN: 0,
    Category.EMAIL: 1,
    Category.BSN: 2,
    Category.BIRTHDATE: 3,
    Category.POSTCODE: 4,
    Category.PHONE: 5,
}

_KEEP_CHARS: Final = 2


def _mask(value: str) -> str:
    """Keep the first two characters, replace every later letter or digit by ``*``."""
    head, tail = value[:_KEEP_CHARS], value[_KEEP_CHARS:]
    return head + "".join("*" if ch.isalnum() else ch for ch in tail)


mask = _mask  # for other guards that report in the same masked form


_NBSP: Final = "\u00a0"

# --------------------------------------------------------------------------------------------
# BSN
# --------------------------------------------------------------------------------------------

# A maximal chain of digit groups joined by a single space, dot or dash. Possessive quantifiers
# make sure we never look at a shorter prefix of a longer number.
_DIGIT_RUN_RE: Final = re.compile(r"(?<![\w€$])(?<!\d,)\d++(?:[ .\u00a0\-]\d++)*+(?!\w)(?!,\d)")
# Accepted ways of writing a BSN, as digit group lengths of the *whole* run.
_BSN_FORMATS: Final = frozenset({(9,), (8,), (3, 3, 3), (4, 2, 3)})
_CURRENCY_BEFORE_RE: Final = re.compile(r"(?:€|\$|\beur|\beuro)\s*$", re.IGNORECASE)
_CURRENCY_AFTER_RE: Final = re.compile(r"\s*(?:€|euro?\b|,-)", re.IGNORECASE)


def _is_compact_date(digits: str) -> bool:
    """True for eight digits that read as YYYYMMDD or DDMMYYYY (1900-2099)."""
    for year, month, day in (
        (digits[:4], digits[4:6], digits[6:]),
        (digits[4:], digits[2:4], digits[:2]),
    ):
        if year[:2] in ("19", "20"):
            try:
                dt.date(int(year), int(month), int(day))
            except ValueError:
                continue
            return True
    return False


def _is_bsn(digits: str) -> bool:
    if len(digits) == 8 and _is_compact_date(digits):
        # An old eight-digit BSN is rare; a compact date used as a reference number is not.
        return False
    return bool(stdnum_bsn.is_valid(digits))


def _find_bsns(text: str) -> Iterator[_Span]:
    for run in _DIGIT_RUN_RE.finditer(text):
        if _CURRENCY_BEFORE_RE.search(text[max(0, run.start() - 6) : run.start()]):
            continue
        if _CURRENCY_AFTER_RE.match(text, run.end()):
            continue
        groups = list(re.finditer(r"\d+", run.group()))
        lengths = tuple(len(g.group()) for g in groups)
        if lengths in _BSN_FORMATS:
            digits = "".join(g.group() for g in groups)
            if _is_bsn(digits):
                yield _Span(run.start(), run.end(), Category.BSN)
            continue
        # A nine-digit group inside a longer, space separated chain ("BSN 111222333 12 jaar").
        # Groups joined by dots or dashes belong to something else (an amount, a date, a code).
        base = run.start()
        for index, group in enumerate(groups):
            if len(group.group()) != 9:
                continue
            before = run.group()[group.start() - 1] if index > 0 else " "
            after = run.group()[group.end()] if index < len(groups) - 1 else " "
            if before in (" ", _NBSP) and after in (" ", _NBSP) and _is_bsn(group.group()):
                yield _Span(base + group.start(), base + group.end(), Category.BSN)


# --------------------------------------------------------------------------------------------
# IBAN
# --------------------------------------------------------------------------------------------

_IBAN_START_RE: Final = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}")
_IBAN_MIN_CHARS: Final = 15  # Norway
_IBAN_MAX_CHARS: Final = 34


def _is_iban(candidate: str) -> bool:
    # check_country=False: keep the mod-97 and registry length/format checks, but do not require
    # the national bank account check digits, which some (test) IBANs in circulation lack.
    return bool(stdnum_iban.is_valid(candidate, check_country=False))


def _find_ibans(text: str) -> Iterator[_Span]:
    pos = 0
    while True:
        match = _IBAN_START_RE.search(text, pos)
        if match is None:
            return
        # Collect alphanumeric characters, allowing a single space between them.
        ends: list[int] = []  # end offset after each alphanumeric char
        i = match.start()
        count = 0
        while i < len(text) and count < _IBAN_MAX_CHARS:
            ch = text[i]
            if ch.isascii() and ch.isalnum():
                count += 1
                i += 1
                ends.append(i)
            elif (
                ch in (" ", _NBSP)
                and i + 1 < len(text)
                and text[i + 1].isascii()
                and text[i + 1].isalnum()
            ):
                i += 1
            else:
                break
        found = None
        for n in range(len(ends), _IBAN_MIN_CHARS - 1, -1):
            end = ends[n - 1]
            # Must end at a word boundary: the next character is not alphanumeric.
            if end < len(text) and text[end].isalnum():
                continue
            if _is_iban(text[match.start() : end]):
                found = _Span(match.start(), end, Category.IBAN)
                break
        if found is not None:
            yield found
            pos = found.end
        else:
            pos = match.start() + 1


# --------------------------------------------------------------------------------------------
# E-mail
# --------------------------------------------------------------------------------------------

_EMAIL_RE: Final = re.compile(
    r"(?<![\w.%+\-])[\w.%+\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![\w\-])"
)


def _find_emails(text: str) -> Iterator[_Span]:
    for match in _EMAIL_RE.finditer(text):
        yield _Span(match.start(), match.end(), Category.EMAIL)


# --------------------------------------------------------------------------------------------
# Phone
# --------------------------------------------------------------------------------------------


_GLUED_BEFORE_RE: Final = re.compile(r"\d[:,.]$")
_GLUED_AFTER_RE: Final = re.compile(r"[:,.]\d")


_DIGIT_RE: Final = re.compile(r"\d")
# The shortest valid Dutch number (0800 plus four digits) has eight digits; text with fewer
# cannot hold one, and most chat messages have none, so the (slow) matcher is not started.
_PHONE_MIN_DIGITS: Final = 7


def _find_phones(text: str) -> Iterator[_Span]:
    if len(_DIGIT_RE.findall(text)) < _PHONE_MIN_DIGITS:
        return
    matcher = phonenumbers.PhoneNumberMatcher(text, "NL", leniency=phonenumbers.Leniency.VALID)
    for match in matcher:
        raw = match.raw_string.lstrip()
        # Dutch numbers in running text always start with a trunk 0 or an international prefix.
        # This keeps bare nine-digit reference numbers from being read as national numbers.
        if raw[:1] not in ("0", "+", "("):
            continue
        # Glued to a time or an amount ("om 03:06 1991 ...", "1,06 ..."): not a phone number.
        glued_before = _GLUED_BEFORE_RE.search(text, max(0, match.start - 2), match.start)
        if glued_before or _GLUED_AFTER_RE.match(text, match.end):
            continue
        yield _Span(match.start, match.end, Category.PHONE)


# --------------------------------------------------------------------------------------------
# Dates and birth dates
# --------------------------------------------------------------------------------------------

# Month number by the first three letters of a Dutch or English month name or abbreviation.
_MONTHS: Final[Mapping[str, int]] = {
    "jan": 1, "feb": 2, "maa": 3, "mrt": 3, "mar": 3, "apr": 4, "mei": 5, "may": 5,
    "jun": 6, "jul": 7, "aug": 8, "sep": 9, "okt": 10, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH_NAMES: Final = (
    "januari|january|februari|february|maart|march|april|mei|may|juni|june|juli|july|"
    "augustus|august|september|oktober|october|november|december|"
    "jan|feb|mrt|mar|apr|jun|jul|aug|sept|sep|okt|oct|nov|dec"
)
_MONTH: Final = rf"(?P<m>{_MONTH_NAMES})\b\.?"
_DAY: Final = r"(?P<d>[0-3]?\d)(?:e|ste|de|st|nd|rd|th)?"
_YEAR4: Final = r"(?P<y>(?:1[89]|20)\d{2})"
_NUM_END: Final = r"(?!\d)(?![.,/\-]\d)"
_NUM_START: Final = r"(?<![\w.,/\-])"

_DATE_RES: Final = (
    # 03-03-2015, 3/3/2015, 3.3.2015, 03-03-15
    re.compile(
        _NUM_START
        + r"(?P<d>\d{1,2})(?P<sep>[\-/.])(?P<m>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})"
        + _NUM_END
    ),
    # 2015-03-03, 2015/03/03
    re.compile(
        _NUM_START + r"(?P<y>\d{4})(?P<sep>[\-/])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})" + _NUM_END
    ),
    # 3 maart 2015, 3 mrt. 2015, 3 March 2015, 3rd of March 2015, 3 maart (year optional)
    re.compile(
        r"(?<![\w.,/\-])" + _DAY + r"\s+(?:of\s+)?" + _MONTH + r"(?:,?\s*" + _YEAR4 + r")?(?!\w)",
        re.IGNORECASE,
    ),
    # March 3, 2015
    re.compile(
        r"(?<![\w])" + _MONTH + r"\s+" + _DAY + r",?\s+" + _YEAR4 + r"(?!\w)",
        re.IGNORECASE,
    ),
)


@dataclass(frozen=True, slots=True)
class _Date:
    start: int
    end: int


def _valid_date(day: str, month: str, year: str | None) -> bool:
    month_number = int(month) if month.isdigit() else _MONTHS.get(month[:3].lower(), 0)
    year_number = int(year) if year else 2000
    if year and len(year) == 2:
        year_number += 2000
    try:
        dt.date(year_number, month_number, int(day))
    except ValueError:
        return False
    return True


def _find_dates(text: str) -> list[_Date]:
    """All date-like expressions, birth dates or not, without overlaps."""
    dates: list[_Date] = []
    for pattern in _DATE_RES:
        for match in pattern.finditer(text):
            if not _valid_date(match.group("d"), match.group("m"), match.group("y")):
                continue
            date = _Date(match.start(), match.end())
            if any(date.start < d.end and d.start < date.end for d in dates):
                continue
            dates.append(date)
    return dates


_BIRTH_CUE_RE: Final = re.compile(
    r"\b(?:geboren|geb|geboorte\w*|leeftijd|lft|dob|d\.o\.b|date\s+of\s+birth|birth\s*date|born)\b",
    re.IGNORECASE,
)
_BIRTH_CUE_AFTER_RE: Final = re.compile(r"^\W{0,3}(?:\w+\s+)?(?:geboren|born)\b", re.IGNORECASE)
_STAR_BEFORE_RE: Final = re.compile(r"\*\s?$")
_AGE_AFTER_RE: Final = re.compile(
    r"^\s*\(\s*(?:leeftijd|lft\.?|age)?\s*:?\s*\d{1,3}\s*(?:jaar|jr\.?|j\.?|years?|yrs?)?\s*\)",
    re.IGNORECASE,
)
_SENTENCE_END_RE: Final = re.compile(r"[.!?;][\"')\]]*$")
_CUE_WINDOW_TOKENS: Final = 5
_ABBREVIATED_CUE_RE: Final = re.compile(r"\(?(?:geb|d\.o\.b|dob)\.?:?", re.IGNORECASE)
# Words that start a new clause: "geboren in Marokko en sinds 03-03-2015 in Nederland".
_CLAUSE_WORDS: Final = frozenset(
    {"en", "maar", "sinds", "vanaf", "tot", "na", "toen", "daarna", "want", "omdat", "dus"}
    | {"and", "but", "since", "until", "after", "then"}
)


def _has_birth_cue(text: str, start: int, end: int) -> bool:
    before = text[max(0, start - 80) : start]
    if _STAR_BEFORE_RE.search(before):
        return True
    line_before = before.rsplit("\n", 1)[-1]
    kept: list[str] = []
    for token in reversed(line_before.split()[-_CUE_WINDOW_TOKENS:]):
        # "... in 1980 geboren. We spraken op 3 maart": a cue that ends an earlier sentence
        # is not about this date. An abbreviation ("geb.") right before it still is.
        if kept and _SENTENCE_END_RE.search(token) and not _ABBREVIATED_CUE_RE.fullmatch(token):
            break
        kept.insert(0, token)
        if _BIRTH_CUE_RE.search(" ".join(kept)):
            return True
        if _SENTENCE_END_RE.search(token) or token.lower() in _CLAUSE_WORDS:
            break
    after = text[end : end + 40].split("\n", 1)[0]
    if _BIRTH_CUE_AFTER_RE.search(after) or _AGE_AFTER_RE.search(after):
        return True
    return _in_brackets_after_person(text, start, end)


# "De oudste (12-05-2009) wil op zichzelf wonen.", "Yonas (3 maart 2011)": a full date in
# brackets right after a person is that person's date of birth. After anything else ("het
# gesprek (12-03-2026)") it is not.
_BRACKET_BEFORE_RE: Final = re.compile(r"(?P<word>[^\W\d_][\w'\-]*)\s*\(\s*$")
_BRACKET_AFTER_RE: Final = re.compile(r"^\s*\)")
_FULL_YEAR_RE: Final = re.compile(r"(?:1[89]|20)\d{2}\s*$")
_PERSON_WORDS: Final = frozenset(
    {
        "oudste", "jongste", "middelste", "kind", "kindje", "baby", "zoon", "zoontje", "dochter",
        "dochtertje", "moeder", "vader", "ouder", "oma", "opa", "tante", "oom", "broer", "zus",
        "broertje", "zusje", "tweeling", "partner", "vriend", "vriendin", "ex", "cliënt",
        "client", "cliënte", "jongere", "jongen", "meisje", "man", "vrouw", "neef", "nicht",
        "stiefvader", "stiefmoeder", "pleegkind", "pleegzoon", "pleegdochter", "mevrouw",
        "meneer", "hij", "zij", "ze", "mama", "papa", "kleinkind", "puber", "tiener",
        "child", "son", "daughter", "mother", "father",
    }
)  # fmt: skip
_NOT_PERSON_WORDS: Final = frozenset(
    {
        "Evaluatie", "Gesprek", "Afspraak", "Overleg", "Zitting", "Bijeenkomst", "Huisbezoek",
        "Intake", "Brief", "Besluit", "Beschikking", "Vonnis", "Datum", "Verslag", "Rapportage",
        "Melding", "Aanmelding", "Indicatie", "Uitspraak", "Deadline", "Start", "Einde",
    }
)  # fmt: skip


def _in_brackets_after_person(text: str, start: int, end: int) -> bool:
    before = _BRACKET_BEFORE_RE.search(text, max(0, start - 60), start)
    if before is None or not _BRACKET_AFTER_RE.match(text[end : end + 5]):
        return False
    if not _FULL_YEAR_RE.search(text[start:end]) and not re.search(r"\d{2}$", text[start:end]):
        return False
    word = before.group("word")
    if word.lower() in _PERSON_WORDS:
        return True
    # A capitalised word that is not a meeting or a document: most likely a name.
    return word[:1].isupper() and not word.isupper() and word.capitalize() not in _NOT_PERSON_WORDS


def _find_birthdates(text: str, dates: Iterable[_Date]) -> Iterator[_Span]:
    for date in dates:
        if _has_birth_cue(text, date.start, date.end):
            yield _Span(date.start, date.end, Category.BIRTHDATE)


# --------------------------------------------------------------------------------------------
# Addresses (category POSTCODE)
# --------------------------------------------------------------------------------------------

_POSTCODE: Final = r"(?P<pc>[1-9]\d{3}[ \u00a0]?[A-Za-z]{2})(?![A-Za-z])"
_POSTCODE_RE: Final = re.compile(r"(?<![\w.,€])" + _POSTCODE)
# House number with optional addition: 12, 4a, 12-2, 12-II, 12 bis, 7hs, 12 A.
_HOUSE_NUMBER: Final = (
    r"(?P<nr>[1-9]\d{0,4}"
    r"(?:[a-zA-Z](?![A-Za-z])|-(?:\d{1,3}|[A-Za-z]{1,3})(?!\w)"
    r"|\s?(?:bis|hs|huis|bg|rd|zw)(?!\w)|\s[A-Z](?!\w))?)"
    r"(?!\d)(?![.,:/\-]\d)"
)
_NUMBER_CUE: Final = r"(?:huisnummer|huisnr\.?|nummer|nr\.?|no\.?)"
_POSTCODE_CUE: Final = r"(?:postcode|pc)"

# 1234 AB 12 / 1234AB, nr 5 / 1234 AB huisnummer 7
_PC_THEN_NR_RE: Final = re.compile(
    r"(?<![\w.,€])" + _POSTCODE + r"\s*,?\s*(?:" + _NUMBER_CUE + r"\s*:?\s*)?" + _HOUSE_NUMBER,
    re.IGNORECASE,
)
# huisnummer 7, postcode 1234 AB / nr. 5 1234AB
_NR_THEN_PC_RE: Final = re.compile(
    rf"\b{_NUMBER_CUE}\s*:?\s*{_HOUSE_NUMBER}\s*,?\s*(?:{_POSTCODE_CUE}\s*:?\s*)?{_POSTCODE}",
    re.IGNORECASE,
)

_UPPER: Final = "A-ZÀ-ÖØ-Þ"
_PARTICLES: Final = r"(?:van|de|der|den|het|'t|ter|ten|te|la|le|du)"
_BLANKS: Final = r"[ \u00a0]+"
_STREET_RE: Final = re.compile(
    rf"(?<![\w'\-])(?P<street>(?:[{_UPPER}][\w'.\-]*{_BLANKS}(?:{_PARTICLES}{_BLANKS}){{0,2}}){{0,3}}"
    rf"[{_UPPER}][\w'\-]*){_BLANKS}" + _HOUSE_NUMBER
)
_STREET_SUFFIXES: Final = (
    "straat", "laan", "weg", "plein", "gracht", "kade", "dijk", "singel", "steeg", "dreef",
    "plantsoen", "markt", "hof", "park", "pad", "wal", "boulevard", "allee", "baan", "erf",
    "haven", "poort", "vaart", "zoom", "brink", "hoeve",
)  # fmt: skip
_AFTER_STREET_PC_RE: Final = re.compile(
    r"[ \u00a0]*,?\s*(?:" + _POSTCODE_CUE + r"\s*:?\s*)?" + _POSTCODE, re.IGNORECASE
)
_AFTER_STREET_PLACE_RE: Final = re.compile(
    rf"[ \u00a0]*,?[ \u00a0]*(?:(?:te|in)[ \u00a0]+)?(?:'s-)?[{_UPPER}][a-zà-ÿ'\-]+"
)
_ADDRESS_CUE_RE: Final = re.compile(
    r"\b(?:adres\w*|\w*adres|woont|wonen|wonend|woonachtig|verhuisd|verhuist|verblijft"
    r"|ingeschreven|address|lives|living)\b",
    re.IGNORECASE,
)
_ADDRESS_CUE_TOKENS: Final = 8
_YEAR_RE: Final = re.compile(r"(?:19|20)\d{2}")

# Two-letter words and units that follow a four-digit number in ordinary text.
_NOT_POSTCODE_LETTERS: Final = frozenset(
    {
        "sa", "sd", "ss",  # not issued by PostNL
        "en", "in", "op", "om", "of", "is", "de", "te", "na", "al", "ik", "je", "we", "ze",
        "nu", "ja", "zo", "er", "ie", "uw", "bv", "ca", "nl", "eu", "cq", "oa", "mn", "zn",
        "vs", "tm", "ed", "at", "on", "to", "an", "as", "by", "if", "it", "me", "my", "no",
        "or", "so", "up", "us", "be", "do", "go", "he", "ok", "kg", "km", "cm", "mm", "mg",
        "ml", "gb", "mb", "kb", "am", "pm", "pp", "pj", "pw", "pd", "eh", "hè", "nr", "jr",
    }
)  # fmt: skip
_NOT_ISSUED: Final = frozenset({"SA", "SD", "SS"})


def _valid_postcode(postcode: str) -> bool:
    letters = postcode[-2:]
    if letters.upper() in _NOT_ISSUED:
        return False
    if letters.isupper():
        return True
    return letters.lower() not in _NOT_POSTCODE_LETTERS


def _has_address_cue(text: str, start: int) -> bool:
    line_before = text[max(0, start - 120) : start].rsplit("\n", 1)[-1]
    kept: list[str] = []
    for token in reversed(line_before.split()[-_ADDRESS_CUE_TOKENS:]):
        if _SENTENCE_END_RE.search(token):
            break
        kept.append(token)
    return bool(_ADDRESS_CUE_RE.search(" ".join(kept)))


# A capitalised preposition (and article) that starts the sentence is not part of the street:
# "Op de Stationsplein 1 in Utrecht" -> "Stationsplein 1".
_LEADING_PREPOSITION_RE: Final = re.compile(
    r"(?:op|in|aan|bij|naar|via|langs|tegenover|vanaf|richting|naast|achter|voor)"
    rf"{_BLANKS}(?:(?:de|het|'t){_BLANKS})?(?=[{_UPPER}])",
    re.IGNORECASE,
)


def _strip_sentence_words(text: str, start: int) -> int:
    match = _LEADING_PREPOSITION_RE.match(text, start)
    return start if match is None else match.end()


def _find_addresses(text: str) -> Iterator[_Span]:
    for pattern in (_PC_THEN_NR_RE, _NR_THEN_PC_RE):
        for match in pattern.finditer(text):
            if _valid_postcode(match.group("pc")):
                yield _Span(match.start(), match.end(), Category.POSTCODE)
    for match in _STREET_RE.finditer(text):
        start, end = _strip_sentence_words(text, match.start("street")), match.end()
        postcode = _AFTER_STREET_PC_RE.match(text, end)
        if postcode is not None and _valid_postcode(postcode.group("pc")):
            # Name, number and postcode: an address even without a typical street suffix
            # ("Vredenburg 40, 3511 BD").
            yield _Span(start, postcode.end(), Category.POSTCODE)
            continue
        last_word = match.group("street").split()[-1].lower()
        if not last_word.endswith(_STREET_SUFFIXES):
            continue
        if _AFTER_STREET_PLACE_RE.match(text, end) or _has_address_cue(text, start):
            yield _Span(start, end, Category.POSTCODE)
        elif last_word not in _STREET_SUFFIXES and not _YEAR_RE.fullmatch(match.group("nr")):
            # "Parklaan 196": a street name with a house number is an address on its own.
            # A bare suffix word ("Park 2") or a year ("Arbeidsmarkt 2025") is not.
            yield _Span(start, end, Category.POSTCODE)


def _postcode_tokens(text: str) -> Iterator[_Span]:
    for match in _POSTCODE_RE.finditer(text):
        if _valid_postcode(match.group("pc")):
            yield _Span(match.start(), match.end(), Category.POSTCODE)


# --------------------------------------------------------------------------------------------
# Combining detectors
# --------------------------------------------------------------------------------------------


def _detect(text: str) -> list[_Span]:
    """All non-overlapping identifier spans in ``text``, ordered by position."""
    phones = list(_find_phones(text))
    dates = _find_dates(text)
    # A "BSN" that is only a part of a longer phone number is a phone number ("+31 612345678").
    bsns = [b for b in _find_bsns(text) if not any(b.strictly_inside(p) for p in phones)]
    # A phone match on something that reads as a date or a postcode is a false alarm.
    blockers = [_Span(d.start, d.end, Category.BIRTHDATE) for d in dates]
    blockers.extend(_postcode_tokens(text))
    phones = [p for p in phones if not any(p.overlaps(b) for b in blockers)]

    candidates: list[_Span] = [
        *_find_ibans(text),
        *_find_emails(text),
        *bsns,
        *_find_birthdates(text, dates),
        *_find_addresses(text),
        *phones,
    ]
    candidates.sort(key=lambda s: (_PRIORITY[s.category], -(s.end - s.start), s.start))
    accepted: list[_Span] = []
    for candidate in candidates:
        if not any(candidate.overlaps(a) for a in accepted):
            accepted.append(candidate)
    accepted.sort(key=lambda s: (s.start, s.end))
    return accepted


class StructuredGuard:
    """Rule and checksum based guard for Dutch client identifiers.

    ``categories`` restricts which categories are reported (default: all). Detection always runs
    for every category, so restricting does not change how overlaps are resolved.
    """

    def __init__(self, categories: Iterable[Category] | None = None) -> None:
        self._categories: frozenset[Category] = (
            frozenset(Category) if categories is None else frozenset(categories)
        )

    @property
    def categories(self) -> frozenset[Category]:
        return self._categories

    def check(self, fields: Mapping[str, str]) -> list[Finding]:
        findings: list[Finding] = []
        for field_id, text in fields.items():
            if not text:
                continue
            for span in _detect(text):
                if span.category not in self._categories:
                    continue
                findings.append(
                    Finding(
                        field_id=field_id,
                        category=span.category,
                        masked=_mask(text[span.start : span.end]),
                        start=span.start,
                        end=span.end,
                    )
                )
        return findings


_DEFAULT_GUARD: Final = StructuredGuard()


def check_text(text: str, field_id: str = "text") -> list[Finding]:
    """Check a single piece of text with the default :class:`StructuredGuard`."""
    return _DEFAULT_GUARD.check({field_id: text})
