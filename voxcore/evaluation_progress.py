"""The on-disk state of one evaluation, so that a killed ``voxcore evaluate`` resumes.

An evaluation folder holds::

    plan.json               what is being evaluated (checkpoint, settings, prompt ids)
    images/000000.png ...   one generated image per prompt, written as soon as it exists
    state.safetensors       every metric's running state after the first ``done`` prompts
    state.json              ``{"done": N}``, written after state.safetensors

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

__all__ = ["EvaluationProgress", "quantize"]


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

    @classmethod
    def open(
        cls,
        folder: Path,
        settings: Mapping[str, Any],
        prompt_ids: Sequence[str],
        *,
        restart: bool = False,
    ) -> EvaluationProgress:
        """Open (or start) the evaluation in ``folder``.

        Raises :class:`UserError` when the folder holds an evaluation with other settings or
        other prompts, unless ``restart`` (which deletes what was there).
        """
        if restart and folder.exists():
            shutil.rmtree(folder)
        plan_file = folder / "plan.json"
        progress = cls(folder, dict(settings), list(prompt_ids), 0)
        if not plan_file.is_file():
            progress._write_plan()
            return progress
        old = json.loads(plan_file.read_text(encoding="utf-8"))
        changed = sorted(key for key in set(old["settings"]) | set(settings)
                         if old["settings"].get(key) != settings.get(key))
        if changed:
            raise UserError(
                f"{folder} holds an evaluation with other settings ({', '.join(changed)} "
                "differ); pass --restart to start it over, or --out for a separate folder")
        done = _read_done(folder)
        finished_ids = old["prompt_ids"][:done]
        if list(prompt_ids[:done]) != finished_ids:
            raise UserError(
                f"{folder} holds an evaluation of other prompts (the first {done} differ from "
                "this run's); pass --restart to start it over, or --out for a separate folder")
        progress.done = min(done, len(prompt_ids))
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
        saved = load_tensors(self.folder / "state.safetensors")
        for name, metric in metrics.items():
            prefix = f"{name}/"
            metric.load_state_dict({key[len(prefix):]: value for key, value in saved.items()
                                    if key.startswith(prefix)})

    def checkpoint(self, metrics: Mapping[str, Metric], done: int) -> None:
        """Record that the first ``done`` prompts are in the metrics' running state."""
        state = {f"{name}/{key}": value for name, metric in metrics.items()
                 for key, value in metric.state_dict().items()}
        save_tensors(self.folder / "state.safetensors", state)
        write_text_atomic(self.folder / "state.json", json.dumps({"done": done}) + "\n")
        self.done = done

    def _write_plan(self) -> None:
        plan = {"settings": self.settings, "prompt_ids": self.prompt_ids}
        write_text_atomic(self.folder / "plan.json", json.dumps(plan, indent=1) + "\n")


def _read_done(folder: Path) -> int:
    state = folder / "state.json"
    if not (state.is_file() and (folder / "state.safetensors").is_file()):
        return 0
    return int(json.loads(state.read_text(encoding="utf-8"))["done"])
