"""Response models, one family per resource."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from api.problems import Problem
from api.shapes import Address, Bytes32


class RecordCreated(BaseModel):
    id: int
    record_hash: Bytes32 = Field(serialization_alias="recordHash")
    leaf_index: int = Field(serialization_alias="leafIndex")
    subject: Bytes32 = Field(description="the subject's keyed reference")
    platform: Address


class RecordsCreated(BaseModel):
    records: list[RecordCreated] = Field(description="one per record sent, in the same order")


class RecordPublic(RecordCreated):
    record: dict[str, Any] = Field(description="the signed record, as in a proof bundle")
    anchored: bool


class HeadPublic(BaseModel):
    platform: Address
    tree_size: int = Field(serialization_alias="treeSize")
    root_hash: Bytes32 = Field(serialization_alias="rootHash")
    state: str
    tx_hash: Bytes32 | None = Field(None, serialization_alias="txHash")
    block_number: int | None = Field(None, serialization_alias="blockNumber")
    block_hash: Bytes32 | None = Field(None, serialization_alias="blockHash")
    block_time: int | None = Field(None, serialization_alias="blockTime")


class HeadsPublic(BaseModel):
    heads: list[HeadPublic]


class Health(BaseModel):
    status: Literal["ok", "degraded"] = Field(
        description="degraded (HTTP 503) when anchoring has failed, or a head has waited for a "
        "final anchor, longer than BINDLEDGER_HEALTH_DEGRADED_AFTER_SECONDS, or anchors lost to "
        "a reorg are being repaired"
    )
    reason: Literal["chain_unreachable", "anchor_failing", "anchor_stuck", "reorg_repair"] | None = (
        Field(None, description="why it is degraded, for machines")
    )
    detail: str | None = Field(None, description="why it is degraded, for people")
    chain_id: int = Field(serialization_alias="chainId")
    contract: Address
    embedded_chain: bool = Field(serialization_alias="embeddedChain")
    worker_error: str | None = Field(None, serialization_alias="workerError")
    anchoring_leader: bool | None = Field(
        None,
        serialization_alias="anchoringLeader",
        description="whether this process holds the anchoring lease (null: no worker runs here)",
    )
    oldest_unanchored_seconds: float | None = Field(
        None,
        serialization_alias="oldestUnanchoredSeconds",
        description="age of the oldest sealed head without a final anchor",
    )


# A client may retry a 503 for an unreachable chain after this many seconds (Retry-After).
CHAIN_RETRY_AFTER_SECONDS = 5

CHAIN_UNREACHABLE: dict[int | str, dict[str, Any]] = {
    503: {
        "model": Problem,
        "description": "cannot check: chain unreachable. The JSON-RPC node does not answer "
        '(`"error": "ChainUnreachableError"`); nothing was concluded. Retry after the '
        "`Retry-After` header's seconds.",
        "headers": {
            "Retry-After": {
                "description": "seconds to wait before retrying",
                "schema": {"type": "integer"},
            }
        },
    }
}


class PlatformStatus(BaseModel):
    platform: Address = Field(description="the platform's address")
    name: str
    pending: int = Field(description="records not yet sealed into a head")
    unanchored: int = Field(description="records not yet in an anchored head")
    sealed_tree_size: int | None = Field(
        serialization_alias="sealedTreeSize",
        description="size of the latest head, anchored or not (null before the first)")
    anchored_tree_size: int | None = Field(
        serialization_alias="anchoredTreeSize",
        description="size of the latest anchored head (null before the first)")


class WorkerStatus(BaseModel):
    rounds: int = Field(description="anchoring rounds finished since the service started")
    last_error: str | None = Field(serialization_alias="lastError")
    every_records: int = Field(serialization_alias="everyRecords")
    every_seconds: float = Field(serialization_alias="everySeconds")


class AdminStatus(BaseModel):
    platforms: list[PlatformStatus]
    worker: WorkerStatus | None = Field(description="null when no worker runs in this service")
