"""A corpus of Dutch casus texts written for Leerkring's privacy guard tests.

Texts with identifiers mark each one as ``⟦category|value⟧``; :func:`parse` strips the marks
and returns the plain text with the expected spans. The categories are the guard's own
(``bsn``, ``iban``, ``phone``, ``email``, ``postcode`` for postcode + number and street +
number, ``birthdate``, ``person``, ``place``). Clean texts have no marks: every hard finding in
them is a false alarm.

The values are made up, generated with a fixed seed so the corpus is the same on every run:
BSNs pass the 11-proef and IBANs the mod-97 check (the guard validates them), phone numbers use
real Dutch number ranges. Names and places are common Dutch ones, with tussenvoegsels.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from stdnum import iban as stdnum_iban

MARK = re.compile(r"⟦(\w+)\|([^⟧]+)⟧")


@dataclass(frozen=True)
class Expected:
    category: str
    start: int
    end: int


@dataclass(frozen=True)
class Sample:
    text: str
    expected: tuple[Expected, ...]


def parse(marked: str) -> Sample:
    out: list[str] = []
    expected: list[Expected] = []
    pos = 0
    length = 0
    for match in MARK.finditer(marked):
        before = marked[pos : match.start()]
        out.append(before)
        length += len(before)
        value = match.group(2)
        expected.append(Expected(match.group(1), length, length + len(value)))
        out.append(value)
        length += len(value)
        pos = match.end()
    out.append(marked[pos:])
    return Sample("".join(out), tuple(expected))


# --- value generators -------------------------------------------------------------------------


def bsn(rng: random.Random) -> str:
    while True:
        digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(7)]
        check = sum(d * w for d, w in zip(digits, range(9, 1, -1), strict=True)) % 11
        if check < 10:
            return "".join(map(str, [*digits, check]))


def bsn_written(rng: random.Random) -> str:
    value = bsn(rng)
    style = rng.choice(["plain", "3-3-3 space", "3-3-3 dot", "4-2-3 dot", "4-2-3 space"])
    if style == "plain":
        return value
    sep = "." if "dot" in style else " "
    if style.startswith("3"):
        return sep.join((value[:3], value[3:6], value[6:]))
    return sep.join((value[:4], value[4:6], value[6:]))


_BANKS = ("ABNA", "INGB", "RABO", "SNSB", "TRIO", "ASNB", "KNAB", "BUNQ")


def iban_written(rng: random.Random) -> str:
    bban = rng.choice(_BANKS) + "".join(str(rng.randint(0, 9)) for _ in range(10))
    value = "NL" + stdnum_iban.calc_check_digits("NL00" + bban) + bban
    style = rng.choice(["compact", "groups", "groups", "lower"])
    if style == "compact":
        return value
    if style == "lower":
        return value.lower()
    return " ".join(value[i : i + 4] for i in range(0, len(value), 4))


def phone_written(rng: random.Random) -> str:
    mobile = "6" + str(rng.randint(1, 5)) + "".join(str(rng.randint(0, 9)) for _ in range(7))
    area, rest_len = rng.choice([("20", 7), ("10", 7), ("30", 7), ("70", 7), ("50", 7)])
    rest = str(rng.randint(2, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(rest_len - 1))
    regional = rng.choice(["513", "348", "172", "485"])
    regional_rest = str(rng.randint(2, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(5))
    m = mobile[1:]
    forms = [
        f"0{mobile}",
        f"06-{m}",
        f"06 {m}",
        f"06 {m[:4]} {m[4:]}",
        f"06-{m[:2]} {m[2:4]} {m[4:6]} {m[6:]}",
        f"06 {m[:2]} {m[2:4]} {m[4:6]} {m[6:]}",
        f"+31{mobile}",
        f"+31 6 {m}",
        f"+31 (0)6 {m}",
        f"+31 6 {m[:2]} {m[2:4]} {m[4:6]} {m[6:]}",
        f"0031 6 {m}",
        f"0{area}-{rest}",
        f"0{area} {rest[:3]} {rest[3:]}",
        f"(0{area}) {rest[:3]} {rest[3:5]} {rest[5:]}",
        f"0{area}-{rest[:3]} {rest[3:5]} {rest[5:]}",
        f"+31 {area} {rest}",
        f"0{regional}-{regional_rest}",
        f"0{regional} {regional_rest[:2]} {regional_rest[2:4]} {regional_rest[4:]}",
    ]
    return rng.choice(forms)


_LOCALS = ("j.devries", "fam.yilmaz82", "a_bakker", "moeder.sanne", "k.elamrani", "pvdberg")
_DOMAINS = ("gmail.com", "hotmail.nl", "outlook.com", "ziggo.nl", "kpnmail.nl", "live.nl")


def email_written(rng: random.Random) -> str:
    return f"{rng.choice(_LOCALS)}{rng.choice(['', '1', '77'])}@{rng.choice(_DOMAINS)}"


_STREETS = (
    "Kerkstraat", "Dorpsweg", "Lindelaan", "Molenstraat", "Stationsplein", "Julianalaan",
    "Beukenlaan", "Prinsengracht", "Schoolstraat", "Marktplein", "Van Goghstraat",
    "Burgemeester de Withstraat", "Hoofdweg", "Rozensingel", "Parklaan",
)  # fmt: skip
_CITIES = (
    "Utrecht", "Amersfoort", "Zwolle", "Rotterdam", "Amsterdam", "Groningen", "Tilburg",
    "Eindhoven", "Leeuwarden", "Nijmegen", "Haarlem", "Almere", "Den Haag", "Apeldoorn",
    "Enschede", "Breda", "Deventer", "Lelystad",
)  # fmt: skip


def _postcode(rng: random.Random) -> str:
    letters = "".join(rng.choice("ABCEGHJKLMNPRTVWXZ") for _ in range(2))
    return f"{rng.randint(1000, 9999)} {letters}"


def _house_number(rng: random.Random) -> str:
    return rng.choice(
        [str(rng.randint(1, 220)), f"{rng.randint(1, 90)}a", f"{rng.randint(1, 40)}-2"]
    )


def address_sentence(rng: random.Random) -> str:
    street, nr, pc, city = (
        rng.choice(_STREETS),
        _house_number(rng),
        _postcode(rng),
        rng.choice(_CITIES),
    )
    forms = [
        f"Het gezin woont aan de ⟦postcode|{street} {nr}⟧ in ⟦place|{city}⟧.",
        f"Adres: ⟦postcode|{street} {nr}, {pc}⟧ ⟦place|{city}⟧.",
        f"Moeder is verhuisd naar ⟦postcode|{pc} {nr}⟧.",
        f"Postcode ⟦postcode|{pc.replace(' ', '')}, huisnummer {nr}⟧, graag langsgaan.",
        f"Ze woont sinds kort op de ⟦postcode|{street} {nr}⟧ en voelt zich daar niet veilig.",
        f"Het huisbezoek was op de ⟦postcode|{street} {nr}⟧ te ⟦place|{city}⟧.",
    ]
    return rng.choice(forms)


_MONTHS = (
    "januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
    "oktober", "november", "december",
)  # fmt: skip


def birthdate_phrase(rng: random.Random) -> str:
    day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(1940, 2022)
    name = _MONTHS[month - 1]
    forms = [
        f"geb. ⟦birthdate|{day} {name} {year}⟧",
        f"geboren op ⟦birthdate|{day:02d}-{month:02d}-{year}⟧",
        f"geboortedatum: ⟦birthdate|{day}/{month}/{year}⟧",
        f"(geb. ⟦birthdate|{day}-{month}-{year}⟧)",
        f"geboren ⟦birthdate|{day} {name[:3]} {year}⟧",
        f"geb.datum ⟦birthdate|{year}-{month:02d}-{day:02d}⟧",
        f"* ⟦birthdate|{day:02d}.{month:02d}.{year}⟧",
        f"die op ⟦birthdate|{day} {name} {year}⟧ is geboren",
    ]
    return rng.choice(forms)


_FIRST = (
    "Jan", "Fatima", "Mohammed", "Sanne", "Kevin", "Priya", "Lotte", "Daan", "Emma", "Ahmed",
    "Anouk", "Sevda", "Youssef", "Noah", "Julia", "Tim", "Esra", "Bram", "Mila", "Samira",
    "Ricardo", "Naima", "Thijs", "Yara", "Pieter", "Ilse", "Hatice", "Dennis", "Kim", "Roos",
)  # fmt: skip
_LAST = (
    "de Vries", "el Amrani", "Yilmaz", "van der Berg", "van 't Hof", "Ramdin", "Jansen",
    "Visser", "Bouzid", "van den Heuvel", "Bakker", "ter Horst", "de Boer", "Kaya", "Smit",
    "van Dijk", "Mulder", "de Jong", "Peters", "van Leeuwen", "Hendriks", "El Idrissi",
    "Demir", "Ramcharan", "Meijer", "van der Linden", "Koster", "op den Kamp",
)  # fmt: skip


def full_name(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"


def name_sentence(rng: random.Random) -> str:
    name = full_name(rng)
    first = rng.choice(_FIRST)
    other = rng.choice(_FIRST)
    last = rng.choice(_LAST)
    surname = last[0].upper() + last[1:]
    initials = f"{first[0]}. {last}"
    forms = [
        f"⟦person|{first}⟧ (7) en zijn zus ⟦person|{other}⟧ (4) wonen bij moeder.",
        f"⟦person|{first}⟧ belde vanochtend huilend op.",
        f"De brief van ⟦person|{initials}⟧ kwam te laat.",
        f"⟦person|{first}⟧'s vader is uit beeld.",
        f"Ik heb ⟦person|{name}⟧ en haar broer ⟦person|{other}⟧ thuis gesproken.",
        f"Het gezin ⟦person|{surname}⟧ heeft vier kinderen.",
        f"Zoon ⟦person|{first}⟧ wil bij zijn vader wonen.",
        # Typed in a hurry, without capitals: the hardest case for a name finder.
        f"ik sprak met ⟦person|{name.lower()}⟧ over de schulden.",
        f"Moeder ⟦person|{name}⟧ (34) vraagt hulp bij de schulden.",
        f"Ik sprak gisteren met ⟦person|{name}⟧ over de situatie thuis.",
        f"De zoon, ⟦person|{name}⟧, gaat niet meer naar school.",
        f"⟦person|{name}⟧ is bekend bij het wijkteam.",
        f"Vader heet ⟦person|{name}⟧ en werkt in ploegendienst.",
        f"Het gaat om ⟦person|{name}⟧, een alleenstaande vader.",
        f"Mevrouw ⟦person|{surname}⟧ wil geen contact meer met de school.",
        f"Meneer ⟦person|{surname}⟧ heeft een betalingsachterstand bij de woningcorporatie.",
        f"Oma ⟦person|{name}⟧ zorgt drie dagen per week voor de kinderen.",
        f"Volgens ⟦person|{name}⟧ is de situatie thuis onhoudbaar.",
    ]
    return rng.choice(forms)


def place_sentence(rng: random.Random) -> str:
    city = rng.choice(_CITIES)
    forms = [
        f"Het gezin is vorig jaar verhuisd van ⟦place|{city}⟧ naar deze wijk.",
        f"De vader woont in ⟦place|{city}⟧ en ziet de kinderen om het weekend.",
        f"Ze is opgegroeid in ⟦place|{city}⟧ en heeft daar nog familie.",
    ]
    return rng.choice(forms)


# --- texts ------------------------------------------------------------------------------------

_OPENINGS = (
    "Ik begeleid sinds een half jaar een gezin met drie kinderen.",
    "Deze casus gaat over een jongere van 16 die steeds vaker spijbelt.",
    "Een alleenstaande moeder met forse schulden meldde zich bij het wijkteam.",
    "Een oudere man van 82 vereenzaamt en eet slecht.",
    "Het gezin heeft al jaren hulp, maar er verandert weinig.",
    "Een jonge vader vraagt om hulp bij de opvoeding van zijn dochter.",
    "Een stel met een baby van vier maanden heeft een huurachterstand van € 3.250,-.",
    "De school maakt zich zorgen over een meisje uit groep 7.",
)
_MIDDLES = (
    "Er zijn zes schuldeisers en de totale schuld is ongeveer 18.400 euro.",
    "We hadden op 3 maart een gesprek met school en op 12 april een huisbezoek.",
    "Het gesprek is dinsdag om 14:30 op het kantoor van het wijkteam.",
    "De kinderen zijn 4, 7 en 11 jaar oud.",
    "Moeder werkt 24 uur per week en vader is sinds 2021 arbeidsongeschikt.",
    "Er is een melding bij Veilig Thuis gedaan en het dossier loopt nog.",
    "We werken met Signs of Safety en hebben een veiligheidsplan opgesteld.",
    "In week 12 volgt een evaluatie met alle betrokkenen.",
    "Het budgetbeheer kost 45 euro per maand en de toeslagen zijn 1.250,- per kwartaal.",
    "De wachtlijst voor de jeugd-GGZ is 14 weken.",
    "Sinds 1 januari 2024 is er een beschermingsbewind.",
    "Zaaknummer 2024-00317 staat in ons registratiesysteem.",
    "De huur is 742 euro en er is 180 euro huurtoeslag.",
    "Ze slaapt slecht, al sinds de scheiding in 2019.",
)
_QUESTIONS = (
    "Hoe krijg ik de vader weer in beeld zonder dat moeder afhaakt?",
    "Wat kan ik doen om het vertrouwen te herstellen?",
    "Wie heeft ervaring met een gezin dat elke hulp afwijst?",
    "Welke stap zou jij morgen zetten?",
    "Hoe bespreek ik de zorgen zonder dat het gesprek escaleert?",
)
_CLEAN_EXTRA = (
    "Mijn collega van de schuldhulp denkt mee en we overleggen volgende week.",
    "Om 09:15 belde de school, om 16:00 de huisarts.",
    "Het gezin krijgt 2 x per week ambulante hulp van 1,5 uur.",
    "De jongere heeft een IQ van ongeveer 75 en een licht verstandelijke beperking.",
    "Er loopt een traject van 26 weken; we zitten nu in week 9.",
    "Het inkomen is 1.640 euro netto per maand, de vaste lasten zijn 1.410 euro.",
    "De rapportage van 15-03-2024 beschrijft de voortgang.",
    "Volgens het plan van aanpak (versie 3.2) volgt een MDO op 2 oktober.",
    "We gebruiken de Zelfredzaamheid-Matrix: score 2 op financiën en 3 op huisvesting.",
    "Ze heeft 3 kinderen in de leeftijd van 2 tot 9 jaar.",
    "We werken met Triple P en met de methode van Gordon.",
    "De Raad voor de Kinderbescherming doet onderzoek; Veilig Thuis is op de hoogte.",
    "Het Nibud-budget laat zien dat er 212,40 euro per maand tekort is.",
    "Volgende week overleg ik met de GGD en de wijkagent.",
    "Het gesprek duurde van 10.00 tot 11.30 uur, met een pauze van 15 minuten.",
    "Ze kreeg op 1 december 2023 een aanmaning van 614,25 euro.",
    "Bij de intake scoorde hij 12 van de 40 punten op de vragenlijst.",
    "Hij is 17 jaar en wordt over 4 maanden meerderjarig.",
    "We bespraken het in het MDO van maandag 9 september om 13:00.",
    "De uitkering van 1.185,63 euro komt op de 23e van de maand binnen.",
    "Op het rapport staat referentie 2023/114/JZ en versie 2.1.",
    "Ze werkt 3 ochtenden per week bij de Albert Heijn om de hoek.",
)


def _casus(rng: random.Random, inserts: list[str]) -> str:
    parts = [rng.choice(_OPENINGS), *rng.sample(_MIDDLES, 2)]
    for insert in inserts:
        parts.insert(rng.randint(1, len(parts)), insert)
    parts.append(rng.choice(_QUESTIONS))
    return " ".join(parts)


def identifier_samples(per_category: int = 120, seed: int = 7) -> list[Sample]:
    """Casus texts with one or two identifiers each, about ``per_category`` of every kind."""
    rng = random.Random(seed)
    samples: list[Sample] = []
    makers = {
        "bsn": lambda: rng.choice(
            [
                f"Het BSN van moeder is ⟦bsn|{bsn_written(rng)}⟧.",
                f"BSN: ⟦bsn|{bsn_written(rng)}⟧",
                f"(bsn ⟦bsn|{bsn_written(rng)}⟧)",
                f"Zijn burgerservicenummer ⟦bsn|{bsn_written(rng)}⟧ staat in de brief.",
            ]
        ),
        "iban": lambda: rng.choice(
            [
                f"De huur gaat van rekening ⟦iban|{iban_written(rng)}⟧.",
                f"IBAN: ⟦iban|{iban_written(rng)}⟧",
                f"Het bewind betaalt vanaf ⟦iban|{iban_written(rng)}⟧ de vaste lasten.",
            ]
        ),
        "phone": lambda: rng.choice(
            [
                f"Moeder is bereikbaar op ⟦phone|{phone_written(rng)}⟧.",
                f"Tel: ⟦phone|{phone_written(rng)}⟧",
                f"Bel de oma even op ⟦phone|{phone_written(rng)}⟧ als het misgaat.",
            ]
        ),
        "email": lambda: rng.choice(
            [
                f"Mail vader via ⟦email|{email_written(rng)}⟧.",
                f"E-mail: ⟦email|{email_written(rng)}⟧",
            ]
        ),
        "postcode": lambda: address_sentence(rng),
        "birthdate": lambda: rng.choice(
            [
                f"Het gaat om een jongen {birthdate_phrase(rng)}.",
                f"Dochter, {birthdate_phrase(rng)}, zit in groep 5.",
                f"Moeder ({birthdate_phrase(rng)}) heeft een licht verstandelijke beperking.",
            ]
        ),
        "person": lambda: name_sentence(rng),
        "place": lambda: place_sentence(rng),
    }
    for _ in range(per_category):
        for maker in makers.values():
            samples.append(parse(_casus(rng, [maker()])))
    # Texts with several identifiers at once, as people really write them.
    for _ in range(per_category // 4):
        inserts = [name_sentence(rng), rng.choice(list(makers.values()))()]
        samples.append(parse(_casus(rng, inserts)))
    return samples


def clean_samples(count: int = 300, seed: int = 11) -> list[Sample]:
    """Realistic casus texts without identifiers: ages, amounts, meeting dates, times, case
    numbers, methods and organisations."""
    rng = random.Random(seed)
    samples = []
    for _ in range(count):
        parts = [rng.choice(_OPENINGS), *rng.sample(_MIDDLES, 3), *rng.sample(_CLEAN_EXTRA, 2)]
        rng.shuffle(parts)
        parts.append(rng.choice(_QUESTIONS))
        samples.append(Sample(" ".join(parts), ()))
    return samples
