"""Decode revert data into the custom error it encodes, so tests can assert error and arguments.

OpenZeppelin's tests assert `revertedWithCustomError(contract, "Name").withArgs(...)`; the same
here is `assert expect_revert(abi, call) == ("Name", (arg, ...))`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ledger.chain.reverts import UndecodableRevert, decode_revert, revert_data

__all__ = ["UndecodableRevert", "decode_revert", "expect_revert", "revert_data"]


def expect_revert(
    abi: Sequence[Mapping[str, Any]], action: Callable[[], object]
) -> tuple[str, tuple[Any, ...]]:
    """Requires `action` to call, estimate or transact with a contract of `abi` through web3.

    Runs `action`, which must revert, and returns its decoded error as `decode_revert` does.
    Fails the test when `action` does not revert, or reverts without decodable data.
    """
    try:
        action()
    except Exception as exc:  # web3's ContractLogicError family, or eth-tester's TransactionFailed
        data = revert_data(exc)
        if data is None:
            raise AssertionError(f"expected a revert with data, got {exc!r}") from exc
        return decode_revert(abi, data)
    raise AssertionError("expected a revert, but the call succeeded")
