"""The risk model: a logistic regression with sigmoid-calibrated probabilities.

Trained with scikit-learn (a StandardScaler and a LogisticRegression, calibrated by
CalibratedClassifierCV with five folds and one final estimator), then written as canonical JSON
(RFC 8785): the scaler's means and scales, the coefficients, the calibration's two numbers, the
feature list, the seed and size of the synthetic population it was trained on, the threshold and
the training metrics. The same population gives the same bytes, so the file's SHA-256, recorded
in a ModelRelease, can be reproduced; scoring reads the JSON alone (no pickle, no scikit-learn).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rfc8785

from ledger.core.encoding import to_hex
from ledger.errors import LedgerValueError
from ledger.risk.features import FEATURE_NAMES, feature_list_hash

FORMAT = "bindledger.risk-model/1"
BASIS_POINTS = 10_000
# Features named in a warning: enough to say why, few enough to read at a glance.
TOP_FEATURES = 3
CALIBRATION_FOLDS = 5


class ModelFileError(LedgerValueError):
    """A model file is not a BindLedger risk model, or not one for these features."""


@dataclass(frozen=True)
class Contribution:
    """A feature's share of a score: coefficient times standardized value (log-odds)."""

    feature: int
    name: str
    log_odds: float


@dataclass(frozen=True)
class Score:
    probability: float
    basis_points: int
    top: tuple[Contribution, ...]


@dataclass(frozen=True)
class RiskModel:
    """A trained model. `threshold` is in basis points of the calibrated probability."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    calibration: tuple[float, float]  # p = 1 / (1 + exp(a * f + b)), f the decision value
    seed: int
    size: int
    threshold: int
    metrics: dict[str, float]

    def score(self, values: Sequence[float]) -> Score:
        """Requires one value per feature, in the model's order."""
        z = [(v - m) / s for v, m, s in zip(values, self.mean, self.scale, strict=True)]
        parts = [c * x for c, x in zip(self.coef, z, strict=True)]
        decision = self.intercept + math.fsum(parts)
        a, b = self.calibration
        probability = 1.0 / (1.0 + math.exp(min(a * decision + b, 700.0)))
        ranked = sorted(range(len(parts)), key=lambda i: (-parts[i], i))
        top = tuple(Contribution(i, self.features[i], parts[i])
                    for i in ranked[:TOP_FEATURES] if parts[i] > 0)
        return Score(probability, to_basis_points(probability), top)

    def to_bytes(self) -> bytes:
        """The model file: canonical JSON (RFC 8785)."""
        doc: dict[str, Any] = {
            "format": FORMAT,
            "features": list(self.features),
            "featuresHash": to_hex(feature_list_hash(self.features)),
            "scaler": {"mean": list(self.mean), "scale": list(self.scale)},
            "logistic": {"coef": list(self.coef), "intercept": self.intercept},
            "calibration": {"a": self.calibration[0], "b": self.calibration[1]},
            "training": {"seed": self.seed, "size": self.size},
            "threshold": self.threshold,
            "metrics": self.metrics,
        }
        return rfc8785.dumps(doc)

    @property
    def sha256(self) -> bytes:
        return hashlib.sha256(self.to_bytes()).digest()

    @classmethod
    def from_bytes(cls, data: bytes) -> RiskModel:
        """Parse a model file; raises ModelFileError."""
        try:
            doc = json.loads(data)
            if doc.get("format") != FORMAT:
                raise ModelFileError(f"not a {FORMAT} file (format {doc.get('format')!r})")
            features = tuple(str(n) for n in doc["features"])
            model = cls(
                features=features,
                mean=_floats(doc["scaler"]["mean"]),
                scale=_floats(doc["scaler"]["scale"]),
                coef=_floats(doc["logistic"]["coef"]),
                intercept=float(doc["logistic"]["intercept"]),
                calibration=(float(doc["calibration"]["a"]), float(doc["calibration"]["b"])),
                seed=int(doc["training"]["seed"]),
                size=int(doc["training"]["size"]),
                threshold=int(doc["threshold"]),
                metrics={str(k): float(v) for k, v in doc["metrics"].items()},
            )
        except ModelFileError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ModelFileError(f"the model file cannot be read: {exc!r:.200}") from None
        if features != FEATURE_NAMES:
            raise ModelFileError(
                "the model was trained on another feature list than this BindLedger computes"
            )
        sizes = {len(model.mean), len(model.scale), len(model.coef)}
        if sizes != {len(features)} or not 0 < model.threshold <= BASIS_POINTS:
            raise ModelFileError("the model's arrays or threshold do not fit its feature list")
        if any(s <= 0 for s in model.scale):
            raise ModelFileError("the model's scales must be positive")
        return model


