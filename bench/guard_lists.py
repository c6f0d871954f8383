"""Build the name guard's word lists in ``handlers/privacy/data/`` (run by hand, output committed).

    .venv/bin/python bench/guard_lists.py FAKER_DIR DUTCH_WORDS ENGLISH_WORDS

FAKER_DIR is an unpacked Faker wheel (``pip download --no-deps faker``; MIT licence).
DUTCH_WORDS is ``/usr/share/dict/dutch`` from Debian's ``wdutch`` (OpenTaal, BSD or CC-BY 3.0)
and ENGLISH_WORDS ``/usr/share/dict/american-english`` from ``wamerican`` (SCOWL, permissive):
``apt-get download wdutch wamerican`` and ``dpkg-deb -x`` each. deduce's own name lists
come from the installed package (LGPL-3.0-or-later). See ``handlers/privacy/data/README.md``.
"""

from __future__ import annotations

import gzip
import importlib
import sys
import unicodedata
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "handlers" / "privacy" / "data"

# Faker person providers for the populations of Dutch cities, in Latin script.
FAKER_LOCALES = (
    "nl_NL", "nl_BE", "tr_TR", "az_AZ", "pl_PL", "fr_DZ", "fr_FR", "zh_CN", "zh_TW", "en_NG",
    "yo_NG", "ig_NG", "ha_NG", "tw_GH", "sw", "en_KE", "id_ID", "hi_IN", "en_IN", "en_PK",
    "ro_RO", "es", "es_ES", "pt_PT", "pt_BR", "en_US", "en_GB", "de_DE", "it_IT", "hr_HR",
    "cs_CZ", "sk_SK", "hu_HU", "lt_LT", "lv_LV", "ar_AA", "ar_PS", "ar_SA", "uz_UZ", "vi_VN",
)  # fmt: skip


def _latin(word: str) -> bool:
    return all(
        ch.isspace() or ch in "-'" or "LATIN" in unicodedata.name(ch, "") for ch in word
    ) and any(ch.isalpha() for ch in word)


def _values(value: object) -> list[str]:
    if isinstance(value, dict):
        return [str(k) for k in value]
    if isinstance(value, (tuple, list)):
        return [str(v) for v in value]
    return []


def _faker(faker_dir: Path) -> tuple[set[str], set[str]]:
    sys.path.insert(0, str(faker_dir))
    first: set[str] = set()
    last: set[str] = set()
    for locale in FAKER_LOCALES:
        module = importlib.import_module(f"faker.providers.person.{locale}")
        provider = module.Provider
        for attr in dir(provider):
            if "first_name" in attr or "first_romanized_name" in attr:
                first.update(_values(getattr(provider, attr)))
            elif "last_name" in attr or "last_romanized_name" in attr:
                last.update(_values(getattr(provider, attr)))
    return first, last


def _deduce(name: str) -> set[str]:
    import deduce

    base = Path(deduce.__file__).parent / "data" / "lookup" / "src" / "names" / name
    items = set((base / "items.txt").read_text(encoding="utf-8").splitlines())
    exceptions = base / "exceptions.txt"
    if exceptions.exists():
        items -= set(exceptions.read_text(encoding="utf-8").splitlines())
    return items


def _clean(names: set[str]) -> list[str]:
    kept = {n.strip().lower() for n in names if n.strip() and _latin(n.strip())}
    return sorted(n for n in kept if len(n) >= 2)


def _words(path: Path, *, lower: bool) -> list[str]:
    """Lower-case entries of a word list are ordinary words; capitalised ones are proper nouns
    (names, places, brands), which must not count as ordinary."""
    words: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        word = line.strip()
        if not word or "'" in word or not word.replace("-", "").isalpha():
            continue
        if lower and word == word.lower():
            words.add(word)
        elif not lower and word[0].isupper() and word[1:] == word[1:].lower():
            words.add(word.lower())
    return sorted(words)


def _write(name: str, lines: list[str]) -> None:
    with gzip.open(OUT / name, "wt", encoding="utf-8", compresslevel=9) as out:
        out.write("\n".join(lines) + "\n")
    print(f"{name}: {len(lines)}")


def main() -> None:
    faker_dir, dutch, english = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    faker_first, faker_last = _faker(faker_dir)
    _write("first_names.txt.gz", _clean(faker_first | _deduce("lst_first_name")))
    surnames = faker_last | _deduce("lst_surname") | _deduce("lst_interfix_surname")
    _write("surnames.txt.gz", _clean(surnames))
    _write("ordinary_words_nl.txt.gz", _words(dutch, lower=True))
    _write("proper_nouns_nl.txt.gz", _words(dutch, lower=False))
    _write("ordinary_words_en.txt.gz", _words(english, lower=True))


if __name__ == "__main__":
    main()
