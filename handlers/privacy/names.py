"""Person names in Dutch chat messages of the sociaal domein, by name lists and context.

deduce (``handlers/privacy_deduce.py``) was built on psychiatric notes: properly capitalised
names, Dutch ones above all. Chat messages differ: names typed in lower case ("ik sprak met
fatima"), names from every background in Dutch cities, family references ("het gezin Darwish"),
kin words ("oma riet"), ages ("Yonas (14)"). This module finds those, with:

* name lists (first names and surnames, ``handlers/privacy/data/``, sources in its README);
* a list of ordinary Dutch words (OpenTaal) and English words, so that "Fier", "Buurman" or
  "oma is" are not read as names without a reason to;
* gazetteers, so that a municipality, region, district or organisation is not read as a
  person: deduce's place names (entries of more than one word matched as phrases) and its care
  institutions (a word in two names or more, or a one-word name), CLDR's names of languages and
  countries, and shapes: a title before a name ("Prins Alexander"), a team or place word before
  it ("buurtteam", "in"), "en omgeving" after it, an enumeration with a known place ("Heechterp
  en Schieringen"), "aangemeld bij";
* context: forms of address (meneer, mevrouw, dhr., mevr., de heer, initials), kin and family
  words (oma, tante, gezin, familie, "de moeder van"), an age in brackets after the word, the
  start of a sentence or a quote.

A capitalised word that is in no list of words at all, and not a place or an organisation, is
taken for a name: most names that no list knows (Tigrinya, Papiamentu, ...) look like that.

Places and institutions are not reported on their own: a municipality or organisation named as
where someone works identifies no client. A place right after a name ("Fatima uit Zwijndrecht")
is part of that person's finding. Only spans leave this module; no text is logged.
"""

from __future__ import annotations

import gzip
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

__all__ = ["NameFinder", "name_finder"]

DATA_DIR: Final = Path(__file__).with_name("data")

_WORD_RE: Final = re.compile(r"['’]t\b|[^\W\d_](?:[\w'’.\-]*[^\W_])?")
_SENTENCE_GAP_RE: Final = re.compile(r"[.!?:;\"“”‘'(\n•*@]\s*$|(?:^|\s)-\s*$")
_AGE_AFTER_RE: Final = re.compile(r"\s*\(\s*\d{1,2}\s*(?:jaar|jr\.?|j\.?)?\s*\)")
_INNER_CAPITAL_RE: Final = re.compile(r"(?<![-'’])(?<!^)[A-Z]")
_VOWEL_RE: Final = re.compile(r"[aeiouyàáâäèéêëìíîïòóôöùúûü]")
_REPEAT_RE: Final = re.compile(r"(.)\1+")
_INITIALS_RE: Final = re.compile(r"^[A-Z](?:\.[A-Z]){0,3}\.?$")
_ONE_WORD_RE: Final = re.compile(r"[^\W\d_][\w'’\-]*")

