"""The one JSON loader for input wpbridge did not write itself: import files, snapshots, server replies.

`json.loads` recurses per nesting level, so a file of 100,000 `[` ends in a `RecursionError` traceback (and one
nested 900 deep parses, then breaks whatever walks it). `loads` refuses anything nested deeper than `MAX_DEPTH`
levels before parsing, with a `json.JSONDecodeError` (a ValueError) that says so and where, so every caller's
existing "not valid JSON (line L, column C: ...)" handling turns it into one clear line naming the input.

The depth is measured without recursion and at C speed: strings are blanked out, everything but brackets
dropped, then empty pairs removed one level per pass (at most MAX_DEPTH passes, each a regex over the brackets).
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 100
"""Deeper than any wpbridge export, snapshot or WordPress reply (under 10), far below Python's recursion limit."""

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_EMPTY_PAIR = re.compile(r"\[\]|\{\}")
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class TooDeep(json.JSONDecodeError):
    """JSON nested deeper than MAX_DEPTH levels (a JSONDecodeError, so callers handle it as bad JSON)."""


def too_deep_at(text: str, limit: int = MAX_DEPTH) -> int | None:
    """The offset of the first bracket nested deeper than `limit`, or None (unbalanced brackets are left to
    the parser to report)."""
    if text.count("[") + text.count("{") <= limit:
        return None
    skeleton = _NOT_BRACKET.sub("", _STRING.sub("", text))
    for _ in range(limit):
        skeleton, removed = _EMPTY_PAIR.subn("", skeleton)
        if not skeleton or not removed:
            return None
    if not skeleton:
        return None
    depth = 0  # rare (bad input): find where, token by token
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > limit:
                return match.start()
        elif token in "]}":
            depth -= 1
    return None


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """`json.loads` for untrusted input: a `TooDeep` (JSONDecodeError) instead of a RecursionError."""
    doc = text.decode("utf-8-sig") if isinstance(text, bytes | bytearray) else text
    at = too_deep_at(doc, max_depth)
    if at is not None:
        raise TooDeep(f"nested deeper than {max_depth} levels", doc, at)
    try:
        return json.loads(doc)
    except RecursionError:  # a smaller recursion limit than the default: still one clear error
        raise TooDeep(f"nested deeper than this Python can parse (limit {max_depth} levels)", doc, 0) from None
