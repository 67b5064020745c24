"""Config models of the ``sib`` and ``transformer`` bottlenecks.

Imported when plugins load, so this module must stay free of torch.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from voxcore.plugin_api import BottleneckConfig, Width

Positional = Literal["sinusoidal", "none"]


def default_strides(ratio: int) -> list[int]:
    """Split a total pooling ratio into per-stage strides: its prime factors, smallest first.

    A power of two becomes a run of 2s (``8 -> [2, 2, 2]``), which is the gradual shortening
    the paper asks for; ``1`` becomes a single stride-1 stage so the module still has a stage.
    """
    if ratio < 1:
        raise ValueError(f"ratio must be >= 1, got {ratio}")
    if ratio == 1:
        return [1]
    factors: list[int] = []
    rest, factor = ratio, 2
    while rest > 1:
        while rest % factor == 0:
            factors.append(factor)
            rest //= factor
        factor += 1
    return factors


def _check_heads(widths: list[int], num_heads: int, what: str) -> None:
    bad = sorted({w for w in widths if w % num_heads})
    if bad:
        raise ValueError(f"num_heads={num_heads} must divide every attention width, but {what} "
                         f"{', '.join(map(str, bad))} {'is' if len(bad) == 1 else 'are'} not a "
                         "multiple of it")


class SibConfig(BottleneckConfig):
    """Speech information bottleneck: stages of (Transformer block, strided Conv1d over time).

    ``ratio`` is the total reduction of the token count; ``strides`` splits it across stages
    (default: ``ratio``'s prime factors, so 8 -> ``[2, 2, 2]``). If both are given their
    product must match. ``widths`` are the channel widths the stages' Transformer blocks work
    at (default: ``input_dim`` for every stage); each stage's conv maps to the next stage's
    width, the last one to ``output_dim``.
    """

    ratio: int = Field(default=8, ge=1)
    strides: list[Annotated[int, Field(ge=1)]] | None = None
    widths: list[Annotated[int, Field(gt=0)]] | None = None
    num_heads: int = Field(default=16, ge=1)
    mlp_ratio: float = Field(default=4.0, gt=0)
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0)
    positional: Positional = "sinusoidal"

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.strides is not None:
            if not self.strides:
                raise ValueError("strides must list at least one stage (or be left out)")
            product = math.prod(self.strides)
            if "ratio" in self.model_fields_set and product != self.ratio:
                raise ValueError(f"strides {self.strides} pool by {product} in total, but "
                                 f"ratio={self.ratio}; give one of them or make them agree")
            self.ratio = product
        stages = len(self.stage_strides)
        if self.widths is not None and len(self.widths) != stages:
            raise ValueError(f"widths has {len(self.widths)} entries but there are {stages} "
                             f"stages (strides {self.stage_strides}); give one width per stage")
        known = self.widths if self.widths is not None else (
            [self.input_dim] if self.input_dim is not None else [])
        _check_heads(known, self.num_heads, "width" if self.widths is not None else "input_dim")
        return self

    @property
    def stage_strides(self) -> list[int]:
        """The stride of every stage (``strides`` if given, else derived from ``ratio``)."""
        return list(self.strides) if self.strides is not None else default_strides(self.ratio)


class TransformerBottleneckConfig(BottleneckConfig):
    """The paper's Table 8 baseline: a plain pre-norm Transformer, no length reduction.

    ``width`` is the width its layers work at (default: ``output_dim``). The default
    ``num_layers=10`` gives about 71 M parameters for 1024 -> 768, the size the paper reports.
    """

    width: Width = None
    num_layers: int = Field(default=10, ge=1)
    num_heads: int = Field(default=12, ge=1)
    mlp_ratio: float = Field(default=4.0, gt=0)
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0)
    positional: Positional = "sinusoidal"

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        width = self.width if self.width is not None else self.output_dim
        if width is not None:
            _check_heads([width], self.num_heads,
                         "width" if self.width is not None else "width (= output_dim)")
        return self
