"""JSON from strangers, parsed with a nesting limit.

``json.loads`` recurses once per level: 50,000 nested ``[`` raise ``RecursionError`` deep in
the C scanner, which callers rarely expect and which drags a traceback into the log. Slack
payloads and Teams activities are at most about fifteen levels deep, so anything deeper than
``MAX_DEPTH`` is refused before it is parsed.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 64
# A string (an unterminated one runs to the end, so the scan stays linear) or a bracket.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*+"?|[\[\]{}]', re.DOTALL)


class TooDeep(ValueError):
    """The document nests deeper than the limit."""


def check_depth(text: str, limit: int = MAX_DEPTH) -> None:
    depth = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > limit:
                raise TooDeep(f"JSON nested deeper than {limit} levels")
        elif token in ("]", "}"):
            depth -= 1


def loads(text: str, limit: int = MAX_DEPTH) -> Any:
    """``json.loads`` for untrusted text; raises ``ValueError`` (``TooDeep`` when too deep)."""
    check_depth(text, limit)
    try:
        return json.loads(text)
    except RecursionError as exc:  # only if the limit were set above the interpreter's
        raise TooDeep("JSON nested too deep") from exc
