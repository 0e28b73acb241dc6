"""Heads sealed on a grid of the batch size: short consistency proofs, so less gas per anchor."""

from __future__ import annotations

from ledger.core.merkle import MerkleLog
from ledger.service import Ledger
from tests.test_anchoring import platform_of, write_bindings


def test_a_full_batch_is_sealed_on_the_grid_and_the_rest_stays_pending(ledger_: Ledger) -> None:
    platform = platform_of(ledger_)
    write_bindings(ledger_, 6)
    head = ledger_.seal(platform, on_grid=4)
    assert head is not None and head.tree_size == 4
    assert ledger_.pending(platform) == 2
    assert ledger_.seal(platform, on_grid=4) is None  # 8 is not reached yet
    write_bindings(ledger_, 3, "more")
    assert [h.tree_size for h in ledger_.seal_and_anchor(on_grid=4)] == [4, 8]
    assert ledger_.seal(platform).tree_size == 9  # type: ignore[union-attr]  # the timer's seal


def test_grid_heads_have_shorter_consistency_proofs() -> None:
    log = MerkleLog(i.to_bytes(32, "big") for i in range(1_000_000 + 5 * 1024))
    on_grid = len(log.consistency_proof(1_000_448, 1_000_448 + 1024))  # 977 * 1024
    off_grid = len(log.consistency_proof(1_000_455, 1_000_455 + 1024))
    assert on_grid <= 8
    assert off_grid >= 16
