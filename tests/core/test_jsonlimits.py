"""The nesting limit of JSON taken from outside: at the limit a document is parsed, one level
deeper it is refused before the parser (which recurses once per level) ever sees it."""

from __future__ import annotations

import pytest

from ledger.core import jsonlimits
from ledger.core.jsonlimits import MAX_JSON_DEPTH, JsonTooDeepError, check_json_depth

TOO_DEEP = f"JSON nests deeper than {MAX_JSON_DEPTH} levels"


def nested(depth: int, opener: str = "[", closer: str = "]") -> bytes:
    return (opener * depth + closer * depth).encode()


def objects(depth: int) -> bytes:
    """`depth` nested objects: {"a": {"a": ... {} ...}}."""
    return ('{"a": ' * (depth - 1) + "{}" + "}" * (depth - 1)).encode()


def alternating(depth: int) -> bytes:
    """Arrays and objects in turn, as many of each kind (±1): [{"a": [{"a": ...}]}]."""
    text = ""
    for level in range(depth):
        text += "[" if level % 2 == 0 else '{"a": '
    for level in reversed(range(depth)):
        text += "]" if level % 2 == 0 else "}"
    return text.encode()


def with_siblings(depth: int, siblings: int) -> bytes:
    """An array holding `siblings` empty arrays, then a chain reaching `depth` levels in all."""
    return b"[" + b"[]," * siblings + nested(depth - 1) + b"]"


@pytest.mark.parametrize("make", [nested, objects, alternating, lambda d: with_siblings(d, 40)],
                         ids=["arrays", "objects", "alternating", "after-siblings"])
def test_a_document_at_the_limit_passes_and_one_level_deeper_is_refused(make: object) -> None:
    build = make  # type: ignore[assignment]
    check_json_depth(build(MAX_JSON_DEPTH))  # type: ignore[operator]
    with pytest.raises(JsonTooDeepError) as refused:
        check_json_depth(build(MAX_JSON_DEPTH + 1))  # type: ignore[operator]
    assert str(refused.value) == TOO_DEEP


def test_a_wide_shallow_document_passes_however_many_brackets_it_has() -> None:
    check_json_depth(b"[" + b"[{}, []]," * 1000 + b"[]]")


def test_brackets_inside_strings_do_not_count() -> None:
    check_json_depth(b'["' + b"[" * 100 + b'", "{\\"' + b"{" * 100 + b'"]')


def test_an_escaped_quote_does_not_end_a_string() -> None:
    # The string is `\"[[[...`: were the escaped quote read as its end, 40 brackets would open.
    with pytest.raises(JsonTooDeepError):
        check_json_depth(b'["\\"", ' + nested(MAX_JSON_DEPTH) + b"]")
    check_json_depth(b'["\\"' + b"[" * 40 + b'"]')


def test_a_limit_given_replaces_the_default() -> None:
    check_json_depth(nested(3), limit=3)
    with pytest.raises(JsonTooDeepError) as refused:
        check_json_depth(nested(4), limit=3)
    assert str(refused.value) == "JSON nests deeper than 3 levels"


def test_a_deep_branch_after_a_closed_one_counts_from_where_it_starts() -> None:
    # 31 arrays deep, an empty array closes, then a branch two deeper: 33 levels in all.
    branchy = b"[" * 31 + b"[], [[]]" + b"]" * 31
    with pytest.raises(JsonTooDeepError):
        check_json_depth(branchy)
    check_json_depth(b"[" * 30 + b"[], [[]]" + b"]" * 30)  # 32 levels


def test_a_document_of_at_most_limit_brackets_is_passed_without_a_scan(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Records have a handful of brackets: counting them is enough, and much cheaper than
    # removing strings and walking the brackets, which a document this small never needs.
    class NoScan:
        def sub(self, *_: object) -> bytes:
            raise AssertionError("scanned a document that cannot nest deeper than the limit")

    monkeypatch.setattr(jsonlimits, "_STRING", NoScan())
    check_json_depth(nested(MAX_JSON_DEPTH // 2) + b"{}" * (MAX_JSON_DEPTH // 2))  # 32 opening brackets
    with pytest.raises(AssertionError):
        check_json_depth(nested(MAX_JSON_DEPTH // 2) + b"{}" * (MAX_JSON_DEPTH // 2 + 1))
