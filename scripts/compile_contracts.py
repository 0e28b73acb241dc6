"""Compile the Solidity sources under contracts/ into the artifacts committed in contracts/build/.

Usage:
    python scripts/compile_contracts.py           # (re)write contracts/build/
    python scripts/compile_contracts.py --check   # exit 1 if contracts/build/ is stale

Requires `npm ci` (the pinned npm packages `solc` and `@openzeppelin/contracts` in node_modules)
and Node on PATH. The compiler is solc-js, reached through py-solc-x's `compile_standard` with the
shim scripts/solc-js as `solc_binary`; nothing is downloaded.

The output is reproducible on any machine: source names in the standard JSON input are relative to
the repository (`contracts/BindLedger.sol`, `@openzeppelin/contracts/...`), every imported source
is embedded in the input, and files are written with sorted keys, two-space indent and a trailing
newline. `contracts/build/standard-input.json` is the exact input compiled, so anyone can rebuild
or verify the bytecode with any solc 0.8.37.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import solcx

REPO_ROOT = Path(__file__).resolve().parents[1]
CONTRACTS_DIR = REPO_ROOT / "contracts"
BUILD_DIR = CONTRACTS_DIR / "build"
NODE_MODULES = REPO_ROOT / "node_modules"
SOLC_SHIM = REPO_ROOT / "scripts" / "solc-js"
STANDARD_INPUT_NAME = "standard-input.json"

# Compiler settings. Part of every artifact's identity (the metadata hash at the end of the
# bytecode covers them), so a change here shows up as stale artifacts in `--check`.
SETTINGS: dict[str, Any] = {
    # prague is the newest fork py-evm (eth-tester) runs.
    "evmVersion": "prague",
    # The IR pipeline: BindLedger's runtime is 20.2 kB with it against 23.6 kB on the legacy
    # one (EIP-170 allows 24 kB, and the rules need the room), and anchorHead costs less gas.
    # With attestRefusal it is 21.9 kB, and 25.4 kB on the legacy one (25.1 kB at 1 run): over
    # the limit. 10 000 runs would save under 200 gas on anchorHead for a 22% larger runtime.
    "optimizer": {"enabled": True, "runs": 200},
    "viaIR": True,
    "outputSelection": {
        "*": {
            # The AST is read only to tell deployable contracts from libraries and interfaces.
            "": ["ast"],
            # immutableReferences: where the deployed code differs from deployedBytecode
            # (EIP712 keeps its domain in immutables), so code checks can mask those bytes.
            "*": [
                "abi",
                "evm.bytecode.object",
                "evm.deployedBytecode.object",
                "evm.deployedBytecode.immutableReferences",
            ],
        }
    },
}


class CompileError(RuntimeError):
    """The contracts cannot be compiled (missing tool chain or compiler errors)."""


def _require_toolchain() -> None:
    missing = [
        str(path.relative_to(REPO_ROOT))
        for path in (
            NODE_MODULES / "solc" / "package.json",
            NODE_MODULES / "@openzeppelin" / "contracts" / "package.json",
        )
        if not path.is_file()
    ]
    if missing:
        raise CompileError(
            f"the pinned Solidity tool chain is not installed ({', '.join(missing)} missing): "
            f"run npm ci in {REPO_ROOT}"
        )
    if shutil.which("node") is None:
        raise CompileError("node is not on PATH; scripts/solc-js needs Node 20 or later")


def _project_sources() -> dict[str, str]:
    """Returns the project's Solidity sources by repository-relative name, build output excluded."""
    sources: dict[str, str] = {}
    for path in sorted(CONTRACTS_DIR.rglob("*.sol")):
        if BUILD_DIR in path.parents:
            continue
        sources[path.relative_to(REPO_ROOT).as_posix()] = path.read_text(encoding="utf-8")
    if not sources:
        raise CompileError(f"no Solidity sources under {CONTRACTS_DIR}")
    return sources


def _compile(input_json: dict[str, Any]) -> dict[str, Any]:
    try:
        output: dict[str, Any] = solcx.compile_standard(input_json, solc_binary=SOLC_SHIM)
    except solcx.exceptions.SolcError as exc:
        raise CompileError(f"solc failed:\n{exc.message}") from exc
    return output


def standard_input() -> dict[str, Any]:
    """Returns the complete standard JSON input: project sources plus every imported library file.

    Imports are first resolved by the shim from node_modules in a parse-only pass; their contents
    are then embedded so that the input is self-contained and the compile needs no import callback.
    """
    _require_toolchain()
    sources = _project_sources()
    discovery = {
        "language": "Solidity",
        "sources": {name: {"content": content} for name, content in sources.items()},
        "settings": {"evmVersion": SETTINGS["evmVersion"], "outputSelection": {}},
    }
    for name in sorted(_compile(discovery).get("sources", {})):
        if name not in sources:
            # Anything not in the project came from node_modules through the shim's callback.
            sources[name] = (NODE_MODULES / name).read_text(encoding="utf-8")
    return {
        "language": "Solidity",
        "sources": {name: {"content": sources[name]} for name in sorted(sources)},
        "settings": SETTINGS,
    }


