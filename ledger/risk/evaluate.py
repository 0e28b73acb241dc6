"""Train on one synthetic population, measure on another (a different seed), side by side with
the rules alone and with a hand-written score.

Each scored history ends with a disbursement request. "Rules R1-R8" refuses it when the rules
model refuses it (ledger.risk.rules_model). The two scores add a warning on top of the rules: a
warned request waits for a fresh liveness check and a passed SIM-swap check (R9). The simulation
assumes the genuine borrower passes both, and that a takeover cannot pass the borrower's
liveness check (and a swapped SIM fails the SIM-swap check); so a warned takeover is stopped, and
a warned genuine borrower is delayed, not refused. A first-payment default is the genuine
borrower: R9 warns about it but does not stop it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ledger.core.records import (
    ZERO_HASH,
    Record,
    RiskWarning,
    Verification,
    VerificationMethod,
)
from ledger.risk.features import FEATURE_NAMES, PhoneIndex, features_at
from ledger.risk.model import RiskModel, fit, precision_recall
from ledger.risk.population import DEFAULT_POPULATION, TAKEOVERS, Kind, Population
from ledger.risk.rules_model import r9_refuses, rules_refusal
from ledger.risk.simulate import History, SimulatedPopulation, simulate

# The hand-written score warns at this many points.
HAND_THRESHOLD = 3
_STEP_UP_DELAY = 600  # seconds from the warning to the fresh checks
_F = {name: i for i, name in enumerate(FEATURE_NAMES)}


@dataclass(frozen=True)
class Dataset:
    population: SimulatedPopulation
    phones: PhoneIndex
    rows: list[list[float]]
    labels: list[bool]


def dataset(size: int, seed: int, params: Population = DEFAULT_POPULATION) -> Dataset:
    """The population of `seed` with each history's features at its disbursement request."""
    population = simulate(size, seed, params)
    phones = PhoneIndex.of(population.all_records())
    rows = [features_at(h.records, phones, h.decided_at) for h in population.histories]
    return Dataset(population, phones, rows, [h.adverse for h in population.histories])


def train(size: int, seed: int, threshold: int | None = None,
          params: Population = DEFAULT_POPULATION) -> RiskModel:
    data = dataset(size, seed, params)
    return fit(data.rows, data.labels, seed, threshold)


def hand_score(row: Sequence[float]) -> int:
    """Points for the signals an analyst would name first."""
    return int(
        2 * row[_F["rebinds_7d"]]
        + 3 * row[_F["sim_swaps_3d"]]
        + row[_F["failed_liveness_30d"]]
        + 2 * row[_F["channel_changes_7d"]]
        + 2 * (row[_F["phone_other_subjects_180d"]] > 0)
    )


@dataclass(frozen=True)
class MethodResult:
    name: str
    auc: float  # of the method's score alone (the rules': refused or not)
    precision: float  # of "refused or warned" as a prediction of an adverse history
    recall: float
    takeovers_stopped: float  # share of takeovers not disbursed to
    genuine_flagged: float  # share of non-adverse histories refused or asked to step up

    def to_json(self) -> dict[str, float | str]:
        return {"method": self.name, "auc": round(self.auc, 4),
                "precision": round(self.precision, 4), "recall": round(self.recall, 4),
                "takeoversStopped": round(self.takeovers_stopped, 4),
                "genuineFlagged": round(self.genuine_flagged, 4)}


@dataclass(frozen=True)
class Evaluation:
    seed: int
    size: int
    adverse: int
    takeovers: int
    threshold: int
    results: list[MethodResult]

    def to_json(self) -> dict[str, object]:
        return {"seed": self.seed, "size": self.size, "adverse": self.adverse,
                "takeovers": self.takeovers, "threshold": self.threshold,
                "results": [r.to_json() for r in self.results]}


def evaluate(model: RiskModel, size: int, seed: int,
             params: Population = DEFAULT_POPULATION) -> Evaluation:
    """Measure on the population of `seed` (which should differ from the model's)."""
    from sklearn.metrics import roc_auc_score

    data = dataset(size, seed, params)
    histories = data.population.histories
    refused = [rules_refusal(h.records, data.phones, h.decided_at) is not None
               for h in histories]
    hand = [hand_score(row) for row in data.rows]
    learned = [model.score(row) for row in data.rows]
    model_hash = model.sha256

    def result(name: str, scores: Sequence[float], warned: Callable[[int], bool]) -> MethodResult:
        flagged = [int(refused[i] or warned(i)) for i in range(len(histories))]
        precision, recall = precision_recall(flagged, data.labels, 1)
        stopped = [refused[i] or (warned(i) and _r9_stops(h, model_hash, model.threshold))
                   for i, h in enumerate(histories)]
        takeovers = [i for i, h in enumerate(histories) if h.kind in TAKEOVERS]
        genuine = [i for i, h in enumerate(histories) if not h.adverse]
        return MethodResult(
            name,
            float(roc_auc_score(data.labels, scores)),
            precision,
            recall,
            sum(stopped[i] for i in takeovers) / max(1, len(takeovers)),
            sum(flagged[i] for i in genuine) / max(1, len(genuine)),
        )

    results = [
        result("rules R1-R8", [float(r) for r in refused], lambda i: False),
        result(f"rules + hand score (>= {HAND_THRESHOLD})", hand,
               lambda i: hand[i] >= HAND_THRESHOLD),
        result(f"rules + model (R9 at {model.threshold} bp)",
               [s.probability for s in learned],
               lambda i: learned[i].basis_points >= model.threshold),
    ]
    return Evaluation(seed, size, sum(data.labels),
                      sum(h.kind in TAKEOVERS for h in histories), model.threshold, results)


def _r9_stops(history: History, model_hash: bytes, threshold: int) -> bool:
    """Whether R9 stops the history's disbursement after a warning at its request: the fresh
    checks it then gets, as the module's docstring assumes them, fed to rules_model.r9_refuses."""
    decision = history.decision
    warned_at = decision.timestamp
    warning = RiskWarning(decision.platform, decision.subject, ZERO_HASH, warned_at,
                          model_hash, bytes(32), threshold, threshold, ())
    takeover = history.kind in TAKEOVERS
    phone = _last_phone(history.records)
    checks: list[Record] = [
        Verification(decision.platform, decision.subject, ZERO_HASH, warned_at + _STEP_UP_DELAY,
                     VerificationMethod.LIVENESS, not takeover, phone),
        Verification(decision.platform, decision.subject, ZERO_HASH, warned_at + _STEP_UP_DELAY,
                     VerificationMethod.SIM_SWAP_CHECK,
                     history.kind is not Kind.SIM_SWAP_TAKEOVER, phone),
    ]
    records = [*history.records, warning, *checks]
    return r9_refuses(records, warned_at + 2 * _STEP_UP_DELAY) is not None


def _last_phone(records: Sequence[Record]) -> bytes:
    for record in reversed(records):
        phone = getattr(record, "phone", None)
        if isinstance(phone, bytes):
            return phone
    return ZERO_HASH
