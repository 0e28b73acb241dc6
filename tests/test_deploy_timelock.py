"""`bindledger deploy` deploys a consortium's governance: a BindLedgerTimelock and a BindLedger
whose admin it is, so that a role grant takes effect only after the timelock's delay.

On an anvil of the module's own (the tests move its clock by hours, which the shared one must
not see), and on the embedded chain, the only one where a zero delay is allowed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from eth_utils.crypto import keccak
from typer.testing import CliRunner, Result
from web3 import Web3

from ledger.anchors import PLATFORM_ROLE, AnchorContract
from ledger.artifacts import load_artifact
from ledger.chain.client import RpcChain
from ledger.cli import app
from ledger.config import Settings
from ledger.runtime import MissingRoleError, open_ledger
from tests.helpers.reverts import expect_revert
from tests.support.anvil import running_anvil
from tests.support.requires import require_anvil

CLEAN_ENV: dict[str, str | None] = {k: None for k in os.environ if k.startswith("BINDLEDGER_")}
HOUR = 3600
DEFAULT_ADMIN_ROLE = bytes(32)
PROPOSER_ROLE = keccak(text="PROPOSER_ROLE")
EXECUTOR_ROLE = keccak(text="EXECUTOR_ROLE")
ZERO = bytes(32)
READY = 2  # TimelockController.OperationState.Ready, as a bit of the error's argument
OTHER = Web3.to_checksum_address("0x00000000000000000000000000000000000000aa")


def run(*args: str) -> Result:
    return CliRunner(env=CLEAN_ENV).invoke(app, list(args))


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def anvil() -> Iterator[str]:
    require_anvil()
    with running_anvil() as url:
        yield url


def _deployed(result: Result) -> tuple[str, str]:
    """(ledger, timelock) addresses from deploy's output."""
    assert result.exit_code == 0, result.output
    ledger = result.stdout.strip()
    assert Web3.is_checksum_address(ledger), result.stdout  # alone on stdout, for scripts
    found = re.search(r"governed by the BindLedgerTimelock (0x[0-9a-fA-F]{40})", result.stderr)
    assert found, result.stderr
    return ledger, found.group(1)


def test_deploy_makes_a_timelock_the_ledgers_admin_with_the_delay_asked_for(anvil: str) -> None:
    admin = Settings().admin_account.address

    ledger, timelock_address = _deployed(run("deploy", "--chain", anvil, "--timelock-delay",
                                             str(HOUR)))

    chain = RpcChain(anvil)
    contract = AnchorContract(chain, ledger)
    contract.check_code()
    functions = contract.contract.functions
    assert functions.defaultAdmin().call() == timelock_address
    assert not functions.hasRole(DEFAULT_ADMIN_ROLE, admin).call()
    timelock = chain.web3.eth.contract(address=Web3.to_checksum_address(timelock_address),
                                       abi=load_artifact("BindLedgerTimelock").abi)
    assert timelock.functions.getMinDelay().call() == HOUR
    assert timelock.functions.hasRole(PROPOSER_ROLE, admin).call()
    assert timelock.functions.hasRole(EXECUTOR_ROLE, admin).call()


def test_a_role_grant_through_the_timelock_takes_effect_only_after_the_delay(anvil: str) -> None:
    admin = Settings().admin_account
    ledger, timelock_address = _deployed(run("deploy", "--chain", anvil, "--timelock-delay",
                                             str(HOUR)))
    chain = RpcChain(anvil)
    contract = AnchorContract(chain, ledger)
    timelock_abi = load_artifact("BindLedgerTimelock").abi
    timelock = chain.web3.eth.contract(address=Web3.to_checksum_address(timelock_address),
                                       abi=timelock_abi)
    grant = contract.contract.functions.grantRole(PLATFORM_ROLE, OTHER)
    operation: tuple[Any, ...] = (ledger, 0, bytes.fromhex(grant._encode_transaction_data()[2:]),
                                  ZERO, ZERO)

    # The admin key alone cannot grant: the ledger's admin is the timelock.
    assert expect_revert(contract.artifact.abi, lambda: chain.transact(admin, grant)) == (
        "AccessControlUnauthorizedAccount", (admin.address, DEFAULT_ADMIN_ROLE))
    chain.transact(admin, timelock.functions.schedule(*operation, HOUR))
    operation_id = bytes(timelock.functions.hashOperation(*operation).call())
    execute = timelock.functions.execute(*operation)
    # Scheduled, not executable before the delay.
    assert expect_revert(timelock_abi, lambda: chain.transact(admin, execute)) == (
        "TimelockUnexpectedOperationState", (operation_id, (1 << READY).to_bytes(32, "big")))
    assert not contract.has_platform_role(OTHER)

    chain.web3.provider.make_request("evm_increaseTime", [HOUR])  # type: ignore[arg-type]
    chain.web3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    chain.transact(admin, execute)

    assert contract.has_platform_role(OTHER)


