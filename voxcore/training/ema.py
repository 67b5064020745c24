"""Exponential moving average of trainable weights."""

from __future__ import annotations

from collections.abc import Mapping

import torch


class EMA:
    """Shadow copies of named parameters, updated as ``s = d * s + (1 - d) * p``.

    The decay warms up as ``min(decay, (1 + n) / (10 + n))`` over the first updates, as in
    diffusers' ``EMAModel``, so early weights do not dominate.
    """

    def __init__(self, parameters: Mapping[str, torch.nn.Parameter], decay: float) -> None:
        self.decay = decay
        self.updates = 0
        self.shadow = {name: p.detach().float().clone() for name, p in parameters.items()}

    @torch.no_grad()
    def update(self, parameters: Mapping[str, torch.nn.Parameter]) -> None:
        """Move the shadow weights towards the current ones."""
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for name, parameter in parameters.items():
            self.shadow[name].lerp_(parameter.detach().float(), 1.0 - decay)

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The shadow weights plus the update count, for a checkpoint."""
        return {**self.shadow, "__ema_updates__": torch.tensor(self.updates)}

    def load_state_dict(self, state: Mapping[str, torch.Tensor]) -> None:
        """Restore what :meth:`state_dict` returned."""
        self.updates = int(state["__ema_updates__"])
        for name in self.shadow:
            self.shadow[name].copy_(state[name])
