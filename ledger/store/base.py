"""The store interface. Every implementation passes the same suite (tests/store)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection
from dataclasses import dataclass
from enum import StrEnum

from ledger.errors import LedgerError, LedgerStateError


class StoreConflictError(LedgerStateError):
    """A write would break an invariant: a duplicate record or a head out of order."""


class IdempotencyKeyConflictError(StoreConflictError):
    """An idempotency key is already remembered for another request or another record."""


class ChainConflictError(StoreConflictError):
    """A staged record's `prev` is not the hash of its subject's latest chain record: another
    writer extended the subject's chain first. `index` is the record's position in its batch."""

    def __init__(self, index: int, expected: bytes, actual: bytes) -> None:
        super().__init__(
            f"record {index} of the batch names 0x{actual.hex()} as its subject's previous "
            f"record; the latest is 0x{expected.hex()}"
        )
        self.index = index
        self.expected = expected
        self.actual = actual


class RecordNotStoredError(LedgerStateError):
    """The commit of a staged record failed; it is not stored and must not be acknowledged."""


class SubjectErasedError(StoreConflictError):
    """The subject was erased before: its first erasure stands, and nothing was staged."""


class ErasureNotStoredError(LedgerError):
    """The database failed while erasing a subject: neither the Erasure record nor the key's
    destruction is stored (they are one transaction), and the erasure can simply be asked again."""


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


# A staged record: (platform, record_hash, subject, record_type, body).
StagedRecord = tuple[str, bytes, bytes, str, str]


@dataclass(frozen=True)
class WrappedKey:
    """A subject's data key (one per platform and subject), encrypted under the key-encryption
    key `kek_id`. The data key itself is never stored."""

    platform: str
    subject: bytes
    kek_id: str
    wrapped: bytes


@dataclass(frozen=True)
class EvidenceRow:
    """Encrypted evidence behind one record, and the Evidence record committing to it.
    `nonce` and `ciphertext` are None once the subject is erased."""

    record_id: int
    evidence_record_id: int
    platform: str
    subject: bytes
    media_type: str
    size: int
    salt: bytes
    commitment: bytes
    nonce: bytes | None
    ciphertext: bytes | None
    stored_at: int


@dataclass(frozen=True)
class ErasureRow:
    """A subject's erasure at a platform: when, and the Erasure record that says so."""

    platform: str
    subject: bytes
    record_id: int
    erased_at: int


