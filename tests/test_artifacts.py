"""ledger.artifacts reads the committed contract artifacts, and refuses anything else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger import artifacts
from ledger.artifacts import ArtifactFormatError, load_artifact
from ledger.errors import LedgerLookupError


def test_loads_the_committed_bindledger_artifact() -> None:
    artifact = load_artifact("BindLedger")
    assert artifact.contract_name == "BindLedger"
    assert any(entry.get("name") == "anchorHead" for entry in artifact.abi)
    # PUSH1 or PUSH2 of the free memory pointer (PUSH2 once immutables need more memory).
    assert artifact.bytecode.startswith(("0x60", "0x61"))
    assert artifact.deployed_bytecode.startswith("0x")
    # The creation code carries the runtime code it deploys.
    assert artifact.deployed_bytecode[2:] in artifact.bytecode


def test_missing_artifact_is_a_lookup_error() -> None:
    with pytest.raises(LedgerLookupError, match="no artifact for contract 'NoSuchContract'"):
        load_artifact("NoSuchContract")


@pytest.mark.parametrize("name", ["../build/BindLedger", "BindLedger.json", "", "a/b"])
def test_name_must_be_a_contract_name(name: str) -> None:
    with pytest.raises(LedgerLookupError, match="not a contract name"):
        load_artifact(name)


def _write(directory: Path, name: str, document: object) -> None:
    (directory / f"{name}.json").write_text(json.dumps(document), encoding="utf-8")


def test_malformed_artifacts_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(artifacts, "ARTIFACTS_DIR", tmp_path)
    good = json.loads(
        (Path(artifacts.__file__).parents[1] / "contracts/build/BindLedger.json").read_text()
    )
    (tmp_path / "NotJson.json").write_text("{", encoding="utf-8")
    with pytest.raises(ArtifactFormatError, match="not valid JSON"):
        load_artifact("NotJson")

    cases = {
        "WrongFormat": {**good, "_format": "truffle"},
        "WrongName": good,  # contractName says BindLedger
        "Unlinked": {**good, "contractName": "Unlinked", "bytecode": "0x60__$abc$__"},
        "OddHex": {**good, "contractName": "OddHex", "deployedBytecode": "0x123"},
        "BadAbi": {**good, "contractName": "BadAbi", "abi": {"type": "function"}},
    }
    for name, document in cases.items():
        _write(tmp_path, name, document)
        with pytest.raises(ArtifactFormatError):
            load_artifact(name)
