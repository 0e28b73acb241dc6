"""Single-record HTTP ingest with 1, 2 and 4 API processes on one PostgreSQL database.

`bindledger serve --workers N` on a fresh database and contract for each N, with the anchoring
worker running (in the one process that holds its lease); clients send platform-signed
records one per request, then in batches, and the run waits until every record is anchored.
Each row is compared with one process in the same run, on the same machine, whose two cores
the load generator shares with the servers and the node.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ledger.bench.common import REPO_ROOT, free_port
from ledger.bench.throughput import (
    BENCH_CONFIRMATIONS,
    SERVER_START_LIMIT,
    Progress,
    ingest_over_http,
    request_bodies,
)
from ledger.config import DEV_PLATFORM_API_KEY

PROCESS_COUNTS = (1, 2, 4)
# Where the bench finds PostgreSQL: the test database's server (make bench starts one).
DATABASE_ENV = "BINDLEDGER_TEST_DATABASE_URL"


def database_server() -> str | None:
    """The PostgreSQL server the bench may create databases on, if one is configured."""
    return os.environ.get(DATABASE_ENV) or None


def scale_out(
    chain_url: str,
    server_url: str,
    records: int,
    clients: int,
    progress: Progress,
    counts: tuple[int, ...] = PROCESS_COUNTS,
) -> list[dict[str, Any]]:
    """One row per process count, with its ingest rates and the ratio to one process."""
    rows = []
    for count in counts:
        with _database(server_url) as database, _serve(chain_url, database, count) as url:
            row = asyncio.run(_load(url, records, clients, progress))
        rows.append({"processes": count, **row})
    base = rows[0]["ingest"]["perSecond"] or 1.0
    base_batched = rows[0]["ingestBatched"]["perSecond"] or 1.0
    for row in rows:
        row["vsOne"] = round(row["ingest"]["perSecond"] / base, 2)
        row["batchedVsOne"] = round(row["ingestBatched"]["perSecond"] / base_batched, 2)
    return rows


@contextmanager
def _database(server_url: str) -> Iterator[str]:
    """A fresh database on the server, dropped afterwards."""
    import psycopg

    name = f"bindledger_bench_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(server_url)
    url = urlunsplit(parts._replace(path=f"/{name}"))
    try:
        subprocess.run(
            [sys.executable, "-m", "ledger.cli", "db", "upgrade", "--database", url],
            cwd=REPO_ROOT, check=True, capture_output=True,
        )
        yield url
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def _serve(chain_url: str, database: str, workers: int) -> Iterator[str]:
    """`bindledger serve --workers N`; yields its base URL."""
    import httpx

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BINDLEDGER_")}
    # As in the other rows (BENCH_CONFIRMATIONS): anchors count final in their block.
    env |= {"BINDLEDGER_CONFIRMATIONS": str(BENCH_CONFIRMATIONS),
            "BINDLEDGER_ANCHOR_EVERY_RECORDS": "1024",
            "BINDLEDGER_ANCHOR_EVERY_SECONDS": "1"}
    with tempfile.TemporaryDirectory(prefix="bindledger-bench-") as tmp:
        log_path = Path(tmp) / "serve.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "ledger.cli", "serve", "--workers", str(workers),
                 "--port", str(port), "--chain", chain_url, "--database", database],
                cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )
            url = f"http://127.0.0.1:{port}"
            try:
                deadline = time.monotonic() + SERVER_START_LIMIT
                while True:
                    if proc.poll() is not None:
                        raise RuntimeError(f"serve exited: {log_path.read_text()[-2000:]}")
                    try:
                        if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"serve did not answer at {url}")
                    time.sleep(0.2)
                yield url
            finally:
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()


async def _load(url: str, records: int, clients: int, progress: Progress) -> dict[str, Any]:
    import aiohttp

    headers = {"X-API-Key": DEV_PLATFORM_API_KEY, "Content-Type": "application/json"}
    bodies = request_bodies(url, records, clients, "scale-out")
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as http:
        loaded = await ingest_over_http(http, url, bodies, records, progress)
    return {"clients": clients, **loaded.to_json()}
