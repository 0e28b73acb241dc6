"""Chain clients: one interface, an embedded eth-tester chain and any JSON-RPC node."""

from ledger.chain.client import (
    BlockInfo,
    ChainClient,
    ChainError,
    ChainUnreachableError,
    EmbeddedChain,
    RpcChain,
    SentTransaction,
    TransactionFailedError,
    connect_chain,
)

__all__ = [
    "BlockInfo",
    "ChainClient",
    "ChainError",
    "ChainUnreachableError",
    "EmbeddedChain",
    "RpcChain",
    "SentTransaction",
    "TransactionFailedError",
    "connect_chain",
]
