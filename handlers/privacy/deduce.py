"""Name-aware privacy guard: the structured guard plus client names, found by the name finder
(``handlers/privacy/names.py``: name lists, word lists, context) and deduce's person-name
annotators (Dutch de-identification from the medical field).

Both run in one worker process of its own, so the server's event loop and threads never hold
the GIL for loading lists. Only deduce's name annotators and their lists are loaded (about
140 MB, ready in a second or two, issue #15); its places, streets and institutions are not:
places and institutions are no findings on their own, and streets with a house number are the
structured guard's. The lookup cache is built at install (``leerkring privacy prepare-guard``,
:func:`build_cache`); a worker that finds none builds it itself, in about two seconds.

* :meth:`DeduceGuard.start` begins loading in the background, and until it is done the
  structured guard keeps working wherever a caller asks for it (:meth:`DeduceGuard.structured`);
* :meth:`DeduceGuard.check` waits for the worker for at most ``wait_seconds`` and then raises
  :class:`~handlers.privacy.guard.GuardNotReady`: a submission is refused, never let through
  unchecked.

Hard identifiers come from :class:`~handlers.privacy.guard.StructuredGuard` (validated: 11-proef,
mod-97, phone number metadata, dates of birth in context). The worker adds soft ``PERSON``
findings, which warn. Only spans and tags cross the process boundary back; nothing is logged
about the text.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import re
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, Final

from handlers.privacy.guard import Category, Finding, GuardNotReady, StructuredGuard, mask
from handlers.privacy.names import NameFinder, name_finder

log = logging.getLogger(__name__)

__all__ = ["DeduceGuard", "build_cache", "cache_ready", "soft_category"]

# Seconds a single check may take once the model is loaded (a casus takes milliseconds).
_CHECK_SECONDS: Final = 10.0

_HOUSE_NUMBER_RE: Final = re.compile(r"\d")

# --- the worker process -----------------------------------------------------------------------

# What the guard uses of deduce: its person-name annotators and the lists they need. Its place
# names, 200,000 street names and 30,000 care institutions (more than half a gigabyte in memory
# once built into tries) are not loaded: places and institutions are no client identifiers on
# their own, and streets with a house number are found by the structured guard. Dates, ages,
# phone numbers and BSNs are the structured guard's as well.
_NAME_LISTS: Final = (
    "names/lst_first_name", "names/lst_initial", "names/lst_interfix",
    "names/lst_interfix_surname", "names/lst_prefix", "names/lst_surname",
    "whitelist/lst_common_word", "whitelist/lst_eponymous_disease",
    "whitelist/lst_medical_term", "whitelist/lst_stop_word",
)  # fmt: skip
_UNUSED_TRIES: Final = ("street", "placename", "hospital", "healthcare_institution")


def cache_dir() -> Path:
    """Where the names-only lookup cache lives: beside deduce's own data, in the package."""
    import deduce

    return Path(deduce.__file__).parent / "data" / "lookup" / "leerkring_names"


def _names_config() -> dict[str, Any]:
    import deduce

    config: dict[str, Any] = json.loads(
        (Path(deduce.__file__).parent / "base_config.json").read_text(encoding="utf-8")
    )
    config["annotators"] = {
        name: annotator
        for name, annotator in config["annotators"].items()
        if annotator.get("group") == "names"
    }
    return config


def _deduce(build: bool, cache_path: Path | None = None) -> Any:
    from deduce import Deduce

    return Deduce(
        load_base_config=False,
        config=_names_config(),
        cache_path=cache_path or cache_dir(),
        build_lookup_structs=build,
    )


def cache_file(base: Path | None = None) -> Path:
    return (base or cache_dir()) / "cache" / "lookup_structs.pickle"


def build_cache(target: Path | None = None) -> Path:
    """Build the names-only lookup cache, at install or image build (``leerkring privacy
    prepare-guard``), and return its file. It is written beside the target and then moved
    into place, so a worker that loads at the same time reads the old file or the new one,
    never half of one."""
    import deduce.lookup_structs as structs

    final = cache_file(target)
    final.parent.mkdir(parents=True, exist_ok=True)
    saved_lists, saved_tries = structs.all_lists, dict(structs._LOOKUP_TRIE_LOADERS)
    structs.all_lists = list(_NAME_LISTS)
    for name in _UNUSED_TRIES:
        structs._LOOKUP_TRIE_LOADERS.pop(name, None)
    try:
        with tempfile.TemporaryDirectory(dir=final.parent) as scratch:
            _deduce(build=True, cache_path=Path(scratch))
            os.replace(cache_file(Path(scratch)), final)
    finally:
        structs.all_lists = saved_lists
        structs._LOOKUP_TRIE_LOADERS.clear()
        structs._LOOKUP_TRIE_LOADERS.update(saved_tries)
    return final


def cache_ready() -> bool:
    return cache_file().is_file()


