"""The strict guard on its own evaluation set (``tests/handlers/privacy/guard_eval``, issue #15).

``bench/guard.py`` prints the full figures. This test keeps the set honest (size, no name or
sentence shape shared between the parts) and holds the guard to the issue's goals on the test
part (names ≥ 97%, clean texts interrupted ≤ 1%, hard identifiers ≥ 99.5% with ≤ 0.5% false
alarms), so a change that loses ground fails here; see docs/privacy.md for the figures.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from handlers.privacy.deduce import DeduceGuard
from handlers.privacy.guard import Category, is_soft
from tests.handlers.privacy.guard_eval import names, templates

EVAL_DIR = Path(__file__).parent / "guard_eval"


def _rows(split: str) -> list[dict[str, Any]]:
    with (EVAL_DIR / f"{split}.jsonl").open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


@pytest.mark.parametrize("split", ["dev", "test"])
def test_each_part_has_300_named_and_300_clean_texts(split: str) -> None:
    kinds = Counter(row["kind"] for row in _rows(split))
    assert kinds["name"] >= 300 and kinds["clean"] >= 300 and kinds["hard"] >= 150


def test_the_parts_share_no_name_and_no_sentence_shape() -> None:
    for pool in (*names.FIRST.values(), *names.SURNAMES.values()):
        assert not set(names.half(pool, "dev")) & set(names.half(pool, "test"))
    for kind in ("NAMES", "CLEANS", "HARDS"):
        dev: templates.Templates = getattr(templates, f"DEV_{kind}")
        test: templates.Templates = getattr(templates, f"TEST_{kind}")
        shapes = {s for group in dev.values() for s in group}
        assert not shapes & {s for group in test.values() for s in group}
    assert sum(len(g) for g in templates.TEST_NAMES.values()) >= 60
    assert sum(len(g) for g in templates.TEST_CLEANS.values()) >= 50


def test_the_eval_files_are_what_the_generator_writes() -> None:
    from tests.handlers.privacy.guard_eval.generate import build

    for split in ("dev", "test"):
        built = build(split)
        assert [json.loads(json.dumps(row)) for row in built] == _rows(split)


def test_the_strict_guard_on_the_test_part(strict_guard: DeduceGuard) -> None:
    rows = _rows("test")
    names_found = names_total = hard_found = hard_total = 0
    interrupted = clean = alarms = not_hard = 0
    for row in rows:
        findings = strict_guard.check({"text": row["text"]})
        if row["kind"] != "hard":
            not_hard += 1
            alarms += any(not is_soft(f.category) for f in findings)
        if row["kind"] == "clean":
            clean += 1
            interrupted += bool(findings)
            continue
        for label, start, end in row["spans"]:
            want = Category.PERSON if label == "person" else Category(label)
            hit = any(f.category is want and f.start < end and start < f.end for f in findings)
            if label == "person":
                names_total += 1
                names_found += hit
            else:
                hard_total += 1
                hard_found += hit
    assert hard_found / hard_total >= 0.995
    assert alarms / not_hard <= 0.005
    assert names_found / names_total >= 0.97, (names_found, names_total)
    assert interrupted / clean <= 0.01, (interrupted, clean)


def test_no_text_in_the_set_is_empty_or_unmarked() -> None:
    for split in ("dev", "test"):
        for row in _rows(split):
            assert row["text"].strip()
            assert bool(row["spans"]) is (row["kind"] != "clean")
            assert not re.search(r"[⟦⟧{}]", row["text"])


def test_the_name_finder_logs_nothing_about_the_texts(caplog: pytest.LogCaptureFixture) -> None:
    """Every shape of both parts through the name finder and the structured guard at DEBUG (the
    worker process runs the same code; tests/bot/test_privacy_logs.py scans the flows): no log
    record carries a name that was found, or any other part of a text."""
    from handlers.privacy.guard import StructuredGuard
    from handlers.privacy.names import name_finder

    finder = name_finder()
    structured = StructuredGuard()
    caplog.set_level(logging.DEBUG)
    found: set[str] = set()
    for split in ("dev", "test"):
        for row in _rows(split):
            text = row["text"]
            found.update(text[start:end] for start, end in finder.find(text))
            structured.check({"text": text})
    assert found
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert not [name for name in found if len(name) > 3 and name in logged]
    assert not [r for r in caplog.records if r.name.startswith("handlers.privacy")]
