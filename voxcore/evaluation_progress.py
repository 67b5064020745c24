"""The on-disk state of one evaluation, so that a killed ``voxcore evaluate`` resumes.

An evaluation folder holds::

    plan.json               what is being evaluated (checkpoint, settings, prompt ids)
    images/000000.png ...   one generated image per prompt, written as soon as it exists
    state.safetensors       every metric's running state after the first ``done`` prompts
    state.json              ``{"done": N}``, written after state.safetensors

Of N processes (``accelerate launch``), process P scores its share of the prompts and keeps
``state-P-of-N.safetensors`` and ``state-P-of-N.json`` (``done`` counting within its share);
images are named by the prompt's place in the whole list wherever they were made.

Images are written before the metric state that includes them, so after a kill the images
past ``done`` are read back from disk instead of generated again. A folder made with other
settings is refused (never silently mixed); a longer list of prompts that starts with the
finished ones continues it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from voxcore.errors import UserError
from voxcore.images import load_image, save_image
from voxcore.interfaces import Metric
from voxcore.io import load_tensors, save_tensors, write_text_atomic

__all__ = ["EvaluationProgress", "metric_states", "quantize"]


def quantize(images: torch.Tensor) -> torch.Tensor:
    """Images as they are stored in 8-bit PNG files, so scores never depend on resuming."""
    return (images.detach().float().clamp(0, 1) * 255).round() / 255


@dataclass
class EvaluationProgress:
    """Where one evaluation stands: its folder, its settings and how many prompts are scored."""

    folder: Path
    settings: dict[str, Any]
    prompt_ids: list[str]
    done: int
    #: The prompts this process scores (all of them for a single process); ``done`` counts
    #: from its start.
    share: range = range(0)
    #: Names this process's state files (``state-P-of-N``); ``""`` for a single process.
    tag: str = ""

    @classmethod
    def open(
        cls,
        folder: Path,
        settings: Mapping[str, Any],
        prompt_ids: Sequence[str],
        *,
        restart: bool = False,
        share: range | None = None,
        tag: str = "",
        write_plan: bool = True,
    ) -> EvaluationProgress:
        """Open (or start) the evaluation in ``folder``, of the prompts in ``share`` (all by
        default) with state files named by ``tag`` (one process of several).

        Raises :class:`UserError` when the folder holds an evaluation with other settings or
        other prompts, unless ``restart`` (which deletes what was there). Of several processes
        only the first writes the plan (``write_plan``).
        """
        if restart and folder.exists():
            shutil.rmtree(folder)
        plan_file = folder / "plan.json"
        share = range(len(prompt_ids)) if share is None else share
        progress = cls(folder, dict(settings), list(prompt_ids), 0, share, tag)
        if not plan_file.is_file():
            if write_plan:
                progress._write_plan()
            return progress
        old = json.loads(plan_file.read_text(encoding="utf-8"))
        changed = sorted(key for key in set(old["settings"]) | set(settings)
                         if old["settings"].get(key) != settings.get(key))
        if changed:
            raise UserError(
                f"{folder} holds an evaluation with other settings ({', '.join(changed)} "
                "differ); pass --restart to start it over, or --out for a separate folder")
        done = _read_done(folder, tag)
        finished_ids = old["prompt_ids"][share.start:share.start + done]
        if list(prompt_ids[share.start:share.start + done]) != finished_ids:
            raise UserError(
                f"{folder} holds an evaluation of other prompts (the first {done} differ from "
                "this run's); pass --restart to start it over, or --out for a separate folder")
        progress.done = min(done, len(share))
        if write_plan:
            progress._write_plan()
        return progress

    def image_path(self, index: int) -> Path:
        """Where the generated image of prompt ``index`` is stored."""
        return self.folder / "images" / f"{index:06d}.png"

    def stored_images(self, start: int, count: int, resolution: int) -> torch.Tensor | None:
        """The images of prompts ``start .. start+count-1`` if all are on disk, else ``None``."""
        paths = [self.image_path(i) for i in range(start, start + count)]
        if not all(path.is_file() for path in paths):
            return None
        return torch.stack([load_image(path, resolution) for path in paths])

    def store_images(self, start: int, images: torch.Tensor) -> None:
        """Write generated images of prompts ``start, start+1, ...`` (each atomically)."""
        for offset, image in enumerate(images):
            save_image(image, self.image_path(start + offset))

    def restore(self, metrics: Mapping[str, Metric]) -> None:
        """Load each metric's running state saved at ``done`` (no-op when nothing is done)."""
        if self.done == 0:
            return
        for name, state in metric_states(self.folder, self.tag).items():
            metrics[name].load_state_dict(state)

    def checkpoint(self, metrics: Mapping[str, Metric], done: int) -> None:
        """Record that the first ``done`` prompts of the share are in the metrics' state."""
        state = {f"{name}/{key}": value for name, metric in metrics.items()
                 for key, value in metric.state_dict().items()}
        save_tensors(_state_file(self.folder, self.tag, "safetensors"), state)
        write_text_atomic(_state_file(self.folder, self.tag, "json"),
                          json.dumps({"done": done}) + "\n")
        self.done = done

    def _write_plan(self) -> None:
        plan = {"settings": self.settings, "prompt_ids": self.prompt_ids}
        write_text_atomic(self.folder / "plan.json", json.dumps(plan, indent=1) + "\n")


def metric_states(folder: Path, tag: str = "") -> dict[str, dict[str, torch.Tensor]]:
    """Each metric's running state saved in ``folder`` (by the process ``tag``), by name."""
    states: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in load_tensors(_state_file(folder, tag, "safetensors")).items():
        name, _, part = key.partition("/")
        states.setdefault(name, {})[part] = value
    return states


def _state_file(folder: Path, tag: str, suffix: str) -> Path:
    return folder / (f"state-{tag}.{suffix}" if tag else f"state.{suffix}")


def _read_done(folder: Path, tag: str) -> int:
    state = _state_file(folder, tag, "json")
    if not (state.is_file() and _state_file(folder, tag, "safetensors").is_file()):
        return 0
    return int(json.loads(state.read_text(encoding="utf-8"))["done"])
