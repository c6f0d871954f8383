"""The privacy guard on its evaluation set: recall per category, interruptions, speed, memory.

    .venv/bin/python bench/guard.py                 # both parts, strict guard (deduce)
    .venv/bin/python bench/guard.py --split test --guard basic

The set is ``tests/handlers/privacy/guard_eval/{dev,test}.jsonl`` (written by
``tests/handlers/privacy/guard_eval/generate.py``). Tune on ``dev``; ``test`` is only measured.

* client names: a name counts as caught when a PERSON finding overlaps it;
* clean texts: interrupted when the guard reports anything (soft or hard);
* hard identifiers: caught when a finding of the same category overlaps it; a false alarm is a
  clean or name text with any hard finding;
* latency: wall time of one ``check`` of one text, after the guard is ready;
* memory: resident set of the deduce worker (VmRSS and its peak VmHWM) and of this process.

Goals (issue #15, on ``test``): names ≥ 97%, clean interrupted ≤ 1%, hard ≥ 99.5% with
≤ 0.5% false alarms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from handlers.privacy.guard import Category, Finding, PrivacyGuard, StructuredGuard, is_soft

EVAL_DIR = Path(__file__).resolve().parents[1] / "tests" / "handlers" / "privacy" / "guard_eval"


def _status(pid: int) -> dict[str, int]:
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) // 1024
    return values


def _overlaps(finding: Finding, start: int, end: int) -> bool:
    return finding.start < end and start < finding.end


def evaluate(guard: PrivacyGuard, rows: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    expected: Counter[str] = Counter()
    found: Counter[str] = Counter()
    clean = interrupted = 0
    interrupted_by: Counter[str] = Counter()
    not_hard_texts = hard_alarms = 0
    latencies: list[float] = []
    missed: list[str] = []
    for row in rows:
        began = time.perf_counter()
        findings = guard.check({"text": row["text"]})
        latencies.append(time.perf_counter() - began)
        kind = row["kind"]
        if kind != "hard":
            not_hard_texts += 1
            hard_alarms += any(not is_soft(f.category) for f in findings)
        if kind == "clean":
            clean += 1
            if findings:
                interrupted += 1
                interrupted_by[row["category"]] += 1
                missed.append(
                    f"  clean interrupted: {row['id']} {[f.category.value for f in findings]}"
                )
            continue
        for label, start, end in row["spans"]:
            key = f"{kind}/{row['category']}" if kind == "name" else f"hard/{label}"
            want = Category.PERSON if label == "person" else Category(label)
            expected[key] += 1
            if any(f.category is want and _overlaps(f, start, end) for f in findings):
                found[key] += 1
            else:
                missed.append(f"  missed {key}: {row['id']}")
    lines = [f"{'category':<26} {'found':>6} {'of':>5} {'recall':>8}"]
    for prefix in ("name/", "hard/"):
        keys = sorted(k for k in expected if k.startswith(prefix))
        for key in keys:
            lines.append(
                f"{key:<26} {found[key]:>6} {expected[key]:>5} {found[key] / expected[key]:>8.1%}"
            )
        total_found = sum(found[k] for k in keys)
        total = sum(expected[k] for k in keys)
        label = "ALL client names" if prefix == "name/" else "ALL hard identifiers"
        lines.append(f"{label:<26} {total_found:>6} {total:>5} {total_found / total:>8.1%}")
    lines.append(
        f"clean texts interrupted (soft or hard): {interrupted}/{clean} = {interrupted / clean:.1%}"
        + (f"  by category: {dict(interrupted_by)}" if interrupted_by else "")
    )
    lines.append(
        f"hard false alarms (clean + name texts with a hard finding): "
        f"{hard_alarms}/{not_hard_texts} = {hard_alarms / not_hard_texts:.2%}"
    )
    ms = sorted(1000 * x for x in latencies)
    lines.append(
        f"latency per text: mean {statistics.fmean(ms):.1f} ms, p50 {ms[len(ms) // 2]:.1f} ms, "
        f"p95 {ms[int(len(ms) * 0.95)]:.1f} ms, max {ms[-1]:.1f} ms"
    )
    return lines, missed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "test", "both"), default="both")
    parser.add_argument("--guard", choices=("strict", "basic"), default="strict")
    parser.add_argument("--misses", action="store_true", help="list the ids of misses")
    args = parser.parse_args()

    guard: Any
    if args.guard == "strict":
        from handlers.privacy.deduce import DeduceGuard

        began = time.monotonic()
        guard = DeduceGuard(wait_seconds=0)
        guard.start()
        if not guard.wait_ready(timeout=900):
            raise SystemExit("deduce did not load")
        print(f"strict guard ready after {time.monotonic() - began:.1f} s")
    else:
        guard = StructuredGuard()
    splits = ("test", "dev") if args.split == "both" else (args.split,)
    try:
        for split in splits:
            rows = [
                json.loads(line) for line in (EVAL_DIR / f"{split}.jsonl").open(encoding="utf-8")
            ]
            lines, missed = evaluate(guard, rows)
            print(f"\n== {split} ({len(rows)} texts, guard {args.guard}) ==")
            print("\n".join(lines))
            if args.misses:
                print("\n".join(missed))
        worker = getattr(guard, "worker_pid", None)
        if worker is not None:
            memory = _status(worker)
            print(f"\ndeduce worker memory: RSS {memory['VmRSS']} MB, peak {memory['VmHWM']} MB")
        own = _status(__import__("os").getpid())
        print(f"this process (server side of the guard): RSS {own['VmRSS']} MB")
    finally:
        if args.guard == "strict":
            guard.stop()


if __name__ == "__main__":
    main()
