"""Governance with delay (issue 10, point 7): role grants and parameter changes wait for a
BindLedgerTimelock, and the admin role moves in two steps with a delay. On eth-tester and anvil.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from eth_utils.crypto import keccak
from web3 import EthereumTesterProvider, HTTPProvider, Web3
from web3.contract import Contract

from tests.conftest import CHAIN_KINDS
from tests.helpers.reverts import expect_revert
from tests.support.anvil import running_anvil

from .conftest import Deploy

DAY = 86_400
REGULATOR_ROLE = keccak(text="REGULATOR_ROLE")
PROPOSER_ROLE = keccak(text="PROPOSER_ROLE")
DEFAULT_ADMIN_ROLE = bytes(32)
COOLING_PERIOD = 1
ZERO = bytes(32)
WAITING, READY = 1, 2  # TimelockController.OperationState, as the bit set of the error


@pytest.fixture(scope="module", params=CHAIN_KINDS)
def w3(request: pytest.FixtureRequest) -> Iterator[Web3]:
    """Overrides tests/contracts/conftest.py: these tests run on eth-tester and on an anvil of
    their own (they move its clock by days, which the shared one must not see)."""
    if request.param == "embedded":
        yield Web3(EthereumTesterProvider())
    else:
        with running_anvil() as url:
            yield Web3(HTTPProvider(url))


def _wait(w3: Web3, seconds: int) -> None:
    """Moves the chain's clock: the next block is `seconds` later."""
    if isinstance(w3.provider, EthereumTesterProvider):
        tester = w3.provider.ethereum_tester
        tester.time_travel(int(tester.get_block_by_number("pending")["timestamp"]) + seconds)
    else:
        w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


def _transact(w3: Web3, call: Any, sender: str) -> Any:
    receipt = w3.eth.wait_for_transaction_receipt(call.transact({"from": sender}))
    assert receipt["status"] == 1
    return receipt


class Governance:
    """A BindLedger whose admin is a BindLedgerTimelock with one proposer and executor."""

    def __init__(self, w3: Web3, deploy: Deploy, delay: int) -> None:
        self.w3 = w3
        self.governor, self.outsider = w3.eth.accounts[6], w3.eth.accounts[7]
        self.timelock = deploy("BindLedgerTimelock", delay, [self.governor], [self.governor])
        self.ledger = deploy("BindLedger", self.timelock.address, "0x" + "00" * 20)
        self.delay = delay

    def operation(self, call: Any) -> tuple[Any, ...]:
        """(target, value, data, predecessor, salt) of a call to the ledger."""
        return (self.ledger.address, 0, bytes.fromhex(call._encode_transaction_data()[2:]), ZERO,
                ZERO)

    def schedule(self, call: Any) -> bytes:
        operation = self.operation(call)
        _transact(self.w3, self.timelock.functions.schedule(*operation, self.delay),
                  self.governor)
        return bytes(self.timelock.functions.hashOperation(*operation).call())

    def execute(self, call: Any) -> Any:
        return self.timelock.functions.execute(*self.operation(call))


@pytest.fixture
def governance(w3: Web3, deploy: Deploy) -> Governance:
    return Governance(w3, deploy, DAY)


def _revert(contract: Contract, call: Any, sender: str) -> tuple[str, tuple[Any, ...]]:
    return expect_revert(contract.abi, lambda: call.transact({"from": sender}))