# Words after which the next name-like word is a person: forms of address, kin and family.
_ADDRESS: Final = frozenset(
    {"meneer", "mevrouw", "mevr", "mw", "dhr", "mr", "mijnheer", "heer", "juf", "meester",
     "mevr.", "dhr.", "mw.", "mr."}
)  # fmt: skip
_KIN: Final = frozenset(
    {"oma", "opa", "tante", "oom", "broer", "broertje", "zus", "zusje", "moeder", "vader",
     "zoon", "zoontje", "dochter", "dochtertje", "neef", "nicht", "stiefvader", "stiefmoeder",
     "stiefzoon", "stiefdochter", "halfbroer", "halfzus", "pleegmoeder", "pleegvader",
     "pleegzoon", "pleegdochter", "mama", "papa", "moeders", "vaders", "partner", "vriend",
     "vriendin", "ex", "echtgenoot", "echtgenote", "man", "vrouw", "baby", "kleinzoon",
     "kleindochter", "cliënt", "client", "cliënte", "jongen", "meisje", "jongere", "buurman",
     "buurvrouw", "schoonmoeder", "schoonvader", "grootmoeder", "grootvader", "overgrootmoeder"}
)  # fmt: skip
# Words for a person that an age in brackets follows as often as a name: "Jongen (15)".
_PERSON_WORDS: Final = frozenset(
    {"jongen", "meisje", "kind", "kindje", "oudste", "jongste", "middelste", "tweeling",
     "peuter", "kleuter", "tiener", "puber", "mevrouw", "meneer", "jongeman", "zwangere"}
)  # fmt: skip
_FAMILY: Final = frozenset({"gezin", "familie", "fam", "fam.", "families", "gezinnen"})
_CUE_WORDS: Final = frozenset(w.rstrip(".") for w in _ADDRESS | _KIN | _FAMILY)
# Words directly followed by a name even when that name is also an ordinary word ("Oma Riet",
# "meneer Visser", "gezin Bakker"); "Moeders Informeren" is no name.
_NAMING_WORDS: Final = frozenset(
    {"oma", "opa", "tante", "oom", "broer", "zus", "neef", "nicht", "mama", "papa", "meneer",
     "mevrouw", "mevr", "mw", "dhr", "mr", "mijnheer", "heer", "juf", "meester", "gezin",
     "familie", "fam"}
)  # fmt: skip
# Before a word, these make it a place or an organisation (a work area), not a person.
_PLACE_CUES: Final = frozenset(
    {"in", "gemeente", "regio", "wijk", "stadsdeel", "wijkteam", "vanuit", "provincie", "dorp",
     "stad", "buurt", "naar", "rond", "richting", "te", "stichting", "team", "teams", "uit"}
)  # fmt: skip
# Compounds ending so name a team or place before its name: "buurtteam", "jeugdteam",
# "buurthuis", "wijkcentrum", "werkgebied".
_PLACE_CUE_ENDINGS: Final = ("team", "teams", "wijk", "buurt", "huis", "centrum", "gebied")
# After a word, these make it a place: "Crooswijk en omgeving", "Beijum e.o.".
_PLACE_AFTER: Final = frozenset({"omgeving", "omstreken", "e.o", "e.o."})
_METHOD_WORDS: Final = frozenset(
    {"methode", "model", "training", "theorie", "aanpak", "schaal", "test", "principe", "cirkel"}
)
_PARTICLES: Final = frozenset(
    {"van", "de", "der", "den", "het", "'t", "’t", "ter", "ten", "te", "la", "le", "du", "da",
     "dos", "do", "el", "al", "ben", "bin", "ait", "abu", "bou", "tjon", "a", "von", "di", "del",
     "op", "in", "d'", "l'"}
)  # fmt: skip
# Endings of Dutch place and district names; a word that no name list knows and that ends so
# ("Tarwewijk", "Woensel") is more likely a place than a name.
_PLACE_SUFFIXES: Final = (
    "wijk", "dorp", "veld", "kamp", "polder", "haven", "waard", "land", "recht", "dam", "burg",
    "hoven", "horst", "broek", "woude", "meer", "zand", "hof", "sel", "veen", "oord", "vliet",
    "kerk", "stein", "rode", "hout", "huizen", "sloot", "gracht", "zijl", "dijk", "buurt",
)  # fmt: skip
# Before "bij X", these make X an organisation: people sign up, are employed and wait there
# ("werkt bij" is left out: one works at a client's home too).
_ORGANISATION_BEFORE_BIJ: Final = frozenset(
    {"aangemeld", "aanmelding", "werkzaam", "wachtlijst", "intake", "contactpersoon",
     "ingeschreven", "dienst", "wachttijd"}
)  # fmt: skip
# The article or kinship word that begins many Arabic and Berber surnames ("al-masri").
_ARABIC_PREFIXES: Final = frozenset({"al", "el", "abu", "abou", "bin", "ben", "ait", "ould"})
# A name right after one of these is part of a royal or saint's name, which names districts,
# streets and schools ("Prins Alexander", "Koningin Julianaschool", "Sint Maarten"), not a client.
_TITLES: Final = frozenset(
    {"prins", "prinses", "koning", "koningin", "sint", "st", "graaf", "gravin", "hertog",
     "keizer", "paus", "pater", "heilige"}
)  # fmt: skip
_CALENDAR_WORDS: Final = frozenset(
    {"januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
     "oktober", "november", "december", "maandag", "dinsdag", "woensdag", "donderdag",
     "vrijdag", "zaterdag", "zondag", "kerst", "pasen", "pinksteren", "ramadan", "suikerfeest",
     "offerfeest", "sinterklaas", "hoi", "beste", "allen", "top", "super", "fijn"}
)  # fmt: skip
_DIRECTIONS: Final = frozenset(
    {"noord", "zuid", "oost", "west", "centrum", "noordoost", "noordwest", "zuidoost", "zuidwest"}
)  # fmt: skip


def _read(name: str) -> frozenset[str]:
    with gzip.open(DATA_DIR / name, "rt", encoding="utf-8") as data:
        return frozenset(line for line in data.read().split("\n") if line)


def _read_text(name: str) -> frozenset[str]:
    lines = (DATA_DIR / name).read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().lower() for line in lines if line.strip() and not line.startswith("#")
    )


