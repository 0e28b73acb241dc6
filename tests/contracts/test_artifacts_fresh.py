"""The committed contracts/build/ must be exactly what compiling the committed sources gives.

Running BindLedger reads the artifacts, never the sources; a stale artifact would deploy code that
nobody reviewed as Solidity. Requires `npm ci` (the pinned solc-js and OpenZeppelin).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.support.requires import require_node_package

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = REPO_ROOT / "contracts" / "build"
HINT = "run python scripts/compile_contracts.py and commit contracts/build"


def _load_compile_script() -> ModuleType:
    path = REPO_ROOT / "scripts" / "compile_contracts.py"
    spec = importlib.util.spec_from_file_location("compile_contracts", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("compile_contracts", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def compile_script() -> ModuleType:
    require_node_package("solc")  # and OpenZeppelin, which the same `npm ci` installs
    return _load_compile_script()


def test_artifacts_match_a_fresh_compile(compile_script: ModuleType) -> None:
    fresh = compile_script.compile_contracts()
    committed = {
        path.stem: path
        for path in BUILD_DIR.glob("*.json")
        if path.name != compile_script.STANDARD_INPUT_NAME
    }
    stale = []
    for name in sorted(set(fresh) | set(committed)):
        if name not in committed:
            stale.append(f"contracts/build/{name}.json (missing)")
        elif name not in fresh:
            stale.append(f"contracts/build/{name}.json (no such contract in contracts/)")
        elif committed[name].read_text(encoding="utf-8") != compile_script.render_json(fresh[name]):
            stale.append(f"contracts/build/{name}.json (differs from a fresh compile)")
    assert not stale, f"stale artifacts: {', '.join(stale)}; {HINT}"


def test_standard_input_matches_the_sources(compile_script: ModuleType) -> None:
    path = BUILD_DIR / compile_script.STANDARD_INPUT_NAME
    assert path.is_file(), f"contracts/build/{path.name} is missing; {HINT}"
    expected = compile_script.render_json(compile_script.standard_input())
    assert path.read_text(encoding="utf-8") == expected, (
        f"stale artifact: contracts/build/{path.name} differs from the sources; {HINT}"
    )


def test_compile_is_deterministic(compile_script: ModuleType) -> None:
    # Source names are repository-relative, so the build does not depend on where the checkout is.
    input_json = compile_script.standard_input()
    assert all(
        name.startswith(("contracts/", "@openzeppelin/contracts/"))
        for name in input_json["sources"]
    ), sorted(input_json["sources"])
    assert str(REPO_ROOT) not in compile_script.render_json(input_json)
