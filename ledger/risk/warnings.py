"""Risk warnings in the ledger: a model's release, a subject's score, and the warning record.

A model is put into service at a platform by logging its ModelRelease (the model file's
SHA-256, its feature list's hash, its training seed and threshold). Scoring a subject reads the
subject's records at every platform this deployment serves and the bindings of every phone
reference (a scan of the logs' Binding records: fine for the logs one deployment holds, to be
replaced by an index of phone references when they grow), computes the features as they stood
just before now, and, when the score reaches the release's threshold, writes a RiskWarning
signed with the platform's key. The warning is relayed to the contract like a rule record: it
extends the subject's chain on chain and in the log, and the contract enforces rule R9 on it
(no disbursement at the platform until a passed liveness check and a passed SIM-swap check
follow it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ledger.config import Platform
from ledger.core.encoding import to_hex
from ledger.core.records import (
    RISK_MODEL_SUBJECT,
    Binding,
    ModelRelease,
    Record,
    RiskWarning,
    SignedRecord,
)
from ledger.errors import LedgerStateError
from ledger.risk.features import FEATURE_NAMES, PhoneIndex, feature_list_hash, features_at
from ledger.risk.model import RiskModel, Score
from ledger.risk.rules_model import r9_refuses
from ledger.rules import Transaction, rules_for
from ledger.service import Accepted, Ledger

# Rows read at a time when the logs are scanned for bindings.
_SCAN_PAGE = 1_000


class ModelNotReleasedError(LedgerStateError):
    """The model has no ModelRelease at the platform: it may not warn there."""


@dataclass(frozen=True)
class Assessment:
    """A subject's score by a released model, and the warning written when it reached the
    threshold (None below it)."""

    score: Score
    threshold: int
    warning: Accepted | None
    # The contract's transaction that accepted the warning (None below the threshold).
    tx: Transaction | None = None


def release_model(ledger: Ledger, platform: Platform, model: RiskModel) -> Accepted:
    """Log the model's release at `platform`."""
    record = ModelRelease(
        platform=platform.address,
        subject=RISK_MODEL_SUBJECT,
        prev=ledger.subject_head(platform.address, RISK_MODEL_SUBJECT),
        timestamp=ledger.now(),
        model=model.sha256,
        features=feature_list_hash(model.features),
        seed=model.seed,
        threshold=model.threshold,
    )
    return ledger.write_beside_chain(platform, record)


def releases(ledger: Ledger, platform: str) -> list[ModelRelease]:
    """The platform's model releases, oldest first."""
    rows = ledger.store.records_of_subject(platform, RISK_MODEL_SUBJECT)
    found = [ledger.read(row).record.record for row in rows
             if row.record_type == ModelRelease.TYPE_NAME]
    return [r for r in found if isinstance(r, ModelRelease)]


@dataclass(frozen=True)
class LoggedWarning:
    """A RiskWarning in the log: the record, its hash and its id."""

    record: RiskWarning
    record_hash: bytes
    record_id: int

    @property
    def top_names(self) -> list[str]:
        return top_feature_names(self.record)


def warnings_of(ledger: Ledger, platform: str, subject: bytes) -> list[LoggedWarning]:
    """The subject's risk warnings at the platform, oldest first."""
    out = []
    for row in ledger.store.records_of_subject(platform, subject):
        if row.record_type == RiskWarning.TYPE_NAME:
            record = ledger.read(row).record.record
            if isinstance(record, RiskWarning):
                out.append(LoggedWarning(record, row.record_hash, row.id))
    return out


def top_feature_names(warning: RiskWarning) -> list[str]:
    """The names of the warning's top features; `#id` when the warning's feature list is not
    the one this BindLedger computes (a model of another version)."""
    if warning.features != feature_list_hash(FEATURE_NAMES):
        return [f"#{i}" for i in warning.top]
    return [FEATURE_NAMES[i] if i < len(FEATURE_NAMES) else f"#{i}" for i in warning.top]


def subject_records(ledger: Ledger, subject: bytes) -> list[Record]:
    """The subject's records at every platform this deployment serves."""
    out: list[Record] = []
    for platform in ledger.platforms:
        out += [ledger.read(row).record.record
                for row in ledger.store.records_of_subject(platform, subject)]
    return out


def phone_index(ledger: Ledger) -> PhoneIndex:
    """Every binding of every phone reference in the deployment's logs."""
    bindings: list[Record] = []
    for platform in ledger.store.platforms():
        start = 0
        while True:
            rows = ledger.store.records_in_range(platform, start, start + _SCAN_PAGE)
            for row in rows:
                if row.record_type == Binding.TYPE_NAME:
                    bindings.append(SignedRecord.from_json(json.loads(row.body)).record)
            if len(rows) < _SCAN_PAGE:
                break
            start += _SCAN_PAGE
    return PhoneIndex.of(bindings)


def assess(ledger: Ledger, platform: Platform, subject: bytes, model: RiskModel) -> Assessment:
    """Score the subject with `model` as its records stand now, and write a RiskWarning when
    the score reaches the threshold of the model's latest release at the platform.

    Raises ModelNotReleasedError when the platform never released the model.
    """
    model_hash = model.sha256
    released = [r for r in releases(ledger, platform.address) if r.model == model_hash]
    if not released:
        raise ModelNotReleasedError(
            f"model {to_hex(model_hash)} was never released at platform {platform.address}"
        )
    release = released[-1]
    now = ledger.now()
    # Every record logged so far counts, those of the current second too.
    at = now + 1
    score = model.score(features_at(subject_records(ledger, subject), phone_index(ledger), at))
    if score.basis_points < release.threshold:
        return Assessment(score, release.threshold, None)

    def build(prev: bytes) -> RiskWarning:
        return RiskWarning(
            platform=platform.address,
            subject=subject,
            prev=prev,
            timestamp=now,
            model=model_hash,
            features=release.features,
            score=score.basis_points,
            threshold=release.threshold,
            top=tuple(c.feature for c in score.top),
        )

    done = rules_for(ledger).sign_and_submit(platform, subject, build)
    return Assessment(score, release.threshold, done.accepted, done.tx)


def warning_open(ledger: Ledger, platform: str, subject: bytes) -> bool:
    """R9 as the log tells it (the contract holds the same state: RulesClient.warning_state): the subject's latest warning at the platform still awaits a
    passed liveness check and a passed SIM-swap check after it."""
    records = [ledger.read(row).record.record
               for row in ledger.store.records_of_subject(platform, subject)]
    return r9_refuses(records, ledger.now() + 1) is not None
