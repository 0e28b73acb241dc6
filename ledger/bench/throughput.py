"""Ingest and verification throughput, in process and over HTTP, with the worker anchoring.

Records are signed by the platform beforehand (that is the platform's work, not the ledger's);
what is timed is BindLedger accepting them: parsing, checking the platform's EIP-712 signature
and the subject's hash chain, storing durably (the SQLite file, fsync on commit) and appending
to the Merkle log, while the anchoring worker seals and anchors heads on the chain.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.anchoring.worker import AnchorWorker
from ledger.bench.common import REPO_ROOT, free_port, percentile, platform_account
from ledger.chain.client import ChainClient
from ledger.config import DEV_PLATFORM_API_KEY, Settings
from ledger.core.records import Domain, SignedRecord, Verification, VerificationMethod, sign_record
from ledger.runtime import open_ledger
from ledger.service import Ledger
from ledger.store.base import AnchorState
from ledger.verify import AnchorCheckCache, verify_bundle

Progress = Callable[[int], None]
ANCHOR_WAIT_LIMIT = 300.0
SERVER_START_LIMIT = 120.0
# Records per request of POST /v1/records/signed/batch (at most 100 there).
RECORDS_PER_REQUEST = 64
# anvil mines a block only when a transaction comes, so no block would follow the last anchor:
# the bench counts anchors final in their block, on every chain alike (what is measured is
# BindLedger's work, not the chain's block time).
BENCH_CONFIRMATIONS = 0
# Bundles verified with nothing shared (each reads every check from the chain).
COLD_VERIFICATIONS = 50


@dataclass
class Rate:
    count: int
    seconds: float
    p50_ms: float | None = None
    p99_ms: float | None = None

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "seconds": round(self.seconds, 4),
            "perSecond": round(self.per_second, 1),
            "p50Ms": None if self.p50_ms is None else round(self.p50_ms, 3),
            "p99Ms": None if self.p99_ms is None else round(self.p99_ms, 3),
        }


def _latency(count: int, seconds: float, latencies: list[float]) -> Rate:
    ordered = sorted(latencies)
    return Rate(count, seconds, percentile(ordered, 0.5) * 1e3, percentile(ordered, 0.99) * 1e3)


def signed_records(domain: Domain, count: int, lanes: int, seed: str) -> list[list[SignedRecord]]:
    """`count` platform-signed records split into `lanes` lists; each lane holds its own
    subjects (four records per subject, hash-chained), so lanes can be sent concurrently."""
    account = platform_account()
    key = bytes(account.key)
    out: list[list[SignedRecord]] = [[] for _ in range(lanes)]
    heads: dict[bytes, bytes] = {}
    now = int(time.time())
    for i in range(count):
        subject = hashlib.sha256(f"{seed}/subject/{i // 4}".encode()).digest()
        record = Verification(
            platform=account.address,
            subject=subject,
            prev=heads.get(subject, bytes(32)),
            timestamp=now,
            method=VerificationMethod(i % 3),
            passed=True,
            phone=hashlib.sha256(f"{seed}/phone/{i // 4}".encode()).digest(),
        )
        heads[subject] = record.digest(domain)
        out[(i // 4) % lanes].append(sign_record(record, domain, key))
    return out


def _wait_anchored(is_done: Callable[[], bool]) -> float:
    start = time.perf_counter()
    while not is_done():
        if time.perf_counter() - start > ANCHOR_WAIT_LIMIT:
            raise TimeoutError("records were not all anchored in time")
        time.sleep(0.01)
    return time.perf_counter() - start


# -- in process ---------------------------------------------------------------------------


def in_process(
    chain: ChainClient,
    chain_url: str,
    records: int,
    threads: int,
    verifications: int,
    every_records: int,
    progress: Progress,
) -> dict[str, Any]:
    """Ledger.submit from `threads` threads, then verify_bundle on a sample of bundles."""
    with tempfile.TemporaryDirectory(prefix="bindledger-bench-") as tmp:
        settings = Settings(
            chain=chain_url, database=str(Path(tmp) / "ledger.sqlite3"), contract=None,
            confirmations=BENCH_CONFIRMATIONS,
        )
        ledger = open_ledger(settings, chain=chain)
        try:
            return _in_process(ledger, records, threads, verifications, every_records, progress)
        finally:
            ledger.store.close()


def _in_process(
    ledger: Ledger,
    records: int,
    threads: int,
    verifications: int,
    every_records: int,
    progress: Progress,
) -> dict[str, Any]:
    lanes = signed_records(ledger.domain, records, threads, "in-process")
    platform = platform_account().address
    worker = AnchorWorker(ledger, every_records, 1.0)
    worker.start()
    ids: list[int] = []
    errors: list[BaseException] = []

    def send(lane: list[SignedRecord]) -> None:
        try:
            for signed in lane:
                ids.append(ledger.submit(signed).row.id)
                progress(1)
        except BaseException as exc:  # noqa: BLE001 - reported after the join
            errors.append(exc)

    pool = [threading.Thread(target=send, args=(lane,)) for lane in lanes]
    start = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    ingest = Rate(records, time.perf_counter() - start)
    if errors:
        raise errors[0]

    def all_anchored() -> bool:
        head = ledger.store.latest_head(platform, AnchorState.FINAL)
        return head is not None and head.tree_size >= records

    worker.every_seconds = 0.05
    anchored_after = _wait_anchored(all_anchored)
    worker.stop()
    heads = [h for h in ledger.store.heads(platform) if h.state is AnchorState.FINAL]

    sample = [ledger.proof_bundle(ids[i * len(ids) // verifications]) for i in range(verifications)]
    # Cold: every check read from the chain, as for a lone bundle.
    cold_latencies = []
    cold_sample = sample[:COLD_VERIFICATIONS]
    start = time.perf_counter()
    for bundle in cold_sample:
        t0 = time.perf_counter()
        verify_bundle(bundle, ledger.chain, ledger.contract.artifact)
        cold_latencies.append(time.perf_counter() - t0)
    cold = _latency(len(cold_sample), time.perf_counter() - start, cold_latencies)
    # In bulk, as the API and timelines verify: bundles of one anchored head share its chain
    # checks (AnchorCheckCache). Latency: one caller. Throughput: `threads` callers.
    cache = AnchorCheckCache()
    latencies = []
    start = time.perf_counter()
    for bundle in sample:
        t0 = time.perf_counter()
        verdict = verify_bundle(bundle, ledger.chain, ledger.contract.artifact, cache)
        if not verdict.verified:
            raise RuntimeError(f"bundle not verified: {verdict.reason()}")
        latencies.append(time.perf_counter() - t0)
        progress(1)
    single = _latency(len(sample), time.perf_counter() - start, latencies)
    chunks = [sample[i::threads] for i in range(threads)]
    concurrent_latencies: list[float] = []

    def check(bundles: list[Any]) -> None:
        for bundle in bundles:
            t0 = time.perf_counter()
            verify_bundle(bundle, ledger.chain, ledger.contract.artifact, cache)
            concurrent_latencies.append(time.perf_counter() - t0)

    pool = [threading.Thread(target=check, args=(chunk,)) for chunk in chunks]
    start = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    concurrent = _latency(len(sample), time.perf_counter() - start, concurrent_latencies)
    return {
        "threads": threads,
        "ingest": ingest.to_json(),
        "anchoredAfterSeconds": round(anchored_after, 3),
        "anchorTransactions": len(heads),
        "verifyCold": cold.to_json(),
        "verifySingle": single.to_json(),
        "verifyConcurrent": concurrent.to_json(),
    }


# -- over HTTP ------------------------------------------------------------------------------


@contextmanager
def api_server(chain_url: str, every_records: int) -> Iterator[str]:
    """`python -m ledger.bench.server` in its own process; yields its base URL."""
    with tempfile.TemporaryDirectory(prefix="bindledger-bench-") as tmp:
        port = free_port()
        log = open(Path(tmp) / "server.log", "wb")  # noqa: SIM115 - closed below
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ledger.bench.server",
                "--chain",
                chain_url,
                "--database",
                str(Path(tmp) / "ledger.sqlite3"),
                "--port",
                str(port),
                "--anchor-every-records",
                str(every_records),
            ],
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_for_server(url, proc, Path(tmp) / "server.log")
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()


def _wait_for_server(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    import httpx

    deadline = time.monotonic() + SERVER_START_LIMIT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the API server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the API server did not answer at {url}")


def over_http(
    chain_url: str,
    records: int,
    clients: int,
    verifications: int,
    every_records: int,
    progress: Progress,
) -> dict[str, Any]:
    with api_server(chain_url, every_records) as url:
        return asyncio.run(_over_http(url, records, clients, verifications, progress))


@dataclass(frozen=True)
class HttpIngest:
    """What one ingest load over HTTP measured, and the ids of the records it wrote."""

    single: Rate
    batched: Rate
    anchored_after: float
    ids: list[int]

    def to_json(self) -> dict[str, Any]:
        return {
            "ingest": self.single.to_json(),
            "ingestBatched": {**self.batched.to_json(), "recordsPerRequest": RECORDS_PER_REQUEST},
            "anchoredAfterSeconds": round(self.anchored_after, 3),
        }


def request_bodies(
    url: str, records: int, clients: int, seed: str
) -> tuple[list[list[bytes]], list[list[bytes]]]:
    """`records` signed records as single-record bodies and `records` more as batch bodies,
    one lane per client, signed for the domain the server at `url` reports.

    Signed before any connection opens, so none sits idle past the server's keep-alive."""
    import httpx

    health = httpx.get(f"{url}/healthz").json()
    domain = Domain(int(health["chainId"]), health["contract"])
    singles = [
        [json.dumps(s.to_json()).encode() for s in lane]
        for lane in signed_records(domain, records, clients, seed)
    ]
    batches = [
        [
            json.dumps(
                {"records": [s.to_json() for s in lane[i : i + RECORDS_PER_REQUEST]]}
            ).encode()
            for i in range(0, len(lane), RECORDS_PER_REQUEST)
        ]
        for lane in signed_records(domain, records, clients, f"{seed}-batch")
    ]
    return singles, batches