def _deduce_items(*parts: str) -> set[str]:
    """Items of one of deduce's lookup lists (with its sub-lists), lower case."""
    try:
        import deduce
    except ImportError:  # the basic guard runs without deduce
        return set()
    base = Path(deduce.__file__).parent / "data" / "lookup" / "src" / Path(*parts)
    items: set[str] = set()
    for path in base.rglob("items.txt"):
        items.update(line.strip().lower() for line in path.read_text(encoding="utf-8").splitlines())
    items.discard("")
    return items


@dataclass(frozen=True, slots=True)
class _Token:
    start: int
    end: int
    word: str
    lower: str
    gap: str  # the text between the previous token and this one


class NameFinder:
    """Finds person names; ``find`` returns ``(start, end)`` spans."""

    def __init__(self) -> None:
        self.first_names = _read("first_names.txt.gz")
        self.surnames = _read("surnames.txt.gz")
        self.dutch = _read("ordinary_words_nl.txt.gz")
        self.english = _read("ordinary_words_en.txt.gz")
        self.proper_nouns = _read("proper_nouns_nl.txt.gz") | _read("languages_countries.txt.gz")
        # deduce's Dutch function words ("wil", "kan", "heeft", "ben"): after a kin word or a
        # form of address they are the verb of the sentence ("moeder wil", "meneer kan"), though
        # the name lists have some of them.
        self.stop_words = frozenset(_deduce_items("whitelist", "lst_stop_word"))
        self.common_words = self.stop_words | _deduce_items("whitelist", "lst_common_word")
        places = _deduce_items("locations", "lst_placename")
        self.places = frozenset(
            places | {p.split("-")[0] for p in places if p.split("-")[0] not in self.dutch}
        )
        # Places of more than one word ("Capelle aan den IJssel", "Peel en Maas", "Land van
        # Zwentibold") are matched as phrases: their words alone may read as names.
        self.place_phrases = frozenset(" ".join(p.split()) for p in places if " " in p.strip())
        self.longest_place = max((p.count(" ") + 1 for p in self.place_phrases), default=1)
        names = self.first_names | self.surnames
        # Words that recur in the names of care institutions are their brands ("Parnassia",
        # "Cordaan", "Youz"); a word in one name only is as often a practitioner's surname.
        counts: Counter[str] = Counter()
        institutions = _deduce_items("institutions")
        for item in institutions:
            counts.update(
                {w for w in re.split(r"[\s\-/&,()]+", item) if len(w) > 2 and w.isalpha()}
            )
        recurring = {word for word, count in counts.items() if count >= 2}
        # An institution whose whole name is one word ("Victas", "Intermetzo") is a brand; a
        # practitioner's surname comes with more words ("Tandartspraktijk J. Nowak").
        brands = {item for item in institutions if _ONE_WORD_RE.fullmatch(item)}
        self.organisation_words = frozenset(
            ((recurring | brands) - names - self.dutch) | _read_text("organisations.txt")
        )

    # --- word classes ---

    def is_name(self, lower: str) -> bool:
        return lower in self.first_names or lower in self.surnames

    def is_ordinary(self, lower: str) -> bool:
        return lower in self.dutch or lower in self.english or lower in _PARTICLES

    def is_place_or_organisation(self, lower: str) -> bool:
        parts = lower.split("-")
        if lower in self.places or lower in self.organisation_words:
            return True
        # "Rotterdam-Zuid", "Amsterdam-Noord": a place with a direction.
        return len(parts) > 1 and parts[0] in self.places and parts[-1] in _DIRECTIONS

    def is_compound(self, lower: str) -> bool:
        """A Dutch compound ("schuldhulptraject"): not a name, though in no list."""
        words = self.dutch
        for cut in range(4, len(lower) - 3):
            left, right = lower[:cut], lower[cut:]
            if left in words and (
                right in words or (right[:1] in "s" and right[1:] in words) or right in self.english
            ):
                return True
            # "Multisysteem": a prefix the list lacks, before a long Dutch word.
            if len(right) >= 6 and right in words:
                return True
        # "Bospolder", "Bloemhof": two short Dutch words make a place name as often.
        if len(lower) >= 8:
            for cut in range(3, len(lower) - 2):
                if lower[:cut] in words and lower[cut:] in words:
                    return True
        return False

    def _stretched_word(self, lower: str) -> bool:
        """ "yess", "jaaa", "suuuper": chat stretches a word by repeating a letter."""
        squeezed = _REPEAT_RE.sub(r"\1", lower)
        return squeezed != lower and (
            self.is_ordinary(squeezed) or self.is_ordinary(_REPEAT_RE.sub(r"\1\1", lower))
        )

    def verb_form(self, lower: str) -> bool:
        """ "belt", "rijdt", "woont", "gaat", "belde", "werkten": a finite verb, by its ending
        and an infinitive in the Dutch word list (or a plural noun of the same shape)."""
        words = self.dutch
        if lower.endswith(("de", "te")):
            stem = lower[:-2]
        elif lower.endswith(("den", "ten")):
            stem = lower[:-3]
        elif lower.endswith("t"):
            stem = lower[:-1]
        else:
            return False
        if len(stem) < 2:
            return False
        candidates = {stem + "en", stem + "n", stem + stem[-1] + "en"}
        if len(stem) >= 3 and stem[-3] == stem[-2] and stem[-2] in "aeou":
            candidates.add(stem[:-2] + stem[-1] + "en")  # "woon" -> "wonen"
        if stem[-1] in "fs":
            softer = stem[:-1] + ("v" if stem[-1] == "f" else "z")
            candidates |= {softer + "en"}
            if len(softer) >= 3 and softer[-3] == softer[-2] and softer[-2] in "aeou":
                candidates.add(softer[:-2] + softer[-1] + "en")  # "leest" -> "lezen"
        return any(c in words for c in candidates)

    def is_typo(self, lower: str) -> bool:
        """A typing error, not a name: two letters swapped ("graga", "neit"), or one letter
        wrong, missing or extra ("misschein"). For the latter the Dutch word must have six
        letters or more, or be a common one (deduce's list): "selam" is one letter from
        "sesam" and "slam", which nobody mistypes it for."""
        words = self.dutch
        common = self.common_words
        letters = "abcdefghijklmnopqrstuvwxyzëéèïöüáó"

        def known(word: str) -> bool:
            return word in words and (len(word) >= 6 or word in common)

        for i in range(len(lower) - 1):
            if lower[:i] + lower[i + 1] + lower[i] + lower[i + 2 :] in words:
                return True
        if len(lower) < 5:
            return False
        for i in range(len(lower) + 1):
            if i < len(lower) and known(lower[:i] + lower[i + 1 :]):
                return True
            for ch in letters:
                if i < len(lower) and known(lower[:i] + ch + lower[i + 1 :]):
                    return True
                if known(lower[:i] + ch + lower[i:]):
                    return True
        return False

    def _unknown_capitalised(self, token: _Token) -> bool:
        word, lower = token.word, token.lower
        if not _VOWEL_RE.search(lower):
            return False  # "Pff", "Hmm"
        if self._stretched_word(lower):
            return False  # "Yess", "Jaaa": an ordinary word with a letter typed twice
        if lower.endswith(("'s", "’s")) and (
            lower[:-2] in _CUE_WORDS or self.is_ordinary(lower[:-2])
        ):
            return False  # "Oma's huis", "Moeders partner"
        if len(word) < 3 or word.isupper() or _INNER_CAPITAL_RE.search(word):
            return False  # "MDO", "SchuldHulpMaatje" (but "Al-Hassan" may be a name)
        if any(ch.isdigit() for ch in word):
            return False  # "Bindkracht10", "Fysio2all": brands, no name has a digit
        parts = [p for p in lower.split("-") if p]
        if len(parts) > 1 and any(
            self.is_ordinary(p)
            or p in self.places
            or (p in self.proper_nouns and not self.is_name(p))
            for p in parts
        ):
            return False  # "FACT-team", "Velve-Lindenhof", "Marokkaans-Nederlands"
        return not (
            self.is_ordinary(lower)
            or lower in self.proper_nouns
            or self.is_place_or_organisation(lower)
            or self.is_compound(lower)
            or lower.endswith(_PLACE_SUFFIXES)
        )

    def _unknown_lower(self, lower: str) -> bool:
        """A lower-case word in no list at all, and not a compound or typo of a Dutch word."""
        return (
            len(lower) >= 4
            and lower.isalpha()
            and _VOWEL_RE.search(lower) is not None  # "wsnp", "ggz": abbreviations
            and not self._stretched_word(lower)
            and not self.is_ordinary(lower)
            and lower not in self.proper_nouns
            and lower not in self.places
            and not self.is_compound(lower)
            and not self.is_typo(lower)
        )

    def confirms(self, text: str, start: int, end: int) -> bool:
        """Whether a name that another annotator (deduce) found in ``text[start:end]`` holds up:
        some word in it can be a name here, not a place, organisation or ordinary word."""
        tokens = _tokens(text)
        inside = [t for t in tokens if t.start < end and start < t.end]
        in_place = self._place_phrases(tokens)
        if any(t.lower in self.organisation_words for t in inside):
            return False  # "de Albert Heijn"
        for i, token in enumerate(tokens):
            if token.end <= start or token.start >= end or token.lower in _PARTICLES:
                continue
            if self._method_before(tokens, i):
                return False
            if (
                _place_context(tokens, i)
                or "-" in token.word
                or self._organisation_shape(tokens, i)
            ):
                continue
            if _after_title(tokens, i) or in_place[i] or _organisation_context(tokens, i):
                continue
            if self.is_place_or_organisation(token.lower) or self.is_ordinary(token.lower):
                continue
            if self.is_name(token.lower) or (
                token.word[:1].isupper() and self._unknown_capitalised(token)
            ):
                return True
        return False

    @staticmethod
    def _method_before(tokens: list[_Token], i: int) -> bool:
        """ "de methode van Gordon": a method named after its author, not a client."""
        while i > 0 and tokens[i - 1].lower in _PARTICLES - {"van"}:
            i -= 1
        return i >= 2 and tokens[i - 1].lower == "van" and tokens[i - 2].lower in _METHOD_WORDS

    def _organisation_shape(self, tokens: list[_Token], i: int) -> bool:
        """ "het Xonar", "de Bijlmer": Dutch puts no article before a person's name (a surname
        with its own "de" is in the lists). "Kenter Jeugdhulp", "Sterk Huis": a word followed by
        a capitalised ordinary word is an organisation's name."""
        article = i > 0 and _joined(tokens[i]) and tokens[i - 1].word in ("de", "het", "een")
        if article and not self.is_name(tokens[i].lower):
            return True
        if i + 1 < len(tokens) and _joined(tokens[i + 1]):
            nxt = tokens[i + 1]
            return (
                nxt.word[:1].isupper()
                and not nxt.word.isupper()
                and self.is_ordinary(nxt.lower)
                and not self.is_name(nxt.lower)
                and nxt.lower not in _PARTICLES
            )
        return False

    def _place_phrases(self, tokens: list[_Token]) -> list[bool]:
        """Which tokens belong to a place name of more than one word."""
        marked = [False] * len(tokens)
        for i in range(len(tokens)):
            for n in range(min(self.longest_place, len(tokens) - i), 1, -1):
                words = tokens[i : i + n]
                if not all(_joined(t) for t in words[1:]):
                    continue
                if " ".join(t.lower for t in words) in self.place_phrases:
                    marked[i : i + n] = [True] * n
                    break
        return marked

    def _coordinated_with_known(self, tokens: list[_Token], i: int) -> bool:
        """ "Heechterp en Schieringen", "Dari en Pashtoe", "Lewenborg, Beijum": a word that no
        list knows, next to a place, organisation or language of the same enumeration (known
        from a list or by its shape), is one of those too."""
        neighbours: list[int] = []
        for side in (-1, 1):
            k = i + side
            if 0 <= k < len(tokens) and tokens[max(i, k)].gap.strip() == ",":
                neighbours.append(k)  # "Lewenborg, Beijum"
            j = i + 2 * side
            if 0 <= j < len(tokens) and tokens[k].lower in ("en", "of", "&"):
                neighbours.append(j)  # "Heechterp en Schieringen"
        for j in neighbours:
            other = tokens[j]
            if not other.word[:1].isupper() or self.is_name(other.lower):
                continue
            if self.is_ordinary(other.lower) and not other.word.isupper():
                continue  # "Gisteren en Yonas"
            # A place, organisation or language, by a list or by its shape ("GGD", "Kattenbroek").
            if not self._name_like_capitalised(other):
                return True
        return False

    def _first_and_surname(self, tokens: list[_Token], i: int) -> int:
        """ "Roos van Dijk", "Kim Peters": a capitalised first name, then particles and a
        capitalised surname, is a name even when both are also ordinary words. Returns the
        index of the surname, or -1."""
        first = tokens[i]
        if first.lower not in self.first_names or first.lower in _PARTICLES or len(first.word) < 3:
            return -1
        k = i + 1
        while k < len(tokens) and tokens[k].lower in _PARTICLES and _joined(tokens[k]):
            k += 1
        if k >= len(tokens) or not _joined(tokens[k]) or not tokens[k].word[:1].isupper():
            return -1
        surname = tokens[k]
        if surname.word.isupper() or surname.lower in self.organisation_words:
            return -1
        if surname.lower in self.surnames or (
            k > i + 1 and not self.is_place_or_organisation(surname.lower)
        ):
            return k
        return -1

    # --- finding ---

    def find(self, text: str) -> list[tuple[int, int]]:
        tokens = _tokens(text)
        person = [False] * len(tokens)
        cue_taken = [False] * len(tokens)  # names after a form of address or kin word
        in_place = self._place_phrases(tokens)
        for i, token in enumerate(tokens):
            if person[i]:
                continue
            cued = i > 0 and not _SENTENCE_GAP_RE.search(token.gap) and self._cue_before(tokens, i)
            if cued and self._take_cued(tokens, i, person, cue_taken):
                continue
            if cued and token.lower in self.stop_words:
                continue  # "Moeder Wil niet": the verb, typed with a capital
            if in_place[i]:
                continue
            if _AGE_AFTER_RE.match(text, token.end) and self._could_be_name(token):
                person[i] = True
                continue
            capitalised = token.word[:1].isupper()
            if capitalised:
                if _INITIALS_RE.match(token.word) and i + 1 < len(tokens):
                    k = i + 1
                    while k + 1 < len(tokens) and tokens[k].lower in _PARTICLES:
                        k += 1
                    nxt = tokens[k]
                    if (
                        token.word.endswith(".")
                        and nxt.word[:1].isupper()
                        and not nxt.word.isupper()
                        and (self.is_name(nxt.lower) or not self.is_ordinary(nxt.lower))
                    ):
                        for index in range(i, k + 1):
                            person[index] = True
                    continue
                if _place_context(tokens, i) or _organisation_context(tokens, i):
                    continue  # "in Hatert", "de wijk (Hatert)", "aangemeld bij Lumens"
                if _after_title(tokens, i):
                    continue
                if self._method_before(tokens, i):
                    continue
                surname = self._first_and_surname(tokens, i)
                if surname > 0:
                    for index in range(i, surname + 1):
                        person[index] = True
                    continue
                mid_sentence = i > 0 and not _SENTENCE_GAP_RE.search(token.gap)
                if self._organisation_shape(tokens, i):
                    continue
                if self._name_like_capitalised(token, mid_sentence=mid_sentence):
                    if not self.is_name(token.lower) and self._coordinated_with_known(tokens, i):
                        continue
                    person[i] = True
            elif self._lower_case_name(token.lower) and not _place_context(tokens, i):
                person[i] = True
        self._grow(tokens, person, in_place)
        return self._spans(text, tokens, person, cue_taken)

    def _lower_case_name(self, lower: str) -> bool:
        """ "fatima": in a name list and no ordinary word, or in no list at all."""
        if self.is_place_or_organisation(lower):
            return False  # "in zwijndrecht", "bij victas": a name only after a cue
        prefix, _, rest = lower.partition("-")
        if prefix in _ARABIC_PREFIXES and rest.isalpha() and len(rest) >= 3:
            return not self.is_ordinary(rest)  # "al-masri", "el-amrani"
        if len(lower) >= 3 and self.is_name(lower) and not self.is_ordinary(lower):
            return True
        return self._unknown_lower(lower)

    def _could_be_name(self, token: _Token) -> bool:
        """Before an age in brackets: a name, not a kin word or a word for a person ("Zoon
        (14)", "De oudste (17)")."""
        lower = token.lower
        if lower in _CUE_WORDS or lower in _PERSON_WORDS:
            return False
        if token.word[:1].isupper():
            return not self.is_place_or_organisation(lower)
        return self.is_name(lower) or not self.is_ordinary(lower)

    def _name_like_capitalised(self, token: _Token, *, mid_sentence: bool = False) -> bool:
        lower = token.lower
        if token.word.isupper():
            return False
        if self.is_ordinary(lower):
            # Dutch writes ordinary words in lower case mid-sentence; a capitalised one that
            # the Dutch list also knows as a first name ("Kim", "Roos", "Mila") is that name.
            return (
                mid_sentence
                and len(lower) >= 3
                and lower in self.first_names
                and lower in self.proper_nouns
                and lower not in _CALENDAR_WORDS
                and not self.is_place_or_organisation(lower)
            )
        if self.is_place_or_organisation(lower):
            return False
        if self.is_name(lower):
            return True
        return self._unknown_capitalised(token)

    def _cue_before(self, tokens: list[_Token], i: int) -> bool:
        prev = tokens[i - 1].lower
        prev_bare = prev.rstrip(".")
        if prev in _ADDRESS or prev_bare in _ADDRESS or prev_bare in _FAMILY or prev in _FAMILY:
            return True
        if prev_bare in _KIN:
            return True
        # "de moeder van Fatima", "de broer van yonas"
        return prev == "van" and i >= 2 and tokens[i - 2].lower in _KIN

    def _take_cued(
        self, tokens: list[_Token], i: int, person: list[bool], cue_taken: list[bool]
    ) -> bool:
        """After a cue: optional initials and particles, then the name."""
        cue = tokens[i - 1].lower.rstrip(".")
        if (
            tokens[i].lower == "van"
            and tokens[i - 1].lower.rstrip(".") in _KIN
            and i + 1 < len(tokens)
            and tokens[i + 1].lower not in _PARTICLES
        ):
            i += 1  # "de moeder van Yonas"
            if i >= len(tokens):
                return False
        j = i
        while j < len(tokens) and _INITIALS_RE.match(tokens[j].word):
            j += 1
        k = j
        while k < len(tokens) and tokens[k].lower in _PARTICLES and k - j < 3:
            k += 1
        if k >= len(tokens) or not all(_joined(t) for t in tokens[i : k + 1]):
            return False
        head = tokens[k]
        with_particles = k > j
        # A multi-word surname from the lists: "van der laan".
        joined = " ".join(t.lower for t in tokens[j : k + 1])
        lower = head.lower
        if head.word[:1].isupper():
            ok = not head.word.isupper() or len(head.word) > 3
            if self.is_ordinary(lower) and not self.is_name(lower) and not with_particles:
                ok = tokens[k - 1].lower.rstrip(".") in _NAMING_WORDS
            if lower in self.stop_words and not with_particles and cue not in _NAMING_WORDS:
                ok = False  # "Moeder Wil niet": a verb typed with a capital
            if self.is_ordinary(lower) and not self.is_name(lower) and self.verb_form(lower):
                ok = False  # "Mevrouw Zegt dat ..."
        else:
            ok = (
                self.is_name(lower)
                or joined in self.surnames
                or (with_particles and self.is_name(lower))
                or (not self.is_ordinary(lower) and lower not in self.places and len(lower) > 2)
            )
            if with_particles and not (self.is_name(lower) or joined in self.surnames):
                ok = ok and not self.is_ordinary(lower)
            # An ordinary word in lower case after a cue is the rest of the sentence ("moeder
            # wil", "opa rijdt", "de zoon van de buren"), unless it is a surname with its
            # particles ("van der laan") or a word Dutch also writes as a name ("oma riet",
            # "meneer bakker"); a function word ("wil", "kan") never is.
            if self.is_ordinary(lower) and not (with_particles and joined in self.surnames):
                if lower in self.stop_words or with_particles:
                    ok = False
                elif self.verb_form(lower) and lower not in self.first_names:
                    ok = False  # "vader wilde", "meneer belt"
                elif lower not in self.proper_nouns and lower not in self.first_names:
                    # After a form of address or a family word a surname is expected, and an
                    # ordinary word in the surname list is one ("meneer smid", "gezin zomer");
                    # after a kin word it is the rest of the sentence ("moeder van drie
                    # kinderen", "moeders vriend"). A verb is never a name ("meneer belt").
                    ok = (
                        (cue in _ADDRESS or cue in _FAMILY)
                        and lower in self.surnames
                        and not self.verb_form(lower)
                    )
        if not ok:
            return False
        start = i if j > i or with_particles else k
        for index in range(start, k + 1):
            person[index] = cue_taken[index] = True
        return True

    def _grow(self, tokens: list[_Token], person: list[bool], in_place: list[bool]) -> None:
        """Extend names over the words next to them: "Kees Hendriks", "Tjon A Fong",
        "semhar ghebremedhin", "van der Laan"."""
        changed = True
        while changed:
            changed = False
            for i in range(len(tokens)):
                if person[i] or in_place[i]:
                    continue
                left = i > 0 and person[i - 1] and _joined(tokens[i])
                right = i + 1 < len(tokens) and person[i + 1] and _joined(tokens[i + 1])
                if not (left or right):
                    continue
                if self._joins_name(tokens, i, left=bool(left), right=bool(right)):
                    person[i] = True
                    changed = True

    def _joins_name(self, tokens: list[_Token], i: int, *, left: bool, right: bool) -> bool:
        token = tokens[i]
        lower = token.lower
        if lower.rstrip(".") in _CUE_WORDS or (
            lower.endswith(".") and not _INITIALS_RE.match(token.word)
        ):
            return False
        if lower == "van" and i > 0 and tokens[i - 1].lower.rstrip(".") in _CUE_WORDS:
            return False  # "de moeder van Yonas": Yonas is the name
        if token.word[:1].isupper():
            if token.word.isupper() and len(token.word) > 1:
                return False
            if self.is_name(lower) or _INITIALS_RE.match(token.word):
                return True
            if lower in _PARTICLES:
                return right and not _INITIALS_RE.match(tokens[i + 1].word)
            # Next to a name, a capitalised word that is no ordinary word or place is part of
            # it ("Paweł Nowak"), even when an institution carries the same word.
            return not self.is_ordinary(lower) and lower not in self.places
        if lower in _PARTICLES:
            # a lower-case particle inside a name: "Fatima el Amrani", "jan van dijk"; not one
            # before initials ("de brief van A. Bakker")
            return right and not _INITIALS_RE.match(tokens[i + 1].word)
        return (self.is_name(lower) and not self.is_ordinary(lower)) or (
            left
            and not self.is_ordinary(lower)
            and lower not in self.proper_nouns
            and len(lower) > 3
        )

    def _spans(
        self, text: str, tokens: list[_Token], person: list[bool], cue_taken: list[bool]
    ) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        i = 0
        while i < len(tokens):
            if not person[i]:
                i += 1
                continue
            j = i
            while j + 1 < len(tokens) and person[j + 1] and _joined(tokens[j + 1]):
                j += 1
            # Particles do not end a name ("Fatima el" -> "Fatima").
            while j > i and tokens[j].lower in _PARTICLES:
                j -= 1
            start, end = tokens[i].start, tokens[j].end
            name_end = j
            if tokens[i].lower in _PARTICLES and i == j:
                i = j + 1
                continue
            # "Fatima uit Zwijndrecht", "Fatima in Zwolle": the place belongs to the person's
            # finding.
            if (
                j + 2 < len(tokens)
                and tokens[j + 1].lower in ("uit", "van", "in")
                and _joined(tokens[j + 1])
                and _joined(tokens[j + 2])
                and tokens[j + 2].word[:1].isupper()
                and (self.is_place_or_organisation(tokens[j + 2].lower))
            ):
                end = tokens[j + 2].end
                j += 2
            # "de Albert Heijn" is no person; "meneer Victas" is, whatever the lists say.
            if any(cue_taken[i : name_end + 1]) or not any(
                t.lower in self.organisation_words for t in tokens[i : name_end + 1]
            ):
                spans.append((start, start + len(text[start:end].rstrip("."))))
            i = j + 1
        return spans


