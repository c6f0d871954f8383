"""The strict guard's behaviour around deduce: loading, refusing while not ready, merging."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

import pytest

from handlers.core.forms import FieldRule, validate
from handlers.privacy.deduce import DeduceGuard, build_cache
from handlers.privacy.guard import Category, Finding, GuardNotReady
from prompts import load_texts


class _LoadingGuard:
    def check(self, fields: Mapping[str, str]) -> list[Finding]:
        raise GuardNotReady("still loading")


def test_a_guard_that_is_not_ready_refuses_the_submission_and_keeps_nothing_back() -> None:
    texts = load_texts("nl")
    errors = validate(
        {"titel": "", "situatie": "Moeder Fatima belt vaak."},
        [FieldRule("titel"), FieldRule("situatie", required=True)],
        texts,
        _LoadingGuard(),
    )
    assert errors == {"situatie": texts.get("privacy.not_ready")}


def test_check_before_loading_finished_raises_not_ready_at_once() -> None:
    guard = DeduceGuard(wait_seconds=0)
    try:
        guard.check({"situatie": "Jan de Vries"})
        raise AssertionError("a guard that is still loading must not pass text")
    except GuardNotReady:
        pass
    finally:
        guard.stop()
    assert not guard.ready


def test_empty_fields_need_no_model() -> None:
    guard = DeduceGuard(wait_seconds=0)
    assert guard.check({"situatie": ""}) == []
    assert not guard.ready


def test_hard_and_soft_findings_together(strict_guard: DeduceGuard) -> None:
    text = "Fatima el Amrani woont op de Kerkstraat 9, 3512 AB Utrecht. Bel 06-12345678."
    found = [(f.category, text[f.start : f.end]) for f in strict_guard.check({"s": text})]
    assert (Category.PERSON, "Fatima el Amrani") in found
    assert (Category.PHONE, "06-12345678") in found
    assert any(c is Category.POSTCODE and "Kerkstraat 9, 3512 AB" in v for c, v in found)
    # The address blocks; the town after it is no finding of its own (issue #15: a place
    # identifies nobody by itself).
    assert not [v for c, v in found if c in (Category.PLACE, Category.INSTITUTION)]
    masked = [f.masked for f in strict_guard.check({"s": text})]
    assert all("Amrani" not in m and "12345678" not in m for m in masked)


def test_a_clean_text_has_no_findings(strict_guard: DeduceGuard) -> None:
    text = "Een moeder van 34 met drie kinderen heeft een schuld van 18.400 euro. Wat nu?"
    assert strict_guard.check({"s": text}) == []


def test_stopping_while_loading_is_not_an_error(caplog: pytest.LogCaptureFixture) -> None:
    guard = DeduceGuard(wait_seconds=0)
    with caplog.at_level(logging.DEBUG, logger="handlers.privacy.deduce"):
        guard.start()
        waiter = next(t for t in threading.enumerate() if t.name == "deduce-ready")
        guard.stop()
        waiter.join(timeout=10)
    assert not waiter.is_alive()
    stopped = [r for r in caplog.records if "stopped while loading" in r.getMessage()]
    assert len(stopped) == 1
    assert stopped[0].levelno == logging.INFO
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not guard.ready


def test_the_worker_holds_only_what_the_guard_needs(strict_guard: DeduceGuard) -> None:
    # deduce with all its lists held about 1.1 GB; issue #15 asks for at most 500 MB.
    pid = strict_guard.worker_pid
    assert pid is not None
    status = Path(f"/proc/{pid}/status").read_text()
    rss_kb = int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1])
    assert rss_kb < 500 * 1024


def test_places_and_institutions_alone_are_no_findings(strict_guard: DeduceGuard) -> None:
    text = "In Zwijndrecht werken we samen met Parnassia en het wijkteam van de gemeente Utrecht."
    assert strict_guard.check({"s": text}) == []


def test_the_name_cache_is_built_apart_and_moved_into_place(tmp_path: Path) -> None:
    built = build_cache(tmp_path)
    assert built == tmp_path / "cache" / "lookup_structs.pickle"
    assert built.stat().st_size > 100_000
    # Only the finished file is left: no scratch directory beside it.
    assert [p.name for p in built.parent.iterdir()] == ["lookup_structs.pickle"]


def test_the_worker_does_not_run_the_servers_main_module_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """spawn would import the parent's main module in the worker: for ``python -m bot.cli
    serve`` the whole server (aiohttp and its C extensions among it)."""
    import importlib.util
    import types

    spec = importlib.util.find_spec("bot.cli")
    assert spec is not None and spec.origin is not None
    main = types.ModuleType("__main__")
    main.__spec__ = spec
    main.__file__ = spec.origin
    monkeypatch.setitem(sys.modules, "__main__", main)
    guard = DeduceGuard(wait_seconds=0)
    guard.start()
    try:
        assert main.__spec__ is spec and main.__file__ == spec.origin  # restored at once
        assert guard.wait_ready(timeout=120)
        pid = guard.worker_pid
        assert pid is not None
        mapped = Path(f"/proc/{pid}/maps").read_text()
        assert "aiohttp" not in mapped and "sqlalchemy" not in mapped
    finally:
        guard.stop()
