"""Tests for the structured privacy guard in ``handlers.privacy.guard``.

No platform and no database: the guard is pure text in, findings out. The corpus below is made
up, in the style of what professionals in youth care, debt counselling and wijkteams write.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import iban as stdnum_iban
from stdnum.nl import bsn as stdnum_bsn

from handlers.privacy.guard import Category, Finding, PrivacyGuard, StructuredGuard, check_text

# Hypothesis must not write an example database into the repository.
_SETTINGS = settings(database=None, deadline=None)

VALID_BSNS = ("111222333", "123456782", "999999990", "012345672", "100000009")
INVALID_BSNS = ("111222334", "123456789", "999999991", "876543210")
VALID_IBANS = ("NL91ABNA0417164300", "DE89370400440532013000", "GB82WEST12345698765432")


def spans(text: str, category: Category | None = None) -> list[str]:
    """The matched substrings, optionally only for one category."""
    return [
        text[f.start : f.end]
        for f in check_text(text)
        if category is None or f.category is category
    ]


def categories(text: str) -> list[Category]:
    return [f.category for f in check_text(text)]


def test_fixture_identifiers_are_valid() -> None:
    assert all(stdnum_bsn.is_valid(b) for b in VALID_BSNS)
    assert not any(stdnum_bsn.is_valid(b) for b in INVALID_BSNS)
    assert all(stdnum_iban.is_valid(i) for i in VALID_IBANS)


# --------------------------------------------------------------------------------------------
# BSN
# --------------------------------------------------------------------------------------------

BSN_CASES = [
    ("Het BSN van moeder is 111222333.", "111222333"),
    ("bsn: 1112 22 333", "1112 22 333"),
    ("BSN 111 222 333 staat nog in het oude dossier", "111 222 333"),
    ("Burgerservicenummer 123.456.782 doorgegeven aan de GI.", "123.456.782"),
    ("BSN kind: 1234.56.782 (zie paspoort)", "1234.56.782"),
    ("nummer 999-999-990 is van de oudste zoon", "999-999-990"),
    ("BSN:111222333", "111222333"),
    ("(BSN 123456782)", "123456782"),
    ("BSN 012345672 van de jongste", "012345672"),
    ("Oud sofinummer 12345672 staat nog in het systeem.", "12345672"),
    ("bsn 100000009, geboren in 2010", "100000009"),
    ("Cliënt 111222333 12 jaar in beeld bij het wijkteam", "111222333"),
    ("Vader:\u00a0111\u00a0222\u00a0333", "111\u00a0222\u00a0333"),
]


@pytest.mark.parametrize(("text", "expected"), BSN_CASES)
def test_bsn_formats_are_found(text: str, expected: str) -> None:
    assert spans(text) == [expected]
    assert categories(text) == [Category.BSN]


@pytest.mark.parametrize("number", INVALID_BSNS)
def test_digit_runs_failing_the_11_proef_are_not_bsns(number: str) -> None:
    assert spans(f"Het nummer {number} staat in de brief.", Category.BSN) == []


@pytest.mark.parametrize(
    "text",
    [
        "Registratienummer 111222333999 is van de woningcorporatie.",  # 12 digits
        "Referentie 1112223330 in de brief van de gemeente.",  # 10 digits
        "Code 111 222 333 444 staat op het formulier.",  # 12 digits in groups
        "Kenmerk 2111222333 van de deurwaarder.",
        "De schuld bij de belasting is € 111.222.333 volgens de cliënt (grapje).",
        "In de begroting staat 123.456.782 euro voor de hele regio.",
        "Zaak 111.222.333,50 is een bedrag, geen nummer.",
        "Referentie 20250101 is de datum van de melding.",
    ],
)
def test_bsn_windows_inside_longer_numbers_are_not_reported(text: str) -> None:
    assert spans(text, Category.BSN) == []


def test_bsn_inside_a_phone_number_is_a_phone_number() -> None:
    text = "Bel haar op +31 612345671 na 16:00."
    assert stdnum_bsn.is_valid("612345671")
    assert [(f.category, text[f.start : f.end]) for f in check_text(text)] == [
        (Category.PHONE, "+31 612345671")
    ]


@pytest.mark.parametrize("number", ["111222333", "123456782", "999999990", "012345672"])
def test_a_valid_nine_digit_bsn_is_a_bsn_and_not_a_phone(number: str) -> None:
    assert categories(f"Nummer {number} graag uit het verslag halen.") == [Category.BSN]


# --------------------------------------------------------------------------------------------
# IBAN
# --------------------------------------------------------------------------------------------

IBAN_CASES = [
    ("Huur wordt betaald van NL91ABNA0417164300.", "NL91ABNA0417164300"),
    ("rekening NL91 ABNA 0417 1643 00 staat op naam van vader", "NL91 ABNA 0417 1643 00"),
    ("iban: nl91abna0417164300", "nl91abna0417164300"),
    ("iban nl91 abna 0417 1643 00, graag controleren", "nl91 abna 0417 1643 00"),
    ("Duitse rekening DE89370400440532013000 van de ex-partner", "DE89370400440532013000"),
    ("DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 00"),
    ("Belgische rekening BE68 5390 0754 7034 bij de schuldeiser.", "BE68 5390 0754 7034"),
    ("BE68539007547034", "BE68539007547034"),
    ("UK account GB82 WEST 1234 5698 7654 32.", "GB82 WEST 1234 5698 7654 32"),
    ("IBAN:NL91ABNA0417164300;", "NL91ABNA0417164300"),
]


@pytest.mark.parametrize(("text", "expected"), IBAN_CASES)
def test_iban_formats_are_found(text: str, expected: str) -> None:
    assert spans(text) == [expected]
    assert categories(text) == [Category.IBAN]


@pytest.mark.parametrize(
    "text",
    [
        "rekening NL91ABNA0417164301 klopt niet",  # wrong check digits
        "NL12 ABNA 0417 1643 00",
        "Formulier NL91 is ingevuld.",
    ],
)
def test_invalid_ibans_are_not_reported(text: str) -> None:
    assert spans(text, Category.IBAN) == []


def test_iban_digits_are_not_reported_as_bsn_or_phone() -> None:
    text = "Rekening NL91 ABNA 0417 1643 00 en NL91ABNA0417164300."
    assert categories(text) == [Category.IBAN, Category.IBAN]


# --------------------------------------------------------------------------------------------
# Phone
# --------------------------------------------------------------------------------------------

PHONE_NUMBERS = [
    "06-12345678",
    "06 1234 5678",
    "0612345678",
    "+31 6 12345678",
    "+31(0)6-12345678",
    "0031 6 12345678",
    "+31612345678",
    "06-1234 5678",
    "020-1234567",
    "010 123 4567",
    "088-1234567",
    "030 - 123 45 67",
    "(020) 123 4567",
    "+31 20 123 4567",
    "0591-123456",
]


@pytest.mark.parametrize("number", PHONE_NUMBERS)
@pytest.mark.parametrize(
    "template",
    [
        "Moeder is bereikbaar op {}.",
        "tel: {}",
        "{} (na 16:00 bellen)",
        "Contact loopt via de oma, nummer {}, zij belt terug.",
    ],
)
def test_phone_formats_are_found(template: str, number: str) -> None:
    text = template.format(number)
    assert spans(text) == [number]
    assert categories(text) == [Category.PHONE]


# --------------------------------------------------------------------------------------------
# E-mail
# --------------------------------------------------------------------------------------------

EMAIL_CASES = [
    ("Mail naar j.jansen@gemeente-utrecht.nl voor de stukken.", "j.jansen@gemeente-utrecht.nl"),
    ("Zie sanne.de.vries+wijkteam@example.org.", "sanne.de.vries+wijkteam@example.org"),
    ("INFO@JEUGDZORG.NL", "INFO@JEUGDZORG.NL"),
    ("(m_el.amrani@student.hu.nl)", "m_el.amrani@student.hu.nl"),
    ("contact: ouder123@hotmail.com, liefst 's avonds", "ouder123@hotmail.com"),
]


@pytest.mark.parametrize(("text", "expected"), EMAIL_CASES)
def test_email_addresses_are_found(text: str, expected: str) -> None:
    assert spans(text) == [expected]
    assert categories(text) == [Category.EMAIL]


def test_digits_inside_an_email_are_not_a_bsn() -> None:
    text = "Mail 111222333@example.nl"
    assert categories(text) == [Category.EMAIL]


@pytest.mark.parametrize(
    "text", ["Gebruik @sanne in het kanaal.", "Zie mail@ later", "a@b", "prijs 2@3 euro"]
)
def test_things_that_are_not_email_addresses(text: str) -> None:
    assert spans(text, Category.EMAIL) == []


# --------------------------------------------------------------------------------------------
# Postcode and address
# --------------------------------------------------------------------------------------------

ADDRESS_CASES = [
    ("Ze woont Dorpsstraat 12, 1234 AB Utrecht.", "Dorpsstraat 12, 1234 AB"),
    ("Nieuw adres: 1234AB 12", "1234AB 12"),
    ("postcode 1234 ab, nr 5", "1234 ab, nr 5"),
    ("postcode 1234 AB huisnummer 7", "1234 AB huisnummer 7"),
    ("huisnummer 7, postcode 1234 AB", "huisnummer 7, postcode 1234 AB"),
    ("Gezin zit op 3512JC 4-bis", "3512JC 4-bis"),
    ("Opgave: 3512 JC 14a", "3512 JC 14a"),
    ("Kerkstraat 12, Utrecht", "Kerkstraat 12"),
    ("Lange Nieuwstraat 4a te Utrecht", "Lange Nieuwstraat 4a"),
    ("Burgemeester de Withstraat 7, Amsterdam", "Burgemeester de Withstraat 7"),
    ("Hij woont op de Kerkstraat 12.", "Kerkstraat 12"),
    ("Adres van oma is Oude Gracht 120-2 in Utrecht.", "Oude Gracht 120-2"),
    ("Kerkstraat 12\n1234 AB Utrecht", "Kerkstraat 12\n1234 AB"),
    ("Moeder is verhuisd naar de Van Welderenstraat 33.", "Van Welderenstraat 33"),
    ("Stationsweg 3 in Ede", "Stationsweg 3"),
    ("Nieuw adres: Vredenburg 40, 3511 BD Utrecht", "Vredenburg 40, 3511 BD"),
]


@pytest.mark.parametrize(("text", "expected"), ADDRESS_CASES)
def test_addresses_are_found(text: str, expected: str) -> None:
    assert spans(text) == [expected]
    assert categories(text) == [Category.POSTCODE]


@pytest.mark.parametrize(
    "text",
    [
        "Zoon zit in groep 7.",
        "Volgens artikel 12 van de Jeugdwet is dit geregeld.",
        "In week 3 was ze ziek.",
        "Het gezin heeft 2 kinderen.",
        "De postcode 1234 AB valt buiten ons werkgebied.",  # postcode without house number
        "In 2015 op 12-jarige leeftijd kwam hij voor het eerst in beeld.",
        "Er waren in 2019 en 2020 ieder 12 meldingen.",
        "Het kantoor aan de Kerkstraat is open van 9 tot 12.",
        "Hij woont in Amsterdam sinds 2015 en werkt 3 dagen per week.",
        "Postcode 1234 SA 12 bestaat niet.",
        "Afspraak op de Stationsweg, kamer 2.14.",
    ],
)
def test_address_false_alarms(text: str) -> None:
    assert spans(text) == []


# --------------------------------------------------------------------------------------------
# Date of birth
# --------------------------------------------------------------------------------------------

BIRTHDATE_CASES = [
    ("Sanne, geboren 03-03-2015, zit in groep 5.", "03-03-2015"),
    ("geb. 3/3/2015", "3/3/2015"),
    ("Geb 3-3-2015, woont bij oma", "3-3-2015"),
    ("geboortedatum: 2015-03-03", "2015-03-03"),
    ("Zoon is geboren op 3 maart 2015 in het UMC.", "3 maart 2015"),
    ("geb. 3 mrt. 2015", "3 mrt. 2015"),
    ("Geboren in Utrecht op 12 december 2009.", "12 december 2009"),
    ("born 3 March 2015", "3 March 2015"),
    ("DOB: March 3, 2015", "March 3, 2015"),
    ("date of birth 03/03/2015", "03/03/2015"),
    ("Jan (*3-3-2015) en Piet", "3-3-2015"),
    ("Sanne is op 3 maart 2015 geboren.", "3 maart 2015"),
    ("Sanne 03-03-2015 (9 jaar) is de oudste.", "03-03-2015"),
    ("Na de geboorte van haar dochter op 14-02-2024 ging het mis.", "14-02-2024"),
    ("Moeder (geb. 1-1-1987) heeft schulden.", "1-1-1987"),
]


@pytest.mark.parametrize(("text", "expected"), BIRTHDATE_CASES)
def test_birthdates_are_found(text: str, expected: str) -> None:
    assert spans(text) == [expected]
    assert categories(text) == [Category.BIRTHDATE]


@pytest.mark.parametrize(
    "text",
    [
        "Op 12 maart 2026 hadden we een gesprek.",
        "Zij is geboren in 1980. Op 12 maart 2026 hadden we een gesprek.",
        "Moeder is geboren in Marokko en sinds 03-03-2015 in Nederland.",
        "Evaluatie 2026-03-12, volgende op 2026-06-12.",
        "Het huisbezoek van 3/3/2025 is verplaatst.",
        "De geboorte is gepland rond eind mei.",
    ],
)
def test_dates_without_birth_cue_are_not_birthdates(text: str) -> None:
    assert spans(text) == []


# --------------------------------------------------------------------------------------------
# Clean corpus: no false alarms
# --------------------------------------------------------------------------------------------

CLEAN_SENTENCES = [
    "Moeder (34) heeft drie kinderen van 4, 7 en 12 jaar.",
    "Op 12 maart 2026 hadden we een gesprek bij de huisarts.",
    "Het volgende overleg is op 03-04-2026 om 14:30 uur.",
    "Zoon zit in groep 8 en gaat na de zomer naar het vmbo.",
    "De totale schuld bedraagt € 1.250,00, verdeeld over 6 schuldeisers.",
    "Er is een betalingsregeling van € 75 per maand afgesproken voor 36 maanden.",
    "Zaaknummer 2024-0153 is overgedragen aan het wijkteam Noord.",
    "Dossier 48213: intake gedaan, vervolg over 2 weken.",
    "Het gezin woont sinds 2019 in de wijk en heeft 2 kinderen.",
    "Vader werkt 32 uur per week, moeder 20 uur.",
    "De huurachterstand is opgelopen tot 3 maanden (ca. € 2.400).",
    "Volgens artikel 2.3 van de Jeugdwet moet de gemeente dit regelen.",
    "In week 3 en week 7 waren er geen bezoeken.",
    "Ongeveer 45% van het inkomen gaat op aan vaste lasten.",
    "Beslagvrije voet vastgesteld op € 1.512,43 per maand.",
    "Het budget voor 2025 is 12.500 euro; in 2026 verwachten we 15.000.",
    "Jongere van 16 jaar, sinds januari 2025 thuiszitter.",
    "Tussen 9:00 en 17:00 is de coördinator bereikbaar via het teamkanaal.",
    "Het rapport van 14 pagina's is besproken in het MDO van 5 februari.",
    "Caseload: 18 gezinnen, waarvan 4 met een OTS.",
    "Score op de zelfredzaamheidsmatrix: 3 op inkomen, 2 op huisvesting.",
    "De wachttijd voor de GGZ is 12 tot 16 weken.",
    "Ze is in 1987 naar Nederland gekomen en spreekt goed Nederlands.",
    "Na 2 jaar schuldhulp is 80 procent van de schulden opgelost.",
    "Bij de evaluatie op 1-7-2025 is het plan bijgesteld.",
    "Sessie 4 van 10 vond plaats op dinsdag 14 januari.",
    "Moeder is geboren in Marokko en woont al 20 jaar in Utrecht.",
    "Het kind is 7 jaar en 3 maanden oud.",
    "Aantal contactmomenten: 12 in 2025, 15 in 2024.",
    "Het gesprek op 2026-03-12 duurde 90 minuten.",
    "In 2015 en 2016 had het gezin al contact met Veilig Thuis.",
    "De 1e afspraak is op woensdag 8 april om 10.00 uur.",
    "Het vorige traject liep van 2019 tot 2022, daarna 6 maanden rust.",
    "Hij is in 2003 geboren en woont nu zelfstandig.",
    "Vader verdient netto € 2.150 per maand en heeft 1 baan van 0,8 fte.",
    "Ze heeft 3 kinderen: van 2, 5 en 9 jaar, de oudste in groep 6.",
    "Er staan 17 facturen open, de oudste is van 12-10-2023.",
    "Melding 2026-044 kwam binnen om 08:15.",
    "De toeslagenaffaire speelt sinds 2013; het gezin kreeg € 30.000 compensatie.",
    "Hoofdstuk 4, paragraaf 4.2 van het plan van aanpak gaat over veiligheid.",
    "De jongere scoort een 6,5 voor wiskunde en mist 120 lesuren.",
    "Op 1 januari 2026 gaat de nieuwe regeling in; tot die tijd 50% vergoeding.",
    "Huur € 845,- per maand, energie € 210,- per maand.",
    "Het wijkteam heeft 11 casussen en 2 wachtlijstplekken.",
    "Kamer 2.14 op de tweede verdieping, bel aan bij nummer 3.",
]


@pytest.mark.parametrize("sentence", CLEAN_SENTENCES)
def test_clean_sentences_give_no_findings(sentence: str) -> None:
    assert check_text(sentence) == []


def test_clean_corpus_is_large_enough() -> None:
    assert len(CLEAN_SENTENCES) >= 25


# --------------------------------------------------------------------------------------------
# Realistic case texts with and without identifiers
# --------------------------------------------------------------------------------------------

CASUS_TEMPLATES = [
    # youth care
    "Sanne (9) zit in groep 5 en is sinds januari vaak afwezig. Moeder vertelde op 14 maart "
    "om 10:30 dat de situatie thuis onrustig is; {}. De GI is op de hoogte (zaak 2024-0153).",
    # debt counselling
    "Intake schuldhulp op 03-02-2026: 7 schuldeisers, totaal € 18.300,00, waarvan € 2.450 "
    "huurachterstand. In de aanvraag stond {}, dat halen we eruit. Vervolg over 2 weken.",
    # wijkteam
    "Wijkteam Noord: vader (52) werkt 24 uur per week, zoon zit in groep 8 en heeft 3 keer "
    "per week voetbal. Tijdens het huisbezoek in week 12 noteerde de collega {}.",
    # youth care, school
    "MDO 5 februari: jongere van 16 is 3 weken thuis. Leerplicht meldt {}; 80% van de lessen "
    "gemist sinds 2025.",
    # debt counselling, progress
    "Na 2 jaar begeleiding is 80 procent van de schulden afgelost. Beslagvrije voet € 1.512,43. "
    "Contact verliep via {} en dat ging goed.",
]

CASUS_IDENTIFIERS = [
    ("haar BSN 111222333", "111222333", Category.BSN),
    ("bsn 1112 22 333", "1112 22 333", Category.BSN),
    ("burgerservicenummer 123.456.782", "123.456.782", Category.BSN),
    ("rekening NL91 ABNA 0417 1643 00", "NL91 ABNA 0417 1643 00", Category.IBAN),
    ("iban nl91abna0417164300", "nl91abna0417164300", Category.IBAN),
    ("telefoon 06-12345678", "06-12345678", Category.PHONE),
    ("het nummer +31 6 12345678", "+31 6 12345678", Category.PHONE),
    ("vast nummer 010 123 4567", "010 123 4567", Category.PHONE),
    ("mail s.devries@example.nl", "s.devries@example.nl", Category.EMAIL),
    ("het adres Dorpsstraat 12, 1234 AB Utrecht", "Dorpsstraat 12, 1234 AB", Category.POSTCODE),
    ("postcode 1234 ab, nr 5", "1234 ab, nr 5", Category.POSTCODE),
    ("geboren op 3 maart 2015", "3 maart 2015", Category.BIRTHDATE),
    ("geb. 03-03-2015", "03-03-2015", Category.BIRTHDATE),
]

CASUS_CLEAN_FILLERS = [
    "dat het sinds 2 weken beter gaat",
    "een schuld van € 1.250,00 bij de zorgverzekeraar",
    "een afspraak op 12 maart 2026 om 14:30",
    "dat oma 3 dagen per week oppast",
    "het telefonisch spreekuur van de school",
]


@pytest.mark.parametrize("template", CASUS_TEMPLATES)
@pytest.mark.parametrize(("filler", "expected", "category"), CASUS_IDENTIFIERS)
def test_casus_with_identifier(
    template: str, filler: str, expected: str, category: Category
) -> None:
    text = template.format(filler)
    findings = check_text(text)
    assert [(f.category, text[f.start : f.end]) for f in findings] == [(category, expected)]


@pytest.mark.parametrize("template", CASUS_TEMPLATES)
@pytest.mark.parametrize("filler", CASUS_CLEAN_FILLERS)
def test_casus_without_identifier(template: str, filler: str) -> None:
    assert check_text(template.format(filler)) == []


def test_casus_with_many_identifiers() -> None:
    text = (
        "Moeder (geb. 1-1-1987, BSN 111222333) woont op de Kerkstraat 12 in Utrecht. "
        "Ze is bereikbaar op 06-12345678 of via moeder87@example.nl. De huur (€ 845,-) wordt "
        "afgeschreven van NL91ABNA0417164300. Gesprek op 12 maart 2026 om 14:30."
    )
    found = [(f.category, text[f.start : f.end]) for f in check_text(text)]
    assert found == [
        (Category.BIRTHDATE, "1-1-1987"),
        (Category.BSN, "111222333"),
        (Category.POSTCODE, "Kerkstraat 12"),
        (Category.PHONE, "06-12345678"),
        (Category.EMAIL, "moeder87@example.nl"),
        (Category.IBAN, "NL91ABNA0417164300"),
    ]


# --------------------------------------------------------------------------------------------
# Masking
# --------------------------------------------------------------------------------------------

ALL_POSITIVE_CASES = [
    *BSN_CASES,
    *IBAN_CASES,
    *[(f"tel {n}", n) for n in PHONE_NUMBERS],
    *EMAIL_CASES,
    *ADDRESS_CASES,
    *BIRTHDATE_CASES,
]


def _alnum(value: str) -> str:
    return re.sub(r"[\W_]", "", value)


@pytest.mark.parametrize(("text", "expected"), ALL_POSITIVE_CASES)
def test_masked_never_contains_the_full_value(text: str, expected: str) -> None:
    (finding,) = check_text(text)
    value = text[finding.start : finding.end]
    assert value == expected
    assert finding.masked != value
    assert value not in finding.masked
    assert _alnum(value) not in _alnum(finding.masked)
    assert len(finding.masked) == len(value)
    assert finding.masked[:2] == value[:2]
    # Everything after the first two characters: letters and digits masked, layout kept.
    for original, shown in zip(value[2:], finding.masked[2:], strict=True):
        assert shown == ("*" if original.isalnum() else original)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("BSN 111 222 333", "11* *** ***"),
        ("BSN 111222333", "11*******"),
        ("tel 06-12345678", "06-********"),
        ("NL91 ABNA 0417 1643 00", "NL** **** **** **** **"),
        ("mail jan@example.nl", "ja*@*******.**"),
        ("geboren 03-03-2015", "03-**-****"),
        ("1234 AB 12", "12** ** **"),
    ],
)
def test_mask_examples(text: str, masked: str) -> None:
    assert [f.masked for f in check_text(text)] == [masked]


# --------------------------------------------------------------------------------------------
# Ordering, field ids, overlaps, protocol
# --------------------------------------------------------------------------------------------


def test_findings_are_ordered_by_field_then_position() -> None:
    guard = StructuredGuard()
    fields = {
        "title": "Casus over moeder, tel 06-12345678, BSN 111222333",
        "empty": "",
        "situation": "geb. 3-3-2015, mail a.b@example.nl en nog een keer 06 1234 5678",
        "question": "Hoe pak ik dit aan zonder 111 222 333 te noemen?",
        "clean": "Gesprek op 12 maart 2026 om 14:30.",
    }
    findings = guard.check(fields)
    assert [(f.field_id, f.category) for f in findings] == [
        ("title", Category.PHONE),
        ("title", Category.BSN),
        ("situation", Category.BIRTHDATE),
        ("situation", Category.EMAIL),
        ("situation", Category.PHONE),
        ("question", Category.BSN),
    ]
    for finding in findings:
        text = fields[finding.field_id]
        assert 0 <= finding.start < finding.end <= len(text)
        assert _mask_matches(text[finding.start : finding.end], finding.masked)


def _mask_matches(value: str, masked: str) -> bool:
    return len(value) == len(masked) and value[:2] == masked[:2]


def test_field_order_follows_the_mapping_not_the_alphabet() -> None:
    findings = StructuredGuard().check({"z": "BSN 111222333", "a": "BSN 123456782"})
    assert [f.field_id for f in findings] == ["z", "a"]


def test_check_text_default_and_custom_field_id() -> None:
    assert [f.field_id for f in check_text("BSN 111222333")] == ["text"]
    assert [f.field_id for f in check_text("BSN 111222333", field_id="description")] == [
        "description"
    ]


def test_finding_is_a_frozen_value_object() -> None:
    finding = check_text("BSN 111222333")[0]
    assert finding == Finding(
        field_id="text", category=Category.BSN, masked="11*******", start=4, end=13
    )
    with pytest.raises(AttributeError):
        finding.start = 0  # type: ignore[misc]


def test_category_values_are_stable_strings() -> None:
    assert [c.value for c in Category] == [
        "bsn",
        "iban",
        "phone",
        "email",
        "postcode",
        "birthdate",
        "person",
        "place",
        "institution",
    ]
    assert str(Category.BSN) == "bsn"
    assert Category("bsn") is Category.BSN


def test_structured_guard_satisfies_the_protocol() -> None:
    guard: PrivacyGuard = StructuredGuard()
    assert guard.check({"x": "niets bijzonders"}) == []


def test_guard_can_be_restricted_to_categories() -> None:
    text = "BSN 111222333, tel 06-12345678, mail a@example.nl"
    only_bsn = StructuredGuard(categories=[Category.BSN]).check({"t": text})
    assert [f.category for f in only_bsn] == [Category.BSN]
    assert StructuredGuard(categories=[]).check({"t": text}) == []


def test_no_overlapping_findings_in_one_field() -> None:
    text = (
        "BSN 111222333 NL91ABNA0417164300 06-12345678 111222333@example.nl "
        "geb. 03-03-2015 Kerkstraat 12, 1234 AB Utrecht +31 612345671"
    )
    findings = check_text(text)
    for first, second in itertools.pairwise(findings):
        assert first.end <= second.start
    assert [f.category for f in findings] == [
        Category.BSN,
        Category.IBAN,
        Category.PHONE,
        Category.EMAIL,
        Category.BIRTHDATE,
        Category.POSTCODE,
        Category.PHONE,
    ]


def test_empty_input() -> None:
    assert check_text("") == []
    assert StructuredGuard().check({}) == []


# --------------------------------------------------------------------------------------------
# Property based tests
# --------------------------------------------------------------------------------------------


def _assert_invariants(text: str) -> None:
    findings = check_text(text)
    previous_end = 0
    for finding in findings:
        assert previous_end <= finding.start < finding.end <= len(text)
        previous_end = finding.end
        value = text[finding.start : finding.end]
        assert len(finding.masked) == len(value)
        assert finding.masked != value


@_SETTINGS
@given(st.text())
def test_check_text_never_raises_on_arbitrary_text(text: str) -> None:
    _assert_invariants(text)


@_SETTINGS
@given(st.text(alphabet="0123456789 .-/:,+()@*€ABNLabnl\n", max_size=80))
def test_check_text_never_raises_on_number_soup(text: str) -> None:
    _assert_invariants(text)


def _bsn_from_prefix(prefix: int) -> str | None:
    """Complete eight digits with the 11-proef check digit, None when impossible."""
    digits = f"{prefix:08d}"
    check = sum(int(d) * weight for d, weight in zip(digits, range(9, 1, -1), strict=True)) % 11
    return None if check == 10 else digits + str(check)


SENTENCE_PREFIXES = [
    "Het BSN van moeder is",
    "bsn:",
    "In het verslag van 12 maart stond",
    "Zoon (groep 8) heeft nummer",
    "De school stuurde per ongeluk",
    "Vader (52) gaf",
    "",
]
SENTENCE_SUFFIXES = [
    "",
    ".",
    " door, dat moet eruit.",
    " en hij is 12 jaar.",
    ", schuld € 1.250,00.",
    " (zie dossier 2024-0153)",
    " op 14:30 genoemd.",
]
BSN_LAYOUTS = [
    lambda b: b,
    lambda b: f"{b[:3]} {b[3:6]} {b[6:]}",
    lambda b: f"{b[:4]}.{b[4:6]}.{b[6:]}",
    lambda b: f"{b[:3]}-{b[3:6]}-{b[6:]}",
    lambda b: f"{b[:4]} {b[4:6]} {b[6:]}",
]


@_SETTINGS
@given(
    st.integers(min_value=0, max_value=99_999_999)
    .map(_bsn_from_prefix)
    .filter(lambda b: b is not None and stdnum_bsn.is_valid(b)),
    st.sampled_from(BSN_LAYOUTS),
    st.sampled_from(SENTENCE_PREFIXES),
    st.sampled_from(SENTENCE_SUFFIXES),
)
def test_generated_valid_bsn_in_a_sentence_is_found(
    bsn: str | None, layout: object, prefix: str, suffix: str
) -> None:
    assert bsn is not None and stdnum_bsn.is_valid(bsn)
    assert callable(layout)
    written = str(layout(bsn))
    text = f"{prefix} {written}{suffix}".lstrip()
    findings = check_text(text)
    assert [(f.category, text[f.start : f.end]) for f in findings] == [(Category.BSN, written)]
    assert _alnum(written) not in _alnum(findings[0].masked)


@_SETTINGS
@given(
    st.sampled_from(["ABNA", "INGB", "RABO", "SNSB", "TRIO", "ASNB"]),
    st.integers(min_value=0, max_value=9_999_999_999),
    st.booleans(),
    st.booleans(),
)
def test_generated_dutch_iban_is_found(bank: str, account: int, spaced: bool, lower: bool) -> None:
    body = f"{bank}{account:010d}"
    iban = f"NL{stdnum_iban.calc_check_digits('NL00' + body)}{body}"
    if spaced:
        iban = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    if lower:
        iban = iban.lower()
    text = f"Huur wordt afgeschreven van {iban} op de 1e van de maand."
    assert [(f.category, text[f.start : f.end]) for f in check_text(text)] == [
        (Category.IBAN, iban)
    ]


DUTCH_MONTHS = [
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
]  # fmt: skip
DATE_LAYOUTS = [
    lambda d: f"{d.day:02d}-{d.month:02d}-{d.year}",
    lambda d: f"{d.day}-{d.month}-{d.year}",
    lambda d: f"{d.day}/{d.month}/{d.year}",
    lambda d: d.isoformat(),
    lambda d: f"{d.day} {DUTCH_MONTHS[d.month - 1]} {d.year}",
]


@_SETTINGS
@given(
    st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2030, 12, 31)),
    st.sampled_from(DATE_LAYOUTS),
)
def test_meeting_dates_are_never_flagged(date: dt.date, layout: object) -> None:
    assert callable(layout)
    text = f"Op {layout(date)} hadden we om 14:30 een gesprek over de voortgang in groep 8."
    assert check_text(text) == []


@_SETTINGS
@given(
    st.dates(min_value=dt.date(1930, 1, 1), max_value=dt.date(2025, 12, 31)),
    st.sampled_from(DATE_LAYOUTS),
    st.sampled_from(["Sanne, geboren op {}, woont bij oma.", "geb. {}", "Geboortedatum: {}"]),
)
def test_birth_dates_with_a_cue_are_flagged(date: dt.date, layout: object, template: str) -> None:
    assert callable(layout)
    written = str(layout(date))
    text = template.format(written)
    assert [(f.category, text[f.start : f.end]) for f in check_text(text)] == [
        (Category.BIRTHDATE, written)
    ]
