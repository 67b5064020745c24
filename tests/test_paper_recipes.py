"""The paper's configurations (Tables 4-8) ship as recipes with the paper's training settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from voxcore.recipe import load_recipe

PAPER = Path(__file__).parent.parent / "recipes" / "paper"
#: recipe -> (encoder, bottleneck, generator, train mode, training datasets)
EXPECTED = {
    "sonar-sib-sd15-frozen": ("sonar", "sib", "sd15", "frozen", ["spokencoco", "voxemoset"]),
    "sonar-sib-sd15-lora": ("sonar", "sib", "sd15", "lora", ["spokencoco", "voxemoset"]),
    "sonar-sib-sd15-full": ("sonar", "sib", "sd15", "full", ["spokencoco", "voxemoset"]),
    "sonar-sib-sd15-full-voxemoset": ("sonar", "sib", "sd15", "full", ["voxemoset"]),
    "sonar-sib-sdxl-frozen": ("sonar", "sib", "sdxl", "frozen", ["spokencoco", "voxemoset"]),
    "whisper-sib-sd15-full": ("whisper", "sib", "sd15", "full", ["spokencoco", "voxemoset"]),
    "sonar-transformer-sd15-full": ("sonar", "transformer", "sd15", "full",
                                    ["spokencoco", "voxemoset"]),
    "clip-text-sd15-full": ("clip-text", "identity", "sd15", "full", ["spokencoco", "voxemoset"]),
    "asr-clip-text-sd15-frozen": ("asr", "identity", "sd15", "frozen",
                                  ["spokencoco", "voxemoset"]),
}


def test_every_paper_table_has_its_recipe() -> None:
    assert sorted(p.stem for p in PAPER.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_paper_recipe_has_the_papers_settings(name: str) -> None:
    resolved = load_recipe(PAPER / f"{name}.yaml")
    recipe = resolved.recipe
    encoder, bottleneck, generator, mode, datasets = EXPECTED[name]
    assert (recipe.name, recipe.encoder.name, recipe.bottleneck.name,
            recipe.generator.name) == (name, encoder, bottleneck, generator)
    assert resolved.generator.config.train_mode == mode  # type: ignore[attr-defined]
    assert [spec.name for spec in recipe.data.train] == datasets
    assert [spec.name for spec in recipe.data.eval] == ["spokencoco", "voxemoset",
                                                        "flickr8k-audio"]
    assert [m.name for m in recipe.metrics] == ["fid", "clipscore", "emo-a"]
    train = recipe.train
    assert (train.lr, train.mixed_precision) == (1e-6, "fp16")
    # The paper's global batch of 128 on 8 GPUs: per-process batch x accumulation x 8.
    assert train.batch_size * train.grad_accum * 8 == 128
    if bottleneck == "sib":
        assert resolved.bottleneck.config.ratio == 8  # type: ignore[attr-defined]
