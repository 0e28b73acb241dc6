"""Regulator freezes (R8): a frozen platform or loan can change nothing on chain."""

from __future__ import annotations

from typing import Annotated, Self

from eth_utils.address import is_address, to_checksum_address
from fastapi import APIRouter
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from api.auth import RegulatorDep
from api.rule_models import FreezeDone, RefusalBody
from api.rules import RulesDep, RulesRoute
from ledger.core.encoding import to_hex
from ledger.drafts import Hex32

router = APIRouter(prefix="/v1", tags=["rules"], route_class=RulesRoute)


def _address(value: str) -> str:
    if not is_address(value):
        raise ValueError("must be an Ethereum address")
    return str(to_checksum_address(value))


class FreezeRequest(BaseModel):
    """Freeze (or unfreeze) either a platform, or one loan named by its subject and loan refs."""

    model_config = ConfigDict(extra="forbid")

    platform: Annotated[str, AfterValidator(_address)] | None = None
    subject: Hex32 | None = Field(None, description="the loan's subject (keyed reference)")
    loan: Hex32 | None = Field(None, description="the loan's on-chain id")
    frozen: bool = True

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        loan = self.subject is not None or self.loan is not None
        if (self.platform is not None) == loan or (loan and None in (self.subject, self.loan)):
            raise ValueError("give either `platform`, or both `subject` and `loan`")
        return self


@router.post(
    "/freezes",
    response_model=FreezeDone,
    response_model_by_alias=True,
    responses={404: {"model": RefusalBody}, 403: {"model": RefusalBody}},
)
def freeze(request: FreezeRequest, rules: RulesDep, regulator: RegulatorDep) -> FreezeDone:
    """Freeze or unfreeze a platform or a loan (regulator API key; the regulator's account
    holds REGULATOR_ROLE on chain). 404 for a loan the contract does not hold."""
    if request.platform is not None:
        tx = rules.freeze_platform(regulator, request.platform, request.frozen)
    else:
        assert request.subject is not None and request.loan is not None
        tx = rules.freeze_loan(regulator, request.subject, request.loan, request.frozen)
    return FreezeDone(
        platform=request.platform,
        subject=to_hex(request.subject) if request.subject else None,
        loan=to_hex(request.loan) if request.loan else None,
        frozen=request.frozen,
        regulator=regulator.address,
        tx_hash=to_hex(tx.tx_hash),
        block_number=tx.block_number,
    )
