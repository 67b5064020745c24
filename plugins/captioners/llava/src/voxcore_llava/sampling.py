"""Sampling that each image draws from its own seed, inside a batched generation.

``transformers``' own sampling draws every row of a batch from torch's one global generator,
so what an image gets depends on the other images of its batch and on everything drawn
before. Instead, :class:`PerRowSampler` makes sampling a deterministic choice: it scales the
scores by the temperature, keeps the top-p nucleus and adds Gumbel noise drawn from the row's
own generator, so that greedy decoding of the result picks token ``k`` with probability
``softmax(scores / temperature)[k]`` over the nucleus (the Gumbel-max trick). Row ``i`` draws
its ``t``-th noise at its ``t``-th token whatever else is in the batch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import torch
from transformers import LogitsProcessor, TopPLogitsWarper

__all__ = ["PerRowSampler", "sampling_seed"]


def sampling_seed(base: int, image_id: str, attempt: int) -> int:
    """A 63-bit seed for one image's ``attempt``, the same in every process and batch."""
    digest = hashlib.sha256(f"{base}\0{image_id}\0{attempt}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


class PerRowSampler(LogitsProcessor):  # type: ignore[misc]  # transformers is typed Any here
    """Temperature, top-p and per-row Gumbel noise, for generation with ``do_sample=False``."""

    def __init__(self, seeds: Sequence[int], *, temperature: float, top_p: float) -> None:
        self.temperature = temperature
        self.top_p = TopPLogitsWarper(top_p) if top_p < 1.0 else None
        # CPU generators, so that a seed draws the same noise on every device.
        self.generators = [torch.Generator().manual_seed(seed) for seed in seeds]

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.Tensor:
        if scores.shape[0] != len(self.generators):
            raise ValueError(f"{scores.shape[0]} rows of scores for {len(self.generators)} seeds")
        scaled: torch.Tensor = scores.float() / self.temperature
        if self.top_p is not None:
            scaled = self.top_p(input_ids, scaled)
        uniform = torch.stack([torch.rand(scaled.shape[1], generator=generator)
                               for generator in self.generators])
        gumbel = -torch.log(-torch.log(uniform.clamp(1e-20, 1.0 - 1e-7)))
        return scaled + gumbel.to(scaled.device)
