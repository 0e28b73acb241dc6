"""The store interface. Every implementation passes the same suite (tests/store)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from ledger.errors import LedgerStateError


class StoreConflictError(LedgerStateError):
    """A write would break an invariant: a duplicate record or a head out of order."""


class IdempotencyKeyConflictError(StoreConflictError):
    """An idempotency key is already remembered for another request or another record."""


class RecordNotStoredError(LedgerStateError):
    """The commit of a staged record failed; it is not stored and must not be acknowledged."""


class AnchorState(StrEnum):
    SEALED = "SEALED"  # head computed, no transaction yet
    SENT = "SENT"  # transaction signed and stored; it may or may not have reached the chain
    ANCHORED = "ANCHORED"  # receipt seen with status 1


@dataclass(frozen=True)
class RecordRow:
    id: int
    platform: str
    leaf_index: int
    record_hash: bytes
    subject: bytes
    record_type: str
    body: str  # canonical JSON of the signed record


@dataclass(frozen=True)
class HeadRow:
    platform: str
    tree_size: int
    root_hash: bytes
    sealed_at: int
    state: AnchorState
    chain_id: int | None = None
    contract: str | None = None
    tx_hash: bytes | None = None
    raw_tx: bytes | None = None
    block_number: int | None = None
    block_hash: bytes | None = None
    block_time: int | None = None


class Store(ABC):
    """Records, heads and anchors. Every write is durable when the method returns."""

    @abstractmethod
    def add_record(
        self, platform: str, record_hash: bytes, subject: bytes, record_type: str, body: str
    ) -> RecordRow:
        """Append a record to its platform's log; assigns the next leaf index.

        Raises StoreConflictError if a record with this hash exists.
        """

    def stage_record(
        self, platform: str, record_hash: bytes, subject: bytes, record_type: str, body: str
    ) -> tuple[RecordRow, int]:
        """Like `add_record`, but the record may not be durable yet: it is once
        `wait_durable(ticket)` returns for the ticket returned here. Lets a store commit the
        records of several writers at once (group commit) while each is acknowledged only after
        its commit.

        Raises StoreConflictError if a record with this hash exists.
        """
        rows, ticket = self.stage_records([(platform, record_hash, subject, record_type, body)])
        return rows[0], ticket

    def stage_records(
        self, records: list[tuple[str, bytes, bytes, str, str]]
    ) -> tuple[list[RecordRow], int]:
        """Stage several records (platform, record_hash, subject, record_type, body) in order,
        all or none: they are durable once `wait_durable(ticket)` returns.

        Raises StoreConflictError, and stages nothing, if one of their hashes is stored. This
        default stores them at once, one by one; a store with group commit overrides it.
        """
        return [self.add_record(*record) for record in records], 0

    def wait_durable(self, ticket: int) -> None:
        """Return once the staged write with this ticket is durable.

        Raises RecordNotStoredError when its commit failed: the write is then lost.
        """

    @abstractmethod
    def get_record(self, record_id: int) -> RecordRow | None: ...

    @abstractmethod
    def get_record_by_hash(self, record_hash: bytes) -> RecordRow | None: ...

    @abstractmethod
    def records_of_subject(self, platform: str, subject: bytes) -> list[RecordRow]:
        """The subject's records at this platform, in log order."""

    @abstractmethod
    def last_record_of_subject(
        self, platform: str, subject: bytes, excluding: Collection[str] = ()
    ) -> RecordRow | None:
        """The subject's latest record at this platform whose type is not in `excluding`."""

    @abstractmethod
    def record_hashes(self, platform: str) -> list[bytes]:
        """The record hashes of the platform's log, in leaf order."""

    @abstractmethod
    def platforms(self) -> list[str]:
        """Platforms that have at least one record or head."""

    @abstractmethod
    def add_head(self, platform: str, tree_size: int, root_hash: bytes, sealed_at: int) -> HeadRow:
        """Record a sealed head. Requires tree_size > the platform's latest head size."""

    @abstractmethod
    def heads(self, platform: str) -> list[HeadRow]:
        """The platform's heads by increasing size."""

    @abstractmethod
    def latest_head(self, platform: str, state: AnchorState | None = None) -> HeadRow | None:
        """The largest head, optionally only among heads in `state`."""

    @abstractmethod
    def covering_head(self, platform: str, leaf_index: int) -> HeadRow | None:
        """The smallest anchored head that includes `leaf_index`."""

    @abstractmethod
    def unfinished_heads(self) -> list[HeadRow]:
        """Heads not yet anchored, oldest first, across platforms."""

    @abstractmethod
    def mark_sent(
        self,
        platform: str,
        tree_size: int,
        chain_id: int,
        contract: str,
        tx_hash: bytes,
        raw_tx: bytes,
    ) -> None:
        """Store the signed anchor transaction before it is broadcast."""

    @abstractmethod
    def mark_anchored(
        self,
        platform: str,
        tree_size: int,
        tx_hash: bytes,
        block_number: int,
        block_hash: bytes,
        block_time: int,
    ) -> None: ...

    # -- idempotency keys ---------------------------------------------------------------------
    # A client that retries a request sends the same Idempotency-Key header; the ledger stores
    # the key with what identifies the request and the record it wrote, so that the retry is
    # answered with that record instead of writing a second one. The ledger passes digests:
    # `key` is the SHA-256 of the client's key (which the client chose, and which might hold
    # anything) and `fingerprint` a keyed hash of the canonical request body (which holds raw
    # identifiers). Neither may be turned back into what it was made from; the store keeps them
    # as opaque bytes, with no expiry.

    @abstractmethod
    def idempotency_key(self, platform: str, key: bytes) -> tuple[bytes, int] | None:
        """The (fingerprint, record id) remembered for `key` of `platform`; None if unknown.
        Keys of different platforms are unrelated, even when equal."""

    @abstractmethod
    def remember_idempotency_key(
        self, platform: str, key: bytes, fingerprint: bytes, record_id: int
    ) -> None:
        """Remember that `platform`'s request with `key` and `fingerprint` wrote `record_id`;
        durable on return, together with every record staged before the call (SQLite commits
        both in one transaction), so a record written under a key is never stored without it.

        Remembering the same (key, fingerprint, record id) again does nothing. Raises
        IdempotencyKeyConflictError, and changes nothing, when `key` is remembered with another
        fingerprint or another record.
        """

    @abstractmethod
    def close(self) -> None: ...