def test_p7_the_governor_cannot_make_itself_a_regulator_without_the_delay(
    w3: Web3, governance: Governance
) -> None:
    ledger, governor = governance.ledger, governance.governor
    grant = ledger.functions.grantRole(REGULATOR_ROLE, governor)
    # Not directly: the ledger's admin is the timelock.
    assert _revert(ledger, grant, governor) == (
        "AccessControlUnauthorizedAccount", (governor, DEFAULT_ADMIN_ROLE))
    # Nor through the timelock in the same block: the operation waits for its delay.
    operation = governance.schedule(grant)
    assert _revert(governance.timelock, governance.execute(grant), governor) == (
        "TimelockUnexpectedOperationState", (operation, (1 << READY).to_bytes(32, "big")))
    assert not ledger.functions.hasRole(REGULATOR_ROLE, governor).call()
    # An outsider can neither propose nor execute.
    outsider = governance.outsider
    other = ledger.functions.grantRole(REGULATOR_ROLE, outsider)
    schedule = governance.timelock.functions.schedule(*governance.operation(other), DAY)
    assert _revert(governance.timelock, schedule, outsider) == (
        "AccessControlUnauthorizedAccount", (outsider, PROPOSER_ROLE))

    _wait(w3, DAY)
    _transact(w3, governance.execute(grant), governor)
    assert ledger.functions.hasRole(REGULATOR_ROLE, governor).call()


def test_p7_a_parameter_change_takes_effect_only_after_the_delay(
    w3: Web3, governance: Governance
) -> None:
    ledger = governance.ledger
    change = ledger.functions.setParameter(COOLING_PERIOD, 24 * 3600)
    assert _revert(ledger, change, governance.governor) == (
        "AccessControlUnauthorizedAccount", (governance.governor, DEFAULT_ADMIN_ROLE))
    operation = governance.schedule(change)
    assert governance.timelock.functions.getOperationState(operation).call() == WAITING
    assert ledger.functions.parameters().call()[1] == 72 * 3600
    _wait(w3, DAY - 60)
    assert _revert(governance.timelock, governance.execute(change), governance.governor)[0] == (
        "TimelockUnexpectedOperationState")
    _wait(w3, 60)
    _transact(w3, governance.execute(change), governance.governor)
    assert ledger.functions.parameters().call()[1] == 24 * 3600


def test_p7_a_zero_delay_is_only_for_the_embedded_test_chain(w3: Web3, deploy: Deploy) -> None:
    if isinstance(w3.provider, EthereumTesterProvider):
        governance = Governance(w3, deploy, 0)
        grant = governance.ledger.functions.grantRole(REGULATOR_ROLE, governance.outsider)
        governance.schedule(grant)
        _transact(w3, governance.execute(grant), governance.governor)
        assert governance.ledger.functions.hasRole(REGULATOR_ROLE, governance.outsider).call()
        return
    from ledger.artifacts import load_artifact

    artifact = load_artifact("BindLedgerTimelock")
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    sender = w3.eth.accounts[6]
    assert expect_revert(artifact.abi, lambda: factory.constructor(0, [sender], [sender]).transact(
        {"from": sender})) == ("BindLedgerTimelockZeroDelay", (int(w3.eth.chain_id),))


def test_p7_the_admin_role_moves_in_two_steps_after_five_days(w3: Web3, deploy: Deploy) -> None:
    admin, successor = w3.eth.accounts[0], w3.eth.accounts[8]
    ledger = deploy("BindLedger", admin, "0x" + "00" * 20, sender=admin)
    functions = ledger.functions
    assert functions.ADMIN_TRANSFER_DELAY().call() == 5 * DAY
    assert _revert(ledger, functions.grantRole(DEFAULT_ADMIN_ROLE, successor), admin) == (
        "AccessControlEnforcedDefaultAdminRules", ())
    _transact(w3, functions.beginDefaultAdminTransfer(successor), admin)
    _, accept_after = functions.pendingDefaultAdmin().call()
    assert _revert(ledger, functions.acceptDefaultAdminTransfer(), successor) == (
        "AccessControlEnforcedDefaultAdminDelay", (accept_after,))
    _wait(w3, 5 * DAY + 1)
    _transact(w3, functions.acceptDefaultAdminTransfer(), successor)
    assert functions.defaultAdmin().call() == successor
    assert not functions.hasRole(DEFAULT_ADMIN_ROLE, admin).call()
