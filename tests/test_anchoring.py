"""Sealing and anchoring heads: one suite, run on the embedded chain and on anvil."""

from __future__ import annotations

import pytest

from ledger.anchoring.lookup import find_anchoring
from ledger.anchors import AnchorContract, ChainHead, ForeignContractError
from ledger.chain.client import ChainClient, SentTransaction
from ledger.config import Settings
from ledger.core.bundle import ProofBundle
from ledger.core.records import Binding, BindingAction
from ledger.runtime import ForeignChainError, open_ledger
from ledger.service import Ledger, NotAnchoredError
from ledger.store.base import AnchorState
from ledger.store.sqlite import SqliteStore
from ledger.verify import verify_bundle


class Crash(BaseException):
    """Stands for the process dying at that instant (not an Exception: nothing catches it)."""


def write_bindings(ledger: Ledger, count: int, tag: str = "s") -> list[int]:
    platform = next(iter(ledger.platforms.values()))
    ids = []
    for i in range(count):
        subject = ledger.refs.subject(f"{tag}-{i}")
        phone = ledger.refs.phone(f"+86 138 0013 {8000 + i}")
        accepted = ledger.sign_and_submit(platform, subject, lambda prev, s=subject, p=phone: Binding(
            platform=platform.address, subject=s, prev=prev, timestamp=ledger.now(),
            action=BindingAction.BIND, phone=p, account=bytes(32), factors=3))
        ids.append(accepted.row.id)
    return ids


def platform_of(ledger: Ledger) -> str:
    return next(iter(ledger.platforms))


def heads_on_chain(ledger: Ledger) -> int:
    """How many heads the platform anchored, counted from the contract's HeadAnchored events."""
    chain = ledger.chain
    return len(ledger.contract.heads_anchored(platform_of(ledger), 0, chain.block_number()))


def test_pending_records_are_sealed_and_anchored_in_one_transaction(ledger_: Ledger) -> None:
    ids = write_bindings(ledger_, 5)
    heads = ledger_.seal_and_anchor()
    assert [h.tree_size for h in heads] == [5]
    head = heads[0]
    assert head.state is AnchorState.FINAL and head.tx_hash and head.block_hash
    assert ledger_.contract.latest_head(platform_of(ledger_)) == ChainHead(
        head.root_hash, 5, head.block_time)
    receipt = ledger_.chain.receipt(head.tx_hash)
    assert ledger_.contract.anchoring_problem(
        receipt, head.tx_hash, platform_of(ledger_), 5, head.root_hash) is None
    for record_id in ids:
        assert verify_bundle(ledger_.proof_bundle(record_id), ledger_.chain).verified


def test_a_record_has_no_proof_until_it_is_anchored(ledger_: Ledger) -> None:
    (record_id,) = write_bindings(ledger_, 1)
    with pytest.raises(NotAnchoredError):
        ledger_.proof_bundle(record_id)
    ledger_.seal_and_anchor()
    assert ledger_.proof_bundle(record_id).tree_size == 1


def test_later_heads_extend_earlier_ones_and_old_bundles_stay_valid(ledger_: Ledger) -> None:
    first = write_bindings(ledger_, 3, "a")
    ledger_.seal_and_anchor()
    old_bundle = ledger_.proof_bundle(first[0])
    write_bindings(ledger_, 4, "b")
    ledger_.seal_and_anchor()
    latest = ledger_.contract.latest_head(platform_of(ledger_))
    assert latest.size == 7
    assert verify_bundle(old_bundle, ledger_.chain).verified
    assert ledger_.proof_bundle(first[0]).tree_size == 3  # smallest head that includes it


def test_anchoring_is_idempotent(ledger_: Ledger) -> None:
    write_bindings(ledger_, 2)
    ledger_.seal_and_anchor()
    block = ledger_.chain.web3.eth.block_number
    assert ledger_.seal_and_anchor() == []
    assert ledger_.seal(platform_of(ledger_)) is None
    assert ledger_.chain.web3.eth.block_number == block  # no transaction sent


