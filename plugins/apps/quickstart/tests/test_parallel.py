"""The quickstart's side-by-side runner: results come back by name, a user's mistake stays a
message, any other failure or a process that dies is reported with the model's name."""

from __future__ import annotations

import operator
import os
from pathlib import Path

import pytest
from voxcore_quickstart.parallel import Job, available_cores, run_jobs

from voxcore.plugin_api import UserError, find_recipe


def test_results_come_back_by_job_name() -> None:
    results = run_jobs([Job("speech", operator.add, (1, 2)), Job("text", operator.mul, (3, 4))],
                       threads=1, progress=False)
    assert results == {"speech": 3, "text": 12}


def test_a_users_mistake_in_a_job_stays_a_user_error() -> None:
    with pytest.raises(UserError, match="no-such-recipe.yaml"):
        run_jobs([Job("speech", find_recipe, ("no-such-recipe.yaml",))], threads=1,
                 progress=False)


def test_any_other_failure_names_the_model() -> None:
    with pytest.raises(RuntimeError, match="the text model failed: ZeroDivisionError"):
        run_jobs([Job("text", operator.truediv, (1, 0))], threads=1, progress=False)


def test_a_process_that_dies_is_reported() -> None:
    with pytest.raises(RuntimeError, match=r"the speech process ended without a result "
                                           r"\(exit status 3\)"):
        run_jobs([Job("speech", os._exit, (3,))], threads=1, progress=False)


def test_the_progress_bar_follows_the_loss_logs(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    (run / "logs").mkdir(parents=True)
    (run / "logs" / "loss.csv").write_text("step,loss,seconds\n1,0.5,0.1\n7,0.4,0.7\n")
    run_jobs([Job("speech", operator.add, (1, 1), run, 10)], threads=1, progress=True)
    assert "speech 7/10" in capsys.readouterr().err


def test_available_cores_is_at_least_one() -> None:
    assert available_cores() >= 1
