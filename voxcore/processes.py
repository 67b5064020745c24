"""Which of several processes this is, for commands that split their inputs among them.

``accelerate launch --num_processes N -m voxcore.cli evaluate ...`` (or ``generate``) starts N
copies; each takes a contiguous share of the prompts (:meth:`Processes.share`), runs on its own
device, and they meet at :meth:`Processes.barrier`. Started plainly, the command is one
process with everything. Several processes need one shared folder for their outputs (one
machine, or a shared filesystem). This module imports torch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch

from voxcore.errors import UserError

__all__ = ["Processes", "current_processes", "resolve_device"]


@dataclass(frozen=True)
class Processes:
    """This process's place among ``count`` (``index`` 0 is the main one) and its device."""

    index: int
    count: int
    device: torch.device
    state: Any = None

    @property
    def main(self) -> bool:
        """Whether this process writes the shared results."""
        return self.index == 0

    def share(self, total: int) -> range:
        """This process's contiguous share of ``total`` items (shares differ by at most one)."""
        return range(total * self.index // self.count, total * (self.index + 1) // self.count)

    def barrier(self) -> None:
        """Wait until every process reaches this point (nothing to wait for alone)."""
        if self.state is not None:
            self.state.wait_for_everyone()

    @property
    def tag(self) -> str:
        """``"P-of-N"``, naming this process's files; ``""`` for a single process."""
        return process_tag(self.index, self.count) if self.count > 1 else ""


def process_tag(index: int, count: int) -> str:
    """``"P-of-N"``: the name of process ``index``'s files among ``count``."""
    return f"{index}-of-{count}"


def resolve_device(name: str) -> torch.device:
    """``"auto"`` (CUDA when there is a GPU, else the CPU), ``"cpu"``, ``"cuda"``, ``"cuda:N"``."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UserError(f"--device {name}: not a device; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"--device {name}: this machine has no CUDA GPU; use --device cpu")
    return device


def current_processes(device: str = "auto") -> Processes:
    """This process among those ``accelerate launch`` (or ``torchrun``) started, or alone.

    Launched several, each process takes the device accelerate gives it (its own GPU, or the
    CPU where there is none) unless ``device`` names one.
    """
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return Processes(0, 1, resolve_device(device))
    from accelerate import PartialState

    # Several processes and no GPU: accelerate only picks CPU (gloo) when told to.
    state = PartialState(cpu=not torch.cuda.is_available())
    chosen = state.device if device == "auto" else resolve_device(device)
    return Processes(state.process_index, state.num_processes, chosen, state)