async def ingest_over_http(
    http: Any,
    url: str,
    bodies: tuple[list[list[bytes]], list[list[bytes]]],
    records: int,
    progress: Progress,
) -> HttpIngest:
    """Sends the single bodies, then the batches, each lane by its own client on `http` (an
    aiohttp session), and waits until the server has anchored all `2 * records` records."""
    singles, batches = bodies
    ids: list[int] = []

    async def send(lane: list[bytes], path: str, latencies: list[float]) -> None:
        for body in lane:
            t0 = time.perf_counter()
            async with http.post(f"{url}{path}", data=body) as r:
                if r.status != 201:
                    raise RuntimeError(f"POST {path}: {r.status} {await r.text()}")
                created = await r.json()
            latencies.append(time.perf_counter() - t0)
            rows = created.get("records", [created])
            ids.extend(row["id"] for row in rows)
            progress(len(rows))

    single_latencies: list[float] = []
    start = time.perf_counter()
    await asyncio.gather(*(send(lane, "/v1/records/signed", single_latencies) for lane in singles))
    single = _latency(records, time.perf_counter() - start, single_latencies)
    batch_latencies: list[float] = []
    start = time.perf_counter()
    await asyncio.gather(
        *(send(lane, "/v1/records/signed/batch", batch_latencies) for lane in batches)
    )
    batched = _latency(records, time.perf_counter() - start, batch_latencies)

    start = time.perf_counter()
    while True:
        async with http.get(f"{url}/v1/heads/latest") as r:
            heads = (await r.json())["heads"]
        if heads and heads[0]["treeSize"] >= 2 * records:
            break
        if time.perf_counter() - start > ANCHOR_WAIT_LIMIT:
            raise TimeoutError("records were not all anchored in time")
        await asyncio.sleep(0.02)
    return HttpIngest(single, batched, time.perf_counter() - start, sorted(ids))


