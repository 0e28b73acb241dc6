"""A platform's log for the audit tests: a loan story (with a refusal) and many verification
records of other subjects, anchored in several heads, served over HTTP; and a forger that
rewrites a mirror's tiles consistently around altered entries."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from api.main import create_app
from ledger.audit.mirror import Mirror
from ledger.audit.tiles import (
    Tile,
    all_tiles,
    decode_bundle,
    encode_bundle,
    leaf_hash,
    tile_levels,
)
from ledger.chain.client import ChainClient
from ledger.config import Settings
from ledger.core.records import (
    Domain,
    SignedRecord,
    Verification,
    VerificationMethod,
    sign_record,
)
from ledger.runtime import open_ledger
from ledger.service import Ledger
from ledger.store.sqlite import SqliteStore
from tests.support.api import KEY_A, TWO_PLATFORMS
from tests.support.loan_story import tell_story
from tests.support.server import serving

REGULATOR_API_KEY = "dev-regulator-key"  # ledger.config's development regulator
ADMIN_API_KEY = "dev-admin-key"


@dataclass
class ServedLog:
    url: str
    ledger: Ledger
    platform: str
    db: Path


def settings_of(chain: ChainClient, db: Path) -> Settings:
    url = "embedded" if chain.embedded else chain.url  # type: ignore[attr-defined]
    return Settings(chain=url, platforms=TWO_PLATFORMS, database=str(db), confirmations=0)


def write_verifications(ledger: Ledger, count: int, subjects: int, seed: str) -> None:
    """`count` platform-signed verification records over `subjects` subjects, hash-chained."""
    platform = next(iter(ledger.platforms.values()))
    heads: dict[bytes, bytes] = {}
    batch: list[SignedRecord] = []
    for i in range(count):
        subject = hashlib.sha256(f"{seed}/{i % subjects}".encode()).digest()
        prev = heads.get(subject) or ledger.subject_head(platform.address, subject)
        record = Verification(
            platform=platform.address, subject=subject, prev=prev,
            timestamp=1_700_000_000 + i, method=VerificationMethod(i % 3), passed=True,
            phone=subject)
        heads[subject] = record.digest(ledger.domain)
        batch.append(sign_record(record, ledger.domain, bytes.fromhex(KEY_A[2:])))
    ledger.submit_many(batch)


def grow(ledger: Ledger, count: int, subjects: int, seed: str) -> None:
    """Write `count` records in batches of at most 100 and anchor them in one more head."""
    done = 0
    while done < count:
        n = min(100, count - done)
        write_verifications(ledger, n, subjects, f"{seed}/{done}")
        done += n
    ledger.seal_and_anchor()


@contextmanager
def served_log(chain: ChainClient, folder: Path, sizes: tuple[int, ...] = (200, 300, 100)
               ) -> Iterator[ServedLog]:
    """The loan story, then a head after each of `sizes` more records; served by uvicorn."""
    db = folder / "ledger.sqlite3"
    settings = settings_of(chain, db)
    ledger = open_ledger(settings, chain=chain, store=SqliteStore(db))
    tell_story(ledger)
    for n, size in enumerate(sizes):
        grow(ledger, size, 20, f"batch-{n}")
    platform = next(iter(ledger.platforms))
    with serving(create_app(settings, ledger, run_worker=False)) as url:
        yield ServedLog(url, ledger, platform, db)
    ledger.store.close()  # type: ignore[attr-defined]


def forge(mirror: Mirror, size: int, entries: list[bytes], domain: Domain) -> None:
    """Rewrite every tile of the mirror from `entries` (kept at `size` leaves: the last bundle
    is short when entries were dropped), all levels consistent with one another: a log
    rewritten by someone who controls the whole mirror, not only one file."""
    record_hashes = []
    for entry in entries:
        signed = SignedRecord.from_json(json.loads(entry))
        record_hashes.append(signed.record.digest(domain))
    levels = tile_levels([leaf_hash(h) for h in record_hashes])
    for tile in all_tiles(size):
        start = tile.index * 256
        if tile.level is None:
            mirror.write(tile, encode_bundle(entries[start : start + tile.width]))
        else:
            hashes = levels[tile.level][start : start + tile.width] if tile.level < len(
                levels) else []
            mirror.write(tile, b"".join(hashes))


def mirrored_entries(mirror: Mirror, size: int) -> list[bytes]:
    return [e for t in all_tiles(size) if t.level is None for e in decode_bundle(mirror.read(t))]


def tile_files(mirror: Mirror) -> list[Tile]:
    return sorted(mirror.tiles(), key=lambda t: t.path)
