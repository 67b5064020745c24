"""Assembling a model from a recipe: each part's initial weights come from its own stream."""

from __future__ import annotations

from pathlib import Path

import torch

from voxcore.assembly import build_model
from voxcore.recipe import load_recipe

RECIPE = """
name: assembly
seed: 3
encoder: {name: mel, config: {n_mels: 16}}
bottleneck: {name: sib, config: {ratio: 2, num_heads: 2, widths: [16]}}
generator: {name: tiny-unet, config: {resolution: 8, block_out_channels: [8, 16],
                                      cross_attention_dim: 16, attention_head_dim: 8}}
"""


def _states(recipe: Path, *overrides: str) -> dict[str, dict[str, torch.Tensor]]:
    model = build_model(load_recipe(recipe, list(overrides)))
    return {part: {k: v.clone() for k, v in getattr(model, part).state_dict().items()}
            for part in ("generator", "bottleneck")}


def _equal(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_another_encoder_leaves_the_generator_and_bottleneck_init_alone(tmp_path: Path) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text(RECIPE)
    mel = _states(recipe)
    # The text encoder has trainable weights, drawn before the generator's in build order.
    text = _states(recipe, "encoder.name=text", "encoder.config.width=16",
                   "encoder.config.num_heads=2")
    assert _equal(mel["generator"], text["generator"])
    assert _equal(mel["bottleneck"], text["bottleneck"])
    other_seed = _states(recipe, "seed=4")
    assert not _equal(mel["generator"], other_seed["generator"])
    assert not _equal(mel["bottleneck"], other_seed["bottleneck"])


def test_building_leaves_the_global_random_state_alone(tmp_path: Path) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text(RECIPE)
    torch.manual_seed(11)
    build_model(load_recipe(recipe))
    after = torch.rand(3)
    torch.manual_seed(11)
    assert torch.equal(torch.rand(3), after)
