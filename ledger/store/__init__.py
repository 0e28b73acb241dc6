"""Durable storage of records, tree heads and anchors, behind one interface."""

from ledger.store.base import (
    ON_CHAIN_STATES,
    AnchorState,
    Fence,
    HeadRow,
    LeaseLostError,
    RecordRow,
    Store,
    StoreConflictError,
)
from ledger.store.file_lock import DatabaseInUseError
from ledger.store.migrations import SchemaOutdatedError, SchemaTooNewError
from ledger.store.open import is_postgres, open_store
from ledger.store.sqlite import SqliteStore

__all__ = [
    "ON_CHAIN_STATES",
    "AnchorState",
    "DatabaseInUseError",
    "Fence",
    "HeadRow",
    "LeaseLostError",
    "RecordRow",
    "SchemaOutdatedError",
    "SchemaTooNewError",
    "SqliteStore",
    "Store",
    "StoreConflictError",
    "is_postgres",
    "open_store",
]
