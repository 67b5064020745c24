"""Running a planned ablation: build datasets, then train and evaluate each (variant, seed).

Each run is ``voxcore train`` then ``voxcore evaluate`` in a child process (the same commands a
user would type, so a run directory of an ablation is an ordinary run directory, and one
variant's crash or memory never leaks into the next). A run whose metrics are written is
skipped; one with a checkpoint short of ``train.max_steps`` resumes from it; every variant
points at the same ``data.cache_dir``, so encoder features (and latents, and the judge's
classifier, which sits beside the dataset) are computed once for the whole ablation.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voxcore.ablation.spec import AblationPlan, PlannedRun
from voxcore.errors import UserError
from voxcore.io import exclusive, write_text_atomic

log = logging.getLogger(__name__)

RECORD_FILE = "ablation.json"
TAIL_LINES = 25


@dataclass
class Outcome:
    """What one invocation did: runs trained, skipped and failed."""

    trained: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def metrics_file(plan: AblationPlan, run: PlannedRun) -> Path:
    """Where ``voxcore evaluate`` writes the run's metrics."""
    return run.run_dir / "eval" / plan.spec.evaluate.folder_name / "metrics.json"


def build_datasets(plan: AblationPlan) -> None:
    """Build every dataset of the file's ``build`` list that is not there yet."""
    from voxcore.plugins import get_registry

    for spec in plan.spec.build:
        out = Path(spec.out)
        # Two 'voxcore ablate --only' started together build a shared dataset once: the second
        # waits for the first and reuses what it built.
        with exclusive(out):
            if out.is_dir() and any(out.iterdir()):
                log.info("reusing the %s dataset in %s", spec.builder, out)
                continue
            log.info("building the %s dataset into %s", spec.builder, out)
            builder = get_registry("dataset_builder").get(spec.builder).build(spec.config)
            builder.build(out)


def run_ablation(plan: AblationPlan) -> Outcome:
    """Build, then train and evaluate every planned run that is not finished."""
    build_datasets(plan)
    outcome = Outcome()
    total = len(plan.runs)
    for number, run in enumerate(plan.runs, start=1):
        prefix = f"[{number}/{total}] {run.label}"
        if metrics_file(plan, run).is_file():
            log.info("%s: finished before (metrics in %s), skipping", prefix,
                     metrics_file(plan, run))
            outcome.skipped.append(run.label)
            continue
        try:
            _train_and_evaluate(plan, run, prefix)
        except _RunFailed as exc:
            log.error("%s failed: %s", prefix, exc)
            outcome.failed[run.label] = str(exc)
            continue
        outcome.trained.append(run.label)
    return outcome


class _RunFailed(Exception):
    pass


def _train_and_evaluate(plan: AblationPlan, run: PlannedRun, prefix: str) -> None:
    from voxcore.runs.folders import RunDir

    recipe_file = plan.out / "recipes" / f"{run.variant.name}-seed-{run.seed}.yaml"
    write_text_atomic(recipe_file, run.resolved.to_yaml())
    log_file = plan.out / "logs" / f"{run.variant.name}-seed-{run.seed}.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    session: dict[str, Any] = {"started": time.strftime("%Y-%m-%dT%H:%M:%S")}
    latest = RunDir(run.run_dir).latest()
    max_steps = run.resolved.recipe.train.max_steps
    if latest is None or latest.step < max_steps:
        resume = latest is not None
        session["resumed_from_step"] = latest.step if latest is not None else 0
        log.info("%s: training%s (log: %s)", prefix,
                 f", resuming from step {latest.step}" if latest is not None else "", log_file)
        command = ["train", str(recipe_file), "--run-dir", str(run.run_dir), "--no-progress"]
        session["train_wall_seconds"] = _voxcore([*command, *(["--resume"] if resume else [])],
                                                 log_file, plan.spec.threads)
    else:
        log.info("%s: trained before (step %d), evaluating", prefix, latest.step)
    evaluate = plan.spec.evaluate
    command = ["evaluate", str(run.run_dir), "--seed", str(evaluate.seed), "--no-progress"]
    for option, value in (("--data", evaluate.data), ("--split", evaluate.split),
                          ("--limit", evaluate.limit), ("--num-samples", evaluate.num_samples),
                          ("--batch-size", evaluate.batch_size)):
        if value is not None:
            command += [option, str(value)]
    session["evaluate_wall_seconds"] = _voxcore(command, log_file, plan.spec.threads,
                                                processes=evaluate.processes)
    _append_session(run.run_dir, session)
    log.info("%s: done (train %.0f s, evaluate %.0f s)", prefix,
             session.get("train_wall_seconds", 0.0), session["evaluate_wall_seconds"])


def _voxcore(arguments: list[str], log_file: Path, threads: int | None,
             processes: int = 1) -> float:
    """Run ``voxcore ARGUMENTS`` in a child process (``processes`` of them under ``accelerate
    launch``), output to ``log_file``; wall seconds."""
    launcher = ["-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes",
                str(processes), "--num_machines", "1", "--dynamo_backend", "no"]
    command = [sys.executable, *(launcher if processes > 1 else []), "-m", "voxcore.cli",
               *arguments]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if threads is not None:
        env.update({name: str(threads) for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")})
    began = time.perf_counter()
    with log_file.open("a") as handle:
        handle.write(f"$ voxcore {' '.join(arguments)}\n")
        handle.flush()
        status = subprocess.call(command, stdout=handle, stderr=subprocess.STDOUT,
                                 env=env)
    seconds = time.perf_counter() - began
    if status != 0:
        tail = log_file.read_text(errors="replace").splitlines()[-TAIL_LINES:]
        raise _RunFailed(f"'voxcore {arguments[0]}' exited with status {status}; the end of "
                         f"{log_file}:\n      " + "\n      ".join(tail))
    return seconds


def _append_session(run_dir: Path, session: dict[str, Any]) -> None:
    record = read_record(run_dir)
    record.setdefault("sessions", []).append(session)
    write_text_atomic(run_dir / RECORD_FILE, json.dumps(record, indent=2) + "\n")


def read_record(run_dir: Path) -> dict[str, Any]:
    """The ablation's own notes on a run (wall time of each train / evaluate session)."""
    path = run_dir / RECORD_FILE
    if not path.is_file():
        return {}
    try:
        loaded = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"{path} is unreadable ({exc}); remove it") from None
    return loaded if isinstance(loaded, dict) else {}
