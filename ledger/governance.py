"""A consortium's deployment: a BindLedgerTimelock that holds BindLedger's admin role.

Every role grant (platforms, regulators) and rule parameter change is then scheduled on the
timelock in public and executed only after its minimum delay. The development flow, where the
admin key grants roles itself (`bindledger serve` on a new contract, the demo, the tests),
deploys with the admin account as the ledger's admin instead (`AnchorContract.deploy`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from web3 import Web3

from ledger.anchors import AnchorContract
from ledger.artifacts import load_artifact
from ledger.chain.client import ChainClient
from ledger.errors import LedgerValueError

TIMELOCK_NAME = "BindLedgerTimelock"
DEFAULT_TIMELOCK_DELAY = 2 * 86_400  # two days: long enough for every member to read a change


class TimelockSettingError(LedgerValueError):
    """The timelock asked for cannot govern this chain (a zero delay off the embedded chain, an
    address that is not one)."""


@dataclass(frozen=True)
class GovernedDeployment:
    """A BindLedger whose admin is the timelock at `timelock`."""

    ledger: AnchorContract
    timelock: str
    delay: int
    proposers: tuple[str, ...]
    executors: tuple[str, ...]


def check_timelock_settings(
    delay: int, proposers: Sequence[str], executors: Sequence[str], embedded: bool
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The proposers and executors as checksum addresses; raises TimelockSettingError.

    A zero delay would let a single proposer grant itself a role in one block: the contract
    refuses it off the embedded test chain, and this refuses it before any gas is spent.
    """
    if delay < 0:
        raise TimelockSettingError(f"the timelock delay cannot be negative ({delay} s)")
    if delay == 0 and not embedded:
        raise TimelockSettingError(
            "a zero timelock delay is allowed only on the embedded chain: on a shared chain the "
            "delay is what lets every member see a role grant or a parameter change before it "
            "applies (give --timelock-delay SECONDS, e.g. 172800 for two days)"
        )
    if not proposers:
        raise TimelockSettingError("the timelock needs at least one proposer")
    return _addresses(proposers, "proposer"), _addresses(executors, "executor")


def deploy_governed(
    chain: ChainClient,
    deployer: LocalAccount,
    delay: int = DEFAULT_TIMELOCK_DELAY,
    proposers: Sequence[str] = (),
    executors: Sequence[str] = (),
    predecessor: str | None = None,
) -> GovernedDeployment:
    """Deploy a BindLedgerTimelock and a BindLedger with the timelock as its admin (continuing
    the logs of the deployment at `predecessor` when given, as AnchorContract.deploy).

    Proposers default to the deployer; executors default to the proposers. The timelock
    administers itself: changing its delay or its proposers is itself a delayed operation.
    """
    proposers = proposers or [deployer.address]
    checked_proposers, checked_executors = check_timelock_settings(
        delay, proposers, executors or proposers, chain.embedded)
    if predecessor is not None:
        # Before the timelock: a wrong predecessor must not leave a timelock governing nothing.
        AnchorContract(chain, predecessor).check_code()
    chain.fund(deployer.address)
    timelock = chain.deploy(deployer, load_artifact(TIMELOCK_NAME), delay,
                            list(checked_proposers), list(checked_executors))
    ledger = AnchorContract.deploy(chain, deployer, predecessor, admin=timelock)
    return GovernedDeployment(ledger, timelock, delay, checked_proposers, checked_executors)


def _addresses(values: Sequence[str], what: str) -> tuple[str, ...]:
    checked = []
    for value in values:
        if not Web3.is_address(value):
            raise TimelockSettingError(f"the {what} {value!r} is not an Ethereum address")
        checked.append(Web3.to_checksum_address(value))
    return tuple(dict.fromkeys(checked))