async def _over_http(
    url: str, records: int, clients: int, verifications: int, progress: Progress
) -> dict[str, Any]:
    import aiohttp

    headers = {"X-API-Key": DEV_PLATFORM_API_KEY, "Content-Type": "application/json"}
    bodies = request_bodies(url, records, clients, "http")
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as http:
        loaded = await ingest_over_http(http, url, bodies, records, progress)
        ids = loaded.ids
        bundles = []
        for i in range(verifications):
            async with http.get(
                f"{url}/v1/records/{ids[i * len(ids) // verifications]}/proof"
            ) as r:
                bundles.append(json.dumps(await r.json()).encode())

        async def verify(batch: list[bytes], latencies: list[float]) -> None:
            for body in batch:
                t0 = time.perf_counter()
                async with http.post(f"{url}/v1/verify", data=body) as r:
                    verdict = await r.json()
                latencies.append(time.perf_counter() - t0)
                if not verdict.get("verified"):
                    raise RuntimeError(f"bundle not verified: {verdict}")
                progress(1)

        single_latencies: list[float] = []
        start = time.perf_counter()
        await verify(bundles, single_latencies)
        single = _latency(len(bundles), time.perf_counter() - start, single_latencies)
        concurrent_latencies: list[float] = []
        start = time.perf_counter()
        await asyncio.gather(
            *(verify(bundles[i::clients], concurrent_latencies) for i in range(clients))
        )
        concurrent = _latency(len(bundles), time.perf_counter() - start, concurrent_latencies)
    return {
        "clients": clients,
        **loaded.to_json(),
        "verifySingle": single.to_json(),
        "verifyConcurrent": concurrent.to_json(),
    }
