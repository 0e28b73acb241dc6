"""The bench report as rich tables, Markdown (for the README) and a PNG plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.table import Table

# What the issue asks of this machine; the tables mark each measured value against it.
TARGETS: dict[str, Any] = {
    "gasPerRecord": {1024: 100, 4096: 12},
    "httpIngestPerSecond": 1000,
    "inProcessVerifyPerSecond": 1000,
    "httpVerifyP99Ms": 20,
    "merkleBuildSeconds1e6": 5,
    "auditSeconds1e6": 60,
}
METHODS = [
    ("bindledger", "BindLedger (1 tx)"),
    ("per_record_tx", "slot per record, 1 tx each"),
    ("per_record_batched", "slot per record, batched"),
    ("eas_attest", "EAS attest"),
    ("eas_multi_attest", "EAS multiAttest"),
]


def _mark(ok: bool) -> str:
    return "✔" if ok else "✘"


def gas_rows(report: dict[str, Any]) -> list[list[str]]:
    rows = []
    for kind, result in report["chains"].items():
        for row in result["gas"]:
            target = TARGETS["gasPerRecord"].get(row["batch"])
            cells = [kind, str(row["batch"])]
            value = row["bindledger"]
            cells.append(
                f"{value:,.1f}" + (f" {_mark(value <= target)}≤{target}" if target else "")
            )
            cells.append(f"{row['bindledger_unaligned']:,.1f}")
            for key, _label in METHODS[1:]:
                extrapolated = {
                    "per_record_batched": "perRecordBatched",
                    "eas_multi_attest": "easMultiAttest",
                }.get(key)
                flag = "*" if extrapolated in row["extrapolated"] else ""
                ratio = row[key] / value
                shown = f"{ratio:,.0f}" if ratio >= 10 else f"{ratio:.2g}"
                cells.append(f"{row[key]:,.0f}{flag} (×{shown})")
            rows.append(cells)
    return rows


GAS_HEADER = [
    "chain",
    "batch",
    "BindLedger gas/record",
    "off-grid head",
    "slot/record, 1 tx each",
    "slot/record, batched",
    "EAS attest",
    "EAS multiAttest",
]


def split_rows(report: dict[str, Any]) -> list[list[str]]:
    rows = []
    for kind, result in report["chains"].items():
        for row in result["gas"]:
            s = row["split"]
            rows.append(
                [
                    kind,
                    str(row["batch"]),
                    f"{s['total']:,}",
                    f"{s['base']:,}",
                    f"{s['calldata']:,} ({s['calldata_bytes']} B)",
                    f"{s['proof_verification']:,} ({s['proof_nodes']} nodes)",
                    f"{s['storage_event_access']:,}",
                ]
            )
    return rows


SPLIT_HEADER = [
    "chain",
    "batch",
    "anchor tx gas",
    "base",
    "calldata",
    "proof verification",
    "storage, event, role",
]


def throughput_rows(report: dict[str, Any]) -> list[list[str]]:
    rows = []
    for kind, result in report["chains"].items():
        local, http = result["inProcess"], result["http"]
        ingest_ok = http["ingest"]["perSecond"] >= TARGETS["httpIngestPerSecond"]
        batched = http["ingestBatched"]
        batched_ok = batched["perSecond"] >= TARGETS["httpIngestPerSecond"]
        verify_ok = local["verifyConcurrent"]["perSecond"] >= TARGETS["inProcessVerifyPerSecond"]
        p99_ok = http["verifySingle"]["p99Ms"] <= TARGETS["httpVerifyP99Ms"]
        rows.append(
            [
                kind,
                f"{local['ingest']['perSecond']:,.0f}",
                f"{http['ingest']['perSecond']:,.0f} {_mark(ingest_ok)}",
                f"{batched['perSecond']:,.0f} {_mark(batched_ok)}",
                f"{local['verifyConcurrent']['perSecond']:,.0f} {_mark(verify_ok)}",
                f"{local['verifySingle']['p50Ms']:.1f} / {local['verifySingle']['p99Ms']:.1f}",
                f"{local['verifyCold']['p50Ms']:.1f} / {local['verifyCold']['p99Ms']:.1f}",
                f"{http['verifyConcurrent']['perSecond']:,.0f}",
                f"{http['verifySingle']['p50Ms']:.1f} / {http['verifySingle']['p99Ms']:.1f}"
                + f" {_mark(p99_ok)}",
            ]
        )
    return rows


THROUGHPUT_HEADER = [
    "chain",
    "ingest in process (rec/s)",
    "ingest HTTP, 1/request (rec/s)",
    "ingest HTTP, 64/request (rec/s)",
    "verify in process (/s)",
    "in process p50/p99 (ms)",
    "cold, one bundle alone p50/p99 (ms)",
    "verify HTTP (/s)",
    "HTTP p50/p99 (ms)",
]


def merkle_rows(report: dict[str, Any]) -> list[list[str]]:
    rows = []
    for m in report["merkle"]:
        build = f"{m['buildSeconds']:.3f}"
        if m["leaves"] == 10**6:
            build += " " + _mark(m["buildSeconds"] <= TARGETS["merkleBuildSeconds1e6"])
        rows.append(
            [
                f"{m['leaves']:,}",
                build,
                f"{m['appendUs']:.1f}",
                f"{m['inclusionProofUs']:.1f} / {m['inclusionVerifyUs']:.1f}",
                f"{m['consistencyProofUs']:.1f} / {m['consistencyVerifyUs']:.1f}",
                f"{m['memoryMiB']:.1f}",
            ]
        )
    return rows


def scale_out_rows(report: dict[str, Any]) -> list[list[str]]:
    rows = []
    for kind, chain in report["chains"].items():
        for row in chain.get("scaleOut", []):
            ingest, batched = row["ingest"], row["ingestBatched"]
            rows.append(
                [
                    kind,
                    str(row["processes"]),
                    f"{ingest['perSecond']:,.0f} {_mark(ingest['perSecond'] >= 1000)}",
                    f"×{row['vsOne']}",
                    f"{ingest['p50Ms']:.1f} / {ingest['p99Ms']:.1f}",
                    f"{batched['perSecond']:,.0f} {_mark(batched['perSecond'] >= 5000)}",
                    f"×{row['batchedVsOne']}",
                    f"{row['anchoredAfterSeconds']:.1f}",
                ]
            )
    return rows


SCALE_OUT_HEADER = [
    "chain",
    "API processes",
    "ingest, 1 record/request (/s; target 1,000)",
    "vs 1 process",
    "p50 / p99 write latency (ms)",
    "ingest, batched (/s; target 5,000)",
    "vs 1 process",
    "all anchored after (s)",
]


MERKLE_HEADER = [
    "leaves",
    "build (s)",
    "append (µs)",
    "inclusion prove / verify (µs)",
    "consistency prove / verify (µs)",
    "memory (MiB)",
]

def audit_rows(report: dict[str, Any]) -> list[list[str]]:
    audit = report.get("audit")
    if audit is None:
        return []
    seconds = f"{audit['auditSeconds']:.1f}"
    if audit["records"] == 10**6:
        seconds += " " + _mark(audit["auditSeconds"] <= TARGETS["auditSeconds1e6"])
    ingest = [f"{kind}: {result['inProcess']['ingest']['perSecond']:,.0f}"
              for kind, result in report["chains"].items()]
    return [[
        f"{audit['records']:,}", f"{audit['subjects']:,}", str(audit["heads"]),
        audit["chain"], str(audit["workers"]), seconds, f"{audit['recordsPerSecond']:,.0f}",
        f"{audit['cpuSeconds']:.1f} ({audit['cpuMicrosecondsPerRecord']:.0f} µs/record)",
        f"{audit['secondsOnIdleCores']:.1f}",
        ", ".join(ingest), " / ".join(f"{x:.1f}" for x in audit["loadAverage"]),
    ]]


AUDIT_HEADER = [
    "records",
    "subjects",
    "heads",
    "chain",
    "processes",
    "audit of the mirror (s)",
    "audit (rec/s)",
    "CPU of the audit (s)",
    "CPU over the cores (s)",
    "ingest in process (rec/s)",
    "load average before / after",
]

SECTIONS: list[tuple[str, list[str], Any]] = [
    (
        "Gas per anchored record (× = times BindLedger; * = scaled from a measured part)",
        GAS_HEADER,
        gas_rows,
    ),
    ("BindLedger anchor transaction, gas split", SPLIT_HEADER, split_rows),
    ("Throughput, with the anchoring worker running", THROUGHPUT_HEADER, throughput_rows),
    (
        "HTTP ingest with several API processes on PostgreSQL, anchoring running",
        SCALE_OUT_HEADER,
        scale_out_rows,
    ),
    ("Merkle log", MERKLE_HEADER, merkle_rows),
    ("Full audit of a mirrored log (bindledger audit), beside the ingest rate", AUDIT_HEADER,
     audit_rows),
]


def tables(report: dict[str, Any]) -> list[Table]:
    out = []
    for title, header, rows in SECTIONS:
        table = Table(title=title)
        for column in header:
            table.add_column(column)
        for row in rows(report):
            table.add_row(*row)
        out.append(table)
    return out


def markdown(report: dict[str, Any]) -> str:
    """The tables as GitHub Markdown, for the README's Performance section."""
    parts = []
    for title, header, rows in SECTIONS:
        lines = [
            f"**{title}**",
            "",
            "| " + " | ".join(header) + " |",
            "|" + "---|" * len(header),
        ]
        lines += ["| " + " | ".join(row) + " |" for row in rows(report)]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def plot(report: dict[str, Any], path: Path) -> None:
    """Gas per record by batch size (log-log, one panel per chain) and Merkle log growth."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    chains = list(report["chains"])
    fig, axes = plt.subplots(1, len(chains) + 1, figsize=(6 * (len(chains) + 1), 4.8))
    for ax, kind in zip(axes, chains, strict=False):
        rows = report["chains"][kind]["gas"]
        batches = [r["batch"] for r in rows]
        for key, label in METHODS:
            ax.plot(batches, [r[key] for r in rows], marker="o", label=label)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("records per anchor (batch)")
        ax.set_ylabel("gas per record")
        ax.set_title(f"gas per anchored record ({kind})")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    ax = axes[-1]
    merkle = report["merkle"]
    leaves = [m["leaves"] for m in merkle]
    ax.plot(
        leaves,
        [m["buildSeconds"] * 1e6 / m["leaves"] for m in merkle],
        marker="o",
        label="build, µs per leaf",
    )
    ax.plot(leaves, [m["appendUs"] for m in merkle], marker="o", label="append, µs")
    ax.plot(
        leaves, [m["inclusionProofUs"] for m in merkle], marker="o", label="inclusion proof, µs"
    )
    ax.plot(
        leaves, [m["inclusionVerifyUs"] for m in merkle], marker="o", label="inclusion verify, µs"
    )
    ax.plot(
        leaves, [m["memoryMiB"] for m in merkle], marker="s", linestyle="--", label="memory, MiB"
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("leaves in the log")
    ax.set_title("Merkle log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