def _load_model() -> Any:
    if not cache_ready():
        log.warning(
            "privacy guard: no name cache yet; building it now (run `leerkring privacy "
            "prepare-guard` at install to skip this)"
        )
        build_cache()
    try:
        return _deduce(build=False)
    except Exception:
        # A cache left half-written by a killed process: build it again.
        build_cache()
        return _deduce(build=False)


def _person_spans(model: Any, finder: NameFinder, text: str) -> list[tuple[int, int, str]]:
    """deduce's person names (those the name finder confirms: without its place lists deduce
    reads "in Hoorn" as a surname) and the name finder's, merged where they overlap."""
    spans = [
        (a.start_char, a.end_char)
        for a in model.deidentify(text).annotations
        if soft_category(a.tag, a.text) is Category.PERSON
        and finder.confirms(text, a.start_char, a.end_char)
    ]
    spans.extend(finder.find(text))
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end, "persoon") for start, end in merged]


def _start_without_sigint(process: BaseProcess) -> None:
    """Start the worker with SIGINT ignored, so a Ctrl-C while it boots (before ``_worker``
    ignores it itself) cannot interrupt its imports with a traceback: an ignored signal stays
    ignored across exec, and Python keeps it so. The parent has its own handler back at once.
    Only the main thread may change handlers; a restart from another thread starts plainly."""
    if threading.current_thread() is not threading.main_thread():
        process.start()
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        process.start()
    finally:
        signal.signal(signal.SIGINT, previous)


def _worker(conn: Connection) -> None:
    """Load deduce, say so, then answer lists of texts with (start, end, tag) spans."""
    # Ctrl-C at the terminal reaches the whole process group; the worker is stopped by its
    # parent (terminate), and a KeyboardInterrupt here would only print a stray traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    model = _load_model()
    finder = name_finder()
    conn.send(_READY)
    while True:
        try:
            texts = conn.recv()
        except EOFError:
            return
        conn.send([_person_spans(model, finder, text) for text in texts])


_READY: Final = "ready"


# --- mapping deduce's tags to our categories --------------------------------------------------


def soft_category(tag: str, value: str) -> Category | None:
    """Our category for a deduce tag, or None for what the structured guard handles."""
    tag = tag.lower()
    if tag in {"persoon", "patient"} or tag.startswith(("voornaam", "achternaam")):
        return Category.PERSON
    if tag in {"locatie", "straat"}:
        return Category.POSTCODE if _HOUSE_NUMBER_RE.search(value) else Category.PLACE
    if tag in {"ziekenhuis", "zorginstelling", "instelling"}:
        return Category.INSTITUTION
    return None


@contextmanager
def _main_module_not_rerun() -> Iterator[None]:
    """spawn runs the parent's main module again in the child (as ``__mp_main__``: by name for
    ``python -m bot.cli serve``, by path for the ``leerkring`` script), to find what was defined
    there. For the server that imports everything (aiohttp, SQLAlchemy, the Slack and Teams
    SDKs): about 40 MB and seconds on a busy machine, in a worker that needs none of it (its
    target lives in this module). While the worker starts, the main module shows neither name
    nor file, so spawn leaves it out. Called under the guard's lock."""
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    saved = {key: main.__dict__[key] for key in ("__file__", "__spec__") if key in main.__dict__}
    main.__dict__.pop("__file__", None)
    if "__spec__" in saved:
        main.__dict__["__spec__"] = None
    try:
        yield
    finally:
        main.__dict__.update(saved)


