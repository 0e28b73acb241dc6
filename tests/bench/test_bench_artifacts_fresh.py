"""bench/build/ must be exactly what compiling the bench contracts and the pinned EAS gives.

The bench deploys these artifacts; a stale one would compare BindLedger with code nobody
reviewed. Requires `npm ci` (solc-js, OpenZeppelin and @ethereum-attestation-service/eas-contracts).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.support.requires import require_node_package

REPO_ROOT = Path(__file__).resolve().parents[2]
HINT = "run python scripts/compile_bench_contracts.py and commit bench/build"


@pytest.fixture(scope="module")
def compile_script() -> ModuleType:
    for package in ("solc", "@ethereum-attestation-service/eas-contracts"):
        require_node_package(package)
    path = REPO_ROOT / "scripts" / "compile_bench_contracts.py"
    spec = importlib.util.spec_from_file_location("compile_bench_contracts", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("compile_bench_contracts", module)
    spec.loader.exec_module(module)
    return module


def test_bench_artifacts_match_a_fresh_compile(compile_script: ModuleType) -> None:
    stale = compile_script.stale_files(compile_script.render_build())
    assert not stale, f"stale bench artifacts: {', '.join(stale)}; {HINT}"


def test_eas_is_compiled_unchanged_but_for_its_exact_pragma(compile_script: ModuleType) -> None:
    eas = compile_script.standard_inputs()["eas"]
    package = REPO_ROOT / "node_modules"
    for name, source in eas["sources"].items():
        original = (package / name).read_text(encoding="utf-8")
        if source["content"] != original:
            assert name.startswith(compile_script.EAS_PACKAGE)
            assert source["content"] == original.replace(
                "pragma solidity 0.8.29;", "pragma solidity ^0.8.29;"
            ), name
    assert eas["settings"]["optimizer"] == {"enabled": True, "runs": 1_000_000}
