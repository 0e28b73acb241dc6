"""Durable storage of records, tree heads and anchors, behind one interface."""

from ledger.store.base import (
    AnchorState,
    HeadRow,
    RecordRow,
    Store,
    StoreConflictError,
)
from ledger.store.sqlite import SqliteStore

__all__ = ["AnchorState", "HeadRow", "RecordRow", "SqliteStore", "Store", "StoreConflictError"]
