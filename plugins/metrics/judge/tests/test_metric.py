"""The judge metric: conformance, and that its numbers mean what they say."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from voxcore_judge import JudgeConfig
from voxcore_judge.images import resize_images
from voxcore_judge.judge import Judge
from voxcore_judge.metric import JudgeMetric

from voxcore.plugin_api import EvalBatch, Metric
from voxcore.testing.metric import MergesStateSuite

Render = Any  # conftest.render_shapes

SWAP = {"circle": "square", "square": "circle", "dark": "bright", "bright": "dark"}


class TestJudge(MergesStateSuite):
    batch_size = 8

    @pytest.fixture(autouse=True)
    def _judge(self, shapes_judge: Judge, shapes_config: JudgeConfig, render: Render) -> None:
        self.judge, self.config, self.render = shapes_judge, shapes_config, render

    def build_metric(self) -> Metric:
        return JudgeMetric(self.judge, self.config)

    def make_batch(self, seed: int) -> EvalBatch:
        images, labels = self.render(self.batch_size, seed)
        references, _ = self.render(self.batch_size, seed + 100)
        # Some prompts' labels are wrong, so accuracies are not all 100.
        labels["shape"][0] = SWAP[labels["shape"][0]]
        labels["tone"][1] = "grey"
        return EvalBatch(images=images, references=references, labels=labels)


def _metric(judge: Judge, config: JudgeConfig) -> JudgeMetric:
    return JudgeMetric(judge, config)


def test_judge_is_accurate_on_held_out_real_images(shapes_judge: Judge) -> None:
    assert shapes_judge.real_accuracy.keys() == {"shape", "tone"}
    assert min(shapes_judge.real_accuracy.values()) >= 95.0
    assert shapes_judge.vocab == {"shape": ["circle", "square"], "tone": ["bright", "dark"]}


def test_real_images_with_their_labels_score_high_and_wrong_labels_low(
        shapes_judge: Judge, shapes_config: JudgeConfig, render: Render) -> None:
    images, labels = render(64, seed=7)
    right = _metric(shapes_judge, shapes_config)
    right.update(EvalBatch(images=images, labels=labels))
    values = right.compute()
    assert values["shape_accuracy"] >= 95.0 and values["tone_accuracy"] >= 95.0
    wrong = _metric(shapes_judge, shapes_config)
    wrong.update(EvalBatch(images=images, labels={k: [SWAP[v] for v in vs]
                                                  for k, vs in labels.items()}))
    values = wrong.compute()
    assert values["shape_accuracy"] <= 5.0 and values["tone_accuracy"] <= 5.0


def test_unknown_label_values_count_as_wrong(
        shapes_judge: Judge, shapes_config: JudgeConfig, render: Render) -> None:
    images, labels = render(10, seed=8)
    labels["tone"] = ["grey"] * 10
    metric = _metric(shapes_judge, shapes_config)
    metric.update(EvalBatch(images=images, labels=labels))
    values = metric.compute()
    assert values["tone_accuracy"] == 0.0 and values["shape_accuracy"] >= 90.0


def test_compute_reports_the_judges_own_accuracy_and_fid_only_with_references(
        shapes_judge: Judge, shapes_config: JudgeConfig, render: Render) -> None:
    images, labels = render(8, seed=9)
    metric = _metric(shapes_judge, shapes_config)
    metric.update(EvalBatch(images=images, labels=labels))
    values = metric.compute()
    assert set(values) == {"shape_accuracy", "tone_accuracy", "real_shape_accuracy",
                           "real_tone_accuracy"}
    assert values["real_shape_accuracy"] == shapes_judge.real_accuracy["shape"]
    assert metric.real_accuracy == shapes_judge.real_accuracy
    metric.update(EvalBatch(images=images, references=images, labels=labels))
    assert "fid" in metric.compute()


def test_fid_real_vs_real_is_near_zero_and_real_vs_noise_is_large(
        shapes_judge: Judge, shapes_config: JudgeConfig, render: Render) -> None:
    real, labels = render(96, seed=10)
    other_real, _ = render(96, seed=11)
    noise = torch.rand(96, 3, 32, 32, generator=torch.Generator().manual_seed(0))

    def fid(generated: torch.Tensor, references: torch.Tensor) -> float:
        metric = _metric(shapes_judge, shapes_config)
        for part in range(0, 96, 32):  # in several batches, as an evaluation feeds it
            metric.update(EvalBatch(images=generated[part:part + 32],
                                    references=references[part:part + 32],
                                    labels={k: v[part:part + 32] for k, v in labels.items()}))
        return metric.compute()["fid"]

    same, real_vs_real, real_vs_noise = fid(real, real), fid(real, other_real), fid(noise, real)
    assert same == pytest.approx(0.0, abs=1e-6)
    assert real_vs_noise > 20 * real_vs_real, (real_vs_real, real_vs_noise)


def test_images_of_another_size_are_resized_to_the_judges_resolution(
        shapes_judge: Judge, shapes_config: JudgeConfig, render: Render) -> None:
    large, labels = render(16, seed=12, size=64)
    small = resize_images(large, shapes_config.resolution)
    assert small.shape[-1] == 32
    by_size = []
    for images in (large, small):
        metric = _metric(shapes_judge, shapes_config)
        metric.update(EvalBatch(images=images, references=images, labels=labels))
        by_size.append(metric.state_dict())
    for key, value in by_size[0].items():
        torch.testing.assert_close(value, by_size[1][key], msg=key)
    assert _metric(shapes_judge, shapes_config).predict(large) == (
        _metric(shapes_judge, shapes_config).predict(small))


def test_bad_batches_are_rejected_with_clear_messages(
        shapes_judge: Judge, shapes_config: JudgeConfig, render: Render) -> None:
    images, labels = render(4, seed=13)
    metric = _metric(shapes_judge, shapes_config)
    with pytest.raises(ValueError, match="no labels 'tone'"):
        metric.update(EvalBatch(images=images, labels={"shape": labels["shape"]}))
    with pytest.raises(ValueError, match="3 values for 4 images"):
        metric.update(EvalBatch(images=images, labels={**labels, "tone": labels["tone"][:3]}))
    with pytest.raises(ValueError, match=r"\[B, 3, H, W\]"):
        metric.update(EvalBatch(images=images[:, :1], labels=labels))
    with pytest.raises(ValueError, match="at least one update"):
        metric.compute()


def test_a_config_asking_for_other_labels_is_refused(
        shapes_judge: Judge, shapes_config: JudgeConfig) -> None:
    other = shapes_config.model_copy(update={"labels": ["shape"], "color_invariant": []})
    with pytest.raises(ValueError, match="classifies"):
        JudgeMetric(shapes_judge, other)


def test_a_state_from_another_judge_is_refused(
        shapes_judge: Judge, shapes_config: JudgeConfig, render: Render) -> None:
    images, labels = render(4, seed=14)
    metric = _metric(shapes_judge, shapes_config)
    metric.update(EvalBatch(images=images, labels=labels))
    state = metric.state_dict()
    state["judge_key"] = torch.tensor(list(b"0" * len(shapes_judge.key)), dtype=torch.uint8)
    with pytest.raises(ValueError, match="another|not by this"):
        _metric(shapes_judge, shapes_config).load_state_dict(state)
    with pytest.raises(KeyError, match="expected"):
        _metric(shapes_judge, shapes_config).load_state_dict({"count": state["count"]})
