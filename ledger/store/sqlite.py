"""SQLite store: the embedded default. WAL journal, fsynced before any write is acknowledged."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ledger.store import migrations
from ledger.store.base import (
    AnchorState,
    ErasureNotStoredError,
    ErasureRow,
    EvidenceRow,
    Fence,
    HeadRow,
    IdempotencyKeyConflictError,
    LeaseLostError,
    RecordNotStoredError,
    RecordRow,
    StagedRecord,
    StoreConflictError,
    SubjectErasedError,
    WrappedKey,
    check_chain,
)
from ledger.store.file_lock import lock_database, unlock_database
from ledger.store.sql import (
    EVIDENCE_COLUMNS,
    RECORD_COLUMNS,
    SqlStore,
)


class SqliteStore(SqlStore):
    """A store in one SQLite file (or `:memory:`), safe to share between threads.

    Group commit: `stage_record` writes into an open transaction and `wait_durable` commits it,
    so records staged by several threads while one commit (one fsync) runs share the next one.
    Every other write commits at once, together with any records staged before it.

    In WAL mode SQLite is told not to sync on commit (synchronous=NORMAL): the store fsyncs the
    WAL file itself after the commit, outside the connection's lock, and only then reports the
    records durable. A commit just appends to the WAL, so writers go on staging the next group
    while one fsync runs, and each fsync covers every commit written before it started. The
    guarantee is synchronous=FULL's (a commit's WAL frames are synced before it is
    acknowledged); only the lock is not held through the sync.
    """

    def __init__(self, path: str | Path = ":memory:", read_only: bool = False) -> None:
        """With `read_only`, the file is read beside the process that writes it (a CLI reading
        what `serve` writes): no lock is taken, no migration applied, and every write fails."""
        # One writer process per file (ledger/store/file_lock.py); an in-memory or temporary
        # database is the process's own.
        in_memory = str(path) in (":memory:", "")
        self._file_lock = None if in_memory or read_only else lock_database(str(path))
        try:
            if read_only and not in_memory:
                self._conn = sqlite3.connect(
                    f"file:{Path(path).resolve()}?mode=ro", uri=True, check_same_thread=False,
                    isolation_level=None,
                )
                self.applied_migrations = []
                self._start_group_commit(wal=None)
                return
            self._conn = sqlite3.connect(
                str(path), check_same_thread=False, isolation_level=None
            )
            wal = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
            # A record is on disk before the API acknowledges it: synced by SQLite on each
            # commit (FULL) or, once the store holds the WAL file to sync it itself, by _sync.
            self._conn.execute("PRAGMA synchronous=FULL")
            # Deleted content is overwritten with zeros, not left in free pages: an erased
            # subject's data key must not be recoverable from the file (see erase_subject).
            self._conn.execute("PRAGMA secure_delete=ON")
            # The migrations this open applied (`bindledger db upgrade` reports them).
            self.applied_migrations = migrate(self._conn, str(path))
        except BaseException:
            self._unlock()
            raise
        self._start_group_commit(wal=_open_wal(self._conn) if wal else None)
        if self._wal is not None:
            self._conn.execute("PRAGMA synchronous=NORMAL")

    def _start_group_commit(self, wal: int | None) -> None:
        """Nothing staged yet; `wal` is the WAL file's descriptor the store syncs itself (None
        when SQLite syncs on commit, or when the store only reads)."""
        self._lock = threading.Lock()  # guards the connection and the counters below
        self._wal = wal
        self._open = False  # a transaction holds staged records
        self._staged = 0  # ticket of the last staged record
        self._written = 0  # every ticket up to this one is committed, maybe not yet synced
        self._durable = 0  # every ticket up to this one is committed and synced
        self._lost: list[tuple[int, int]] = []  # ticket ranges whose commit or sync failed
        self._first_in_transaction = 1
        self._committed = threading.Condition()
        self._committing = False

    def _begin(self) -> None:
        """Requires self._lock. Opens a transaction unless staged records keep one open."""
        if not self._open:
            self._conn.execute("BEGIN IMMEDIATE")
            self._open = True
            self._first_in_transaction = self._staged + 1

    def _commit(self) -> int:
        """Requires self._lock. Commits the open transaction; returns the last ticket in it.
        The commit is durable once `_sync` has run after it."""
        last, first = self._staged, self._first_in_transaction
        self._open = False
        try:
            self._conn.execute("COMMIT")
        except BaseException:
            self._rollback(first, last)
            raise
        self._written = last
        return last

    def _rollback(self, first: int, last: int) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")
        self._open = False
        self._lose(first, last)

    def _lose(self, first: int, last: int) -> None:
        """Tickets first..last will never be durable; their waiters get RecordNotStoredError."""
        with self._committed:
            if last >= first:
                self._lost.append((first, last))
            self._committed.notify_all()

    def _sync(self, written: int) -> None:
        """Make every commit up to ticket `written` durable (they were all written to the WAL
        before this is called), then tell their waiters. Without a WAL, SQLite synced them."""
        if self._wal is not None:
            try:
                os.fsync(self._wal)
            except OSError:
                # Whether the unsynced commits reached the disk is unknown: acknowledge none.
                with self._committed:
                    self._lose(self._durable + 1, written)
                raise
        with self._committed:
            self._durable = max(self._durable, written)
            self._committed.notify_all()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._begin()
            # A savepoint, so a failed write undoes itself only, never the records that other
            # writers staged in the same transaction.
            self._conn.execute("SAVEPOINT write")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK TO write")
                self._conn.execute("RELEASE write")
                self._sync(self._commit())
                raise
            self._conn.execute("RELEASE write")
            # Durable on return (heads and anchors are rare): synced under the lock.
            self._sync(self._commit())

    def stage_records(
        self,
        records: list[StagedRecord],
        prevs: list[bytes] | None = None,
        side_types: Collection[str] = (),
    ) -> tuple[list[RecordRow], int]:
        # Several records are staged all or none through a savepoint, which a failure rolls
        # back without undoing other writers' records; a single INSERT that fails undoes itself
        # (SQLite rolls back the statement), and each statement spared is a GIL hand-off spared.
        savepoint = len(records) > 1
        with self._lock:
            self._begin()
            if savepoint:
                self._conn.execute("SAVEPOINT stage")
            try:
                if prevs is not None:
                    check_chain(records, prevs, side_types, self._last_record_of_subject)
                rows = [self._insert_record(*record) for record in records]
            except BaseException:
                if savepoint:
                    self._conn.execute("ROLLBACK TO stage")
                    self._conn.execute("RELEASE stage")
                if self._first_in_transaction > self._staged:
                    # Nothing else is staged: end the empty transaction, not to hold the
                    # database's write lock until the next write.
                    self._commit()
                raise
            if savepoint:
                self._conn.execute("RELEASE stage")
            self._staged += 1
            return rows, self._staged

    def wait_durable(self, ticket: int) -> None:
        with self._committed:
            while self._durable < ticket and self._committing:
                self._committed.wait()
            leader = self._durable < ticket
            if leader:
                self._committing = True
        if leader:
            try:
                # Every record staged so far goes into this commit, including those of the
                # threads now waiting for it.
                with self._lock:
                    if self._open:
                        self._commit()
                    written = self._written
                # Outside the lock: other writers stage the next group during the fsync.
                self._sync(written)
            except (sqlite3.Error, OSError):
                pass  # reported below, through the lost ticket range
            finally:
                with self._committed:
                    self._committing = False
                    self._committed.notify_all()
        if any(first <= ticket <= last for first, last in self._lost):
            raise RecordNotStoredError(
                "the record could not be committed to the database and is not stored"
            )

    def _query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    def add_record(
        self, platform: str, record_hash: bytes, subject: bytes, record_type: str, body: str
    ) -> RecordRow:
        with self._write():
            return self._insert_record(platform, record_hash, subject, record_type, body)

    def _insert_record(
        self, platform: str, record_hash: bytes, subject: bytes, record_type: str, body: str
    ) -> RecordRow:
        """Requires self._lock and an open transaction."""
        conn = self._conn
        (next_index,) = conn.execute(
            "SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM records WHERE platform = ?",
            (platform,),
        ).fetchone()
        try:
            cursor = conn.execute(
                "INSERT INTO records (platform, leaf_index, record_hash, subject, record_type,"
                " body) VALUES (?, ?, ?, ?, ?, ?)",
                (platform, next_index, record_hash, subject, record_type, body),
            )
        except sqlite3.IntegrityError:
            raise StoreConflictError(
                f"record 0x{record_hash.hex()} is already stored"
            ) from None
        assert cursor.lastrowid is not None
        return RecordRow(
            cursor.lastrowid, platform, next_index, record_hash, subject, record_type, body
        )

    def last_record_of_subject(
        self, platform: str, subject: bytes, excluding: Collection[str] = ()
    ) -> RecordRow | None:
        with self._lock:
            return self._last_record_of_subject(platform, subject, excluding)

    def _last_record_of_subject(
        self, platform: str, subject: bytes, excluding: Collection[str] = ()
    ) -> RecordRow | None:
        """Requires self._lock."""
        skipped = sorted(excluding)
        row = self._conn.execute(
            f"SELECT {RECORD_COLUMNS} FROM records WHERE platform = ? AND subject = ?"
            f" AND record_type NOT IN ({', '.join('?' * len(skipped))})"
            " ORDER BY leaf_index DESC LIMIT 1",
            (platform, subject, *skipped),
        ).fetchone()
        return RecordRow(*row) if row else None

    def platforms(self) -> list[str]:
        rows = self._query(
            "SELECT platform FROM records UNION SELECT platform FROM heads ORDER BY platform"
        )
        return [row[0] for row in rows]

    def add_head(
        self,
        platform: str,
        tree_size: int,
        root_hash: bytes,
        sealed_at: int,
        fence: Fence | None = None,
    ) -> HeadRow:
        with self._write() as conn:
            _check_fence(conn, fence)
            (latest,) = conn.execute(
                "SELECT COALESCE(MAX(tree_size), 0) FROM heads WHERE platform = ?", (platform,)
            ).fetchone()
            if tree_size <= latest:
                raise StoreConflictError(
                    f"head of size {tree_size} does not grow the latest head of size {latest}"
                )
            conn.execute(
                "INSERT INTO heads (platform, tree_size, root_hash, sealed_at, state)"
                " VALUES (?, ?, ?, ?, ?)",
                (platform, tree_size, root_hash, sealed_at, AnchorState.SEALED.value),
            )
        return HeadRow(platform, tree_size, root_hash, sealed_at, AnchorState.SEALED)

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
        with self._write() as conn:
            _check_fence(conn, fence)
            changed = conn.execute(
                "UPDATE heads SET state = ?, chain_id = ?, contract = ?, tx_hash = ?, raw_tx = ?,"
                " nonce = ? WHERE platform = ? AND tree_size = ? AND state IN (?, ?)",
                (
                    AnchorState.SENT.value,
                    chain_id,
                    contract,
                    tx_hash,
                    raw_tx,
                    nonce,
                    platform,
                    tree_size,
                    AnchorState.SEALED.value,
                    AnchorState.SENT.value,
                ),
            ).rowcount
            if not changed:
                raise StoreConflictError(
                    f"head {tree_size} of {platform} is not sealed or sent: no transaction stored"
                )
            conn.execute(
                "INSERT OR IGNORE INTO anchor_transactions (platform, tree_size, tx_hash)"
                " VALUES (?, ?, ?)",
                (platform, tree_size, tx_hash),
            )

    def anchor_transactions(self, platform: str, tree_size: int) -> list[bytes]:
        rows = self._query(
            "SELECT tx_hash FROM anchor_transactions WHERE platform = ? AND tree_size = ?"
            " ORDER BY rowid",
            platform,
            tree_size,
        )
        return [row[0] for row in rows]

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
        with self._write() as conn:
            _check_fence(conn, fence)
            conn.execute(
                "UPDATE heads SET state = ?, tx_hash = ?, block_number = ?, block_hash = ?,"
                " block_time = ? WHERE platform = ? AND tree_size = ? AND state != ?",
                (
                    AnchorState.INCLUDED.value,
                    tx_hash,
                    block_number,
                    block_hash,
                    block_time,
                    platform,
                    tree_size,
                    AnchorState.SEALED.value,
                ),
            )

    def mark_final(
        self, platform: str, tree_size: int, block_hash: bytes, fence: Fence | None = None
    ) -> bool:
        with self._write() as conn:
            _check_fence(conn, fence)
            changed: int = conn.execute(
                "UPDATE heads SET state = ? WHERE platform = ? AND tree_size = ? AND state = ?"
                " AND block_hash = ?",
                (
                    AnchorState.FINAL.value,
                    platform,
                    tree_size,
                    AnchorState.INCLUDED.value,
                    block_hash,
                ),
            ).rowcount
        return changed == 1

    def mark_unincluded(self, platform: str, tree_size: int, fence: Fence | None = None) -> None:
        with self._write() as conn:
            _check_fence(conn, fence)
            conn.execute(
                "UPDATE heads SET state = ?, block_number = NULL, block_hash = NULL,"
                " block_time = NULL WHERE platform = ? AND tree_size = ? AND state IN (?, ?)",
                (
                    AnchorState.SENT.value,
                    platform,
                    tree_size,
                    AnchorState.INCLUDED.value,
                    AnchorState.FINAL.value,
                ),
            )

    def mark_unsent(self, platform: str, tree_size: int, fence: Fence | None = None) -> None:
        with self._write() as conn:
            _check_fence(conn, fence)
            conn.execute(
                "UPDATE heads SET state = ?, tx_hash = NULL, raw_tx = NULL, nonce = NULL"
                " WHERE platform = ? AND tree_size = ? AND state = ?",
                (AnchorState.SEALED.value, platform, tree_size, AnchorState.SENT.value),
            )

    def acquire_lease(self, name: str, holder: str, ttl: float, now: float) -> Fence | None:
        with self._write() as conn:
            row = conn.execute(
                "SELECT holder, token, expires_at FROM leases WHERE name = ?", (name,)
            ).fetchone()
            if row is None:
                token = 1
                conn.execute(
                    "INSERT INTO leases (name, holder, token, expires_at) VALUES (?, ?, ?, ?)",
                    (name, holder, token, now + ttl),
                )
                return Fence(name, holder, token)
            current, token, expires_at = row
            if current != holder:
                if expires_at > now:
                    return None
                token += 1
            conn.execute(
                "UPDATE leases SET holder = ?, token = ?, expires_at = ? WHERE name = ?",
                (holder, token, now + ttl, name),
            )
            return Fence(name, holder, token)

    def release_lease(self, fence: Fence) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE leases SET expires_at = 0 WHERE name = ? AND holder = ? AND token = ?",
                (fence.name, fence.holder, fence.token),
            )

    def remember_idempotency_key(
        self, platform: str, key: bytes, fingerprint: bytes, record_id: int
    ) -> None:
        with self._write() as conn:
            known = conn.execute(
                "SELECT fingerprint, record_id FROM idempotency_keys"
                " WHERE platform = ? AND key_hash = ?",
                (platform, key),
            ).fetchone()
            if known is None:
                conn.execute(
                    "INSERT INTO idempotency_keys (platform, key_hash, fingerprint, record_id)"
                    " VALUES (?, ?, ?, ?)",
                    (platform, key, fingerprint, record_id),
                )
            elif (bytes(known[0]), int(known[1])) != (fingerprint, record_id):
                raise IdempotencyKeyConflictError(
                    "this idempotency key is remembered for another request"
                )

    def add_vault_key(self, key: WrappedKey) -> WrappedKey:
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO vault_keys (platform, subject, kek_id, wrapped)"
                " VALUES (?, ?, ?, ?)",
                (key.platform, key.subject, key.kek_id, key.wrapped),
            )
            kek_id, wrapped = conn.execute(
                "SELECT kek_id, wrapped FROM vault_keys WHERE platform = ? AND subject = ?",
                (key.platform, key.subject),
            ).fetchone()
        return WrappedKey(key.platform, key.subject, kek_id, bytes(wrapped))

    def vault_keys_not_under(self, kek_id: str) -> list[WrappedKey]:
        rows = self._query(
            "SELECT platform, subject, kek_id, wrapped FROM vault_keys WHERE kek_id != ?"
            " ORDER BY platform, subject",
            kek_id,
        )
        return [WrappedKey(p, bytes(s), k, bytes(w)) for p, s, k, w in rows]

    def rewrap_vault_key(self, old: WrappedKey, new: WrappedKey) -> bool:
        with self._write() as conn:
            changed: int = conn.execute(
                "UPDATE vault_keys SET kek_id = ?, wrapped = ? WHERE platform = ? AND subject = ?"
                " AND kek_id = ? AND wrapped = ?",
                (new.kek_id, new.wrapped, old.platform, old.subject, old.kek_id, old.wrapped),
            ).rowcount
        return changed == 1

    def add_evidence(self, evidence: EvidenceRow) -> None:
        e = evidence
        try:
            with self._write() as conn:
                conn.execute(
                    f"INSERT INTO evidence ({EVIDENCE_COLUMNS})"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (e.record_id, e.evidence_record_id, e.platform, e.subject, e.media_type,
                     e.size, e.salt, e.commitment, e.nonce, e.ciphertext, e.stored_at),
                )
        except sqlite3.IntegrityError:
            raise StoreConflictError(f"record {e.record_id} has evidence already") from None

    def erase_subject(
        self, platform: str, subject: bytes, record_id: int, erased_at: int
    ) -> ErasureRow:
        with self._write() as conn:
            known = _erase(conn, platform, subject, record_id, erased_at)
        self._scrub_wal()
        return known

    def stage_erasure(
        self,
        record: StagedRecord,
        erased_at: int,
        prev: bytes | None = None,
        side_types: Collection[str] = (),
    ) -> tuple[RecordRow, ErasureRow, int]:
        platform, _hash, subject, _type, _body = record
        with self._lock:
            self._begin()
            # A savepoint: a failure undoes the record and the erasure together, never the
            # records other writers staged in the same transaction.
            self._conn.execute("SAVEPOINT erase")
            try:
                if _erasure_of(self._conn, platform, subject) is not None:
                    raise SubjectErasedError("the subject was erased before")
                if prev is not None:
                    check_chain([record], [prev], side_types, self._last_record_of_subject)
                row = self._insert_record(*record)
                erased = _erase(self._conn, platform, subject, row.id, erased_at)
            except BaseException as exc:
                self._conn.execute("ROLLBACK TO erase")
                self._conn.execute("RELEASE erase")
                if self._first_in_transaction > self._staged:
                    self._commit()  # nothing else staged: do not hold the write lock
                if isinstance(exc, sqlite3.Error):
                    raise ErasureNotStoredError(
                        f"the erasure could not be written ({type(exc).__name__}): nothing of "
                        "it is stored; ask for it again"
                    ) from exc
                raise
            self._conn.execute("RELEASE erase")
            self._staged += 1
            return row, erased, self._staged

    def scrub(self) -> None:
        self._scrub_wal()

    def _scrub_wal(self) -> None:
        """Copy the WAL into the database and truncate it: the WAL still holds the pages as
        they were before a secure delete (with the deleted content), until checkpointed."""
        with self._lock:
            if self._open:  # records staged meanwhile: commit them first
                self._sync(self._commit())
            busy, _frames, _copied = self._conn.execute(
                "PRAGMA wal_checkpoint(TRUNCATE)"
            ).fetchone()
            if busy:
                raise StoreConflictError("the WAL could not be checkpointed: a reader holds it")

    def close(self) -> None:
        with self._lock:
            if self._open:
                self._sync(self._commit())
            self._conn.close()
            if self._wal is not None:
                os.close(self._wal)
                self._wal = None
        self._unlock()

    def _unlock(self) -> None:
        if self._file_lock is not None:
            unlock_database(self._file_lock)
            self._file_lock = None


def _open_wal(conn: sqlite3.Connection) -> int | None:
    """A descriptor of the database's WAL file, to fsync it; None for a temporary database
    or a WAL file that cannot be opened (SQLite then keeps syncing on commit).

    SQLite created the file when the connection first read the database and, as long as the
    connection is open, only rewrites it in place (never deletes or replaces it), so one
    descriptor serves for the store's lifetime. SQLite takes no locks on the WAL file, so
    closing this descriptor cannot release any of its locks.
    """
    path = next(file for _seq, name, file in conn.execute("PRAGMA database_list") if name == "main")
    if not path:
        return None
    try:
        wal = os.open(f"{path}-wal", os.O_RDONLY)
    except OSError:
        return None  # then SQLite syncs each commit itself
    # The WAL's directory entry too, as SQLite syncs a journal's directory on its first sync.
    directory = os.open(os.path.dirname(path), os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return wal


def migrate(conn: sqlite3.Connection, where: str) -> list[migrations.Migration]:
    """Bring the database to this code's schema, one numbered migration per transaction;
    returns the migrations applied."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY,"
        " name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
    )
    (current,) = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()
    if current == 0:
        current = _adopt_unversioned(conn)
    todo = migrations.pending("sqlite", current, where)
    for migration in todo:
        try:
            conn.executescript(
                f"BEGIN IMMEDIATE;\n{migration.sql}\n"
                "INSERT INTO schema_version (version, name, applied_at) VALUES"
                f" ({migration.version}, '{migration.name}', CAST(strftime('%s') AS INTEGER));\n"
                "COMMIT;"
            )
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return list(todo)