class DeduceGuard:
    """Structured guard first; deduce's names, places and institutions on top."""

    finds_names = True  # forms offer the choice for soft findings (handlers/privacy_flow.py)

    def __init__(self, wait_seconds: float = 2.0, structured: StructuredGuard | None = None):
        self._structured = structured or StructuredGuard()
        self._wait_seconds = wait_seconds
        self._lock = threading.Lock()  # one request at a time on the pipe
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self._ready = threading.Event()

    # --- lifecycle ---

    def start(self) -> None:
        """Start loading in the background; returns at once. Safe to call again."""
        with self._lock:
            if self._process is not None and self._process.is_alive():
                return
            self._ready.clear()
            # spawn: the server has threads (aiohttp, database pool), which fork would copy in
            # whatever state they are. daemon: the worker never outlives the server.
            context = multiprocessing.get_context("spawn")
            ours, theirs = context.Pipe()
            process = context.Process(
                target=_worker, args=(theirs,), name="leerkring-deduce", daemon=True
            )
            with _main_module_not_rerun():
                _start_without_sigint(process)
            theirs.close()
            self._process, self._conn = process, ours
            log.info("privacy guard: loading deduce in the background")
            threading.Thread(
                target=self._await_ready, args=(ours,), name="deduce-ready", daemon=True
            ).start()

    def _await_ready(self, conn: Connection) -> None:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            if conn is self._conn:
                log.error("privacy guard: deduce worker stopped while loading")
            else:
                # stop() took the pipe away: a normal shutdown, or a restart after a failure.
                log.info("privacy guard: deduce worker stopped while loading (guard stopped)")
            return
        if message == _READY and conn is self._conn:
            log.info("privacy guard: deduce is ready")
            self._ready.set()

    def stop(self) -> None:
        with self._lock:
            self._stop_locked()

    def _stop_locked(self) -> None:
        self._ready.clear()
        process, conn = self._process, self._conn
        self._process, self._conn = None, None
        if conn is not None:
            conn.close()
        if process is not None:
            process.terminate()
            process.join(timeout=5)

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until deduce is loaded (or ``timeout``); True when it is usable."""
        return self._ready.wait(timeout)

    @property
    def worker_pid(self) -> int | None:
        """The worker's process id (for measuring its memory), or None when not started."""
        process = self._process
        return None if process is None else process.pid

    @property
    def structured(self) -> StructuredGuard:
        return self._structured

    # --- checking ---

    def _annotate(self, texts: list[str]) -> list[list[tuple[int, int, str]]]:
        with self._lock:
            conn = self._conn
            if conn is None or not self._ready.is_set():
                raise GuardNotReady("the name-aware privacy guard was stopped")
            try:
                conn.send(texts)
                if conn.poll(_CHECK_SECONDS):
                    result: list[list[tuple[int, int, str]]] = conn.recv()
                    return result
                reason = "timeout"
            except (EOFError, OSError) as exc:
                reason = type(exc).__name__
            # A late answer would come out of step with the next question: start afresh.
            log.error("privacy guard: deduce worker failed (%s); restarting it", reason)
            self._stop_locked()
        self.start()
        raise GuardNotReady("the name-aware privacy guard failed")

    def check(self, fields: Mapping[str, str]) -> list[Finding]:
        findings = self._structured.check(fields)
        items = [(field_id, text) for field_id, text in fields.items() if text]
        if not items:
            return findings
        if self._process is None:
            self.start()
        if not self.wait_ready(self._wait_seconds):
            if self._process is not None and not self._process.is_alive():
                self.stop()
                self.start()  # load again for the next submission
            raise GuardNotReady("the name-aware privacy guard is not ready")
        spans = self._annotate([text for _, text in items])
        by_field: dict[str, list[Finding]] = {}
        for finding in findings:
            by_field.setdefault(finding.field_id, []).append(finding)
        merged: list[Finding] = []
        for (field_id, text), field_spans in zip(items, spans, strict=True):
            kept = list(by_field.get(field_id, []))
            for start, end, tag in sorted(field_spans):
                start = _skip_leading_words(text, start, end)
                for part_start, part_end in _uncovered(text, start, end, kept):
                    value = text[part_start:part_end]
                    category = soft_category(tag, value)
                    if category is not None:
                        kept.append(Finding(field_id, category, mask(value), part_start, part_end))
            merged.extend(sorted(kept, key=lambda f: (f.start, f.end)))
        return merged


# Sentence-initial words that deduce sometimes takes into a name ("Bel Fatima el Amrani").
_LEADING_WORDS: Final = frozenset(
    {
        "bel", "vraag", "zeg", "mail", "spreek", "help", "laat", "geef", "heb", "ik", "wij",
        "we", "met", "via", "door", "voor", "bij", "volgens", "ook", "nu", "dan", "daarna",
        "gisteren", "vandaag", "morgen", "en", "maar", "want", "dus", "toen", "sinds", "na",
        "als", "of", "mevrouw", "meneer", "moeder", "vader", "oma", "opa", "zoon", "dochter",
        "broer", "zus",
    }
)  # fmt: skip


def _skip_leading_words(text: str, start: int, end: int) -> int:
    """Move ``start`` past leading common words, keeping at least one word of the name."""
    while True:
        word_end = start
        while word_end < end and not text[word_end].isspace():
            word_end += 1
        rest = word_end
        while rest < end and text[rest].isspace():
            rest += 1
        if rest >= end or text[start:word_end].lower() not in _LEADING_WORDS:
            return start
        start = rest


_WORD_RE: Final = re.compile(r"\w[\w'.\-]*(?:\s+\w[\w'.\-]*)*", re.UNICODE)


def _uncovered(text: str, start: int, end: int, kept: Sequence[Finding]) -> list[tuple[int, int]]:
    """The parts of ``text[start:end]`` no kept finding covers, trimmed to words. deduce's
    "Kerkstraat 9, 1234 AB Tilburg" overlaps the structured address; the place after it must
    still be reported (and pseudonymised)."""
    covered = sorted((f.start, f.end) for f in kept if f.start < end and start < f.end)
    parts: list[tuple[int, int]] = []
    cursor = start
    for covered_start, covered_end in [*covered, (end, end)]:
        if covered_start > cursor:
            segment = text[cursor:covered_start]
            match = _WORD_RE.search(segment)
            if match is not None and any(ch.isalpha() for ch in match.group()):
                words = segment[match.start() :].rstrip(" ,.;:-")
                parts.append((cursor + match.start(), cursor + match.start() + len(words)))
        cursor = max(cursor, covered_end)
    return parts
