"""Fixtures for the contract tests: an embedded eth-tester chain and deployment from artifacts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract

# Importing ledger also selects the fast pysha3 keccak backend for eth-hash (ledger/__init__.py).
from ledger.artifacts import load_artifact

Deploy = Callable[..., Contract]


@pytest.fixture(scope="module")
def w3() -> Iterator[Web3]:
    """One in-memory chain per test module; each test deploys its own contracts on it."""
    yield Web3(EthereumTesterProvider())


@pytest.fixture(scope="module")
def deploy(w3: Web3) -> Deploy:
    """Returns deploy(name, *constructor_args, sender=...) -> the deployed contract."""

    def _deploy(name: str, *args: Any, sender: str | None = None) -> Contract:
        artifact = load_artifact(name)
        factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        tx_hash = factory.constructor(*args).transact({"from": sender or w3.eth.accounts[0]})
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
        assert receipt["status"] == 1, f"deploying {name} failed"
        address = receipt["contractAddress"]
        assert address is not None
        return w3.eth.contract(address=address, abi=artifact.abi)

    return _deploy
