"""Wiring: from settings to a running ledger, with the start-up checks a deployment needs."""

from __future__ import annotations

import atexit
import logging

from eth_account.signers.local import LocalAccount

from ledger.anchoring import AnchorPolicy, default_confirmations
from ledger.anchors import AnchorContract
from ledger.chain.client import ChainClient, connect_chain
from ledger.config import ConfigError, Settings
from ledger.core.encoding import to_hex
from ledger.drafts import Referencer
from ledger.errors import LedgerStateError
from ledger.privacy.setup import access_platform_of, open_privacy
from ledger.relayers import RelayerLease
from ledger.rules import REGULATOR_ROLE, RulesClient, attach_rules
from ledger.service import Ledger
from ledger.store.base import ON_CHAIN_STATES, Store
from ledger.store.open import open_store

log = logging.getLogger("bindledger.runtime")


class ForeignChainError(LedgerStateError):
    """The chain does not hold the anchors this database has recorded."""


def open_ledger(
    settings: Settings,
    chain: ChainClient | None = None,
    store: Store | None = None,
    contract: AnchorContract | None = None,
    read_only: bool = False,
) -> Ledger:
    """Connect to the chain and the database, check that they belong together, and return
    a ledger whose platforms hold the platform role and whose regulators the regulator role,
    with its rules client attached (ledger.rules.rules_for). `contract`, when given, is used
    instead of the one in `settings` (tests pass a harness deployment). `read_only` reads the
    database beside the process that writes it (the CLI beside `serve`): nothing is written.

    Raises ConfigError, ChainError, ForeignContractError, ForeignChainError, or MissingRoleError
    when a configured party lacks its role and the admin account cannot grant it.
    """
    chain = chain or connect_chain(settings.chain)
    if settings.chain_id is not None and chain.chain_id != settings.chain_id:
        raise ForeignChainError(
            f"the node reports chain id {chain.chain_id}, configuration says {settings.chain_id}"
        )
    if chain.embedded:
        log.warning("using the %s", chain.describe())
    admin = settings.admin_account
    if contract is not None:
        contract.check_code()
    elif settings.contract:
        contract = AnchorContract(chain, settings.contract)
        contract.check_code()
    else:
        contract = AnchorContract.deploy(chain, admin)
        log.info("deployed BindLedger at %s on chain %d", contract.address, chain.chain_id)
    store = store or open_store(database_path(settings, chain), read_only=read_only)
    check_anchors_on_chain(store, contract)
    # The access log is anchored like a platform's log, by an account of its own.
    platforms = [*settings.platform_list, access_platform_of(settings)]
    for platform in platforms:
        chain.fund(platform.address)
        if not contract.has_platform_role(platform.address):
            _check_can_grant(contract, admin, "platform", platform.address)
            chain.fund(admin.address)
            contract.grant_platform_role(admin, platform.address)
    for regulator in settings.regulator_list:
        if not contract.contract.functions.hasRole(REGULATOR_ROLE, regulator.address).call():
            _check_can_grant(contract, admin, "regulator", regulator.address)
            chain.fund(admin.address)
            chain.transact(admin, contract.contract.functions.grantRole(REGULATOR_ROLE,
                                                                        regulator.address))
        chain.fund(regulator.address)
    relayer = _relayer(settings, store)
    chain.fund(relayer.address)
    refs = Referencer(settings.ref_secret.encode())
    ledger = Ledger(store, chain, contract, platforms, refs,
                    policy=anchor_policy(settings, chain),
                    max_clock_skew=settings.max_clock_skew_seconds)
    attach_rules(ledger, RulesClient(ledger, relayer, settings.regulator_list))
    open_privacy(settings, ledger)
    return ledger


class MissingRoleError(LedgerStateError):
    """A configured party lacks its role and the admin account cannot grant it (the ledger is
    governed by a timelock, or by another account)."""


def _check_can_grant(contract: AnchorContract, admin: LocalAccount, what: str, account: str) -> None:
    """Raise MissingRoleError unless the admin account holds the ledger's admin role."""
    functions = contract.contract.functions
    if functions.hasRole(_DEFAULT_ADMIN_ROLE, admin.address).call():
        return
    role = "PLATFORM_ROLE" if what == "platform" else "REGULATOR_ROLE"
    raise MissingRoleError(
        f"the {what} {account} has no {role} on BindLedger {contract.address}, and the admin "
        f"account {admin.address} cannot grant it: the ledger's admin is "
        f"{functions.defaultAdmin().call()} (a BindLedgerTimelock: a proposer schedules "
        f"grantRole({role}, {account}) on it, and it is executed after the timelock's delay)"
    )


_DEFAULT_ADMIN_ROLE = bytes(32)


def _relayer(settings: Settings, store: Store) -> LocalAccount:
    """The account this process relays rule records from. Processes sharing a store each take
    one no other holds (ledger.relayers), so that two never spend one nonce; alone, the
    configured relayer."""
    if not store.shared:
        return settings.relayer_account
    lease = RelayerLease(store, settings.relayer_accounts)
    atexit.register(lease.release)  # a clean exit frees it at once, a crash when it expires
    _RELAYER_LEASES[store] = lease
    return lease.account


def release_relayer(store: Store) -> None:
    """Give up the relayer account taken for `store` (a process that stops relaying)."""
    lease = _RELAYER_LEASES.pop(store, None)
    if lease is not None:
        atexit.unregister(lease.release)  # released now: not again at exit, store closed
        lease.release()


_RELAYER_LEASES: dict[Store, RelayerLease] = {}


def anchor_policy(settings: Settings, chain: ChainClient) -> AnchorPolicy:
    """The anchoring policy the settings ask for, with the chain's default depth."""
    confirmations = settings.confirmations
    return AnchorPolicy(
        confirmations=default_confirmations(chain) if confirmations is None else confirmations,
        replace_after_seconds=settings.anchor_replace_after_seconds,
    )


def database_path(settings: Settings, chain: ChainClient) -> str:
    """The database setting: a SQLite file, `:memory:` or a postgresql:// URL. An embedded
    chain forgets everything at exit, so by default its database does too."""
    if settings.database:
        return settings.database
    return ":memory:" if chain.embedded else "bindledger.sqlite3"


def check_anchors_on_chain(store: Store, contract: AnchorContract) -> None:
    """Refuse a chain or contract other than the one this database anchors in. A chain that
    lost some of the database's anchors (a reorg, a node restarted from an older state) is
    not refused: the anchoring watcher finds them and anchors them again."""
    chain_id = contract.chain.chain_id
    for platform in store.platforms():
        head = max(
            (h for h in store.heads(platform) if h.state in ON_CHAIN_STATES),
            key=lambda h: h.tree_size,
            default=None,
        )
        if head is None:
            continue
        if head.chain_id != chain_id or head.contract != contract.address:
            raise ForeignChainError(
                f"the database anchors platform {platform} in contract {head.contract} on chain "
                f"{head.chain_id}, not in {contract.address} on chain {chain_id}"
            )
        assert head.tx_hash is not None  # on chain: its transaction is known
        receipt = contract.chain.receipt(head.tx_hash)
        if contract.anchoring_problem(receipt, head.tx_hash, platform, head.tree_size,
                                      head.root_hash) is not None:
            log.warning(
                "chain %d does not hold platform %s's anchored head of size %d (root %s): "
                "it will be anchored again",
                chain_id, platform, head.tree_size, to_hex(head.root_hash),
            )


__all__ = ["ConfigError", "ForeignChainError", "check_anchors_on_chain", "open_ledger"]
