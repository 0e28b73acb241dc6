"""The report renders any record time a platform could sign (issue 10, point 8)."""

from __future__ import annotations

import pytest

from ledger.report import format_time


@pytest.mark.parametrize(
    ("timestamp", "shown"),
    [
        (0, "1970-01-01 00:00:00 UTC"),
        (1_767_225_600, "2026-01-01 00:00:00 UTC"),
        (253_402_300_799, "9999-12-31 23:59:59 UTC"),
        (253_402_300_800, "253402300800 s after 1970 (beyond year 9999)"),
        (2**64 - 1, f"{2**64 - 1} s after 1970 (beyond year 9999)"),
    ],
)
def test_p8_every_uint64_time_renders(timestamp: int, shown: str) -> None:
    assert format_time(timestamp) == shown
