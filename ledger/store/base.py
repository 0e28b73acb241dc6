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


class LeaseLostError(LedgerStateError):
    """A write carried a fencing token that is no longer the lease's: another process took the
    lease over, and this one must stop writing."""


class AnchorState(StrEnum):
    """The life of a head's anchor. Each step is stored before the next is attempted, and a
    reorg or a node that lost its last blocks moves a head back (FINAL/INCLUDED -> SENT)."""

    SEALED = "SEALED"  # head computed, no live transaction
    SENT = "SENT"  # a signed transaction is stored; it may or may not have reached a node
    INCLUDED = "INCLUDED"  # its transaction is in a block, not yet deep enough to count
    FINAL = "FINAL"  # its block has the configured number of confirmations


# States in which a head's transaction is in a block on chain (as far as the store knows).
ON_CHAIN_STATES = frozenset({AnchorState.INCLUDED, AnchorState.FINAL})


@dataclass(frozen=True)
class Fence:
    """A lease held by one process, with its fencing token. Writes that carry it are refused
    (LeaseLostError) once another holder has taken the lease, whose token is then higher."""

    name: str
    holder: str
    token: int


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
    nonce: int | None = None  # of the live transaction; a replacement keeps it


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
    def records_in_range(self, platform: str, start: int, end: int) -> list[RecordRow]:
        """The platform's records with leaf index in [start, end), in leaf order: the entries
        of a log tile (ledger.audit.tiles). Fewer when the log holds fewer."""

    @abstractmethod
    def platforms(self) -> list[str]:
        """Platforms that have at least one record or head."""

    @abstractmethod
    def add_head(
        self,
        platform: str,
        tree_size: int,
        root_hash: bytes,
        sealed_at: int,
        fence: Fence | None = None,
    ) -> HeadRow:
        """Record a sealed head. Requires tree_size > the platform's latest head size.

        Every write of a head takes the writer's `fence` where several processes share the
        store, and raises LeaseLostError when the fence no longer holds its lease.
        """

    @abstractmethod
    def heads(self, platform: str) -> list[HeadRow]:
        """The platform's heads by increasing size."""

    @abstractmethod
    def latest_head(self, platform: str, state: AnchorState | None = None) -> HeadRow | None:
        """The largest head, optionally only among heads in `state`."""

    @abstractmethod
    def covering_head(
        self, platform: str, leaf_index: int, state: AnchorState = AnchorState.FINAL
    ) -> HeadRow | None:
        """The smallest head in `state` (FINAL unless asked) that includes `leaf_index`."""

    @abstractmethod
    def unfinished_heads(self) -> list[HeadRow]:
        """Heads not yet FINAL, by platform and size."""

    @abstractmethod
    def heads_included_since(self, block_number: int) -> list[HeadRow]:
        """INCLUDED and FINAL heads whose block number is >= `block_number`, by platform and
        size: the ones a reorg or a node's lost blocks can still take off the chain."""

    @abstractmethod
    def mark_sent(
        self,
        platform: str,
        tree_size: int,
        chain_id: int,
        contract: str,
        tx_hash: bytes,
        raw_tx: bytes,
        nonce: int,
        fence: Fence | None = None,
    ) -> None:
        """SEALED or SENT -> SENT: store the signed anchor transaction before it is broadcast.
        On a SENT head this is a replacement (same nonce, higher fee); every hash ever stored
        for the head stays listed by `anchor_transactions`, as any of them may be mined."""

    @abstractmethod
    def anchor_transactions(self, platform: str, tree_size: int) -> list[bytes]:
        """Every transaction hash stored for the head, oldest first."""

    @abstractmethod
    def mark_included(
        self,
        platform: str,
        tree_size: int,
        tx_hash: bytes,
        block_number: int,
        block_hash: bytes,
        block_time: int,
        fence: Fence | None = None,
    ) -> None:
        """SENT, INCLUDED or FINAL -> INCLUDED, in this block: a transaction that moved to
        another block counts its confirmations anew."""

    @abstractmethod
    def mark_final(
        self, platform: str, tree_size: int, block_hash: bytes, fence: Fence | None = None
    ) -> bool:
        """INCLUDED in block `block_hash` -> FINAL. Returns False, changing nothing, when the
        head is not INCLUDED in that block (a watcher moved it meanwhile)."""

    @abstractmethod
    def mark_unincluded(self, platform: str, tree_size: int, fence: Fence | None = None) -> None:
        """INCLUDED or FINAL -> SENT: its block left the canonical chain. The transaction is
        kept, to be found in another block or sent again."""

    @abstractmethod
    def mark_unsent(self, platform: str, tree_size: int, fence: Fence | None = None) -> None:
        """SENT -> SEALED: the transaction can never be mined (its nonce was used by another,
        or it reverted); a new one will be signed."""

    # -- leases -----------------------------------------------------------------

    @abstractmethod
    def acquire_lease(self, name: str, holder: str, ttl: float, now: float) -> Fence | None:
        """Take or renew the lease `name` for `holder` until `now + ttl` (seconds since the
        epoch). Returns the fence, or None while another holder's lease has not expired. The
        token grows by one each time the lease changes hands, never on a renewal."""

    @abstractmethod
    def release_lease(self, fence: Fence) -> None:
        """Give the lease up at once (it expires now), if `fence` still holds it."""

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
