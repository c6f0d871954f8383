"""Names in chat language (issue #15): context, lower case, every background; places and
organisations are no findings on their own; dates of birth in context; streets with numbers."""

from __future__ import annotations

import pytest

from handlers.privacy.guard import Category, check_text
from handlers.privacy.names import name_finder


def _names(text: str) -> list[str]:
    return [text[start:end] for start, end in name_finder().find(text)]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        # lower case, against the name lists
        ("ik sprak met fatima over de aanmaningen", "fatima"),
        ("meneer sahin belde boos op", "sahin"),
        ("oma van der laan is de enige die nog contact heeft", "van der laan"),
        # names no list has, from their shape
        ("Morgen komt Semhar Ghebremedhin langs.", "Semhar Ghebremedhin"),
        ("Wie helpt Paweł Nowak met de toeslagen?", "Paweł Nowak"),
        ("Ik maak me zorgen om Xiaoling.", "Xiaoling"),
        ("Gisteren zag ik Shurendy op het plein.", "Shurendy"),
        # family and kin words
        ("Het gezin Darwish heeft al twee jaar schulden.", "Darwish"),
        ("de familie Tesfay wil niet dat we langskomen", "Tesfay"),
        ("Gezin Haddad: vader werkt, moeder is overbelast.", "Haddad"),
        ("Oma Riet zorgt nu voor de kinderen.", "Riet"),
        ("De moeder van Yonas wil niet meewerken.", "Yonas"),
        # forms of address and initials
        ("Dhr. Öztürk is sinds maart werkloos.", "Öztürk"),
        ("mevr. Kowalska vraagt om een second opinion", "Kowalska"),
        ("De brief van J.K. Ramdin kwam te laat.", "J.K. Ramdin"),
        # an age, the start of a sentence, a quote
        ("Ik maak me zorgen om Luwam (16), ze is vaak weg.", "Luwam"),
        ("Geen idee meer. Merhawi komt niet opdagen.", "Merhawi"),
        ("Ze zei: 'Abdirahman slaat me als hij dronken is.'", "Abdirahman"),
        # first name and surname that are also ordinary words
        ("Volgens Roos van Dijk is de situatie thuis onhoudbaar.", "Roos van Dijk"),
    ],
)
def test_client_names_in_chat_language_are_found(text: str, name: str) -> None:
    assert name in _names(text)


def test_a_place_attached_to_a_person_is_part_of_that_finding() -> None:
    assert _names("Fatima uit Zwijndrecht heeft het moeilijk.") == ["Fatima uit Zwijndrecht"]


@pytest.mark.parametrize(
    "text",
    [
        "In Zwijndrecht werken we met een vast wijkteam.",
        "De gemeente Dordrecht heeft de subsidie verlengd.",
        "Wij zitten in Rotterdam-Zuid en zien veel jonge moeders met schulden.",
        "We verwijzen door naar Fier.",
        "Het FACT-team kan pas over zes weken starten.",
        "Buurman doet de klusjes.",
        "Ze werkt 3 ochtenden per week bij de Albert Heijn om de hoek.",
        "We werken met Triple P en met de methode van Gordon.",
        "Het gezin komt uit Eritrea en spreekt Tigrinya.",
        "oma is ziek en de moeder van de jongen werkt veel",
        "Deze casus gaat over een jongere van 16 die steeds vaker spijbelt.",
        "Pff, wat een week. Drie crisismeldingen.",
        "Onze wijk (Tarwewijk) heeft veel jonge gezinnen.",
        "ik heb er een slecht gevoel over, misschein moet ik bellen",
        # an organisation's shape: an article before it, a capitalised ordinary word after it
        "De aanmelding bij het Xonar is rond.",
        "Morgen belt Kenter Jeugdhulp terug.",
    ],
)
def test_work_areas_organisations_and_ordinary_words_are_not_names(text: str) -> None:
    assert _names(text) == []


@pytest.mark.parametrize(
    "text",
    [
        # a care institution whose whole name is one word (deduce's list of institutions)
        "We hebben Victas gebeld over de opvang.",
        "Intermetzo doet de diagnostiek.",
        # language and country names (CLDR)
        "Hij spreekt Pasjtoe en een beetje Engels.",
        # a royal or saint's name is a district, street or school
        "Groetjes uit Prins Alexander!",
        "Ze gaat naar de Koningin Julianaschool.",
        # a word with a digit is a brand
        "Bindkracht10 doet het opbouwwerk.",
        # one of an enumeration with a known place or organisation
        "Heechterp en Schieringen zijn volop in beweging.",
        "De GGD en Stimulansz werken samen.",
        # a place of more than one word, whose words alone could be names
        "Wij werken voor Krimpen aan den IJssel en omliggende gemeenten.",
        "Peel en Maas heeft een nieuw armoedebeleid.",
        "Het team van Land van Maas en Waal denkt mee.",
        # a team or place word before it, "en omgeving" after it
        "Het buurtteam Heechterp is gestart.",
        "Deppenbroek en omgeving is ons werkgebied.",
        "wij zitten in crooswijk",
        # where one signs up or waits is an organisation
        "Hij staat op de wachtlijst bij Stimulansz.",
        # chat abbreviations
        "Idd, dat dacht ik ook.",
        # a known place or institution typed in lower case
        "wij werken in zwijndrecht en omstreken",
        "ik heb victas gebeld",
    ],
)
def test_gazetteers_and_shapes_keep_places_and_organisations_out(text: str) -> None:
    assert _names(text) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        # an enumeration of names stays names; a listed name next to a place too
        ("Yonas en Semhar komen morgen.", "Semhar"),
        ("Fatima en Zwijndrecht", "Fatima"),
        # a person cue before a place or institution name still makes it a name
        ("Meneer Victas belde terug.", "Victas"),
        ("Ik werk vandaag bij Semhar thuis.", "Semhar"),
        # an Arabic article in a lower-case surname
        ("nog even over al-masri: de huur is niet betaald", "al-masri"),
    ],
)
def test_names_next_to_places_and_organisations_are_still_found(text: str, name: str) -> None:
    assert name in _names(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("De oudste (12-05-2009) wil op zichzelf wonen.", "12-05-2009"),
        ("Het gaat om Selam (3 maart 2011).", "3 maart 2011"),
        ("Leeftijd 17, geboren op 04-06-2008.", "04-06-2008"),
        ("Moeder, geb. 1 mei 1990, heeft geen inkomen.", "1 mei 1990"),
    ],
)
def test_a_date_of_birth_in_context_blocks(text: str, value: str) -> None:
    found = [(f.category, text[f.start : f.end]) for f in check_text(text)]
    assert (Category.BIRTHDATE, value) in found