def to_basis_points(probability: float) -> int:
    return min(BASIS_POINTS, max(0, round(probability * BASIS_POINTS)))


def load_model(path: Path) -> RiskModel:
    """Raises ModelFileError (also when the file cannot be read)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelFileError(f"cannot read {path}: {exc.strerror}") from None
    return RiskModel.from_bytes(data)


def fit(
    rows: Sequence[Sequence[float]],
    labels: Sequence[bool],
    seed: int,
    threshold: int | None = None,
) -> RiskModel:
    """Train on feature rows (in FEATURE_NAMES order) and labels; the threshold, unless
    given, is the one that maximizes F1 on the training rows. Requires both labels present."""
    import numpy as np
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = np.asarray(rows, dtype=float)
    y = np.asarray(labels, dtype=bool)
    if y.all() or not y.any():
        raise LedgerValueError("training needs adverse and ordinary histories both")
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    calibrated = CalibratedClassifierCV(
        pipeline, method="sigmoid", cv=CALIBRATION_FOLDS, ensemble=False
    ).fit(x, y)
    inner = calibrated.calibrated_classifiers_[0]
    scaler, logistic = inner.estimator[0], inner.estimator[-1]
    sigmoid = inner.calibrators[0]
    scale = [float(s) if s > 0 else 1.0 for s in scaler.scale_]
    model = RiskModel(
        features=FEATURE_NAMES,
        mean=tuple(float(m) for m in scaler.mean_),
        scale=tuple(scale),
        coef=tuple(float(c) for c in logistic.coef_[0]),
        intercept=float(logistic.intercept_[0]),
        calibration=(float(sigmoid.a_), float(sigmoid.b_)),
        seed=seed,
        size=len(rows),
        threshold=BASIS_POINTS,
        metrics={},
    )
    scores = [model.score(r).basis_points for r in rows]
    truth = [bool(v) for v in y]
    chosen = threshold if threshold is not None else best_f1_threshold(scores, truth)
    from sklearn.metrics import roc_auc_score

    precision, recall = precision_recall(scores, truth, chosen)
    metrics = {
        "trainingAuc": round(float(roc_auc_score(y, scores)), 4),
        "trainingPrecision": round(precision, 4),
        "trainingRecall": round(recall, 4),
        "adverseShare": round(float(y.mean()), 4),
    }
    return RiskModel(**{**model.__dict__, "threshold": chosen, "metrics": metrics})


def precision_recall(scores: Sequence[int], labels: Sequence[bool], threshold: int) -> tuple[float, float]:
    """Precision and recall of `score >= threshold` as the prediction of the label."""
    flagged = [label for score, label in zip(scores, labels, strict=True) if score >= threshold]
    hits = sum(flagged)
    positives = sum(labels)
    return (hits / len(flagged) if flagged else 0.0, hits / positives if positives else 0.0)


def best_f1_threshold(scores: Sequence[int], labels: Sequence[bool]) -> int:
    """The threshold (basis points, at least 1) with the best F1; the highest among equals."""
    positives = sum(labels)
    pairs = sorted(zip(scores, labels, strict=True), key=lambda p: -p[0])
    best, best_f1, flagged, hits = BASIS_POINTS, -1.0, 0, 0
    for i, (score, label) in enumerate(pairs):
        flagged, hits = flagged + 1, hits + label
        if i + 1 < len(pairs) and pairs[i + 1][0] == score:
            continue  # a threshold flags every row of its score
        f1 = 2 * hits / (flagged + positives) if positives else 0.0
        if score >= 1 and f1 > best_f1:
            best, best_f1 = score, f1
    return best


def _floats(values: Any) -> tuple[float, ...]:
    if not isinstance(values, list):
        raise TypeError("expected a list of numbers")
    return tuple(float(v) for v in values)
