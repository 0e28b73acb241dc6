"""Revert data: find it in whatever exception a provider raised, and decode the custom error.

Providers report reverts differently (a JSON-RPC node's `error.data`, eth-tester's
TransactionFailed wrapping py-evm's Revert); the API must turn any of them into the named
rule error, so the decoding lives here rather than in each caller.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from typing import Any, cast

from eth_abi.abi import decode
from eth_typing import ABIError
from eth_utils.abi import (
    abi_to_signature,
    function_signature_to_4byte_selector,
    get_abi_input_types,
)
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3.exceptions import ContractLogicError

# Errors the compiler itself raises; they are in no contract's ABI.
_BUILTIN_ERRORS: dict[bytes, tuple[str, list[str]]] = {
    function_signature_to_4byte_selector("Error(string)"): ("Error", ["string"]),
    function_signature_to_4byte_selector("Panic(uint256)"): ("Panic", ["uint256"]),
}


class UndecodableRevert(AssertionError):
    """The revert data matches no error of the ABI (or is not revert data at all)."""


def decode_revert(
    abi: Sequence[Mapping[str, Any]], data: str | bytes
) -> tuple[str, tuple[Any, ...]]:
    """Requires `data` to be the revert data (hex string or bytes) of a call to a contract of `abi`.

    Returns (error name, decoded arguments), e.g. ("AnchorRegistryHeadNotGrowing", (5, 3)), for
    the ABI's custom errors and the built-in Error(string) and Panic(uint256); addresses come back
    checksummed, as web3 returns them. Raises UndecodableRevert when the selector is unknown or
    the arguments do not decode.
    """
    raw = bytes(HexBytes(data))
    errors = dict(_BUILTIN_ERRORS)
    for entry in abi:
        if entry.get("type") == "error":
            error = cast(ABIError, entry)
            selector = function_signature_to_4byte_selector(abi_to_signature(error))
            errors[selector] = (error["name"], get_abi_input_types(error))
    if len(raw) < 4 or raw[:4] not in errors:
        raise UndecodableRevert(f"revert data 0x{raw.hex()} matches no error of the ABI")
    name, types = errors[raw[:4]]
    try:
        args = decode(types, raw[4:], strict=True)
    except Exception as exc:
        raise UndecodableRevert(f"revert data 0x{raw.hex()} is not a valid {name}: {exc}") from exc
    return name, tuple(_checksummed(type_, arg) for type_, arg in zip(types, args, strict=True))


def _checksummed(abi_type: str, value: Any) -> Any:
    """Returns `value` with addresses in checksum form, as web3 returns them from calls."""
    if abi_type == "address":
        return to_checksum_address(value)
    if abi_type.startswith("address["):
        inner = abi_type[: abi_type.rindex("[")]
        return tuple(_checksummed(inner, item) for item in value)
    return value


def revert_data(exc: BaseException) -> bytes | None:
    """Requires nothing. Returns the revert data an exception raised by a web3 call carries.

    Providers report reverts in several ways, and all are read here:
    - a JSON-RPC node (anvil, geth, Besu) answers with `error.data`, which web3 raises as
      ContractCustomError / ContractLogicError with the hex data in `.data`;
    - web3's EthereumTesterProvider re-raises eth-tester's TransactionFailed with only a message
      ("execution reverted: b'...'"). For transactions and gas estimates the raw bytes stay in
      the exception it replaced, py-evm's Revert(data), reachable through `__context__`;
    - for eth_call, eth-tester itself has already turned the data into the text of a bytes
      literal, str(Revert(data)), so that text is parsed back (ast.literal_eval: literals only).
    Returns None when no revert data is found (e.g. a revert without data, or another error).
    """
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ContractLogicError) and isinstance(current.data, str):
            return bytes(HexBytes(current.data))
        first = current.args[0] if current.args else None
        if isinstance(first, bytes):
            return first
        if isinstance(first, str) and (literal := _bytes_literal(first)) is not None:
            return literal
        if isinstance(first, BaseException):
            pending.append(first)
        if current.__context__ is not None:
            pending.append(current.__context__)
    return None


def _bytes_literal(message: str) -> bytes | None:
    """Returns the bytes of a message that is, or ends with, a Python bytes literal."""
    text = message.removeprefix("execution reverted: ")
    if not text.startswith(("b'", 'b"')):
        return None
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, bytes) else None
