"""AnchorContract.check_code: BindLedger's deployed code is recognised, immutables aside.

EIP712 keeps its domain (chain id, contract address, name and version hashes) in immutables,
which the constructor writes into the runtime code, so deployed code differs from the artifact's
deployedBytecode exactly there, and nowhere else.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from eth_account import Account

from ledger import artifacts
from ledger.anchors import AnchorContract, ForeignContractError
from ledger.artifacts import ArtifactFormatError, load_artifact
from ledger.chain.client import EmbeddedChain

ADMIN_KEY = b"\x42" * 32


@pytest.fixture(scope="module")
def deployed() -> AnchorContract:
    return AnchorContract.deploy(EmbeddedChain(), Account.from_key(ADMIN_KEY))


def test_bindledger_is_recognised_though_its_immutables_differ(deployed: AnchorContract) -> None:
    deployed.check_code()
    artifact = deployed.artifact
    assert artifact.immutable_ranges, "BindLedger has EIP712 immutables"
    code = deployed.chain.code(deployed.address)
    expected = bytes.fromhex(artifact.deployed_bytecode[2:])
    assert code != expected
    differing = {i for i, (a, b) in enumerate(zip(code, expected, strict=True)) if a != b}
    masked = {i for start, length in artifact.immutable_ranges for i in range(start, start + length)}
    assert differing and differing <= masked


def test_without_the_masks_the_code_would_not_match(deployed: AnchorContract) -> None:
    unmasked = dataclasses.replace(deployed.artifact, immutable_ranges=())
    with pytest.raises(ForeignContractError, match="is not a released BindLedger version"):
        AnchorContract(deployed.chain, deployed.address, unmasked).check_code()


def test_one_byte_outside_the_immutables_is_another_contract(deployed: AnchorContract) -> None:
    artifact = deployed.artifact
    code = bytearray.fromhex(artifact.deployed_bytecode[2:])
    start, length = artifact.immutable_ranges[0]
    for index in (0, start - 1, start + length, len(code) - 1):
        changed = bytearray(code)
        changed[index] ^= 0x01
        other = dataclasses.replace(artifact, deployed_bytecode="0x" + changed.hex())
        with pytest.raises(ForeignContractError, match="is not a released BindLedger version"):
            AnchorContract(deployed.chain, deployed.address, other).check_code()


def test_another_contract_is_refused(deployed: AnchorContract) -> None:
    chain = deployed.chain
    admin = Account.from_key(ADMIN_KEY)
    address = chain.deploy(admin, load_artifact("ConsistencyProofHarness"))
    with pytest.raises(ForeignContractError, match="is not a released BindLedger version"):
        AnchorContract(chain, address).check_code()


@pytest.mark.parametrize(
    "references",
    [
        [],
        {"1": {"start": 0, "length": 32}},
        {"1": [{"start": -1, "length": 32}]},
        {"1": [{"start": 0, "length": 0}]},
        {"1": [{"start": "0", "length": 32}]},
        {"1": [{"start": 10**9, "length": 32}]},
    ],
)
def test_malformed_immutable_references_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, references: object
) -> None:
    good = json.loads((artifacts.ARTIFACTS_DIR / "BindLedger.json").read_text(encoding="utf-8"))
    monkeypatch.setattr(artifacts, "ARTIFACTS_DIR", tmp_path)
    (tmp_path / "BindLedger.json").write_text(
        json.dumps({**good, "immutableReferences": references}), encoding="utf-8"
    )
    with pytest.raises(ArtifactFormatError, match="immutable"):
        load_artifact("BindLedger")
