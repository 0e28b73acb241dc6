"""Regulator freezes (R8): a frozen platform or loan can change nothing on chain."""

from __future__ import annotations

from typing import Annotated, Self

from eth_utils.address import is_address, to_checksum_address
from fastapi import APIRouter
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from api.auth import RegulatorDep
from api.problems import problems
from api.rule_models import FreezeDone
from api.rules import RulesDep, RulesRoute
from api.shapes import ADDRESS
from ledger.core.encoding import to_hex
from ledger.drafts import Hex32

router = APIRouter(prefix="/v1", tags=["rules"], route_class=RulesRoute)


def _address(value: str) -> str:
    if not is_address(value):
        raise ValueError("must be an Ethereum address")
    return str(to_checksum_address(value))


class FreezeRequest(BaseModel):
    """Freeze (or unfreeze) either a platform, or one loan of a platform named by its subject and
    loan refs (a loan is its platform's: another platform may use the same id)."""

    model_config = ConfigDict(extra="forbid")

    platform: Annotated[str, Field(pattern=ADDRESS), AfterValidator(_address)]
    subject: Hex32 | None = Field(None, description="the loan's subject (keyed reference)")
    loan: Hex32 | None = Field(None, description="the loan's on-chain id")
    frozen: bool = True

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.subject is None) != (self.loan is None):
            raise ValueError("give `platform` alone, or `platform` with both `subject` and `loan`")
        return self


@router.post(
    "/freezes",
    response_model=FreezeDone,
    response_model_by_alias=True,
    responses=problems(403, 404, 409, d404="no such loan on chain"),
)
def freeze(request: FreezeRequest, rules: RulesDep, regulator: RegulatorDep) -> FreezeDone:
    """Freeze or unfreeze a platform or a loan (regulator API key; the regulator's account
    holds REGULATOR_ROLE on chain). 404 for a loan the contract does not hold. A frozen loan's
    lateness clock stands until it is unfrozen (R6)."""
    if request.subject is None or request.loan is None:
        tx = rules.freeze_platform(regulator, request.platform, request.frozen)
    else:
        tx = rules.freeze_loan(
            regulator, request.platform, request.subject, request.loan, request.frozen
        )
    return FreezeDone(
        platform=request.platform,
        subject=to_hex(request.subject) if request.subject else None,
        loan=to_hex(request.loan) if request.loan else None,
        frozen=request.frozen,
        regulator=regulator.address,
        tx_hash=to_hex(tx.tx_hash),
        block_number=tx.block_number,
    )