def _adopt_unversioned(conn: sqlite3.Connection) -> int:
    """The version of a database written before schema_version existed, recorded as applied:
    0 when empty; 1 with heads without a nonce column; 2 with one."""
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "records" not in tables:
        return 0
    columns = {row[1] for row in conn.execute("PRAGMA table_info(heads)")}
    version = 2 if "nonce" in columns else 1
    for migration in migrations.migrations("sqlite")[:version]:
        conn.execute(
            "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, 0)",
            (migration.version, migration.name),
        )
    if version == 2:
        # Written by code that upgraded ANCHORED heads on every start: finish that here.
        conn.execute("UPDATE heads SET state = 'INCLUDED' WHERE state = 'ANCHORED'")
    return version


def _check_fence(conn: sqlite3.Connection, fence: Fence | None) -> None:
    """Requires an open transaction. Raises LeaseLostError unless `fence` still holds its lease."""
    if fence is None:
        return
    row = conn.execute(
        "SELECT holder, token FROM leases WHERE name = ?", (fence.name,)
    ).fetchone()
    if row is None or (row[0], row[1]) != (fence.holder, fence.token):
        raise LeaseLostError(
            f"lease {fence.name!r} was taken over (fencing token {fence.token} is stale)"
        )


def _erasure_of(conn: sqlite3.Connection, platform: str, subject: bytes) -> ErasureRow | None:
    row = conn.execute(
        "SELECT record_id, erased_at FROM erasures WHERE platform = ? AND subject = ?",
        (platform, subject),
    ).fetchone()
    return ErasureRow(platform, subject, int(row[0]), int(row[1])) if row else None


def _erase(
    conn: sqlite3.Connection, platform: str, subject: bytes, record_id: int, erased_at: int
) -> ErasureRow:
    """Requires an open transaction. Deletes the subject's wrapped data key, drops its
    evidence's ciphertexts and remembers the erasure, unless one is remembered: that one is
    returned."""
    known = _erasure_of(conn, platform, subject)
    if known is None:
        conn.execute(
            "INSERT INTO erasures (platform, subject, record_id, erased_at) VALUES (?, ?, ?, ?)",
            (platform, subject, record_id, erased_at),
        )
        known = ErasureRow(platform, subject, record_id, erased_at)
    conn.execute("DELETE FROM vault_keys WHERE platform = ? AND subject = ?", (platform, subject))
    conn.execute(
        "UPDATE evidence SET nonce = NULL, ciphertext = NULL WHERE platform = ? AND subject = ?",
        (platform, subject),
    )
    return known

