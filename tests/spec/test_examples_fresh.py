"""The specification's example documents are what scripts/spec_examples.py makes today: a change
to the record types, the hashing or the document formats shows here as stale examples."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_examples_are_fresh() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/spec_examples.py", "--check"], cwd=ROOT, capture_output=True,
        text=True, check=False)
    assert result.returncode == 0, result.stderr
