"""The ledger: accepts signed records, keeps each platform's Merkle log, seals and anchors
heads, and hands out proof bundles. The API, the CLI and the worker all go through here."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from eth_utils.address import is_address, to_checksum_address

from ledger.anchoring import Anchorer, AnchorPolicy, default_confirmations
from ledger.anchoring.lifecycle import DivergedLogError
from ledger.anchors import AnchorContract
from ledger.chain.client import ChainClient
from ledger.config import Platform
from ledger.core.bundle import AnchorRef, ProofBundle
from ledger.core.encoding import to_hex
from ledger.core.merkle import MerkleLog
from ledger.core.records import (
    RECORD_TYPES,
    Domain,
    Erasure,
    Record,
    SignedRecord,
    sign_record,
    verify_signature,
)
from ledger.drafts import Referencer
from ledger.errors import LedgerError, LedgerLookupError, LedgerStateError, LedgerValueError
from ledger.record_times import DEFAULT_MAX_CLOCK_SKEW_SECONDS, check_record_times
from ledger.store.base import (
    AnchorState,
    ChainConflictError,
    ErasureRow,
    Fence,
    HeadRow,
    RecordNotStoredError,
    RecordRow,
    StagedRecord,
    Store,
)

log = logging.getLogger("bindledger.ledger")

# Record types that never become a subject's head (see Record.EXTENDS_CHAIN).
_SIDE_RECORD_TYPES = frozenset(t for t, kind in RECORD_TYPES.items() if not kind.EXTENDS_CHAIN)

# Subjects whose latest record hash is kept in memory (about 200 bytes each): the active ones,
# so most writes skip a database query under the write lock. The oldest entries make room.
SUBJECT_HEAD_CACHE_SIZE = 1 << 17

# How often a record built by BindLedger on a subject's head (a draft) is built again when
# another process extended the subject's chain first (shared store only), and the longest
# random pause before the first rebuild (it grows with each): writers racing for one subject
# fall out of step instead of colliding again.
DRAFT_REBUILDS = 16
DRAFT_BACKOFF_SECONDS = 0.005

# How long the thread that reports commits to coroutines outlives its last waiter: it is
# started again when needed, so an idle ledger holds no thread.
NOTIFIER_LINGER_SECONDS = 1.0

# The stored form of a record: compact JSON with sorted keys. One encoder for all, as
# json.dumps with options builds a new one per call.
_CANONICAL_JSON = json.JSONEncoder(separators=(",", ":"), sort_keys=True)

# Stages a batch of records (with their prevs when the store checks them): the store's
# stage_records, or a write that stages more in the same transaction (an erasure).
_Stage = Callable[[list[StagedRecord], list[bytes] | None], tuple[list[RecordRow], int]]
# A coroutine's wait for a ticket, and then how it ended (None: durable).
_Waiter = tuple[int, "asyncio.Future[None]"]
_Outcome = tuple["asyncio.Future[None]", Exception | None]


class UnknownPlatformError(LedgerValueError):
    """The record names a platform this deployment does not serve."""


class ChainBreakError(LedgerStateError):
    """A record's `prev` is not the hash of the subject's latest record."""

    def __init__(self, expected: bytes, actual: bytes) -> None:
        super().__init__(
            f"record does not extend the subject's hash chain: prev must be {to_hex(expected)}, "
            f"got {to_hex(actual)}"
        )
        self.expected = expected
        self.actual = actual


class ReservedRecordTypeError(LedgerValueError):
    """The record is of a type only BindLedger writes (a refusal, evidence, an erasure, an
    access), not a platform."""


class RecordNotFoundError(LedgerLookupError):
    """No record with this id or hash."""


class IdempotencyKeyReusedError(LedgerValueError):
    """An idempotency key came back with another request than the one it was first sent with."""


class NotAnchoredError(LedgerStateError):
    """The record is stored but no anchored head includes it yet."""


@dataclass(frozen=True)
class Accepted:
    """What a platform gets back when a record is durable."""

    row: RecordRow
    record: SignedRecord
    # True when the record was stored before this request: a retry, answered with the stored
    # record and its id (the API's 200 instead of 201).
    already_stored: bool = False


class Ledger:
    """One deployment: a store, a chain with the BindLedger contract, and its platforms."""

    def __init__(
        self,
        store: Store,
        chain: ChainClient,
        contract: AnchorContract,
        platforms: list[Platform],
        refs: Referencer,
        clock: Callable[[], float] = time.time,
        policy: AnchorPolicy | None = None,
        max_clock_skew: int = DEFAULT_MAX_CLOCK_SKEW_SECONDS,
    ) -> None:
        self.store = store
        # How far ahead of this ledger's clock a log-only record's timestamp may be.
        self.max_clock_skew = max_clock_skew
        self.refs = refs
        self.chain = chain
        self.contract = contract
        self.domain = Domain(chain.chain_id, contract.address)
        self.platforms = {p.address: p for p in platforms}
        self._clock = clock
        self._logs: dict[str, MerkleLog] = {}
        self._sealed_sizes: dict[str, int] = {}
        self._write_lock = threading.Lock()
        self._subject_heads: dict[tuple[str, bytes], bytes] = {}
        # Timestamps of the records this process appended lately, by hash: the time a log-only
        # record that follows one of them may not precede, without reading it back.
        self._record_times: dict[bytes, int] = {}
        # With a shared store: each platform's log size as far as this process has seen it.
        self._known_sizes: dict[str, int] = {}
        self._anchor_lock = threading.Lock()
        self._log_lock = threading.Lock()
        self._durable = _DurableNotifier(store)
        self._last_ticket = 0  # the latest ticket of staged records (under the write lock)
        self.on_record: Callable[[str, int], None] | None = None  # worker hook: (platform, pending)
        self.anchorer = Anchorer(
            self, policy or AnchorPolicy(confirmations=default_confirmations(chain)), clock
        )

    # -- records ---------------------------------------------------------------

    def platform(self, address: str) -> Platform:
        """The served platform at `address`, in any letter case."""
        # Records carry checksummed addresses: look those up before checksumming (costly).
        found = self.platforms.get(address)
        if found is None and is_address(address):
            found = self.platforms.get(to_checksum_address(address))
        if found is None:
            raise UnknownPlatformError(f"platform {address} is not served here")
        return found

    def now(self) -> int:
        return int(self._clock())

    def subject_head(self, platform: str, subject: bytes) -> bytes:
        """The hash of the subject's latest record at this platform (zero when none)."""
        # Other processes extend chains in a shared store: only the store knows the head.
        cached = None if self.store.shared else self._subject_heads.get((platform, subject))
        if cached is not None:
            return cached
        last = self.store.last_record_of_subject(platform, subject, excluding=_SIDE_RECORD_TYPES)
        return last.record_hash if last else bytes(32)

    def sign_and_submit(
        self, platform: Platform, subject: bytes, build: Callable[[bytes], Record]
    ) -> Accepted:
        """Build a record on top of the subject's chain head, sign it as `platform`, store it.

        `build(prev)` makes the record given the current head; it runs under the write lock
        so no other record of the subject can slip in between. With a shared store another
        process can: the record is then built again on the new head (up to
        DRAFT_REBUILDS times), as its author asked for the head whatever it is.
        """
        for attempt in range(DRAFT_REBUILDS + 1):
            pending: int | None
            with self._write_lock:
                record = build(self.subject_head(platform.address, subject))
                signed = sign_record(record, self.domain, bytes(platform.account.key))
                try:
                    accepted, ticket = self._append(signed, record.digest(self.domain))
                except ChainBreakError:
                    if not self.store.shared or attempt == DRAFT_REBUILDS:
                        raise
                    pending = self._last_ticket
                else:
                    pending = None
            if pending is None:
                self._wait_durable(ticket)
                return accepted
            # The head read was stale: a record of this process still committing, or another
            # process's. Let this process's commit land before reading the head again, and
            # step aside a little longer each time another process wins the race.
            with contextlib.suppress(RecordNotStoredError):
                self.store.wait_durable(pending)
            time.sleep(random.uniform(0, DRAFT_BACKOFF_SECONDS * (attempt + 1)))
        raise AssertionError("unreachable: the last attempt returns or raises")

    def sign_and_submit_once(
        self,
        platform: Platform,
        key: bytes,
        fingerprint: bytes,
        subject: bytes,
        build: Callable[[bytes], Record],
    ) -> Accepted:
        """`sign_and_submit` for a request that carries an idempotency key: the first request
        with `key` writes the record and remembers the key with it (durable together); a later
        one with the same `fingerprint` gets that record back (`already_stored`), and nothing
        is written. `key` and `fingerprint` are digests (see Store.remember_idempotency_key).

        Raises IdempotencyKeyReusedError when `key` came with another fingerprint.
        """
        with self._write_lock:
            known = self.store.idempotency_key(platform.address, key)
            if known is None:
                record = build(self.subject_head(platform.address, subject))
                signed = sign_record(record, self.domain, bytes(platform.account.key))
                accepted, ticket = self._append(signed, record.digest(self.domain))
                try:
                    # Commits the staged record and the key in one transaction.
                    self.store.remember_idempotency_key(
                        platform.address, key, fingerprint, accepted.row.id
                    )
                except Exception:
                    self._forget_unstored_locked()
                    raise
            elif known[0] != fingerprint:
                raise IdempotencyKeyReusedError(
                    "this Idempotency-Key was sent with another request body: use a new key "
                    "for a new request"
                )
            else:
                row = self.store.get_record(known[1])
                if row is None:  # the store lost a record it had committed
                    raise RecordNotFoundError(f"no record with id {known[1]}")
                accepted, ticket = replace(self.read(row), already_stored=True), self._last_ticket
        self._wait_durable(ticket)
        return accepted

    def submit(
        self, signed: SignedRecord, *, check_times: bool = True, by_ledger: bool = False
    ) -> Accepted:
        """Accept a record signed elsewhere by its platform. A record already stored is
        returned as stored (`already_stored`): sending one again is safe. `by_ledger` admits a
        record type BindLedger writes itself (the rules client storing a RiskWarning the
        contract accepted); a platform's records never come with it.

        Raises UnknownPlatformError, SignatureError, RecordTimeError (see
        ledger.record_times; not with `check_times` False: a record the contract accepted
        within its own time window must reach the log), or ChainBreakError when `prev` is stale.
        """
        accepted, ticket = self._stage_many([signed], check_times, by_ledger)
        self._wait_durable(ticket)
        return accepted[0]

    def submit_many(
        self, batch: list[SignedRecord], *, check_times: bool = True
    ) -> list[Accepted]:
        """Accept several platform-signed records, in order, all or none: one write and one
        commit for the lot. A record may extend the chain of one before it in the batch.
        Records of the batch already stored (a retry, with the same hash) are returned as
        stored, with `already_stored`; the others are checked and written.

        Raises UnknownPlatformError, SignatureError, ReservedRecordTypeError, RecordTimeError
        (with `check_times`) or ChainBreakError (naming the first record at fault through the
        exception's `index` attribute) and then stores none of them.
        """
        accepted, ticket = self._stage_many(batch, check_times)
        self._wait_durable(ticket)
        return accepted

    async def submit_async(self, signed: SignedRecord) -> Accepted:
        """`submit` for a coroutine (an async route); see `submit_many_async`."""
        return (await self.submit_many_async([signed]))[0]

    async def submit_many_async(self, batch: list[SignedRecord]) -> list[Accepted]:
        """`submit_many` for a coroutine. The checks and the write run in the caller's thread
        (CPU work and short locks); the wait for the commit holds no thread, so an event loop
        serves other requests meanwhile, without a thread hop per request."""
        accepted, ticket = self._stage_many(batch, check_times=True)
        try:
            await self._durable.wait(ticket)
        except RecordNotStoredError:
            self._forget_unstored()
            raise
        return accepted

    def _stage_many(
        self, batch: list[SignedRecord], check_times: bool, by_ledger: bool = False
    ) -> tuple[list[Accepted], int]:
        """Checks and stages the records of `submit_many`; durable once the ticket is waited on."""
        digests = []
        for index, signed in enumerate(batch):
            try:
                if not signed.record.PLATFORM_WRITES and not by_ledger:
                    raise ReservedRecordTypeError(
                        f"{signed.record.TYPE_NAME} records are written by BindLedger; a "
                        "platform does not submit them"
                    )
                self.platform(signed.record.platform)
                digests.append(verify_signature(signed, self.domain))
            except LedgerError as exc:
                exc.index = index  # type: ignore[attr-defined]
                raise
        if check_times:
            # Outside the write lock: each record is judged against its own `prev`, which a
            # concurrent write cannot change (it can only make `prev` stale, refused below).
            check_record_times(batch, self.now(), self.max_clock_skew, self._time_of, digests)
        with self._write_lock:
            if self.store.shared:
                # The store checks each prev in the transaction that stages the records; a
                # record it refuses may be one sent again.
                try:
                    return self._append_many(batch, digests)
                except ChainBreakError:
                    resent = self._already_stored(batch, digests)
                    if not resent:
                        raise
                    return self._answer_stored(batch, digests, resent, ticket=0)
            heads: dict[tuple[str, bytes], bytes] = {}
            stored: dict[int, Accepted] = {}
            for index, (signed, digest) in enumerate(zip(batch, digests, strict=True)):
                key = (signed.record.platform, signed.record.subject)
                head = heads.get(key) or self.subject_head(*key)
                if signed.record.prev != head:
                    # A stored record never extends its subject's head (it is that head or
                    # before it): only a record failing this check can be a resent one.
                    row = self.store.get_record_by_hash(digest)
                    if row is not None:
                        stored[index] = replace(self.read(row), already_stored=True)
                        continue
                    error = ChainBreakError(head, signed.record.prev)
                    error.index = index  # type: ignore[attr-defined]
                    raise error
                heads[key] = digest
            if not stored:
                return self._append_many(batch, digests)
            # The stored rows were read under the write lock: they were staged at or before
            # the latest ticket, so waiting on it makes them durable before they are answered.
            return self._answer_stored(batch, digests, stored, self._last_ticket)

    def _time_of(self, record_hash: bytes) -> int | None:
        """The timestamp of the stored record with this hash (None when there is none)."""
        known = self._record_times.get(record_hash)
        if known is not None:
            return known
        row = self.store.get_record_by_hash(record_hash)
        return None if row is None else self.read(row).record.record.timestamp

    def _remember_times(self, batch: list[SignedRecord], digests: list[bytes]) -> None:
        times = self._record_times
        for signed, digest in zip(batch, digests, strict=True):
            times[digest] = signed.record.timestamp
        while len(times) > SUBJECT_HEAD_CACHE_SIZE:
            del times[next(iter(times))]

    def _already_stored(
        self, batch: list[SignedRecord], digests: list[bytes]
    ) -> dict[int, Accepted]:
        """The records of the batch the store already holds, by position."""
        stored = {}
        for index, digest in enumerate(digests):
            row = self.store.get_record_by_hash(digest)
            if row is not None:
                stored[index] = replace(self.read(row), already_stored=True)
        return stored

    def _answer_stored(
        self,
        batch: list[SignedRecord],
        digests: list[bytes],
        stored: dict[int, Accepted],
        ticket: int,
    ) -> tuple[list[Accepted], int]:
        """Requires the write lock. The stored records as they are, the others appended; the
        ticket covers both (`ticket`: the one the stored rows are durable at)."""
        new = [i for i in range(len(batch)) if i not in stored]
        if new:
            appended, ticket = self._append_many(
                [batch[i] for i in new], [digests[i] for i in new]
            )
            stored.update(zip(new, appended, strict=True))
        return [stored[i] for i in range(len(batch))], ticket

    def write_beside_chain(self, platform: Platform, record: Record) -> Accepted:
        """Sign and store a record that does not extend its subject's chain (a refusal): it
        names the subject's current head as `prev`, and the head stays where it was.

        Raises ChainBreakError when `prev` is not the subject's head.
        """
        if record.EXTENDS_CHAIN:
            raise LedgerValueError(f"{record.TYPE_NAME} records extend their subject's chain")
        with self._write_lock:
            head = self.subject_head(platform.address, record.subject)
            if record.prev != head:
                raise ChainBreakError(head, record.prev)
            signed = sign_record(record, self.domain, bytes(platform.account.key))
            accepted, ticket = self._append(signed, record.digest(self.domain))
        self._wait_durable(ticket)
        return accepted

    def write_erasure(
        self, platform: Platform, record: Erasure
    ) -> tuple[Accepted, ErasureRow]:
        """Sign and store the subject's Erasure record and, in the same store transaction,
        destroy its data key (Store.stage_erasure): a crash or a failure leaves both done or
        neither. Requires `record.prev` to be the subject's head (ChainBreakError otherwise).

        Raises SubjectErasedError when the subject was erased before, ErasureNotStoredError
        when the store failed (nothing of the erasure is stored)."""
        erased: list[ErasureRow] = []

        def stage(staged: list[StagedRecord], prevs: list[bytes] | None) -> tuple[
                list[RecordRow], int]:
            row, erasure, ticket = self.store.stage_erasure(
                staged[0], record.timestamp, None if prevs is None else prevs[0],
                _SIDE_RECORD_TYPES)
            erased.append(erasure)
            return [row], ticket

        with self._write_lock:
            head = self.subject_head(platform.address, record.subject)
            if record.prev != head:
                raise ChainBreakError(head, record.prev)
            signed = sign_record(record, self.domain, bytes(platform.account.key))
            accepted, ticket = self._append_many([signed], [record.digest(self.domain)], stage)
        self._wait_durable(ticket)
        self.store.scrub()
        return accepted[0], erased[0]

    def _append(self, signed: SignedRecord, digest: bytes) -> tuple[Accepted, int]:
        accepted, ticket = self._append_many([signed], [digest])
        return accepted[0], ticket

    def _append_many(
        self,
        batch: list[SignedRecord],
        digests: list[bytes],
        stage: _Stage | None = None,
    ) -> tuple[list[Accepted], int]:
        """Requires the write lock. Stages the records; durable once the ticket is waited on,
        which happens after the lock is released so that concurrent writers share commits.

        With a shared store, each record's prev is checked by the store, under the lock that
        orders its platform's log (ChainBreakError), and the in-memory log is not appended to:
        it catches up from the store when read (`_log`), in the order the store committed.
        """
        shared = self.store.shared
        if not shared:
            for signed in batch:
                self._log(signed.record.platform)  # loaded before the write, not to count twice
        staged = [
            (
                signed.record.platform,
                digest,
                signed.record.subject,
                signed.record.TYPE_NAME,
                _CANONICAL_JSON.encode(signed.to_json()),
            )
            for signed, digest in zip(batch, digests, strict=True)
        ]
        if stage is None:
            stage = self._stage_records
        if not shared:
            rows, ticket = stage(staged, None)
        else:
            try:
                rows, ticket = stage(staged, [signed.record.prev for signed in batch])
            except ChainConflictError as exc:
                error = ChainBreakError(exc.expected, exc.actual)
                error.index = exc.index  # type: ignore[attr-defined]
                raise error from None
            known = self._known_sizes
            for row in rows:
                known[row.platform] = max(known.get(row.platform, 0), row.leaf_index + 1)
            self._remember_times(batch, digests)
            self._notify(batch)
            return [Accepted(row, signed) for row, signed in zip(rows, batch, strict=True)], ticket
        self._last_ticket = max(self._last_ticket, ticket)
        self._remember_times(batch, digests)
        heads = self._subject_heads
        for signed, digest in zip(batch, digests, strict=True):
            record = signed.record
            self._logs[record.platform].append(digest)
            if not record.EXTENDS_CHAIN:
                continue
            heads.pop((record.platform, record.subject), None)  # re-inserted as the newest
            heads[(record.platform, record.subject)] = digest
            if len(heads) > SUBJECT_HEAD_CACHE_SIZE:
                del heads[next(iter(heads))]
        self._notify(batch)
        return [Accepted(row, signed) for row, signed in zip(rows, batch, strict=True)], ticket

    def _stage_records(
        self, staged: list[StagedRecord], prevs: list[bytes] | None
    ) -> tuple[list[RecordRow], int]:
        if prevs is None:
            return self.store.stage_records(staged)
        return self.store.stage_records(staged, prevs, _SIDE_RECORD_TYPES)

    def _notify(self, batch: list[SignedRecord]) -> None:
        if self.on_record is not None:
            for platform in {signed.record.platform for signed in batch}:
                self.on_record(platform, self.pending(platform))

    def _wait_durable(self, ticket: int) -> None:
        """Acknowledge nothing before it is committed. If the commit failed, the in-memory log
        and subject heads hold records the store lost: drop them, to be reloaded from the store."""
        try:
            self.store.wait_durable(ticket)
        except RecordNotStoredError:
            self._forget_unstored()
            raise

    def _forget_unstored(self) -> None:
        with self._write_lock:
            self._forget_unstored_locked()

    def _forget_unstored_locked(self) -> None:
        """Requires the write lock."""
        self._logs.clear()
        self._sealed_sizes.clear()
        self._subject_heads.clear()
        self._known_sizes.clear()
        self._record_times.clear()

    def record(self, record_id: int) -> Accepted:
        row = self.store.get_record(record_id)
        if row is None:
            raise RecordNotFoundError(f"no record with id {record_id}")
        return self.read(row)

    def record_by_hash(self, record_hash: bytes, platform: str | None = None) -> Accepted:
        """The record with this hash; with `platform`, only one of that platform's, so that
        another platform's record is not found, exactly as one that does not exist.

        Raises RecordNotFoundError."""
        row = self.store.get_record_by_hash(record_hash)
        if row is None or platform not in (None, row.platform):
            raise RecordNotFoundError(f"no record with hash {to_hex(record_hash)}")
        return self.read(row)

    @staticmethod
    def read(row: RecordRow) -> Accepted:
        """The stored record of a row already read from the store."""
        return Accepted(row, SignedRecord.from_json(json.loads(row.body)))

    def is_anchored(self, row: RecordRow) -> bool:
        """Whether a final anchor includes the record."""
        return self.store.covering_head(row.platform, row.leaf_index) is not None

    def proof_bundle(self, record_id: int) -> ProofBundle:
        """The record's proof against the smallest FINAL head that includes it: a bundle is
        only ever served for an anchor deep enough to stand (see ledger.anchoring), and asking
        again after a reorg gives the anchor that replaced a lost one.

        Raises NotAnchoredError, saying how far its anchor is, when there is none yet."""
        accepted = self.record(record_id)
        row = accepted.row
        head = self.store.covering_head(row.platform, row.leaf_index)
        if head is None:
            raise NotAnchoredError(self._not_final_reason(row))
        assert head.tx_hash and head.block_hash and head.block_number is not None
        assert head.block_time is not None and head.chain_id is not None and head.contract
        path = self._log(row.platform).inclusion_proof(row.leaf_index, head.tree_size)
        return ProofBundle(
            record=accepted.record,
            record_hash=row.record_hash,
            leaf_index=row.leaf_index,
            tree_size=head.tree_size,
            inclusion_path=path,
            head_size=head.tree_size,
            head_root=head.root_hash,
            anchor=AnchorRef(
                head.chain_id,
                head.contract,
                row.platform,
                head.tx_hash,
                head.block_number,
                head.block_hash,
                head.block_time,
            ),
        )

    def _not_final_reason(self, row: RecordRow) -> str:
        included = self.store.covering_head(row.platform, row.leaf_index, AnchorState.INCLUDED)
        if included is not None and included.block_number is not None:
            depth = self.anchorer.policy.confirmations
            return (
                f"record {row.id} is anchored in block {included.block_number}, not yet final: "
                f"its anchor counts once {depth} block(s) follow it; retry then"
            )
        return f"record {row.id} is not anchored yet; anchor and retry"

    # -- heads and anchors -----------------------------------------------------

    def pending(self, platform: str) -> int:
        """Records of the platform not yet in any sealed head. With a shared store, an
        estimate from this process's view, at no query: the records it wrote or read, less
        the latest head it read (the worker's trigger; sealing reads the store afresh)."""
        if self.store.shared:
            sealed = self._sealed_sizes.get(platform)
            if sealed is None:
                sealed = self._latest_size(platform)
            return max(0, self._known_sizes.get(platform, 0) - sealed)
        return self._log(platform).size - self._latest_size(platform)

    def seal(
        self, platform: str, on_grid: int = 1, fence: Fence | None = None
    ) -> HeadRow | None:
        """Seal the platform's log into a head, if it grew since the last one.

        With `on_grid` > 1, the head is the largest multiple of `on_grid` records, and later
        records stay pending (nothing is sealed if that does not grow the last head). `fence`
        is the anchoring lease's, where one is held (see ledger.anchoring). Heads on
        the grid of the batch size have consistency proofs of a few nodes (6 or 7 at a million
        records) where an off-grid size needs up to 2 log2(size), and each node costs about
        1 300 gas on chain.
        """
        with self._write_lock:
            merkle = self._log(platform)
            latest = self._latest_size(platform)
            size = merkle.size - merkle.size % on_grid
            if size <= latest:
                return None
            head = self.store.add_head(platform, size, merkle.root(size), self.now(), fence)
            self._sealed_sizes[platform] = head.tree_size
            return head

    def seal_and_anchor(self, on_grid: int = 1) -> list[HeadRow]:
        """Seal every platform with pending records and advance every unfinished head as far
        as it goes now (see ledger.anchoring); safe to call again, and after a crash."""
        return self.anchorer.seal_and_anchor(on_grid)

    def anchor_unfinished(self, platform: str | None = None) -> list[HeadRow]:
        """Advance every unfinished head (of one platform, or all) as far as it goes now."""
        return self.anchorer.anchor_unfinished(platform)

    def merkle_log(self, platform: str) -> MerkleLog:
        """The platform's Merkle log, as far as it is stored."""
        return self._log(platform)

    # -- internals ---------------------------------------------------------------

    def _log(self, platform: str) -> MerkleLog:
        """The platform's log in memory. With a shared store it first catches up with the
        records committed since it was last read, by this process or others: so a head
        sealed, an inclusion or consistency proof built from it covers every stored record."""
        merkle = self._logs.get(platform)
        if merkle is None or self.store.shared:
            # A writer needs the log before it stores a record, so while one is being built
            # from the store, writers wait for it and then append to it: nothing is missed.
            with self._log_lock:
                merkle = self._logs.get(platform)
                if merkle is None:
                    merkle = self._logs[platform] = MerkleLog(self.store.record_hashes(platform))
                elif self.store.shared:
                    merkle.extend(self.store.record_hashes(platform, start=merkle.size))
                if self.store.shared:
                    known = max(self._known_sizes.get(platform, 0), merkle.size)
                    self._known_sizes[platform] = known
        return merkle

    def catch_up(self, platform: str) -> int:
        """Bring the platform's in-memory log up to the store (a no-op unless the store is
        shared, where `_log` does it on every read); returns its size."""
        return self._log(platform).size

    def _latest_size(self, platform: str) -> int:
        # Another process may have sealed a head: with a shared store, read it every time.
        size = None if self.store.shared else self._sealed_sizes.get(platform)
        if size is None:
            head = self.store.latest_head(platform)
            size = self._sealed_sizes[platform] = head.tree_size if head else 0
        return size