def _is_deployable(node: dict[str, Any]) -> bool:
    """Whether an AST node defines a concrete contract (not a library, interface or abstract)."""
    return (
        node.get("nodeType") == "ContractDefinition"
        and node.get("contractKind") == "contract"
        and not node.get("abstract", False)
    )


def _artifacts_from_output(output: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Returns an artifact for every deployable contract defined under contracts/."""
    artifacts: dict[str, dict[str, Any]] = {}
    for source_name, source_output in sorted(output["sources"].items()):
        if not source_name.startswith("contracts/"):
            continue
        deployable = {
            node["name"] for node in source_output["ast"]["nodes"] if _is_deployable(node)
        }
        for name in sorted(deployable):
            compiled = output["contracts"][source_name][name]
            if name in artifacts:
                raise CompileError(
                    f"two deployable contracts named {name} "
                    f"({artifacts[name]['sourceName']} and {source_name}); "
                    "artifacts are keyed by contract name"
                )
            bytecode = compiled["evm"]["bytecode"]["object"]
            deployed = compiled["evm"]["deployedBytecode"]["object"]
            if "__$" in bytecode or "__$" in deployed:
                raise CompileError(
                    f"{source_name}:{name} needs library linking, which the artifacts do not "
                    "support; make the library functions internal"
                )
            artifacts[name] = {
                "_format": "hh-sol-artifact-1",
                "contractName": name,
                "sourceName": source_name,
                "abi": compiled["abi"],
                "bytecode": "0x" + bytecode,
                "deployedBytecode": "0x" + deployed,
                "linkReferences": {},
                "deployedLinkReferences": {},
                # {AST id: [{"start": byte offset, "length": bytes}, ...]} in deployedBytecode.
                "immutableReferences": compiled["evm"]["deployedBytecode"].get(
                    "immutableReferences", {}
                ),
            }
    return artifacts


def render_json(document: Any) -> str:
    """Returns `document` as build files store it: sorted keys, two-space indent, final newline."""
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def _build() -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    input_json = standard_input()
    output = _compile(input_json)
    for error in output.get("errors", []):
        # compile_standard raises on errors; warnings would otherwise pass unseen.
        print(error["formattedMessage"], file=sys.stderr)
    return input_json, _artifacts_from_output(output)


def compile_contracts() -> dict[str, dict[str, Any]]:
    """Compiles every contract and returns the artifacts by contract name, without writing.

    Requires `npm ci` to have been run. Raises `CompileError` otherwise or on compiler errors.
    """
    return _build()[1]


def render_build() -> dict[str, str]:
    """Returns the text of every file contracts/build/ must hold, by file name."""
    input_json, artifacts = _build()
    files = {f"{name}.json": render_json(artifact) for name, artifact in artifacts.items()}
    files[STANDARD_INPUT_NAME] = render_json(input_json)
    return files


def stale_files(expected: dict[str, str], build_dir: Path = BUILD_DIR) -> list[str]:
    """Returns the files of `build_dir`, relative to the repository, that differ from
    `expected`. Missing, changed and unexpected (left over from a removed contract) files all
    count.
    """
    present = {path.name for path in build_dir.glob("*.json")} if build_dir.is_dir() else set()
    stale = []
    for name in sorted(present | set(expected)):
        path = build_dir / name
        if (
            name not in expected
            or name not in present
            or path.read_text(encoding="utf-8") != expected[name]
        ):
            stale.append(path)
    return [path.relative_to(REPO_ROOT).as_posix() for path in stale]


def write_build(files: dict[str, str], build_dir: Path = BUILD_DIR) -> None:
    """Make `build_dir` hold exactly `files` (name -> text)."""
    build_dir.mkdir(parents=True, exist_ok=True)
    for path in build_dir.glob("*.json"):
        if path.name not in files:
            path.unlink()
    for name, text in files.items():
        (build_dir / name).write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Writes contracts/build/, or with `--check` reports whether it is stale (exit status 1)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="do not write; exit 1 naming the stale files if contracts/build/ differs",
    )
    args = parser.parse_args(argv)
    try:
        files = render_build()
    except CompileError as exc:
        print(f"compile_contracts: {exc}", file=sys.stderr)
        return 2

    stale = stale_files(files)
    if args.check:
        if stale:
            print(
                "compile_contracts: stale artifacts (run python scripts/compile_contracts.py): "
                + ", ".join(stale),
                file=sys.stderr,
            )
            return 1
        print("compile_contracts: contracts/build is up to date")
        return 0

    write_build(files)
    print(
        f"compile_contracts: wrote {len(files)} files to contracts/build"
        + (f" ({len(stale)} changed: {', '.join(stale)})" if stale else " (unchanged)")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
