"""Time sanity of the records a platform writes to the log only (POST /v1/records/signed).

A rule record's time is judged by the contract (its record time window); a record written to
the log only is judged by nobody else, so the log judges it: its timestamp may not lie beyond
the ledger's clock plus an allowed skew (a timestamp near 2^64 would otherwise stand in a
subject's timeline as a date thousands of years away), nor before the record it follows, its
`prev` (a subject's timeline never goes back in time). Equal times are allowed: a platform may
write several records in one second.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ledger.core.encoding import to_hex
from ledger.core.records import ZERO_HASH, SignedRecord
from ledger.errors import LedgerValueError

# Clocks of platforms and of the ledger disagree by a few seconds; a record a few minutes
# ahead is a clock set wrong or a made-up time.
DEFAULT_MAX_CLOCK_SKEW_SECONDS = 300


class RecordTimeError(LedgerValueError):
    """A log-only record's timestamp is not sane; `index` names it within its batch."""


class RecordTimeInFutureError(RecordTimeError):
    """The record's timestamp is later than the ledger's clock plus the allowed skew."""


class RecordTimeBeforePreviousError(RecordTimeError):
    """The record's timestamp is earlier than that of the record it follows (`prev`)."""


def check_record_times(
    batch: Sequence[SignedRecord],
    now: int,
    max_skew: int,
    time_of: Callable[[bytes], int | None],
    digests: Sequence[bytes],
) -> None:
    """Requires `digests[i]` to be the hash of `batch[i]`. Raises RecordTimeError (with
    `index`) at the first record beyond `now + max_skew` or earlier than its `prev`, whose time
    is looked up in the batch, then with `time_of(prev)` (None: not known here; the chain check
    that follows refuses such a record anyway)."""
    latest = now + max_skew
    in_batch: dict[bytes, int] = {}
    for index, (signed, digest) in enumerate(zip(batch, digests, strict=True)):
        record = signed.record
        error: RecordTimeError | None = None
        if record.timestamp > latest:
            error = RecordTimeInFutureError(
                f"record timestamp {record.timestamp} is {record.timestamp - now} s after the "
                f"ledger's clock ({now}), more than the allowed clock skew of {max_skew} s"
            )
        elif record.prev != ZERO_HASH:
            before = in_batch.get(record.prev)
            if before is None:
                before = time_of(record.prev)
            if before is not None and record.timestamp < before:
                error = RecordTimeBeforePreviousError(
                    f"record timestamp {record.timestamp} is {before - record.timestamp} s "
                    f"before that of the subject's previous record {to_hex(record.prev)} "
                    f"({before}): a subject's records may not go back in time"
                )
        if error is not None:
            error.index = index  # type: ignore[attr-defined]
            raise error
        in_batch[digest] = record.timestamp
