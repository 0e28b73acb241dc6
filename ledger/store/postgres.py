"""PostgreSQL store: several processes write one database. Leaf indexes come from a per-platform
row locked for the length of the appending transaction, a subject's hash chain is checked under
that lock, and staged records of several threads share one commit (group commit)."""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool

from ledger.errors import LedgerError
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
from ledger.store.migrations import SchemaOutdatedError
from ledger.store.sql import (
    EVIDENCE_COLUMNS,
    RECORD_COLUMNS,
    SqlStore,
)

# Writer connections kept open between transactions (more are opened while commits overlap).
IDLE_WRITERS = 2
# Serialises `bindledger db upgrade` runs on one database (pg_advisory_xact_lock's key).
_MIGRATION_LOCK = 0x62696E646C6564  # "bindled"


class DatabaseUnavailableError(LedgerError):
    """The PostgreSQL server cannot be reached, refused the connection, or failed during a
    write (which then stored nothing). Not the request's fault: the API answers 503."""


def connect(url: str) -> psycopg.Connection[Any]:
    """A connection in autocommit mode. Raises DatabaseUnavailableError, naming the database
    without its credentials."""
    try:
        return psycopg.connect(url, autocommit=True)
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise DatabaseUnavailableError(f"cannot connect to {describe(url)}: {reason}") from None


