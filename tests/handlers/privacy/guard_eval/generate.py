"""Write the guard's evaluation set: ``test.jsonl`` and ``dev.jsonl`` beside this file.

    .venv/bin/python -m tests.handlers.privacy.guard_eval.generate

Every line is one chat message: ``kind`` is ``name`` (it names a client), ``clean`` (it names
nobody and holds no identifier; any finding interrupts the writer for nothing) or ``hard`` (it
holds a hard identifier); ``category`` says which shape; ``spans`` mark the expected findings
(``person`` or a hard category) as character offsets. Fixed seeds: the files are the same on
every run. The two parts share no sentence shape and no name (see ``names.py`` and
``templates.py``).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from pathlib import Path

from tests.handlers.privacy.corpus import (
    bsn_written,
    email_written,
    iban_written,
    parse,
    phone_written,
)
from tests.handlers.privacy.guard_eval import names, templates

HERE = Path(__file__).parent
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# The test part is fixed; the dev part grew in the third round (new clean and name shapes),
# with more texts so that every shape of it is used.
COUNTS = {
    "test": {"name": 330, "clean": 330, "hard": 180},
    "dev": {"name": 380, "clean": 480, "hard": 180},
}
SEEDS = {"test": 1501, "dev": 1502}

_STREETS = (
    "Kerkstraat", "Dorpsweg", "Lindelaan", "Molenstraat", "Julianalaan", "Beukenlaan",
    "Schoolstraat", "Van Goghstraat", "Hoofdweg", "Rozensingel", "Parklaan", "Merelstraat",
    "Burgemeester de Withstraat", "Wilhelminakade", "Zuiderdijk", "Oranjeplein",
)  # fmt: skip
_MONTHS = (
    "januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
    "oktober", "november", "december",
)  # fmt: skip
_DAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag")


class _Values:
    def __init__(self, split: str, rng: random.Random) -> None:
        self.rng = rng
        self.split = split
        self.backgrounds = sorted(names.FIRST)
        self.turn = 0

    def person(self) -> tuple[str, str]:
        background = self.backgrounds[self.turn % len(self.backgrounds)]
        self.turn += 1
        first = self.rng.choice(names.half(names.FIRST[background], self.split))
        last = self.rng.choice(names.half(names.SURNAMES[background], self.split))
        return first, last

    def meeting_date(self) -> str:
        rng = self.rng
        day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.choice((2025, 2026))
        return rng.choice(
            (
                f"{day:02d}-{month:02d}-{year}",
                f"{day}-{month}-{year}",
                f"{day} {_MONTHS[month - 1]}",
                f"{rng.choice(_DAYS)} {day} {_MONTHS[month - 1]}",
                f"{day} {_MONTHS[month - 1]} {year} om {rng.randint(9, 16)}:00",
            )
        )

    def weekday_time(self) -> str:
        rng = self.rng
        day, month = rng.randint(1, 28), rng.randint(1, 12)
        return rng.choice(
            (
                f"Op {rng.choice(_DAYS)} {day} {_MONTHS[month - 1]} om {rng.randint(9, 16)}:00",
                f"{rng.choice(_DAYS).capitalize()} om {rng.randint(9, 16)}.30",
                f"Op {day}-{month} om {rng.randint(9, 16)}:15",
            )
        )

    def birth_date(self) -> str:
        rng = self.rng
        day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(1950, 2023)
        return rng.choice(
            (
                f"{day:02d}-{month:02d}-{year}",
                f"{day}-{month}-{year}",
                f"{day:02d}/{month:02d}/{year}",
                f"{day} {_MONTHS[month - 1]} {year}",
                f"{day:02d}.{month:02d}.{year}",
            )
        )

    def address(self) -> str:
        rng = self.rng
        return (
            f"{rng.choice(_STREETS)} {rng.choice((rng.randint(1, 240), f'{rng.randint(1, 80)}a'))}"
        )

    def postcode_number(self) -> str:
        rng = self.rng
        pc = f"{rng.randint(1000, 9999)} {''.join(rng.choice('ABEGHJKLMNPRTVXZ') for _ in 'xx')}"
        return rng.choice((f"{pc} {rng.randint(1, 200)}", f"{self.address()}, {pc}"))


def _initials(first: str, rng: random.Random) -> str:
    return first[0] + "." + (rng.choice("ABCDEHJKMNRS") + "." if rng.random() < 0.5 else "")


def _fill(template: str, values: _Values) -> str:
    rng = values.rng
    first, last = values.person()
    person = f"{first} {last}"
    simple: dict[str, Callable[[], str]] = {
        "P": lambda: f"⟦person|{person}⟧",
        "F": lambda: f"⟦person|{first}⟧",
        "S": lambda: f"⟦person|{last}⟧",
        "f": lambda: f"⟦person|{first.lower()}⟧",
        "s": lambda: f"⟦person|{last.lower()}⟧",
        "pf": lambda: f"⟦person|{person.lower()}⟧",
        "I": lambda: _initials(first, rng),
        "A": lambda: str(rng.randint(3, 19)),
        "C": lambda: rng.choice(names.half(names.WORK_AREAS, values.split)),
        "O": lambda: rng.choice(names.half(names.ORGANISATIONS, values.split)),
        "M": lambda: rng.choice(names.half(names.METHODS, values.split)),
        "W": lambda: rng.choice(names.DEV_DISTRICTS),
        "G": lambda: rng.choice(names.DEV_MORE_ORGANISATIONS),
        "V": lambda: f"⟦person|{rng.choice(names.DEV_WORD_FIRST)}⟧",
        "v": lambda: f"⟦person|{rng.choice(names.DEV_WORD_FIRST).lower()}⟧",
        "X": lambda: f"⟦person|{rng.choice(names.DEV_WORD_SURNAMES)}⟧",
        "x": lambda: f"⟦person|{rng.choice(names.DEV_WORD_SURNAMES).lower()}⟧",
        "J": lambda: rng.choice(names.DEV_ROLES),
        "Q": lambda: rng.choice(names.DEV_PROGRAMMES),
        "D": values.meeting_date,
        "T": values.weekday_time,
        "R": lambda: rng.choice(names.PERSON_REFS),
        "BSN": lambda: f"⟦bsn|{bsn_written(rng)}⟧",
        "IBAN": lambda: f"⟦iban|{iban_written(rng)}⟧",
        "PHONE": lambda: f"⟦phone|{phone_written(rng)}⟧",
        "EMAIL": lambda: f"⟦email|{email_written(rng)}⟧",
        "ADDR": lambda: f"⟦postcode|{values.address()}⟧",
        "PCNR": lambda: f"⟦postcode|{values.postcode_number()}⟧",
        "DOB": lambda: f"⟦birthdate|{values.birth_date()}⟧",
    }
    return PLACEHOLDER.sub(lambda m: simple[m.group(1)](), template)


def _part(kind: str, shapes: templates.Templates, values: _Values) -> list[dict[str, object]]:
    flat = [(category, shape) for category, group in shapes.items() for shape in group]
    rows: list[dict[str, object]] = []
    for index in range(COUNTS[values.split][kind]):
        category, shape = flat[index % len(flat)]
        marked = _fill(shape, values)
        if kind == "hard":
            # Names in hard texts are not scored there: only the hard identifier is.
            marked = re.sub(r"⟦person\|([^⟧]+)⟧", r"\1", marked)
        sample = parse(marked)
        rows.append(
            {
                "kind": kind,
                "category": category,
                "text": sample.text,
                "spans": [[e.category, e.start, e.end] for e in sample.expected],
            }
        )
    return rows


def build(split: str) -> list[dict[str, object]]:
    rng = random.Random(SEEDS[split])
    values = _Values(split, rng)
    prefix = "TEST" if split == "test" else "DEV"
    rows: list[dict[str, object]] = []
    for kind in ("name", "clean", "hard"):
        shapes: templates.Templates = getattr(templates, f"{prefix}_{kind.upper()}S")
        rows.extend(_part(kind, shapes, values))
    for number, row in enumerate(rows):
        row["id"] = f"{split}-{number:04d}"
    return rows


def main() -> None:
    for split in ("test", "dev"):
        with (HERE / f"{split}.jsonl").open("w", encoding="utf-8") as out:
            for row in build(split):
                out.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
