"""Run every part of the bench on each chain, with progress bars; write JSON, a table, a plot."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ledger.bench import audit_scale, gas, merkle_scale, processes, throughput
from ledger.bench.common import CHAIN_KINDS, chain_of, machine, running_anvil
from ledger.bench.report import plot, tables

REPORT_FORMAT = "bindledger.bench/1"


@dataclass
class Sizes:
    """How big each part is. `full()` is the published run; `tiny()` is the smoke test's."""

    batches: list[int]
    repeats: int
    log_size: int
    single_sample: int
    alt_cap: dict[str, int]
    records: int
    threads: int
    clients: int
    verifications: int
    anchor_every: int
    merkle_sizes: list[int]
    audit_records: int
    chains: list[str] = field(default_factory=lambda: list(CHAIN_KINDS))

    @classmethod
    def full(cls) -> Sizes:
        return cls(
            batches=[1, 16, 256, 1024, 4096],
            repeats=3,
            log_size=1_000_000,
            single_sample=32,
            # py-evm runs about 2M gas/s: on eth-tester the alternatives (linear in the
            # records) are measured on up to 256 records per batch size and scaled.
            alt_cap={"eth-tester": 256, "anvil": 4096},
            records=10_000,
            threads=8,
            clients=16,
            verifications=300,
            anchor_every=1024,
            merkle_sizes=[10**3, 10**4, 10**5, 10**6],
            audit_records=1_000_000,
        )

    @classmethod
    def tiny(cls) -> Sizes:
        return cls(
            batches=[1, 16],
            repeats=1,
            log_size=100,
            single_sample=2,
            alt_cap={"eth-tester": 16, "anvil": 16},
            records=40,
            threads=2,
            clients=2,
            verifications=4,
            anchor_every=16,
            merkle_sizes=[10**3],
            audit_records=600,
        )


def run_bench(out: Path, sizes: Sizes, console: Console) -> dict[str, Any]:
    """Run the bench on every chain in `sizes.chains`; writes bench.json and bench.png in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "format": REPORT_FORMAT,
        "startedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {**machine(), "loadAverageAtStart": [round(x, 2) for x in os.getloadavg()]},
        "sizes": sizes.__dict__,
        "chains": {},
    }
    started = time.perf_counter()
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        for kind in sizes.chains:
            report["chains"][kind] = _run_chain(kind, sizes, progress)
        task = progress.add_task("merkle log", total=len(sizes.merkle_sizes))
        report["merkle"] = merkle_scale.run(sizes.merkle_sizes, lambda n: progress.advance(task, n))
        report["audit"] = _run_audit(sizes, progress)
    report["seconds"] = round(time.perf_counter() - started, 1)
    # Other processes on the machine skew throughput numbers; say how busy it was.
    report["machine"]["loadAverageAtEnd"] = [round(x, 2) for x in os.getloadavg()]
    (out / "bench.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    plot(report, out / "bench.png")
    for table in tables(report):
        console.print(table)
    return report


@contextmanager
def _chain_url(kind: str) -> Iterator[str]:
    if kind == "anvil":
        with running_anvil() as url:
            yield url
    else:
        with nullcontext():
            yield "embedded"


def _run_audit(sizes: Sizes, progress: Progress) -> dict[str, Any]:
    """The audit of a mirrored log of `sizes.audit_records` records, on anvil when the bench
    runs there (the embedded chain answers the audit's batched calls one by one)."""
    kind = "anvil" if "anvil" in sizes.chains else sizes.chains[0]
    build = progress.add_task(f"{kind}: audit, building the log", total=sizes.audit_records)
    check = progress.add_task(f"{kind}: audit, checking", total=sizes.audit_records)
    with _chain_url(kind) as url, chain_of(kind, url if kind == "anvil" else None) as chain:
        result = audit_scale.run(
            sizes.audit_records, chain, sizes.anchor_every,
            lambda n: progress.advance(build, n), lambda n: progress.advance(check, n))
    return {"chain": kind, **result}


def _run_chain(kind: str, sizes: Sizes, progress: Progress) -> dict[str, Any]:
    result: dict[str, Any] = {}
    with _chain_url(kind) as url:
        task = progress.add_task(f"{kind}: gas", total=3 + len(sizes.batches))
        with chain_of(kind, url if kind == "anvil" else None) as chain:
            bench = gas.GasBench(chain, sizes.log_size, sizes.single_sample, sizes.alt_cap[kind])
            rows = bench.measure(sizes.batches, sizes.repeats, lambda n: progress.advance(task, n))
            result["gas"] = [row.to_json() for row in rows]
        task = progress.add_task(f"{kind}: in process", total=sizes.records + sizes.verifications)
        with chain_of(kind, url if kind == "anvil" else None) as chain:
            result["inProcess"] = throughput.in_process(
                chain,
                url,
                sizes.records,
                sizes.threads,
                sizes.verifications,
                sizes.anchor_every,
                lambda n: progress.advance(task, n),
            )
        task = progress.add_task(
            f"{kind}: over HTTP", total=sizes.records + 2 * sizes.verifications
        )
        result["http"] = throughput.over_http(
            url,
            sizes.records,
            sizes.clients,
            sizes.verifications,
            sizes.anchor_every,
            lambda n: progress.advance(task, n),
        )
        server = processes.database_server()
        if kind == "anvil" and server is not None:
            counts = processes.PROCESS_COUNTS
            task = progress.add_task(
                "anvil: several processes", total=2 * sizes.records * len(counts)
            )
            result["scaleOut"] = processes.scale_out(
                url, server, sizes.records, sizes.clients, lambda n: progress.advance(task, n)
            )
    return result
