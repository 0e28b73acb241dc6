"""Response models of the evidence vault and erasure routes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.shapes import Address, Bytes32
from ledger.core.encoding import to_hex
from ledger.privacy.vault import Erased
from ledger.store.base import EvidenceRow


class EvidenceStored(BaseModel):
    record_id: int = Field(serialization_alias="recordId", description="the record it is about")
    evidence_record_id: int = Field(
        serialization_alias="evidenceRecordId",
        description="the Evidence record, beside the subject's chain, that commits to it")
    media_type: str = Field(serialization_alias="mediaType")
    size: int
    salt: str = Field(description="the commitment's salt")
    commitment: Bytes32 = Field(description="SHA-256(bindledger/evidence/v1 label, salt, media "
                                        "type, 0, content), as the Evidence record carries it")

    @classmethod
    def of(cls, row: EvidenceRow) -> EvidenceStored:
        return cls(record_id=row.record_id, evidence_record_id=row.evidence_record_id,
                   media_type=row.media_type, size=row.size, salt=to_hex(row.salt),
                   commitment=to_hex(row.commitment))


class ErasureDone(BaseModel):
    platform: Address
    subject: Bytes32 = Field(description="the subject's keyed reference")
    erasure_record_id: int = Field(serialization_alias="erasureRecordId",
                                   description="the Erasure record, anchored like any other")
    erased_at: int = Field(serialization_alias="erasedAt")

    @classmethod
    def of(cls, erased: Erased) -> ErasureDone:
        row = erased.row
        return cls(platform=row.platform, subject=to_hex(row.subject),
                   erasure_record_id=row.record_id, erased_at=row.erased_at)
