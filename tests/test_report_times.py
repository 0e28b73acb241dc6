"""The report renders any record time a platform could sign (issue 10, point 8)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.cli import app
from ledger.report import format_time
from tests.test_cli import CLEAN_ENV

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "spec" / "examples"


@pytest.mark.parametrize(
    ("timestamp", "shown"),
    [
        (0, "1970-01-01 00:00:00 UTC"),
        (1_767_225_600, "2026-01-01 00:00:00 UTC"),
        (253_402_300_799, "9999-12-31 23:59:59 UTC"),
        (253_402_300_800, "253402300800 s after 1970 (beyond year 9999)"),
        (2**64 - 1, f"{2**64 - 1} s after 1970 (beyond year 9999)"),
    ],
)
def test_p8_every_uint64_time_renders(timestamp: int, shown: str) -> None:
    assert format_time(timestamp) == shown


def test_p8_a_timeline_with_a_uint64_max_time_is_reported(tmp_path: Path) -> None:
    """`bindledger report` renders a whole timeline whose last record is timestamped 2^64 - 1
    (the report is of the document: without --chain nothing is verified)."""
    doc = json.loads((EXAMPLES / "timeline.json").read_text())
    doc["entries"][-1]["record"]["timestamp"] = 2**64 - 1
    timeline, out = tmp_path / "timeline.json", tmp_path / "report.html"
    timeline.write_text(json.dumps(doc))
    result = CliRunner(env=CLEAN_ENV).invoke(app, ["report", str(timeline), "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert f"{2**64 - 1} s after 1970 (beyond year 9999)" in html
    assert "<svg" in html
