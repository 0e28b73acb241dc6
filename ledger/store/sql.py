"""The reads that SQLite and PostgreSQL answer with the same SQL, written once.

Both stores keep the same tables (see migrations/), so every read that needs no dialect of
its own lives here, written with sqlite3's `?` placeholders; a store names its driver's
placeholder and `_read` rewrites the statement for it. Writes stay in each store: they differ
in how they lock, commit and report conflicts.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

from ledger.store.base import (
    AnchorState,
    ErasureRow,
    EvidenceRow,
    HeadRow,
    RecordRow,
    Store,
    WrappedKey,
)

RECORD_COLUMNS = "id, platform, leaf_index, record_hash, subject, record_type, body"
EVIDENCE_COLUMNS = (
    "record_id, evidence_record_id, platform, subject, media_type, size, salt, commitment, "
    "nonce, ciphertext, stored_at"
)
HEAD_COLUMNS = (
    "platform, tree_size, root_hash, sealed_at, state, chain_id, contract, tx_hash, raw_tx, "
    "block_number, block_hash, block_time, nonce"
)


class SqlStore(Store):
    """A store on an SQL database with BindLedger's schema: the reads common to every driver."""

    #: The driver's parameter placeholder: "?" for sqlite3, "%s" for psycopg.
    placeholder: ClassVar[str] = "?"

    @abstractmethod
    def _query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        """Rows of one statement, in the driver's own placeholder style."""

    def _read(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        """Rows of one statement written with `?` placeholders."""
        return self._query(sql.replace("?", self.placeholder), *args)

    def get_record(self, record_id: int) -> RecordRow | None:
        rows = self._read(f"SELECT {RECORD_COLUMNS} FROM records WHERE id = ?", record_id)
        return RecordRow(*rows[0]) if rows else None

    def get_record_by_hash(self, record_hash: bytes) -> RecordRow | None:
        rows = self._read(
            f"SELECT {RECORD_COLUMNS} FROM records WHERE record_hash = ?", record_hash
        )
        return RecordRow(*rows[0]) if rows else None

    def records_of_subject(
        self, platform: str, subject: bytes, record_type: str | None = None
    ) -> list[RecordRow]:
        if record_type is not None:
            rows = self._read(
                f"SELECT {RECORD_COLUMNS} FROM records WHERE platform = ? AND subject = ?"
                " AND record_type = ? ORDER BY leaf_index",
                platform,
                subject,
                record_type,
            )
        else:
            rows = self._read(
                f"SELECT {RECORD_COLUMNS} FROM records WHERE platform = ? AND subject = ?"
                " ORDER BY leaf_index",
                platform,
                subject,
            )
        return [RecordRow(*row) for row in rows]

    def record_hashes(self, platform: str, start: int = 0) -> list[bytes]:
        rows = self._read(
            "SELECT record_hash FROM records WHERE platform = ? AND leaf_index >= ?"
            " ORDER BY leaf_index",
            platform,
            start,
        )
        return [row[0] for row in rows]

    def records_in_range(self, platform: str, start: int, end: int) -> list[RecordRow]:
        rows = self._read(
            f"SELECT {RECORD_COLUMNS} FROM records WHERE platform = ? AND leaf_index >= ?"
            " AND leaf_index < ? ORDER BY leaf_index",
            platform,
            start,
            end,
        )
        return [RecordRow(*row) for row in rows]

    def heads(self, platform: str) -> list[HeadRow]:
        rows = self._read(
            f"SELECT {HEAD_COLUMNS} FROM heads WHERE platform = ? ORDER BY tree_size", platform
        )
        return [head_row(row) for row in rows]

    def latest_head(self, platform: str, state: AnchorState | None = None) -> HeadRow | None:
        if state is None:
            rows = self._read(
                f"SELECT {HEAD_COLUMNS} FROM heads WHERE platform = ?"
                " ORDER BY tree_size DESC LIMIT 1",
                platform,
            )
        else:
            rows = self._read(
                f"SELECT {HEAD_COLUMNS} FROM heads WHERE platform = ? AND state = ?"
                " ORDER BY tree_size DESC LIMIT 1",
                platform,
                state.value,
            )
        return head_row(rows[0]) if rows else None

    def covering_head(
        self, platform: str, leaf_index: int, state: AnchorState = AnchorState.FINAL
    ) -> HeadRow | None:
        rows = self._read(
            f"SELECT {HEAD_COLUMNS} FROM heads WHERE platform = ? AND tree_size > ?"
            " AND state = ? ORDER BY tree_size LIMIT 1",
            platform,
            leaf_index,
            state.value,
        )
        return head_row(rows[0]) if rows else None

    def unfinished_heads(self) -> list[HeadRow]:
        rows = self._read(
            f"SELECT {HEAD_COLUMNS} FROM heads WHERE state != ? ORDER BY platform, tree_size",
            AnchorState.FINAL.value,
        )
        return [head_row(row) for row in rows]

    def heads_included_since(self, block_number: int) -> list[HeadRow]:
        rows = self._read(
            f"SELECT {HEAD_COLUMNS} FROM heads WHERE state IN (?, ?) AND block_number >= ?"
            " ORDER BY platform, tree_size",
            AnchorState.INCLUDED.value,
            AnchorState.FINAL.value,
            block_number,
        )
        return [head_row(row) for row in rows]

    def idempotency_key(self, platform: str, key: bytes) -> tuple[bytes, int] | None:
        rows = self._read(
            "SELECT fingerprint, record_id FROM idempotency_keys"
            " WHERE platform = ? AND key_hash = ?",
            platform,
            key,
        )
        return (bytes(rows[0][0]), int(rows[0][1])) if rows else None

    def vault_key(self, platform: str, subject: bytes) -> WrappedKey | None:
        rows = self._read(
            "SELECT kek_id, wrapped FROM vault_keys WHERE platform = ? AND subject = ?",
            platform,
            subject,
        )
        return WrappedKey(platform, subject, rows[0][0], bytes(rows[0][1])) if rows else None

    def evidence_of_record(self, record_id: int) -> EvidenceRow | None:
        rows = self._read(
            f"SELECT {EVIDENCE_COLUMNS} FROM evidence WHERE record_id = ?", record_id
        )
        return evidence_row(rows[0]) if rows else None

    def evidence_of_subject(self, platform: str, subject: bytes) -> list[EvidenceRow]:
        rows = self._read(
            f"SELECT {EVIDENCE_COLUMNS} FROM evidence WHERE platform = ? AND subject = ?"
            " ORDER BY record_id",
            platform,
            subject,
        )
        return [evidence_row(row) for row in rows]

    def erasure(self, platform: str, subject: bytes) -> ErasureRow | None:
        rows = self._read(
            "SELECT record_id, erased_at FROM erasures WHERE platform = ? AND subject = ?",
            platform,
            subject,
        )
        return ErasureRow(platform, subject, int(rows[0][0]), int(rows[0][1])) if rows else None


def head_row(row: tuple[Any, ...]) -> HeadRow:
    """A `heads` row (HEAD_COLUMNS) as a HeadRow."""
    values = list(row)
    values[4] = AnchorState(values[4])
    return HeadRow(*values)


def evidence_row(row: tuple[Any, ...]) -> EvidenceRow:
    """An `evidence` row (EVIDENCE_COLUMNS) as an EvidenceRow, whichever types the driver gave."""
    (record_id, evidence_record_id, platform, subject, media_type, size, salt, commitment,
     nonce, ciphertext, stored_at) = row
    return EvidenceRow(
        int(record_id), int(evidence_record_id), platform, bytes(subject), media_type,
        int(size), bytes(salt), bytes(commitment),
        None if nonce is None else bytes(nonce),
        None if ciphertext is None else bytes(ciphertext),
        int(stored_at),
    )