def test_crash_after_storing_the_transaction_before_sending_it_is_recovered(
        ledger_: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    write_bindings(ledger_, 3)
    ledger_.seal(platform_of(ledger_))

    def crash(*_: object) -> None:
        raise Crash

    with monkeypatch.context() as m:
        m.setattr(ledger_.chain, "broadcast", crash)
        with pytest.raises(Crash):
            ledger_.anchor_unfinished()
    (unfinished,) = ledger_.store.unfinished_heads()
    assert unfinished.state is AnchorState.SENT and unfinished.tx_hash

    restarted = Ledger(ledger_.store, ledger_.chain, ledger_.contract,
                       list(ledger_.platforms.values()), ledger_.refs,
                       policy=ledger_.anchorer.policy)
    (head,) = restarted.anchor_unfinished()
    assert head.tx_hash == unfinished.tx_hash  # the stored transaction, not a second one
    assert heads_on_chain(restarted) == 1


def test_crash_after_sending_before_the_receipt_is_recovered(
        ledger_: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    write_bindings(ledger_, 2)
    ledger_.seal(platform_of(ledger_))

    broadcast = ledger_.chain.broadcast

    def send_then_crash(sent: SentTransaction) -> None:
        broadcast(sent)
        raise Crash

    with monkeypatch.context() as m:
        m.setattr(ledger_.chain, "broadcast", send_then_crash)
        with pytest.raises(Crash):
            ledger_.anchor_unfinished()
    (sent,) = ledger_.store.unfinished_heads()
    assert sent.tx_hash is not None
    ledger_.chain.wait_for_receipt(sent.tx_hash)  # it did reach the chain

    restarted = Ledger(ledger_.store, ledger_.chain, ledger_.contract,
                       list(ledger_.platforms.values()), ledger_.refs,
                       policy=ledger_.anchorer.policy)
    (head,) = restarted.anchor_unfinished()
    assert head.tx_hash == sent.tx_hash and head.state is AnchorState.FINAL
    assert heads_on_chain(restarted) == 1
    assert restarted.anchor_unfinished() == []


def test_a_restarted_ledger_rebuilds_its_log_from_the_store(ledger_: Ledger) -> None:
    ids = write_bindings(ledger_, 4)
    ledger_.seal_and_anchor()
    restarted = Ledger(ledger_.store, ledger_.chain, ledger_.contract,
                       list(ledger_.platforms.values()), ledger_.refs,
                       policy=ledger_.anchorer.policy)
    write_bindings(restarted, 2, "later")
    restarted.seal_and_anchor()
    assert verify_bundle(restarted.proof_bundle(ids[1]), restarted.chain).verified
    assert restarted.contract.latest_head(platform_of(restarted)).size == 6


def test_an_address_without_bindledger_code_is_refused(settings: Settings,
                                                       chain: ChainClient) -> None:
    admin = settings.admin_account
    with pytest.raises(ForeignContractError, match="no contract"):
        open_ledger(settings.model_copy(update={"contract": admin.address}), chain=chain,
                    store=SqliteStore())


def test_a_chain_without_the_databases_anchors_is_refused(ledger_: Ledger, settings: Settings,
                                                          chain: ChainClient) -> None:
    write_bindings(ledger_, 2)
    ledger_.seal_and_anchor()
    other = AnchorContract.deploy(chain, settings.admin_account)
    with pytest.raises(ForeignChainError, match="database anchors"):
        open_ledger(settings.model_copy(update={"contract": other.address}), chain=chain,
                    store=ledger_.store)


def test_the_same_contract_and_database_open_again(ledger_: Ledger, settings: Settings,
                                                   chain: ChainClient) -> None:
    (record_id,) = write_bindings(ledger_, 1)
    ledger_.seal_and_anchor()
    reopened = open_ledger(settings.model_copy(update={"contract": ledger_.contract.address}),
                           chain=chain, store=ledger_.store)
    bundle = ProofBundle.loads(reopened.proof_bundle(record_id).dumps())
    assert verify_bundle(bundle, chain).verified


def test_a_refused_anchor_is_reported_with_the_contracts_error(ledger_: Ledger) -> None:
    from eth_account import Account

    from ledger.chain.client import TransactionFailedError
    from ledger.chain.reverts import decode_revert

    # anvil's fourth development account: funded on anvil, funded here on eth-tester
    outsider = Account.from_key("0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6")
    ledger_.chain.fund(outsider.address)
    call = ledger_.contract.anchor_call(1, b"\x01" * 32, [])
    with pytest.raises(TransactionFailedError) as refused:
        ledger_.chain.sign_call(outsider, call)
    assert refused.value.revert_data is not None
    name, args = decode_revert(ledger_.contract.artifact.abi, refused.value.revert_data)
    assert name == "AccessControlUnauthorizedAccount"
    assert args[0] == outsider.address


def test_bundles_of_one_head_share_its_chain_reads_but_failures_are_reread(
        ledger_: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    from ledger.verify import AnchorCheckCache

    ids = write_bindings(ledger_, 3)
    ledger_.seal_and_anchor()
    cache = AnchorCheckCache()
    assert verify_bundle(ledger_.proof_bundle(ids[0]), ledger_.chain, cache=cache).verified
    calls = {"n": 0}
    real = ledger_.chain.receipt

    def counted(tx_hash: bytes) -> object:
        calls["n"] += 1
        return real(tx_hash)

    monkeypatch.setattr(ledger_.chain, "receipt", counted)
    for record_id in ids[1:]:
        assert verify_bundle(ledger_.proof_bundle(record_id), ledger_.chain, cache=cache).verified
    assert calls["n"] == 0  # same head, same anchor: read once

    moved = ProofBundle.from_json({**ledger_.proof_bundle(ids[0]).to_json(),
                                   "head": {"treeSize": 3, "rootHash": "0x" + "00" * 32}})
    for _ in range(2):
        assert not verify_bundle(moved, ledger_.chain, cache=cache).verified


def test_the_anchor_of_any_head_is_found_from_the_contracts_events(ledger_: Ledger) -> None:
    """Adoption looks a head up by its HeadAnchored event: the contract stores only the latest."""
    platform = platform_of(ledger_)
    heads = []
    for batch in ("a", "b", "c"):
        write_bindings(ledger_, 2, batch)
        heads += ledger_.seal_and_anchor()
    assert [h.tree_size for h in heads] == [2, 4, 6]
    for head in heads:  # the latest by its block time, the older ones by the events after block 0
        receipt = find_anchoring(ledger_.contract, platform, head.tree_size, head.root_hash)
        assert receipt is not None and receipt.tx_hash == head.tx_hash
    older = heads[0]
    assert find_anchoring(ledger_.contract, platform, older.tree_size, older.root_hash,
                          from_block=heads[1].block_number or 0) is None  # searched too late
    assert find_anchoring(ledger_.contract, platform, 4, heads[0].root_hash) is None
    assert find_anchoring(ledger_.contract, platform, 6, heads[1].root_hash) is None
    assert find_anchoring(ledger_.contract, platform, 7, heads[2].root_hash) is None