class Store(ABC):
    """Records, heads and anchors. Every write is durable when the method returns."""

    # True when other processes may write the same database: then nothing read from it may be
    # cached as current, and a subject's chain is checked by the store (`stage_records` prevs).
    shared: bool = False

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
        self,
        records: list[StagedRecord],
        prevs: list[bytes] | None = None,
        side_types: Collection[str] = (),
    ) -> tuple[list[RecordRow], int]:
        """Stage several records (platform, record_hash, subject, record_type, body) in order,
        all or none: they are durable once `wait_durable(ticket)` returns.

        With `prevs`, record i is staged only if `prevs[i]` is the hash of its subject's latest
        record at its platform whose type is not in `side_types` (zero when none), counting the
        records before it in the batch; checked in the same transaction as the write, so that
        concurrent writers cannot fork a subject's chain.

        Raises StoreConflictError, and stages nothing, if one of their hashes is stored, and
        ChainConflictError if a `prev` is stale. This default checks and stores them at once,
        one by one, which is atomic only with a single writer; a store with group commit or
        several writers overrides it.
        """
        if prevs is not None:
            check_chain(records, prevs, side_types, self.last_record_of_subject)
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
    def records_of_subject(
        self, platform: str, subject: bytes, record_type: str | None = None
    ) -> list[RecordRow]:
        """The subject's records at this platform (only those of `record_type`, if named), in
        log order."""

    @abstractmethod
    def last_record_of_subject(
        self, platform: str, subject: bytes, excluding: Collection[str] = ()
    ) -> RecordRow | None:
        """The subject's latest record at this platform whose type is not in `excluding`."""

    @abstractmethod
    def record_hashes(self, platform: str, start: int = 0) -> list[bytes]:
        """The record hashes of the platform's log from leaf `start` on, in leaf order: with
        several writers, a process's in-memory log catches up from its size."""

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

    # -- evidence vault -------------------------------------------------------------------------
    # Evidence is kept encrypted under a data key per (platform, subject), itself kept wrapped
    # by a key-encryption key (ledger.privacy). Erasing a subject destroys its wrapped key: the
    # store must then leave no copy of it readable in its files (SQLite: secure_delete and a
    # WAL checkpoint; PostgreSQL: the row is gone for the application, and VACUUM reclaims it).

    @abstractmethod
    def vault_key(self, platform: str, subject: bytes) -> WrappedKey | None:
        """The subject's wrapped data key at `platform`; None if it has none (or was erased)."""

    @abstractmethod
    def add_vault_key(self, key: WrappedKey) -> WrappedKey:
        """Store the subject's wrapped data key unless it has one; returns the stored key (the
        one given, or the one another writer stored first). Durable on return."""

    @abstractmethod
    def vault_keys_not_under(self, kek_id: str) -> list[WrappedKey]:
        """Every wrapped data key wrapped by another key-encryption key than `kek_id`."""

    def vault_keys(self) -> list[WrappedKey]:
        """Every wrapped data key: the subjects whose evidence is readable."""
        # No key-encryption key has an empty id (ledger.privacy.keys refuses one).
        return self.vault_keys_not_under("")

    @abstractmethod
    def rewrap_vault_key(self, old: WrappedKey, new: WrappedKey) -> bool:
        """Replace `old` by `new` (same platform and subject) if `old` is still stored as it
        was; returns whether it was."""

    @abstractmethod
    def add_evidence(self, evidence: EvidenceRow) -> None:
        """Store the evidence of a record. Raises StoreConflictError if the record has some."""

    @abstractmethod
    def evidence_of_record(self, record_id: int) -> EvidenceRow | None: ...

    @abstractmethod
    def evidence_of_subject(self, platform: str, subject: bytes) -> list[EvidenceRow]:
        """The subject's evidence at `platform`, by record id."""

    @abstractmethod
    def erase_subject(
        self, platform: str, subject: bytes, record_id: int, erased_at: int
    ) -> ErasureRow:
        """In one transaction: delete the subject's wrapped data key, drop its evidence's
        ciphertexts, and remember the erasure (made by the Erasure record `record_id`). On
        return no copy of the deleted key remains in the store's files. A subject erased before
        keeps its first erasure, which is returned."""

    @abstractmethod
    def stage_erasure(
        self,
        record: StagedRecord,
        erased_at: int,
        prev: bytes | None = None,
        side_types: Collection[str] = (),
    ) -> tuple[RecordRow, ErasureRow, int]:
        """Stage the subject's Erasure record and, in the same transaction, erase the subject
        as `erase_subject` does (the erasure made by that record): both are stored or neither,
        durable once `wait_durable(ticket)` returns; then `scrub` leaves no copy of the key.

        `prev` is checked as in `stage_records`. Raises SubjectErasedError, staging nothing,
        when the subject was erased before; ErasureNotStoredError, staging nothing, when the
        database fails on the way."""

    def scrub(self) -> None:
        """After a durable erasure: leave no copy of the deleted key readable in the store's
        files. Nothing to do unless the store keeps such copies (SQLite's WAL)."""

    @abstractmethod
    def erasure(self, platform: str, subject: bytes) -> ErasureRow | None:
        """The subject's erasure at `platform`, if it was erased."""

    @abstractmethod
    def close(self) -> None: ...


def check_chain(
    records: list[StagedRecord],
    prevs: list[bytes],
    side_types: Collection[str],
    latest: Callable[[str, bytes, Collection[str]], RecordRow | None],
) -> None:
    """Raises ChainConflictError at the first record whose prev is not its subject's head.
    `latest(platform, subject, excluding)` reads a subject's latest stored record; a store calls
    this inside the transaction that stages the records."""
    heads: dict[tuple[str, bytes], bytes] = {}
    for index, ((platform, record_hash, subject, record_type, _body), prev) in enumerate(
        zip(records, prevs, strict=True)
    ):
        key = (platform, subject)
        head = heads.get(key)
        if head is None:
            last = latest(platform, subject, side_types)
            head = last.record_hash if last else bytes(32)
        if prev != head:
            raise ChainConflictError(index, head, prev)
        if record_type not in side_types:
            heads[key] = record_hash
