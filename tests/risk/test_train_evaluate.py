"""`bindledger risk train` then `risk evaluate`, end to end on small populations: the model
file is canonical and reproducible, and the evaluation compares three methods on another seed."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ledger.cli import app
from ledger.risk.features import FEATURE_NAMES, feature_list_hash
from ledger.risk.model import ModelFileError, RiskModel, load_model

SIZE = "600"


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("risk") / "model.json"
    done = run("risk", "train", "--out", str(out), "--size", SIZE, "--seed", "101")
    assert done.exit_code == 0, done.output
    printed = re.search(r"model sha256 (0x[0-9a-f]{64})", done.output)
    assert printed is not None
    assert printed.group(1) == "0x" + hashlib.sha256(out.read_bytes()).hexdigest()
    return out


def test_training_twice_on_the_same_seed_writes_the_same_bytes(model_file: Path,
                                                                 tmp_path: Path) -> None:
    again = tmp_path / "again.json"
    assert run("risk", "train", "--out", str(again), "--size", SIZE, "--seed", "101").exit_code == 0
    assert again.read_bytes() == model_file.read_bytes()


def test_the_model_file_names_its_features_seed_threshold_and_metrics(model_file: Path) -> None:
    doc = json.loads(model_file.read_bytes())
    assert doc["format"] == "bindledger.risk-model/1"
    assert doc["features"] == list(FEATURE_NAMES)
    assert doc["featuresHash"] == "0x" + feature_list_hash().hex()
    assert doc["training"] == {"seed": 101, "size": 600}
    assert 0 < doc["threshold"] <= 10_000
    assert 0.5 < doc["metrics"]["trainingAuc"] <= 1.0
    model = load_model(model_file)
    assert model.to_bytes() == model_file.read_bytes()  # canonical: parsed and written back


def test_evaluation_on_another_seed_compares_rules_a_hand_score_and_the_model(
        model_file: Path) -> None:
    done = run("risk", "evaluate", "--model", str(model_file), "--size", SIZE, "--seed", "102",
               "--json")
    assert done.exit_code == 0, done.output
    result = json.loads(done.output)
    assert (result["seed"], result["size"]) == (102, 600)
    methods = {r["method"].split(" (")[0]: r for r in result["results"]}
    assert set(methods) == {"rules R1-R8", "rules + hand score", "rules + model"}
    for r in methods.values():
        assert 0 <= r["precision"] <= 1 and 0 <= r["recall"] <= 1
        assert 0 <= r["takeoversStopped"] <= 1 and 0 <= r["genuineFlagged"] <= 1
    # On this population the model ranks better than the rules' yes-or-no, and stops no fewer
    # takeovers (it only adds warnings on top of the rules).
    model, rules = methods["rules + model"], methods["rules R1-R8"]
    assert model["auc"] > rules["auc"]
    assert model["takeoversStopped"] >= rules["takeoversStopped"]
    assert model["recall"] >= rules["recall"]


def test_evaluation_prints_a_table(model_file: Path) -> None:
    done = run("risk", "evaluate", "--model", str(model_file), "--size", "300", "--seed", "7")
    assert done.exit_code == 0, done.output
    assert "ROC AUC" in done.output and "takeovers" in done.output


def test_evaluation_refuses_the_training_seed_and_a_file_that_is_no_model(
        model_file: Path, tmp_path: Path) -> None:
    same = run("risk", "evaluate", "--model", str(model_file), "--size", SIZE, "--seed", "101")
    assert same.exit_code == 2 and "training population" in same.output
    bogus = tmp_path / "bogus.json"
    bogus.write_text('{"format": "something else"}')
    refused = run("risk", "evaluate", "--model", str(bogus), "--seed", "5")
    assert refused.exit_code == 2 and "not a bindledger.risk-model/1 file" in refused.output
    missing = run("risk", "evaluate", "--model", str(tmp_path / "none.json"), "--seed", "5")
    assert missing.exit_code == 2 and "cannot read" in missing.output


def test_a_model_of_another_feature_list_is_refused(model_file: Path) -> None:
    doc = json.loads(model_file.read_bytes())
    doc["features"] = doc["features"][::-1]
    with pytest.raises(ModelFileError, match="another feature list"):
        RiskModel.from_bytes(json.dumps(doc).encode())
    doc = json.loads(model_file.read_bytes())
    doc["scaler"]["scale"][0] = 0
    with pytest.raises(ModelFileError, match="scales must be positive"):
        RiskModel.from_bytes(json.dumps(doc).encode())


def test_a_warning_stops_a_takeover_through_r9_but_only_delays_a_genuine_borrower(
        model_file: Path) -> None:
    from dataclasses import replace

    from ledger.risk.evaluate import evaluate

    model = load_model(model_file)
    loose = evaluate(replace(model, threshold=1), 300, seed=103).results
    everyone = loose[-1]
    # Warned, every takeover fails the fresh liveness check; every genuine borrower is asked.
    assert everyone.takeovers_stopped == 1.0 and everyone.genuine_flagged == 1.0
    assert everyone.recall == 1.0
    strict = evaluate(replace(model, threshold=10_000), 300, seed=103).results
    assert strict[0] == loose[0]  # the rules alone do not depend on the model's threshold
    # A higher threshold warns fewer: no more recall, no more takeovers stopped.
    assert strict[-1].recall <= everyone.recall
    assert strict[-1].takeovers_stopped <= everyone.takeovers_stopped
    assert strict[-1].genuine_flagged < everyone.genuine_flagged
