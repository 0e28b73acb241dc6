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
from ledger.store.sqlite import SqliteStore

__all__ = [
    "ON_CHAIN_STATES",
    "AnchorState",
    "Fence",
    "HeadRow",
    "LeaseLostError",
    "RecordRow",
    "SqliteStore",
    "Store",
    "StoreConflictError",
]
