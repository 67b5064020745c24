"""Training (or evaluating) the two quickstart models at once, one process each.

The quickstart's models are small: a training step is a few dozen small kernels, and torch
splitting each of them over two cores gains little. Measured on a 2-core machine (benchmarks/
quickstart_parallel.py), two trainings side by side with one thread each finish well before
the same two one after the other with both threads. So each model gets its own process and
an equal share of the cores; the main process shows one progress bar over both (read from
their ``logs/loss.csv``) and re-raises the first failure.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Job", "available_cores", "run_jobs"]


@dataclass(frozen=True)
class Job:
    """One model's work: ``function(*arguments)`` in a process of its own.

    ``function`` must be importable (a module-level function: processes are spawned). Its
    return value comes back through a pipe, so keep it small and plain (a dict of floats).
    ``run_dir`` and ``steps`` let the main process follow a training's progress.
    """

    name: str
    function: Callable[..., Any]
    arguments: tuple[Any, ...]
    run_dir: Path | None = None
    steps: int = 0


def available_cores() -> int:
    """The CPU cores this process may run on."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)


def run_jobs(jobs: Sequence[Job], *, threads: int, progress: bool,
             description: str = "train") -> dict[str, Any]:
    """Run every job at once, each in a spawned process using ``threads`` torch threads;
    their results by job name. A job that fails stops the others; its error is raised here
    (a :class:`~voxcore.plugin_api.UserError` stays one; any other becomes a RuntimeError
    with its kind and message, the traceback having been printed by the job's process)."""
    context = multiprocessing.get_context("spawn")
    running = []
    for job in jobs:
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=_child, args=(job, threads, send), name=job.name,
                                  daemon=True)
        process.start()
        send.close()
        running.append((job, process, receive))
    results: dict[str, Any] = {}
    bar = _Bar(jobs, description) if progress and any(job.steps for job in jobs) else None
    try:
        pending = list(running)
        while pending:
            for item in list(pending):
                job, process, receive = item
                message = _receive(receive) if receive.poll() else None
                if message is None and process.is_alive():
                    continue
                process.join()
                pending.remove(item)
                if message is None:  # it died (killed, out of memory) before it could answer
                    raise RuntimeError(f"the {job.name} process ended without a result "
                                       f"(exit status {process.exitcode})")
                status, value = message
                if status == "error":
                    raise _error(job, *value)
                results[job.name] = value
            if bar is not None:
                bar.update()
            time.sleep(0.5)
    finally:
        for _, process, _ in running:
            if process.is_alive():
                process.terminate()
                process.join()
        if bar is not None:
            bar.close()
    return results


def _receive(receive: Any) -> tuple[str, Any] | None:
    """A job's answer, or None when its end of the pipe closed without one."""
    try:
        message: tuple[str, Any] = receive.recv()
    except EOFError:
        return None
    return message


def _child(job: Job, threads: int, send: Any) -> None:
    import torch

    from voxcore.plugin_api import configure_logging

    torch.set_num_threads(threads)
    configure_logging()
    from voxcore.plugin_api import UserError

    try:
        send.send(("ok", job.function(*job.arguments)))
    except BaseException as exc:  # the parent raises it again: its kind and message
        if not isinstance(exc, UserError | KeyboardInterrupt):
            import traceback

            traceback.print_exc()
        send.send(("error", (isinstance(exc, UserError), type(exc).__name__, str(exc))))


def _error(job: Job, user_error: bool, kind: str, message: str) -> Exception:
    """The error a job's process reported: a user's mistake stays a
    :class:`~voxcore.plugin_api.UserError` (a message, no traceback)."""
    from voxcore.plugin_api import UserError

    if user_error:
        return UserError(message)
    return RuntimeError(f"training or evaluating the {job.name} model failed: {kind}: "
                        f"{message}")


class _Bar:
    """One tqdm bar over the steps every training has logged."""

    def __init__(self, jobs: Sequence[Job], description: str) -> None:
        from tqdm.auto import tqdm

        self.jobs = [job for job in jobs if job.run_dir is not None and job.steps]
        self.bar = tqdm(total=sum(job.steps for job in self.jobs), desc=description,
                        unit="step")

    def update(self) -> None:
        done = sum(min(job.steps, _logged_step(job.run_dir)) for job in self.jobs
                   if job.run_dir is not None)
        self.bar.n = done
        self.bar.set_postfix_str(", ".join(
            f"{job.name} {_logged_step(job.run_dir)}/{job.steps}" for job in self.jobs
            if job.run_dir is not None), refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        self.update()
        self.bar.close()


def _logged_step(run_dir: Path | None) -> int:
    """The last step a training wrote to ``logs/loss.csv`` (0 before its first row)."""
    if run_dir is None:
        return 0
    try:
        with (run_dir / "logs" / "loss.csv").open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 256))
            last = handle.read().decode(errors="replace").strip().splitlines()[-1]
        return int(last.split(",")[0])
    except (OSError, IndexError, ValueError):
        return 0