def test_serve_on_a_governed_ledger_names_the_role_it_cannot_grant(anvil: str) -> None:
    ledger, timelock = _deployed(run("deploy", "--chain", anvil, "--timelock-delay", str(HOUR)))
    settings = Settings(chain=anvil, contract=ledger, database=":memory:")

    with pytest.raises(MissingRoleError) as raised:
        open_ledger(settings)

    platform = settings.platform_list[0].address
    assert (f"the platform {platform} has no PLATFORM_ROLE on BindLedger {ledger}"
            in str(raised.value))
    assert f"the ledger's admin is {timelock}" in str(raised.value)


def test_the_next_steps_name_both_addresses_and_the_delay(anvil: str) -> None:
    result = run("deploy", "--chain", anvil, "--timelock-delay", str(HOUR), "--proposer", OTHER,
                 "--executor", OTHER)

    ledger, timelock = _deployed(result)
    hint = flat(result.stderr)
    assert f"minimum delay {HOUR} s" in hint
    assert f"proposers {Web3.to_checksum_address(OTHER)};" in hint
    assert f"bindledger serve --chain {anvil} --contract {ledger}" in hint
    functions = RpcChain(anvil).web3.eth.contract(
        address=Web3.to_checksum_address(timelock),
        abi=load_artifact("BindLedgerTimelock").abi).functions
    assert functions.hasRole(PROPOSER_ROLE, Web3.to_checksum_address(OTHER)).call()
    assert not functions.hasRole(PROPOSER_ROLE, Settings().admin_account.address).call()


def test_a_zero_delay_off_the_embedded_chain_is_refused_before_anything_is_sent(
        anvil: str) -> None:
    admin = Settings().admin_account.address
    nonce = RpcChain(anvil).web3.eth.get_transaction_count(Web3.to_checksum_address(admin))

    result = run("deploy", "--chain", anvil, "--timelock-delay", "0")

    assert result.exit_code == 2
    assert "a zero timelock delay is allowed only on the embedded chain" in flat(result.stderr)
    assert result.stdout == ""
    assert RpcChain(anvil).web3.eth.get_transaction_count(
        Web3.to_checksum_address(admin)) == nonce


def test_a_proposer_that_is_not_an_address_is_refused(anvil: str) -> None:
    result = run("deploy", "--chain", anvil, "--proposer", "platform-a")

    assert result.exit_code == 2
    assert "the proposer 'platform-a' is not an Ethereum address" in flat(result.stderr)


def test_admin_direct_keeps_the_development_flow_where_the_admin_key_grants(anvil: str) -> None:
    result = run("deploy", "--chain", anvil, "--admin-direct")

    assert result.exit_code == 0, result.output
    ledger = result.stdout.strip()
    contract = AnchorContract(RpcChain(anvil), ledger)
    assert contract.contract.functions.defaultAdmin().call() == Settings().admin_account.address
    assert "Timelock" not in result.stderr
    assert f"bindledger serve --chain {anvil} --contract {ledger}" in flat(result.stderr)


def test_the_embedded_chain_takes_a_zero_delay() -> None:
    result = run("deploy", "--timelock-delay", "0")

    assert result.exit_code == 0, result.output
    assert "minimum delay 0 s" in flat(result.stderr)
