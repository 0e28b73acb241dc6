"""Compile the contracts `bindledger bench` compares BindLedger with, into bench/build/.

Usage:
    python scripts/compile_bench_contracts.py           # (re)write bench/build/
    python scripts/compile_bench_contracts.py --check   # exit 1 if bench/build/ is stale

Two builds, each with its own standard JSON input committed next to the artifacts:

- `baseline`: bench/contracts/*.sol (per-record anchoring), with exactly BindLedger's compiler
  settings (scripts/compile_contracts.py SETTINGS), so the two are compiled alike.
- `eas`: the Ethereum Attestation Service (SchemaRegistry and EAS) from the pinned npm package
  @ethereum-attestation-service/eas-contracts, compiled with the same solc-js 0.8.37 and EAS's
  own production optimizer setting (1 000 000 runs: cheaper calls, which favours EAS). The
  sources are used unchanged except one thing: EAS pins `pragma solidity 0.8.29;` exactly, which
  is relaxed to `^0.8.29` so the project's single pinned compiler accepts it. OpenZeppelin comes
  from the project's pinned @openzeppelin/contracts (EAS declares no version of its own).

Like scripts/compile_contracts.py (whose helpers this reuses), it needs `npm ci` and Node; the
bench itself reads only the committed bench/build/ and needs neither.
"""

from __future__ import annotations

import argparse
import importlib.util
import posixpath
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCH_CONTRACTS = REPO_ROOT / "bench" / "contracts"
BUILD_DIR = REPO_ROOT / "bench" / "build"
EAS_PACKAGE = "@ethereum-attestation-service/eas-contracts"
EAS_ENTRY_POINTS = (
    f"{EAS_PACKAGE}/contracts/SchemaRegistry.sol",
    f"{EAS_PACKAGE}/contracts/EAS.sol",
)
EAS_CONTRACTS = ("SchemaRegistry", "EAS")
# EAS's hardhat.config.ts and its published deployments use 1 000 000 optimizer runs.
EAS_OPTIMIZER_RUNS = 1_000_000
_EXACT_PRAGMA = re.compile(r"pragma solidity (0\.8\.\d+);")
_IMPORT = re.compile(r"""^\s*import\s+(?:[^;]*?\bfrom\s+)?["']([^"']+)["']""", re.MULTILINE)


def _load_compile_contracts() -> ModuleType:
    path = REPO_ROOT / "scripts" / "compile_contracts.py"
    spec = importlib.util.spec_from_file_location("compile_contracts", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("compile_contracts", module)
    spec.loader.exec_module(module)
    return module


cc = _load_compile_contracts()


def _package_file(name: str) -> str:
    return (cc.NODE_MODULES / name).read_text(encoding="utf-8")


def _with_imports(roots: dict[str, str], read: Any) -> dict[str, str]:
    """Returns `roots` plus every file they import, transitively, read with `read(name)`."""
    sources = dict(roots)
    queue = list(roots)
    while queue:
        name = queue.pop()
        for target in _IMPORT.findall(sources[name]):
            if target.startswith("."):
                target = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
            if target not in sources:
                sources[target] = read(target)
                queue.append(target)
    return dict(sorted(sources.items()))


def _eas_source(name: str) -> str:
    text = _package_file(name)
    if name.startswith(EAS_PACKAGE + "/"):
        # The one change to EAS: an exact pragma becomes a caret, for the project's compiler.
        text = _EXACT_PRAGMA.sub(r"pragma solidity ^\1;", text)
    return text


def _input(sources: dict[str, str], settings: dict[str, Any]) -> dict[str, Any]:
    return {
        "language": "Solidity",
        "sources": {name: {"content": content} for name, content in sources.items()},
        "settings": settings,
    }


def standard_inputs() -> dict[str, dict[str, Any]]:
    """Returns the standard JSON input of each build, by build name."""
    cc._require_toolchain()
    if not (cc.NODE_MODULES / EAS_PACKAGE / "package.json").is_file():
        raise cc.CompileError(f"{EAS_PACKAGE} is not installed: run npm ci in {REPO_ROOT}")
    baseline = {
        path.relative_to(REPO_ROOT).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(BENCH_CONTRACTS.glob("*.sol"))
    }
    eas_roots = {name: _eas_source(name) for name in EAS_ENTRY_POINTS}
    eas_settings = dict(cc.SETTINGS)
    eas_settings["optimizer"] = {"enabled": True, "runs": EAS_OPTIMIZER_RUNS}
    # EAS's own setting is the legacy pipeline: BindLedger takes the IR one only to fit EIP-170.
    eas_settings.pop("viaIR", None)
    return {
        "baseline": _input(_with_imports(baseline, _package_file), cc.SETTINGS),
        "eas": _input(_with_imports(eas_roots, _eas_source), eas_settings),
    }


def _artifact(output: dict[str, Any], source_name: str, name: str) -> dict[str, Any]:
    compiled = output["contracts"][source_name][name]
    return {
        "_format": "hh-sol-artifact-1",
        "contractName": name,
        "sourceName": source_name,
        "abi": compiled["abi"],
        "bytecode": "0x" + compiled["evm"]["bytecode"]["object"],
        "deployedBytecode": "0x" + compiled["evm"]["deployedBytecode"]["object"],
        "linkReferences": {},
        "deployedLinkReferences": {},
        "immutableReferences": compiled["evm"]["deployedBytecode"].get("immutableReferences", {}),
    }


def render_build() -> dict[str, str]:
    """Returns the text of every file bench/build/ must hold, by file name."""
    files: dict[str, str] = {}
    for build, input_json in standard_inputs().items():
        output = cc._compile(input_json)
        for error in output.get("errors", []):
            print(error["formattedMessage"], file=sys.stderr)
        wanted = (
            [(name, Path(name).stem) for name in input_json["sources"] if name.startswith("bench/")]
            if build == "baseline"
            else list(zip(EAS_ENTRY_POINTS, EAS_CONTRACTS, strict=True))
        )
        for source_name, contract in wanted:
            files[f"{contract}.json"] = cc.render_json(_artifact(output, source_name, contract))
        files[f"standard-input-{build}.json"] = cc.render_json(input_json)
    return files


def stale_files(expected: dict[str, str]) -> list[str]:
    return list(cc.stale_files(expected, BUILD_DIR))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if bench/build/ is stale")
    args = parser.parse_args(argv)
    try:
        files = render_build()
    except cc.CompileError as exc:
        print(f"compile_bench_contracts: {exc}", file=sys.stderr)
        return 2
    stale = stale_files(files)
    if args.check:
        if stale:
            print(f"compile_bench_contracts: stale: {', '.join(stale)}", file=sys.stderr)
            return 1
        print("compile_bench_contracts: bench/build is up to date")
        return 0
    cc.write_build(files, BUILD_DIR)
    print(
        f"compile_bench_contracts: wrote {len(files)} files to bench/build ({len(stale)} changed)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