class _DurableNotifier:
    """Tells coroutines when their staged records are durable, from one thread for them all.

    The thread takes every ticket awaited so far and waits on the store for the newest first
    (with group commit that one wait covers the older tickets, which then return at once),
    then wakes each event loop once for the whole group. Compared with one worker thread per
    waiting request, this saves a thread hop and a GIL hand-off per request.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._cond = threading.Condition()
        self._waiting: list[_Waiter] = []
        self._running = False

    async def wait(self, ticket: int) -> None:
        """Return once `ticket` is durable; raises RecordNotStoredError if it never will be."""
        future = asyncio.get_running_loop().create_future()
        with self._cond:
            self._waiting.append((ticket, future))
            if not self._running:
                self._running = True
                threading.Thread(target=self._run, name="durable-notifier", daemon=True).start()
            self._cond.notify()
        await future

    def _run(self) -> None:
        while group := self._next_group():
            outcomes: list[_Outcome] = []
            for ticket, future in sorted(group, key=lambda waiter: -waiter[0]):
                try:
                    self._store.wait_durable(ticket)
                    outcomes.append((future, None))
                except Exception as exc:  # noqa: BLE001 - the waiter's to raise, not this thread's
                    outcomes.append((future, exc))
            loops: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
            for future, error in outcomes:
                loops.setdefault(future.get_loop(), []).append((future, error))
            for loop, settled in loops.items():
                try:
                    loop.call_soon_threadsafe(_settle, settled)
                except RuntimeError:
                    pass  # the loop is closed: nobody awaits these any more

    def _next_group(self) -> list[_Waiter]:
        """Every waiter so far; empty (and the thread ends) after a lull with none."""
        with self._cond:
            if not self._waiting:
                self._cond.wait(NOTIFIER_LINGER_SECONDS)
            group, self._waiting = self._waiting, []
            if not group:
                self._running = False
            return group


def _settle(settled: list[_Outcome]) -> None:
    for future, error in settled:
        if future.done():
            continue  # cancelled: the client went away; the record is stored all the same
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


__all__ = [
    "Accepted",
    "ChainBreakError",
    "DivergedLogError",
    "Ledger",
    "LedgerError",
    "NotAnchoredError",
    "RecordNotFoundError",
    "UnknownPlatformError",
]
