"""What can go wrong between a platform and the API, each failure a class of its own."""

from __future__ import annotations

from ledger.errors import LedgerError, LedgerStateError, LedgerValueError


class ClientError(LedgerError):
    """Root of the errors the platform client raises about the API."""


class KeyUnreadableError(LedgerValueError):
    """The platform key (or its file or variable) is missing or is not a private key."""


class ClientRejected(ClientError, LedgerValueError):
    """The API refused the request (a 4xx): resending it would be refused again.

    `status` is the HTTP status, `error` the server's error name when it gives one
    (`ChainBreakError`, `RawValueReferenceError`, ...), `detail` its reason as text.
    """

    def __init__(self, status: int, detail: str, error: str | None = None) -> None:
        named = f" {error}" if error else ""
        super().__init__(f"refused ({status}{named}): {detail}")
        self.status = status
        self.detail = detail
        self.error = error


class ChainConflict(ClientRejected):
    """The record's `prev` is not the subject's latest record (409): it must be signed again
    on the subject's head. `expected_prev` is that head, when the server names it."""

    def __init__(
        self, status: int, detail: str, error: str | None, expected_prev: bytes | None
    ) -> None:
        super().__init__(status, detail, error)
        self.expected_prev = expected_prev


class NotFinalYet(ClientRejected, LedgerStateError):
    """The record's anchor is not final yet (409), and waiting (if asked) did not see it so."""


class ServerUnavailable(ClientError, LedgerStateError):
    """The API did not answer usefully (connection failures, 5xx, 429) after every retry.

    `status` is the last HTTP status (None when no answer came at all)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class UnexpectedAnswer(ClientError, LedgerStateError):
    """The server answered with something that is not what BindLedger's API answers."""
