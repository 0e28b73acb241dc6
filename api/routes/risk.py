"""Risk warnings: release the configured risk model at a platform, and score a subject with it
(a RiskWarning is written when the score reaches the release's threshold)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, status
from pydantic import BaseModel, Field

from api.access import ReadsDep
from api.auth import PlatformDep
from api.deps import LedgerDep
from api.limits import GuardedRoute
from api.problems import problems
from api.rule_models import RiskWarningView
from api.shapes import BYTES32, Bytes32
from ledger.core.encoding import from_hex, to_hex
from ledger.core.records import ModelRelease, RiskWarning
from ledger.errors import LedgerStateError
from ledger.risk.model import RiskModel
from ledger.risk.warnings import LoggedWarning, assess, release_model

SubjectRef = Annotated[str, Path(pattern=BYTES32, description="the subject's keyed reference")]

router = APIRouter(prefix="/v1", tags=["risk"], route_class=GuardedRoute)


class NoRiskModelError(LedgerStateError):
    """The server has no risk model configured."""


def get_risk_model(request: Request) -> RiskModel:
    model: RiskModel | None = request.app.state.risk_model
    if model is None:
        raise NoRiskModelError(
            "no risk model is configured here: set BINDLEDGER_RISK_MODEL to a file of "
            "`bindledger risk train`"
        )
    return model


RiskModelDep = Annotated[RiskModel, Depends(get_risk_model)]


class ModelReleased(BaseModel):
    id: int = Field(description="the ModelRelease record's id in the log")
    record_hash: Bytes32 = Field(serialization_alias="recordHash")
    model: Bytes32 = Field(description="SHA-256 of the model file")
    features: Bytes32 = Field(description="SHA-256 of the model's feature names, one per line")
    seed: int = Field(description="seed of the synthetic population it was trained on")
    threshold: int = Field(description="warning threshold, basis points")


class RiskAssessed(BaseModel):
    subject: Bytes32
    score: int = Field(description="basis points of the calibrated probability")
    threshold: int
    top_features: list[str] = Field(serialization_alias="topFeatures")
    warning: RiskWarningView | None = Field(
        description="the RiskWarning written, when the score reached the threshold")


CONFLICT: dict[int | str, dict[str, Any]] = problems(
    403, 409, d409="no risk model configured here, or (scoring) not released at the platform")


@router.post("/risk/releases", status_code=status.HTTP_201_CREATED,
             response_model=ModelReleased, response_model_by_alias=True, responses=CONFLICT)
def post_release(ledger: LedgerDep, platform: PlatformDep, model: RiskModelDep) -> ModelReleased:
    """Put the configured risk model into service at the caller's platform: a ModelRelease
    record (the model file's SHA-256, its feature list, training seed and threshold), anchored
    like any other record. 409 when no model is configured."""
    accepted = release_model(ledger, platform, model)
    record = accepted.record.record
    assert isinstance(record, ModelRelease)
    return ModelReleased(id=accepted.row.id, record_hash=to_hex(accepted.row.record_hash),
                         model=to_hex(record.model), features=to_hex(record.features),
                         seed=record.seed, threshold=record.threshold)


@router.post("/subjects/{ref}/risk", response_model=RiskAssessed, response_model_by_alias=True,
             responses=CONFLICT)
def post_assessment(ref: SubjectRef, ledger: LedgerDep, platform: PlatformDep,
                    model: RiskModelDep, reads: ReadsDep) -> RiskAssessed:
    """Score the subject with the configured model over the records this deployment holds of it
    (at every platform it serves) and of its phone; at or above the threshold of the model's
    release at the caller's platform, write a RiskWarning (R9). 409 when the model was not
    released at the platform."""
    subject = from_hex(ref, length=32, what="subject")
    done = assess(ledger, platform, subject, model)
    reads.of_subject(platform.address, subject)
    warning = None
    if done.warning is not None:
        record = done.warning.record.record
        assert isinstance(record, RiskWarning)
        warning = RiskWarningView.of(
            LoggedWarning(record, done.warning.row.record_hash, done.warning.row.id))
    return RiskAssessed(subject=ref.lower(), score=done.score.basis_points,
                        threshold=done.threshold,
                        top_features=[c.name for c in done.score.top], warning=warning)