def describe(url: str) -> str:
    """The database's host, port and name, without user or password: safe for messages."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://(unparsable URL)"
    host = parts.get("host") or "localhost"
    port = parts.get("port") or "5432"
    return f"postgresql://{host}:{port}/{parts.get('dbname') or ''}"


def schema_version(conn: psycopg.Connection[Any]) -> int:
    """The database's schema version: 0 when BindLedger never wrote it."""
    (table,) = _one(conn.execute("SELECT to_regclass('schema_version')"))
    if table is None:
        return 0
    (version,) = _one(conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version"))
    return int(version)


def upgrade(url: str) -> list[migrations.Migration]:
    """Apply the migrations the database lacks, in one transaction; returns them. Concurrent
    upgrades of one database wait for each other, and the second finds nothing to do."""
    with connect(url) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY,"
            " name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        todo = migrations.pending("postgres", schema_version(conn), describe(url))
        for migration in todo:
            conn.execute(migration.sql.encode())  # bytes: run as a script, several statements
            conn.execute(
                "INSERT INTO schema_version (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
    return list(todo)


@dataclass
class _Transaction:
    """A transaction on a writer connection and the tickets staged in it (first..last; empty
    while last < first), with the next leaf index of each platform whose row it holds."""

    conn: psycopg.Connection[Any]
    first: int
    last: int
    next_index: dict[str, int]
    begun: bool = True  # BEGIN was sent


class PostgresStore(SqlStore):
    """A store in a PostgreSQL database that several processes share (`shared` is True).

    Group commit as in SqliteStore: `stage_records` writes into an open transaction and
    `wait_durable` commits it, so records staged by several threads meanwhile share one
    commit. One commit runs at a time, outside the store's lock: writers stage the next group
    meanwhile, in a new transaction on another writer connection. A commit returns once the
    server has flushed its WAL (synchronous_commit is forced on), so committed means durable.

    The open transaction holds the `logs` row of each platform it appended to (FOR UPDATE):
    other processes appending to the same platform wait for its commit, so each platform's
    records commit in leaf order, without gaps. To rule out deadlocks between processes, a
    transaction waits for a platform's row only while it holds no other; otherwise it tries
    without waiting (NOWAIT) and, if the row is busy, commits first.

    Heads, anchors and leases are written in their own short transactions on pooled
    connections; reads use pooled connections too.

    The database's schema must be this code's (`bindledger db upgrade`): opening an older one
    raises SchemaOutdatedError rather than changing a database other processes are using.
    """

    placeholder = "%s"
    shared = True

    def __init__(self, url: str, pool_size: int = 8) -> None:
        self._url = url
        with connect(url) as conn:
            version = schema_version(conn)
        latest = migrations.latest_version("postgres")
        if version < latest:
            raise SchemaOutdatedError(
                f"the database {describe(url)} has schema version {version}, this BindLedger "
                f"needs {latest}: run `bindledger db upgrade --database URL` first"
            )
        migrations.pending("postgres", version, describe(url))  # raises if it is newer
        self._pool = ConnectionPool(
            url, min_size=1, max_size=pool_size, kwargs={"autocommit": True}, open=True
        )
        self._lock = threading.Lock()  # guards the open transaction and the ticket counter
        self._open: _Transaction | None = None  # where the next records are staged
        self._idle: list[psycopg.Connection[Any]] = []  # writer connections between uses
        self._idle_lock = threading.Lock()
        self._known_logs: set[str] = set()  # platforms whose `logs` row exists
        self._staged = 0  # ticket of the last staged write
        self._settled = threading.Condition()  # guards what follows, tells waiters
        self._settled_upto = 0  # every ticket up to this one is committed or lost
        self._settled_above: dict[int, int] = {}  # ranges (first: last) settled out of order
        self._lost: list[tuple[int, int]] = []  # ticket ranges whose commit failed
        self._committing = False  # a waiter is committing a transaction

    # -- the writers' transactions ------------------------------------------------------------

    def _begin(self) -> _Transaction:
        """Requires self._lock. The open transaction, begun if there is none."""
        if self._open is None:
            with self._idle_lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                conn = connect(self._url)
                # Acknowledged means flushed to disk, whatever the server's default says.
                conn.execute("SET synchronous_commit = on")
            # BEGIN goes with the transaction's first statement (_hold_logs): one round trip.
            self._open = _Transaction(conn, self._staged + 1, self._staged, {}, begun=False)
        return self._open

    def _finish(self, txn: _Transaction) -> None:
        """Commit a transaction that takes no more writes, with the next leaf index of each
        platform it holds, and settle its tickets. Runs outside self._lock (but for rare
        cases), so that other threads stage the next group in a new transaction meanwhile."""
        if not txn.begun:
            self._idle.append(txn.conn)
            return
        try:
            with txn.conn.pipeline():  # one round trip for all of it
                for platform, next_index in txn.next_index.items():
                    txn.conn.execute(
                        "UPDATE logs SET next_index = %s WHERE platform = %s",
                        (next_index, platform),
                    )
                txn.conn.execute("COMMIT")
        except BaseException:
            # The commit failed or its outcome is unknown: none of its records is acknowledged.
            txn.conn.close()
            self._settle(txn, committed=False)
            raise
        with self._idle_lock:
            if len(self._idle) < IDLE_WRITERS:
                self._idle.append(txn.conn)
            else:
                txn.conn.close()
        self._settle(txn, committed=True)

    def _finish_open(self) -> None:
        """Requires self._lock. Commit the open transaction now."""
        txn, self._open = self._open, None
        if txn is not None:
            self._finish(txn)

    def _abandon_open(self) -> None:
        """Requires self._lock. The open transaction failed: drop it with its connection."""
        txn, self._open = self._open, None
        if txn is not None:
            txn.conn.close()
            self._settle(txn, committed=False)

    def _settle(self, txn: _Transaction, committed: bool) -> None:
        with self._settled:
            if txn.last >= txn.first:
                if not committed:
                    self._lost.append((txn.first, txn.last))
                # Transactions cover consecutive ticket ranges; they may settle out of order.
                self._settled_above[txn.first] = txn.last
                while self._settled_upto + 1 in self._settled_above:
                    self._settled_upto = self._settled_above.pop(self._settled_upto + 1)
            self._settled.notify_all()

    def _is_settled(self, ticket: int) -> bool:
        """Requires self._settled."""
        return ticket <= self._settled_upto or any(
            first <= ticket <= last for first, last in self._settled_above.items()
        )

    def _hold_logs(self, platforms: list[str]) -> _Transaction:
        """Requires self._lock. Locks the `logs` row of each platform for the open transaction
        (beginning one). While another transaction of this store commits, this waits for it
        to let go of the rows."""
        txn = self._begin()
        conn = txn.conn
        for platform in platforms:
            if platform in txn.next_index:
                continue
            if txn.next_index:
                # Holding another platform's row: waiting here could deadlock with a process
                # that holds this row and waits for ours.
                conn.execute("SAVEPOINT hold")
                try:
                    row = conn.execute(
                        "SELECT next_index FROM logs WHERE platform = %s FOR UPDATE NOWAIT",
                        (platform,),
                    ).fetchone()
                    conn.execute("RELEASE SAVEPOINT hold")
                except pg_errors.LockNotAvailable:
                    conn.execute("ROLLBACK TO SAVEPOINT hold")
                    conn.execute("RELEASE SAVEPOINT hold")
                    self._finish_open()
                    return self._hold_logs(platforms)
            else:
                try:
                    with conn.pipeline():
                        if not txn.begun:
                            conn.execute("BEGIN")
                        cursor = conn.execute(
                            "SELECT next_index FROM logs WHERE platform = %s FOR UPDATE",
                            (platform,),
                        )
                except psycopg.Error:
                    if not txn.begun:
                        self._open = None  # nothing was staged in it: its connection goes
                        conn.close()
                    raise
                txn.begun = True
                row = cursor.fetchone()
            assert row is not None, "_create_logs made the row"
            txn.next_index[platform] = int(row[0])
        return txn

    def _create_logs(self, platforms: Collection[str]) -> None:
        """Make sure each platform has its `logs` row, in its own transaction: the appending
        transaction then only locks rows, and never waits on another's uncommitted insert."""
        new = [p for p in platforms if p not in self._known_logs]
        if not new:
            return
        with self._pool.connection() as conn:
            for platform in new:
                conn.execute(
                    "INSERT INTO logs (platform, next_index) VALUES (%s, 0)"
                    " ON CONFLICT (platform) DO NOTHING",
                    (platform,),
                )
        self._known_logs.update(new)

    # -- records ------------------------------------------------------------------------------

    def add_record(
        self, platform: str, record_hash: bytes, subject: bytes, record_type: str, body: str
    ) -> RecordRow:
        rows, ticket = self.stage_records([(platform, record_hash, subject, record_type, body)])
        self.wait_durable(ticket)
        return rows[0]

    def stage_records(
        self,
        records: list[StagedRecord],
        prevs: list[bytes] | None = None,
        side_types: Collection[str] = (),
    ) -> tuple[list[RecordRow], int]:
        platforms = list(dict.fromkeys(record[0] for record in records))
        try:
            self._create_logs(platforms)
            with self._lock:
                try:
                    txn = self._hold_logs(platforms)
                    rows = self._stage(txn, records, prevs, side_types)
                except StoreConflictError:
                    if self._open is not None and self._open.last < self._open.first:
                        self._finish_open()  # nothing is staged: let go of the platforms' rows
                    raise
                except psycopg.Error:
                    self._abandon_open()  # the transaction is aborted, or its state unknown
                    raise
                self._staged += 1
                txn.last = self._staged
                return rows, self._staged
        except psycopg.Error as exc:
            raise DatabaseUnavailableError(
                f"the records could not be staged in {describe(self._url)}: "
                f"{type(exc).__name__}; nothing is stored"
            ) from exc

    def _stage(
        self,
        txn: _Transaction,
        records: list[StagedRecord],
        prevs: list[bytes] | None,
        side_types: Collection[str],
    ) -> list[RecordRow]:
        """Requires self._lock and the platforms' rows held. Stages all records or none."""
        conn = txn.conn
        if prevs is not None:
            # Nothing is written yet: a stale prev leaves the transaction as it was.
            check_chain(
                records, prevs, side_types, lambda p, s, x: self._last_of(conn, p, s, x)
            )
        indexes = []
        next_index = dict(txn.next_index)
        for record in records:
            indexes.append(next_index[record[0]])
            next_index[record[0]] += 1
        # A savepoint lets a batch with a stored hash undo itself, never the records that
        # other threads staged in the same transaction. A lone record needs none: if its hash
        # is stored, ON CONFLICT leaves it out and nothing was written.
        savepoint = len(records) > 1
        if savepoint:
            conn.execute("SAVEPOINT stage")
        values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(records))
        params: list[Any] = []
        for (platform, record_hash, subject, record_type, body), index in zip(
            records, indexes, strict=True
        ):
            params += [platform, index, record_hash, subject, record_type, body]
        inserted = conn.execute(
            "INSERT INTO records (platform, leaf_index, record_hash, subject, record_type, body)"
            f" VALUES {values} ON CONFLICT (record_hash) DO NOTHING RETURNING record_hash, id",
            params,
        ).fetchall()
        ids = {bytes(record_hash): record_id for record_hash, record_id in inserted}
        if len(ids) < len(records):
            if savepoint:
                conn.execute("ROLLBACK TO SAVEPOINT stage")
                conn.execute("RELEASE SAVEPOINT stage")
            stored = next(r[1] for r in records if r[1] not in ids)
            raise StoreConflictError(f"record 0x{stored.hex()} is already stored")
        if savepoint:
            conn.execute("RELEASE SAVEPOINT stage")
        txn.next_index = next_index
        return [
            RecordRow(ids[record_hash], platform, index, record_hash, subject, record_type, body)
            for (platform, record_hash, subject, record_type, body), index in zip(
                records, indexes, strict=True
            )
        ]

    def _last_of(
        self,
        conn: psycopg.Connection[Any],
        platform: str,
        subject: bytes,
        excluding: Collection[str],
    ) -> RecordRow | None:
        row = conn.execute(
            f"SELECT {RECORD_COLUMNS} FROM records WHERE platform = %s AND subject = %s"
            " AND record_type <> ALL(%s) ORDER BY leaf_index DESC LIMIT 1",
            (platform, subject, sorted(excluding)),
        ).fetchone()
        return RecordRow(*row) if row else None

    def wait_durable(self, ticket: int) -> None:
        with self._settled:
            # One commit at a time: while it runs, the records staged meanwhile gather in the
            # open transaction, and the next waiter commits them all at once.
            while not self._is_settled(ticket) and self._committing:
                self._settled.wait()
            lead = not self._is_settled(ticket)
            if lead:
                self._committing = True
        if lead:
            try:
                with self._lock:
                    txn, self._open = self._open, None
                if txn is not None:
                    self._finish(txn)  # outside the lock: the next group stages meanwhile
            except psycopg.Error:
                pass  # reported below, through the lost ticket range
            finally:
                with self._settled:
                    self._committing = False
                    self._settled.notify_all()
            with self._settled:
                while not self._is_settled(ticket):
                    self._settled.wait()
        if any(first <= ticket <= last for first, last in self._lost):
            raise RecordNotStoredError(
                "the record could not be committed to the database and is not stored"
            )

    # -- reads --------------------------------------------------------------------------------

    def _query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with self._unavailable_as_ledger_error(), self._pool.connection() as conn:
            return conn.execute(sql, args).fetchall()

    @contextmanager
    def _unavailable_as_ledger_error(self) -> Iterator[None]:
        """A server that is down or unreachable is the service's fault, not the request's:
        DatabaseUnavailableError (503), naming the database without credentials."""
        try:
            yield
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailableError(
                f"{describe(self._url)} is unavailable: {type(exc).__name__}"
            ) from exc

    def last_record_of_subject(
        self, platform: str, subject: bytes, excluding: Collection[str] = ()
    ) -> RecordRow | None:
        with self._unavailable_as_ledger_error(), self._pool.connection() as conn:
            return self._last_of(conn, platform, subject, excluding)

    def platforms(self) -> list[str]:
        rows = self._query(
            "SELECT platform FROM logs WHERE next_index > 0"
            " UNION SELECT platform FROM heads ORDER BY platform"
        )
        return [row[0] for row in rows]

    # -- heads and anchors --------------------------------------------------------------------

    @contextmanager
    def _transaction(self, fence: Fence | None = None) -> Iterator[psycopg.Connection[Any]]:
        with (
            self._unavailable_as_ledger_error(),
            self._pool.connection() as conn,
            conn.transaction(),
        ):
            if fence is not None:
                _check_fence(conn, fence)
            yield conn

    def add_head(
        self,
        platform: str,
        tree_size: int,
        root_hash: bytes,
        sealed_at: int,
        fence: Fence | None = None,
    ) -> HeadRow:
        with self._transaction(fence) as conn:
            # One head writer per platform at a time, so "grows the latest" holds in the end.
            conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended('bindledger.heads:' || %s, 0))",
                (platform,),
            )
            (latest,) = _one(
                conn.execute(
                    "SELECT COALESCE(MAX(tree_size), 0) FROM heads WHERE platform = %s",
                    (platform,),
                )
            )
            if tree_size <= latest:
                raise StoreConflictError(
                    f"head of size {tree_size} does not grow the latest head of size {latest}"
                )
            conn.execute(
                "INSERT INTO heads (platform, tree_size, root_hash, sealed_at, state)"
                " VALUES (%s, %s, %s, %s, %s)",
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
        with self._transaction(fence) as conn:
            changed = conn.execute(
                "UPDATE heads SET state = %s, chain_id = %s, contract = %s, tx_hash = %s,"
                " raw_tx = %s, nonce = %s WHERE platform = %s AND tree_size = %s"
                " AND state IN (%s, %s)",
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
                "INSERT INTO anchor_transactions (platform, tree_size, tx_hash)"
                " VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                (platform, tree_size, tx_hash),
            )

    def anchor_transactions(self, platform: str, tree_size: int) -> list[bytes]:
        rows = self._query(
            "SELECT tx_hash FROM anchor_transactions WHERE platform = %s AND tree_size = %s"
            " ORDER BY seq",
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
        with self._transaction(fence) as conn:
            conn.execute(
                "UPDATE heads SET state = %s, tx_hash = %s, block_number = %s, block_hash = %s,"
                " block_time = %s WHERE platform = %s AND tree_size = %s AND state <> %s",
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
        with self._transaction(fence) as conn:
            changed = conn.execute(
                "UPDATE heads SET state = %s WHERE platform = %s AND tree_size = %s"
                " AND state = %s AND block_hash = %s",
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
        with self._transaction(fence) as conn:
            conn.execute(
                "UPDATE heads SET state = %s, block_number = NULL, block_hash = NULL,"
                " block_time = NULL WHERE platform = %s AND tree_size = %s AND state IN (%s, %s)",
                (
                    AnchorState.SENT.value,
                    platform,
                    tree_size,
                    AnchorState.INCLUDED.value,
                    AnchorState.FINAL.value,
                ),
            )

    def mark_unsent(self, platform: str, tree_size: int, fence: Fence | None = None) -> None:
        with self._transaction(fence) as conn:
            conn.execute(
                "UPDATE heads SET state = %s, tx_hash = NULL, raw_tx = NULL, nonce = NULL"
                " WHERE platform = %s AND tree_size = %s AND state = %s",
                (AnchorState.SEALED.value, platform, tree_size, AnchorState.SENT.value),
            )

    # -- leases -------------------------------------------------------------------------------

    def acquire_lease(self, name: str, holder: str, ttl: float, now: float) -> Fence | None:
        with self._transaction() as conn:
            created = conn.execute(
                "INSERT INTO leases (name, holder, token, expires_at) VALUES (%s, %s, 1, %s)"
                " ON CONFLICT (name) DO NOTHING RETURNING token",
                (name, holder, now + ttl),
            ).fetchone()
            if created is not None:
                return Fence(name, holder, 1)
            current, token, expires_at = _one(
                conn.execute(
                    "SELECT holder, token, expires_at FROM leases WHERE name = %s FOR UPDATE",
                    (name,),
                )
            )
            if current != holder:
                if expires_at > now:
                    return None
                token += 1
            conn.execute(
                "UPDATE leases SET holder = %s, token = %s, expires_at = %s WHERE name = %s",
                (holder, token, now + ttl, name),
            )
            return Fence(name, holder, int(token))

    def release_lease(self, fence: Fence) -> None:
        with self._transaction() as conn:
            conn.execute(
                "UPDATE leases SET expires_at = 0 WHERE name = %s AND holder = %s AND token = %s",
                (fence.name, fence.holder, fence.token),
            )

    # -- idempotency keys ----------------------------------------------------------------------

    def remember_idempotency_key(
        self, platform: str, key: bytes, fingerprint: bytes, record_id: int
    ) -> None:
        # Written in the open transaction, with the records staged before it, and committed
        # with them: a record written under a key is never stored without it. (If the record's
        # transaction is already committing, the key's reference to it waits for that commit.)
        try:
            with self._lock:
                txn = self._begin()
                conn = txn.conn
                try:
                    with conn.pipeline():
                        if not txn.begun:
                            conn.execute("BEGIN")
                        created = conn.execute(
                            "INSERT INTO idempotency_keys (platform, key_hash, fingerprint,"
                            " record_id) VALUES (%s, %s, %s, %s)"
                            " ON CONFLICT (platform, key_hash) DO NOTHING RETURNING record_id",
                            (platform, key, fingerprint, record_id),
                        )
                    txn.begun = True
                    if created.fetchone() is None:
                        known = _one(
                            conn.execute(
                                "SELECT fingerprint, record_id FROM idempotency_keys"
                                " WHERE platform = %s AND key_hash = %s",
                                (platform, key),
                            )
                        )
                        if (bytes(known[0]), int(known[1])) != (fingerprint, record_id):
                            raise IdempotencyKeyConflictError(
                                "this idempotency key is remembered for another request"
                            )
                except psycopg.Error:
                    self._abandon_open()
                    raise
                self._open = None
            self._finish(txn)  # outside the lock: other writers stage the next group meanwhile
        except psycopg.Error as exc:
            raise DatabaseUnavailableError(
                f"the idempotency key could not be stored in {describe(self._url)}: "
                f"{type(exc).__name__}"
            ) from exc

    # -- the evidence vault --------------------------------------------------------------------

    def add_vault_key(self, key: WrappedKey) -> WrappedKey:
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO vault_keys (platform, subject, kek_id, wrapped)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (platform, subject) DO NOTHING",
                (key.platform, key.subject, key.kek_id, key.wrapped),
            )
            kek_id, wrapped = _one(
                conn.execute(
                    "SELECT kek_id, wrapped FROM vault_keys WHERE platform = %s AND subject = %s",
                    (key.platform, key.subject),
                )
            )
        return WrappedKey(key.platform, key.subject, kek_id, bytes(wrapped))

    def vault_keys_not_under(self, kek_id: str) -> list[WrappedKey]:
        rows = self._query(
            "SELECT platform, subject, kek_id, wrapped FROM vault_keys WHERE kek_id != %s"
            " ORDER BY platform, subject",
            kek_id,
        )
        return [WrappedKey(p, bytes(s), k, bytes(w)) for p, s, k, w in rows]

    def rewrap_vault_key(self, old: WrappedKey, new: WrappedKey) -> bool:
        with self._transaction() as conn:
            changed = conn.execute(
                "UPDATE vault_keys SET kek_id = %s, wrapped = %s WHERE platform = %s"
                " AND subject = %s AND kek_id = %s AND wrapped = %s",
                (new.kek_id, new.wrapped, old.platform, old.subject, old.kek_id, old.wrapped),
            ).rowcount
        return changed == 1

    def add_evidence(self, evidence: EvidenceRow) -> None:
        e = evidence
        try:
            with self._transaction() as conn:
                conn.execute(
                    f"INSERT INTO evidence ({EVIDENCE_COLUMNS})"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (e.record_id, e.evidence_record_id, e.platform, e.subject, e.media_type,
                     e.size, e.salt, e.commitment, e.nonce, e.ciphertext, e.stored_at),
                )
        except pg_errors.UniqueViolation:
            raise StoreConflictError(f"record {e.record_id} has evidence already") from None

    def erase_subject(
        self, platform: str, subject: bytes, record_id: int, erased_at: int
    ) -> ErasureRow:
        # PostgreSQL leaves deleted row versions in the table until VACUUM reclaims them and in
        # the WAL until it is recycled: the wrapped key is only as gone as those are (README).
        with self._transaction() as conn:
            return _erase(conn, platform, subject, record_id, erased_at)

    def stage_erasure(
        self,
        record: StagedRecord,
        erased_at: int,
        prev: bytes | None = None,
        side_types: Collection[str] = (),
    ) -> tuple[RecordRow, ErasureRow, int]:
        platform, _hash, subject, _type, _body = record
        try:
            self._create_logs([platform])
            with self._lock:
                try:
                    txn = self._hold_logs([platform])
                except psycopg.Error:
                    self._abandon_open()
                    raise
                conn = txn.conn
                held = dict(txn.next_index)
                # A savepoint: a failure undoes the record and the erasure together (and the
                # leaf index the record took), never what other threads staged meanwhile.
                conn.execute("SAVEPOINT erase")
                try:
                    if _erasure_of(conn, platform, subject) is not None:
                        raise SubjectErasedError("the subject was erased before")
                    (row,) = self._stage(txn, [record], None if prev is None else [prev],
                                         side_types)
                    erased = _erase(conn, platform, subject, row.id, erased_at)
                    conn.execute("RELEASE SAVEPOINT erase")
                except BaseException as exc:
                    txn.next_index = held
                    try:
                        conn.execute("ROLLBACK TO SAVEPOINT erase")
                        conn.execute("RELEASE SAVEPOINT erase")
                    except psycopg.Error:
                        self._abandon_open()  # the transaction's state is unknown
                        raise exc from None
                    if txn.last < txn.first:
                        self._finish_open()  # nothing is staged: let go of the platform's row
                    raise
                self._staged += 1
                txn.last = self._staged
                return row, erased, self._staged
        except psycopg.Error as exc:
            raise ErasureNotStoredError(
                f"the erasure could not be written in {describe(self._url)} "
                f"({type(exc).__name__}): nothing of it is stored; ask for it again"
            ) from exc

    def close(self) -> None:
        with self._lock:
            try:
                self._finish_open()
            except psycopg.Error:
                pass  # its records are reported lost to their waiters
        with self._idle_lock:
            for conn in self._idle:
                conn.close()
            self._idle.clear()
        self._pool.close()


def _check_fence(conn: psycopg.Connection[Any], fence: Fence) -> None:
    """Raises LeaseLostError unless `fence` still holds its lease. The lease row stays locked
    (FOR SHARE) until the write commits, so a takeover waits for it: no write of a holder
    lands after the lease changed hands."""
    row = conn.execute(
        "SELECT holder, token FROM leases WHERE name = %s FOR SHARE", (fence.name,)
    ).fetchone()
    if row is None or (row[0], row[1]) != (fence.holder, fence.token):
        raise LeaseLostError(
            f"lease {fence.name!r} was taken over (fencing token {fence.token} is stale)"
        )


def _one(cursor: psycopg.Cursor[Any]) -> tuple[Any, ...]:
    row = cursor.fetchone()
    assert row is not None
    return tuple(row)


def _erasure_of(conn: psycopg.Connection[Any], platform: str, subject: bytes) -> ErasureRow | None:
    row = conn.execute(
        "SELECT record_id, erased_at FROM erasures WHERE platform = %s AND subject = %s",
        (platform, subject),
    ).fetchone()
    return ErasureRow(platform, subject, int(row[0]), int(row[1])) if row else None


def _erase(
    conn: psycopg.Connection[Any], platform: str, subject: bytes, record_id: int, erased_at: int
) -> ErasureRow:
    """Requires an open transaction. Deletes the subject's wrapped data key, drops its
    evidence's ciphertexts and remembers the erasure, unless one is remembered: that one is
    returned."""
    conn.execute(
        "INSERT INTO erasures (platform, subject, record_id, erased_at)"
        " VALUES (%s, %s, %s, %s) ON CONFLICT (platform, subject) DO NOTHING",
        (platform, subject, record_id, erased_at),
    )
    known = _erasure_of(conn, platform, subject)
    assert known is not None  # inserted above, or there before
    conn.execute(
        "DELETE FROM vault_keys WHERE platform = %s AND subject = %s", (platform, subject)
    )
    conn.execute(
        "UPDATE evidence SET nonce = NULL, ciphertext = NULL WHERE platform = %s AND subject = %s",
        (platform, subject),
    )
    return known
