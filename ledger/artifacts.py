"""Compiled contract artifacts, read from the committed contracts/build/ at run time.

Running BindLedger needs no Solidity compiler and no Node: scripts/compile_contracts.py writes
Hardhat-style artifacts (`hh-sol-artifact-1`) to contracts/build/, they are committed, and this
module only reads them. A test (tests/contracts/test_artifacts_fresh.py) keeps them in step with
the sources.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.errors import LedgerLookupError, LedgerValueError

__all__ = [
    "ARTIFACTS_DIR",
    "RELEASES_DIR",
    "Artifact",
    "ArtifactFormatError",
    "load_artifact",
    "load_release_artifact",
]

ARTIFACTS_DIR: Path = Path(__file__).resolve().parents[1] / "contracts" / "build"
"""Where scripts/compile_contracts.py writes the artifacts, in a source checkout."""

RELEASES_DIR: Path = ARTIFACTS_DIR.parent / "releases"
"""Released contracts, frozen: `v<N>/<name>.json` is the artifact of interface version N as it
was deployed. Never regenerated: a verifier recognises old deployments by this code."""

_ARTIFACT_FORMAT = "hh-sol-artifact-1"
# A Solidity identifier: also keeps a name from reaching outside ARTIFACTS_DIR ("../x").
_CONTRACT_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_HEX_CODE = re.compile(r"0x(?:[0-9a-f]{2})*")


class ArtifactFormatError(LedgerValueError):
    """An artifact file exists but is not a well-formed, linked hh-sol-artifact-1 document."""


@dataclass(frozen=True)
class Artifact:
    """A compiled contract: its ABI, creation bytecode and runtime (deployed) bytecode.

    Bytecodes are 0x-prefixed lowercase hex, fully linked. `immutable_ranges` are the
    (start, length) byte ranges of `deployed_bytecode` that the constructor fills with
    immutable values (zeros in the artifact), so deployed code differs from it there.
    """

    contract_name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    immutable_ranges: tuple[tuple[int, int], ...] = ()


# Artifacts read, by file and its modification time. One object per artifact also lets the
# chain client reuse the contract objects web3 builds from its ABI (tens of milliseconds each).
_LOADED: dict[Path, tuple[int, Artifact]] = {}


def load_artifact(name: str) -> Artifact:
    """Requires `name` to be a contract name (a Solidity identifier, e.g. "BindLedger").

    Returns the artifact read from contracts/build/<name>.json. Raises LedgerLookupError when
    there is no such artifact and ArtifactFormatError when the file is malformed.
    """
    if not _CONTRACT_NAME.fullmatch(name):
        raise LedgerLookupError(f"{name!r} is not a contract name; expected a Solidity identifier")
    return _load(ARTIFACTS_DIR / f"{name}.json", name)


def load_release_artifact(version: int, name: str = "BindLedger") -> Artifact:
    """Requires `version` >= 1 and `name` a contract name.

    Returns the frozen artifact of release `version` (contracts/releases/v<version>/<name>.json).
    Raises LedgerLookupError when there is none and ArtifactFormatError when it is malformed.
    """
    if version < 1 or not _CONTRACT_NAME.fullmatch(name):
        raise LedgerLookupError(f"no release {version!r} of contract {name!r}")
    return _load(RELEASES_DIR / f"v{version}" / f"{name}.json", name)


def _load(path: Path, name: str) -> Artifact:
    try:
        version = path.stat().st_mtime_ns
        cached = _LOADED.get(path)
        if cached is not None and cached[0] == version:
            return cached[1]
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LedgerLookupError(
            f"no artifact for contract {name!r}: {path} does not exist "
            "(run python scripts/compile_contracts.py, or check the contract name)"
        ) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArtifactFormatError(f"{path} is not valid JSON: {exc}") from exc
    artifact = _parse(document, name, path)
    _LOADED[path] = (version, artifact)
    return artifact


def _parse(document: Any, name: str, path: Path) -> Artifact:
    """Requires nothing of `document`. Returns it as an Artifact or raises ArtifactFormatError."""
    if not isinstance(document, dict) or document.get("_format") != _ARTIFACT_FORMAT:
        raise ArtifactFormatError(f"{path} is not an {_ARTIFACT_FORMAT} artifact")
    if document.get("contractName") != name:
        raise ArtifactFormatError(
            f"{path} holds contract {document.get('contractName')!r}, expected {name!r}"
        )
    abi = document.get("abi")
    if not isinstance(abi, list) or not all(isinstance(entry, dict) for entry in abi):
        raise ArtifactFormatError(f"{path}: abi must be a list of objects")
    codes: dict[str, str] = {}
    for key in ("bytecode", "deployedBytecode"):
        value = document.get(key)
        if not isinstance(value, str) or not _HEX_CODE.fullmatch(value):
            # Unlinked library placeholders (__$...$__) also end up here.
            raise ArtifactFormatError(f"{path}: {key} must be 0x-prefixed lowercase hex")
        codes[key] = value
    return Artifact(
        contract_name=name,
        abi=abi,
        bytecode=codes["bytecode"],
        deployed_bytecode=codes["deployedBytecode"],
        immutable_ranges=_immutable_ranges(
            document.get("immutableReferences", {}), (len(codes["deployedBytecode"]) - 2) // 2, path
        ),
    )


def _immutable_ranges(references: Any, code_size: int, path: Path) -> tuple[tuple[int, int], ...]:
    """Requires nothing of `references` (solc's {AST id: [{start, length}, ...]}).

    Returns its byte ranges sorted, or raises ArtifactFormatError when they are malformed or
    fall outside the deployed code of `code_size` bytes.
    """
    if not isinstance(references, dict):
        raise ArtifactFormatError(f"{path}: immutableReferences must be an object")
    ranges: list[tuple[int, int]] = []
    for entries in references.values():
        if not isinstance(entries, list):
            raise ArtifactFormatError(f"{path}: immutableReferences entries must be lists")
        for entry in entries:
            start = entry.get("start") if isinstance(entry, dict) else None
            length = entry.get("length") if isinstance(entry, dict) else None
            if (
                not isinstance(start, int)
                or not isinstance(length, int)
                or start < 0
                or length <= 0
                or start + length > code_size
            ):
                raise ArtifactFormatError(
                    f"{path}: immutable reference {entry!r:.80} is not a byte range of the code"
                )
            ranges.append((start, length))
    return tuple(sorted(ranges))