def _place_context(tokens: list[_Token], i: int) -> bool:
    """A word right after a place cue ("in", "wijk", "buurtteam") or before "en omgeving"."""
    token = tokens[i]
    if i > 0 and token.gap.strip() in ("", "("):
        previous = tokens[i - 1].lower
        if previous in _PLACE_CUES or (len(previous) > 6 and previous.endswith(_PLACE_CUE_ENDINGS)):
            return True
    after = [t.lower for t in tokens[i + 1 : i + 3]]
    return (len(after) == 2 and after[0] == "en" and after[1] in _PLACE_AFTER) or (
        len(after) >= 1 and after[0] in _PLACE_AFTER
    )


def _organisation_context(tokens: list[_Token], i: int) -> bool:
    """ "aangemeld bij Ixta Noa", "de wachtlijst bij Stimulansz": where one signs up, works or
    waits is an organisation."""
    return (
        i >= 2
        and _joined(tokens[i])
        and tokens[i - 1].lower == "bij"
        and _joined(tokens[i - 1])
        and tokens[i - 2].lower in _ORGANISATION_BEFORE_BIJ
    )


def _after_title(tokens: list[_Token], i: int) -> bool:
    """ "Prins Alexander", "Sint Maarten": the name of a district, street or school."""
    if i == 0 or not _joined(tokens[i]):
        return False
    title = tokens[i - 1]
    return title.word[:1].isupper() and title.lower.rstrip(".") in _TITLES


def _joined(token: _Token) -> bool:
    """Only blanks between this token and the previous one."""
    return token.gap in (" ", "\u00a0")


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    last = 0
    for match in _WORD_RE.finditer(text):
        word = match.group()
        start, end = match.start(), match.end()
        # A trailing dot belongs to the sentence, except for initials and abbreviations.
        if (
            word.endswith(".")
            and not _INITIALS_RE.match(word)
            and word.rstrip(".").lower() not in (_ADDRESS | _FAMILY)
        ):
            word = word.rstrip(".")
            end = start + len(word)
        elif text[end : end + 1] == "." and (
            _INITIALS_RE.match(word) or word.lower() + "." in _ADDRESS | _FAMILY
        ):
            word += "."
            end += 1
        tokens.append(_Token(start, end, word, word.lower(), text[last:start]))
        last = end
    return tokens


@cache
def name_finder() -> NameFinder:
    """The process-wide finder (its lists take a moment to read)."""
    return NameFinder()


def find_names(texts: Iterable[str]) -> list[list[tuple[int, int]]]:
    finder = name_finder()
    return [finder.find(text) for text in texts]
