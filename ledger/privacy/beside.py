"""Writing a record beside a subject's chain, on whatever head the subject has at the time."""

from __future__ import annotations

from collections.abc import Callable

from ledger.config import Platform
from ledger.core.records import Record
from ledger.service import Accepted, ChainBreakError, Ledger

# A side record names the subject's head; a record of the subject written between reading the
# head and writing moves it. Each retry reads the new head; more writes than this in a row to
# one subject means something is wrong, and the ChainBreakError says so (409).
ATTEMPTS = 3


def write_beside(ledger: Ledger, platform: Platform, subject: bytes,
                 build: Callable[[bytes], Record]) -> Accepted:
    """Sign (as `platform`) and store `build(head)`, a record that does not extend the chain."""
    for attempt in range(ATTEMPTS):
        try:
            return ledger.write_beside_chain(
                platform, build(ledger.subject_head(platform.address, subject))
            )
        except ChainBreakError:
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")
