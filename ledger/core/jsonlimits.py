"""Limits on JSON documents taken from outside, checked before they are parsed.

Python's JSON parser recurses once per nesting level, and web3's dependencies raise the
interpreter's recursion limit to 100,000, so a document of 100,000 nested brackets would
overflow the C stack and kill the process. No BindLedger document nests deeper than a few
levels; anything deeper is refused before the parser sees it.
"""

from __future__ import annotations

import re

from ledger.errors import LedgerValueError

# Bundles nest 3 levels, timelines 5; leave room for future formats, none for attacks.
MAX_JSON_DEPTH = 32

# A complete string literal: `"(?:[^"\\]|\\.)*"` unrolled, so runs of plain characters match
# at once rather than one alternation per character (several times faster, same matches).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


class JsonTooDeepError(LedgerValueError):
    """The document nests arrays or objects deeper than MAX_JSON_DEPTH."""


def check_json_depth(text: bytes, limit: int = MAX_JSON_DEPTH) -> None:
    """Raise JsonTooDeepError if `text` nests deeper than `limit`. Malformed text passes:
    the parser that runs next reports it with a better message."""
    if text.count(b"[") + text.count(b"{") <= limit:
        return  # too few brackets, even counting those in strings, to nest deeper (a record)
    depth = 0
    for bracket in _BRACKET.findall(_STRING.sub(b"", text)):
        if bracket in (b"[", b"{"):
            depth += 1
            if depth > limit:
                raise JsonTooDeepError(f"JSON nests deeper than {limit} levels")
        else:
            depth -= 1
