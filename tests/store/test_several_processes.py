"""Several processes, one log on PostgreSQL: real writer processes race on the same subjects'
chains and seal heads, one is killed with SIGKILL at a random moment, and the log holds:
no gap or duplicate leaf index, every head's root is the root of the stored leaves at its size,
no subject's chain forks, every acknowledged record is stored. (scripts/multiprocess_trials.py
runs many more trials.)"""

from __future__ import annotations

import pytest

from tests.support.log_trials import run_trial
from tests.support.postgres import fresh_schema

TRIALS = 2


@pytest.mark.parametrize("seed", range(TRIALS))
def test_three_writers_one_killed_leave_a_sound_log(postgres_database: str, seed: int) -> None:
    with fresh_schema(postgres_database) as url:
        trial = run_trial(url, processes=3, seconds=2.0, seed=seed)
    assert trial.faults == []
    assert trial.acknowledged > 20 and trial.heads > 1
    assert trial.records >= trial.acknowledged
