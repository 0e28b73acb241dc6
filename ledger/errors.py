"""One exception hierarchy for BindLedger: everything derives from `LedgerError`.

Each class mixes in the matching standard exception so callers that only know
`ValueError` or `LookupError` still catch what they expect.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Root of every error BindLedger raises on purpose."""


class LedgerValueError(LedgerError, ValueError):
    """Input that is well-formed but not acceptable."""


class LedgerLookupError(LedgerError, LookupError):
    """Something asked for does not exist."""


class LedgerStateError(LedgerError, RuntimeError):
    """The operation is not possible in the current state."""


class LedgerGoneError(LedgerLookupError):
    """Something asked for existed and was destroyed on purpose (an erased subject's data)."""
