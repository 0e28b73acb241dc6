"""Fetching a platform's tiled log from a BindLedger server into the mirror.

The client speaks the read API of api/routes/logs.py with the regulator's key. `sync` fetches
the tiles a checkpoint's size needs that the mirror lacks, a few at a time, each written to the
mirror as soon as it arrives, so an interrupted sync resumes where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from ledger.audit.checkpoint import Checkpoint, CheckpointDecodeError
from ledger.audit.mirror import Mirror
from ledger.audit.report import AuditInputError, ServerUnreachableError
from ledger.audit.tiles import TILE_WIDTH, Tile, all_tiles

API_KEY_HEADER = "X-API-Key"
FETCH_THREADS = 4
TIMEOUT_SECONDS = 60.0


def describe_server(url: str) -> str:
    """The server as scheme, host and port only: a URL may carry credentials."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


class LogServer(Protocol):
    """Where an audit reads a platform's tiled log from: a BindLedger server (LogClient), or a
    stand-in of one (the bench audits a mirror it built itself)."""

    server: str

    def checkpoint(self) -> Checkpoint: ...

    def tile(self, tile: Tile) -> bytes: ...

    def record_leaf(self, record_hash: bytes) -> int | None: ...

    def close(self) -> None: ...


class LogClient:
    """The tiled log of one platform on one server."""

    def __init__(self, server: str, api_key: str, platform: str,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.server = describe_server(server)
        self.platform = platform
        self._http = httpx.Client(
            base_url=server.rstrip("/"), headers={API_KEY_HEADER: api_key},
            timeout=TIMEOUT_SECONDS, transport=transport,
            limits=httpx.Limits(max_connections=FETCH_THREADS),
        )

    def close(self) -> None:
        self._http.close()

    def checkpoint(self) -> Checkpoint:
        response = self._get(f"/v1/logs/{self.platform}/checkpoint")
        try:
            return Checkpoint.from_json(response.json())
        except (ValueError, CheckpointDecodeError) as exc:
            raise AuditInputError(f"the server's checkpoint is not readable: {exc}") from None

    def tile(self, tile: Tile) -> bytes:
        return self._get(f"/v1/logs/{self.platform}/{tile.path}").content

    def record_leaf(self, record_hash: bytes) -> int | None:
        """The leaf index of the platform's record with this hash, None if the server has none."""
        try:
            response = self._get("/v1/records", params={"hash": "0x" + record_hash.hex()})
        except AuditInputError:
            return None
        body: dict[str, Any] = response.json()
        if body.get("platform") != self.platform:
            return None
        return int(body["leafIndex"])

    def _get(self, path: str, params: dict[str, str] | None = None) -> httpx.Response:
        try:
            response = self._http.get(path, params=params)
        except httpx.HTTPError as exc:
            raise ServerUnreachableError(
                f"the log server at {self.server} does not answer: {type(exc).__name__}"
            ) from None
        if response.status_code >= 500:
            raise ServerUnreachableError(
                f"the log server at {self.server} failed: HTTP {response.status_code} for {path}"
            )
        if response.status_code != 200:
            try:
                detail = response.json().get("detail", "")
            except ValueError:
                detail = response.text[:200]
            raise AuditInputError(
                f"the log server refused {path}: HTTP {response.status_code} {detail}"
            )
        return response


@dataclass(frozen=True)
class SyncStats:
    fetched: int
    reused: int
    removed: int
    bytes: int


def needed_tiles(size: int, first_bundle: int) -> list[Tile]:
    """The tiles an audit of `size` leaves reads: every hash tile, and the entry bundles from
    index `first_bundle` on."""
    return [t for t in all_tiles(size) if not t.is_entries or t.index >= first_bundle]


def sync(
    client: LogServer, mirror: Mirror, size: int, first_bundle: int,
    on_tile: Callable[[int], None] = lambda n: None,
) -> SyncStats:
    """Bring the mirror to `size` leaves: fetch the needed tiles it lacks, then remove partial
    tiles no longer needed. Requires a checkpoint of at least `size` from the server."""
    needed = needed_tiles(size, first_bundle)
    missing = [t for t in needed if not mirror.has(t)]
    on_tile(len(needed) - len(missing))

    def fetch(tile: Tile) -> int:
        data = client.tile(tile)
        mirror.write(tile, data)
        on_tile(1)
        return len(data)

    with ThreadPoolExecutor(FETCH_THREADS) as pool:
        fetched_bytes = sum(pool.map(fetch, missing))
    keep = set(needed)
    stale = [t for t in mirror.tiles()
             if not t.full and t not in keep and _superseded(t, size)]
    for tile in stale:
        mirror.remove(tile)
    return SyncStats(len(missing), len(needed) - len(missing), len(stale), fetched_bytes)


def _superseded(tile: Tile, size: int) -> bool:
    """A partial tile the log has grown past (a wider or full tile of its index is needed)."""
    level_count = size >> (8 * (tile.level or 0))
    return level_count >= tile.index * TILE_WIDTH + tile.width
