"""Versioned schema migrations: numbered SQL files per backend (sqlite/, postgres/), applied in
order, each recorded in the database's `schema_version` table. A file is never edited once
released; a change of schema is a new file with the next number."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from ledger.errors import LedgerStateError

BACKENDS = ("sqlite", "postgres")
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class SchemaOutdatedError(LedgerStateError):
    """The database's schema is older than this code's; `bindledger db upgrade` brings it up."""


class SchemaTooNewError(LedgerStateError):
    """The database was upgraded by a newer version of BindLedger than this one."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


@cache
def migrations(backend: str) -> tuple[Migration, ...]:
    """The backend's migrations by version, numbered 1, 2, ... without a gap."""
    if backend not in BACKENDS:
        raise ValueError(f"no migrations for backend {backend!r}")
    found = []
    for entry in resources.files(__package__).joinpath(backend).iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise RuntimeError(f"{backend} migrations are not numbered 1..{len(found)}")
    return tuple(found)


def latest_version(backend: str) -> int:
    return len(migrations(backend))


def pending(backend: str, current: int, where: str) -> tuple[Migration, ...]:
    """The migrations to apply to a database at version `current` (named `where` in errors).

    Raises SchemaTooNewError when the database is ahead of this code.
    """
    latest = latest_version(backend)
    if current > latest:
        raise SchemaTooNewError(
            f"{where} has schema version {current}; this BindLedger knows versions up to "
            f"{latest}: run a newer BindLedger"
        )
    return migrations(backend)[current:]