@pytest.mark.parametrize(
    "text",
    [
        "evaluatie op 18-11-2025, zet het in je agenda",
        "Op dinsdag 12 maart om 14:00 hebben we intervisie.",
        "Het MDO (12-03-2026) is verplaatst.",
        "Het gesprek (04-02-2026) ging over de schulden.",
    ],
)
def test_a_meeting_date_is_no_date_of_birth(text: str) -> None:
    assert check_text(text) == []


def test_a_street_with_a_house_number_blocks_on_its_own() -> None:
    text = "Het huis op de Parklaan 196 wordt ontruimd."
    found = [(f.category, text[f.start : f.end]) for f in check_text(text)]
    assert found == [(Category.POSTCODE, "Parklaan 196")]


@pytest.mark.parametrize("text", ["De Arbeidsmarkt 2025 is krap.", "In het Park 2 keer per week."])
def test_a_year_or_a_bare_suffix_word_is_no_address(text: str) -> None:
    assert check_text(text) == []


@pytest.mark.parametrize(
    "text",
    [
        # a kin word or form of address before the verb or the rest of the sentence
        "Moeder wil eerst zelf met school praten.",
        "vader kan pas na vijven bellen",
        "Meneer wil de brief eerst lezen.",
        "mevrouw kan niet op de fiets komen",
        "oma wil wel oppassen op woensdag",
        "opa rijdt ze naar de voetbal",
        "Zus belt de woningcorporatie zelf.",
        "meneer belt vanmiddag terug",
        "Vader wilde het plan niet tekenen.",
        "Mevrouw Zegt dat ze alles betaald heeft.",
        "Moeder Wil er niet over praten.",
        "de zoon van de buren past soms op",
        "Het gezin van de buren heeft geklaagd.",
        "Moeder van vier kinderen, net gescheiden.",
        "moeders vriend betaalt de huur",
        "gezin wil graag een grotere woning",
        # an age after a kin word or a word for a person
        "Zoon (15) blowt elke dag.",
        "Meisje (11) wordt gepest op school.",
        "De jongste (4) gaat naar de peuteropvang.",
        # possessives, chat words, stretched words, typos
        "Oma's flat is te klein voor vier kinderen.",
        "Jep, ik pak het op.",
        "Okidoki, tot morgen!",
        "Yesss, de toeslag is toegekend!",
        "ze snapt het neit en wil graga hulp",
        # function words, abbreviations in lower case
        "moeder zit sinds kort in de wsnp",
    ],
)
def test_kin_words_before_ordinary_words_are_no_names(text: str) -> None:
    assert _names(text) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        # a kin word or form of address, then a name that is also a Dutch word
        ("Oma Roos wil de kinderen opvangen.", "Roos"),
        ("oma riet past op de kinderen", "riet"),
        ("meneer bakker wil een betalingsregeling", "bakker"),
        ("mevrouw de wit kan niet komen", "de wit"),
        ("meneer smid heeft de brief getekend", "smid"),
        ("moeder fatima wil geen hulp", "fatima"),
        ("De zoon van Yonas wil niet naar school.", "Yonas"),
        # an age after a name that is also a word, or that no list has
        ("Riet (7) slaapt slecht.", "Riet"),
        ("selam (12) is weer weggelopen", "selam"),
        # a name one letter from a rare Dutch word is no typing error
        ("heb je selam nog gesproken?", "selam"),
    ],
)
def test_names_after_kin_words_and_in_lower_case_are_still_found(text: str, name: str) -> None:
    assert name in _names(text)


@pytest.mark.parametrize(
    "text",
    [
        "Ze heeft schulden bij Ymere, Intrum en Klarna.",
        "Flanderijn heeft beslag gelegd op het loon.",
        "Hij heeft een abonnement bij Odido en bestelt bij Zalando.",
        "Ze is Antilliaans-Nederlands en woont in Noord.",
    ],
)
def test_creditors_and_nationality_compounds_are_not_names(text: str) -> None:
    assert _names(text) == []
