"""The classifier: one net per label, and colour invariance where a label asks for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from voxcore_judge import JudgeConfig
from voxcore_judge.classifier import JudgeClassifier
from voxcore_judge.judge import obtain_judge
from voxcore_judge.metric import JudgeMetric
from voxcore_judge.testing import write_shapes

from voxcore.plugin_api import EvalBatch

Render = Any  # conftest.render_shapes


def test_features_concatenate_one_net_per_label() -> None:
    classifier = JudgeClassifier("test_resnet", {"shape": 2, "tone": 3}, 32,
                                 color_invariant=["shape"]).eval()
    images = torch.rand(4, 3, 40, 40, generator=torch.Generator().manual_seed(0))
    features, logits = classifier.judge(images)
    assert features.shape == (4, classifier.feature_dim) == (4, 2 * 96)
    assert logits["shape"].shape == (4, 2) and logits["tone"].shape == (4, 3)
    torch.testing.assert_close(classifier.features(images), features)
    torch.testing.assert_close(classifier(images)["tone"], logits["tone"])


def test_a_colour_invariant_net_ignores_per_channel_gain_and_offset() -> None:
    classifier = JudgeClassifier("test_resnet", {"shape": 2, "tone": 2}, 32,
                                 color_invariant=["shape"]).eval()
    images = torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    gain, offset = torch.tensor([0.5, 0.8, 0.3]), torch.tensor([0.2, 0.1, 0.6])
    recoloured = images * gain[:, None, None] + offset[:, None, None]
    with torch.no_grad():
        shape, tone = classifier.nets["shape"], classifier.nets["tone"]
        torch.testing.assert_close(shape.features(recoloured), shape.features(images),
                                   rtol=1e-4, atol=1e-4)
        assert not torch.allclose(tone.features(recoloured), tone.features(images), atol=1e-3)


@pytest.mark.parametrize(("invariant", "low", "high"), [(["shape"], 85.0, 100.0),
                                                         ([], 0.0, 50.0)])
def test_shapes_are_recognised_in_colour_combinations_never_trained_on(
        tmp_path: Path, render: Render, invariant: list[str], low: float, high: float) -> None:
    # Training only ever shows dark circles and bright squares.
    samples = (write_shapes(tmp_path / "a", 120, shapes=("circle",), tones=("dark",))
               + write_shapes(tmp_path / "b", 120, seed=1, shapes=("square",),
                              tones=("bright",)))
    config = JudgeConfig(labels=["shape", "tone"], color_invariant=invariant, epochs=6,
                         holdout=0.2, min_real_accuracy=0.0)
    metric = JudgeMetric(obtain_judge(samples, config, tmp_path / "cache"), config)
    images, labels = render(200, seed=7)
    unseen = [i for i, pair in enumerate(zip(labels["shape"], labels["tone"], strict=True))
              if pair in {("circle", "bright"), ("square", "dark")}]
    metric.update(EvalBatch(images=images[unseen],
                            labels={k: [v[i] for i in unseen] for k, v in labels.items()}))
    assert low <= metric.compute()["shape_accuracy"] <= high
