"""One writer process per SQLite file: an exclusive `flock` on `<database>.lock`, held for as
long as a store has the file open.

SQLite itself lets several processes write one file, but each BindLedger process keeps the
logs' Merkle trees in memory, which only its own writes update: a second process would make
both trees wrong. Several processes need PostgreSQL. Within one process, stores of the same
file share the lock (a count of holders), as they share the process's in-memory state.
"""

from __future__ import annotations

import fcntl
import os
import threading
from dataclasses import dataclass

from ledger.errors import LedgerStateError


class DatabaseInUseError(LedgerStateError):
    """Another process has the SQLite database open for writing."""


@dataclass
class _Held:
    fd: int
    pid: int
    holders: int


_held: dict[str, _Held] = {}
_guard = threading.Lock()


def lock_database(path: str) -> str:
    """Take the process's lock on the database at `path`; returns the key to release it with.

    Raises DatabaseInUseError when another process holds it.
    """
    key = os.path.realpath(path)
    with _guard:
        held = _held.get(key)
        # A forked child inherits the parent's entry but is another process: it must take the
        # lock itself, and cannot while the parent holds it.
        if held is not None and held.pid == os.getpid():
            held.holders += 1
            return key
        lock_path = f"{key}.lock"
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DatabaseInUseError(
                f"the SQLite database {path} is in use by another process (it holds "
                f"{lock_path}): one process per SQLite file; use PostgreSQL "
                "(--database postgresql://...) to run several"
            ) from None
        _held[key] = _Held(fd, os.getpid(), 1)
        return key


def unlock_database(key: str) -> None:
    """Release one holder's lock; the file is unlocked when the last holder releases it."""
    with _guard:
        held = _held.get(key)
        if held is None or held.pid != os.getpid():
            return
        held.holders -= 1
        if held.holders == 0:
            del _held[key]
            os.close(held.fd)  # closing the only descriptor releases the flock
