"""`bindledger bench` at tiny sizes, so the benchmark never rots. Not a timed test: it checks
that every part runs and reports, not how fast."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from ledger.bench.report import markdown
from ledger.bench.run import REPORT_FORMAT, Sizes, run_bench
from tests.support.requires import require_anvil


@pytest.mark.parametrize(
    "chain",
    [
        "eth-tester",
        pytest.param("anvil", marks=pytest.mark.anvil),
    ],
)
def test_the_bench_runs_end_to_end_at_tiny_sizes(
    chain: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if chain == "anvil":
        require_anvil()
    # As `make bench` runs it: without the suite's confirmation depth of 0, so the bench's own
    # settings (and the product's defaults where it has none) are the ones measured.
    monkeypatch.delenv("BINDLEDGER_CONFIRMATIONS", raising=False)
    sizes = Sizes.tiny()
    sizes.chains = [chain]
    with open(tmp_path / "out.txt", "w") as out:
        report = run_bench(tmp_path, sizes, Console(file=out))

    written = json.loads((tmp_path / "bench.json").read_text())
    assert written["format"] == REPORT_FORMAT == report["format"]
    # The fast backends are the ones in use: pysha3 keccak and libsecp256k1 through coincurve.
    assert written["machine"]["keccakBackend"] == "PySha3Backend"
    assert written["machine"]["secp256k1Backend"] == "CoinCurveECCBackend"
    assert (tmp_path / "bench.png").read_bytes().startswith(b"\x89PNG")
    result = written["chains"][chain]
    gas = {row["batch"]: row for row in result["gas"]}
    assert sorted(gas) == sizes.batches
    # One anchor transaction carries a batch: per record it costs less as batches grow, and
    # at 16 records it already beats a storage slot per record and EAS.
    assert gas[16]["bindledger"] < gas[1]["bindledger"]
    for other in ("per_record_tx", "per_record_batched", "eas_attest", "eas_multi_attest"):
        assert gas[16][other] > gas[16]["bindledger"], other
    split = gas[16]["split"]
    assert (
        split["base"]
        + split["calldata"]
        + split["proof_verification"]
        + split["storage_event_access"]
        == split["total"]
    )
    for where in ("inProcess", "http"):
        assert result[where]["ingest"]["count"] == sizes.records
        assert result[where]["verifySingle"]["count"] == sizes.verifications
    assert result["http"]["ingestBatched"]["count"] == sizes.records
    assert [m["leaves"] for m in written["merkle"]] == sizes.merkle_sizes
    assert "Gas per anchored record" in markdown(written)
    # The full audit of a mirrored log: every record checked, and the log verified.
    audit = written["audit"]
    assert (audit["records"], audit["verified"]) == (sizes.audit_records, True)
    assert audit["heads"] == -(-sizes.audit_records // sizes.anchor_every)
    assert "Full audit of a mirrored log" in markdown(written)
    if chain == "anvil":  # make test gives the bench a PostgreSQL server, as make bench does
        assert [row["processes"] for row in result["scaleOut"]] == [1, 2, 4]
        for row in result["scaleOut"]:
            assert row["ingest"]["count"] == row["ingestBatched"]["count"] == sizes.records
        assert "several API processes on PostgreSQL" in markdown(written)
