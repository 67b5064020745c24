"""MetricSuite on a small accumulating metric, and proof that it catches a broken one."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
import torch

from voxcore.interfaces import EvalBatch
from voxcore.testing import MergesStateSuite, MetricSuite


class MeanBrightness:
    """Mean pixel value of generated and reference images: a sum and a count, as FID keeps."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.sums = torch.zeros(2, dtype=torch.float64)
        self.count = torch.zeros((), dtype=torch.int64)

    def update(self, batch: EvalBatch) -> None:
        assert batch.references is not None
        self.sums += torch.stack([batch.images.double().mean(dim=(1, 2, 3)).sum(),
                                  batch.references.double().mean(dim=(1, 2, 3)).sum()])
        self.count += batch.images.shape[0]

    def compute(self) -> dict[str, float]:
        generated, real = (self.sums / self.count.clamp(min=1)).tolist()
        return {"brightness": generated, "brightness_gap": abs(generated - real)}

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"sums": self.sums, "count": self.count}

    def load_state_dict(self, state: Mapping[str, torch.Tensor]) -> None:
        self.sums, self.count = state["sums"].clone(), state["count"].clone()


class TestMeanBrightness(MetricSuite):
    def build_metric(self) -> MeanBrightness:
        return MeanBrightness()


class MergingBrightness(MeanBrightness):
    """Correct: the sums and counts of two processes add up."""

    def merge_state(self, state: Mapping[str, torch.Tensor]) -> None:
        self.sums = self.sums + state["sums"]
        self.count = self.count + state["count"]


class TestMergingBrightness(MergesStateSuite):
    def build_metric(self) -> MergingBrightness:
        return MergingBrightness()


class OverwritingMerge(MergingBrightness):
    """Bug: merging replaces the state instead of adding to it (only the last process counts)."""

    def merge_state(self, state: Mapping[str, torch.Tensor]) -> None:
        self.load_state_dict(state)


class MeanOfBatchMeans(MeanBrightness):
    """Averages per-batch means: the result depends on how images are split into batches."""

    def update(self, batch: EvalBatch) -> None:
        assert batch.references is not None
        self.sums += torch.stack([batch.images.double().mean(), batch.references.double().mean()])
        self.count += 1


class ForgetfulState(MeanBrightness):
    """Does not restore its state: a resumed evaluation silently starts over."""

    def load_state_dict(self, state: Mapping[str, torch.Tensor]) -> None:
        pass


def test_suite_catches_batch_split_dependence() -> None:
    suite = TestMeanBrightness()
    suite.build_metric = MeanOfBatchMeans  # type: ignore[assignment,method-assign]
    with pytest.raises(AssertionError, match="two batches"):
        suite.test_batch_split_does_not_matter()


def test_suite_catches_a_state_that_does_not_resume(tmp_path) -> None:  # type: ignore[no-untyped-def]
    suite = TestMeanBrightness()
    suite.build_metric = ForgetfulState  # type: ignore[assignment,method-assign]
    with pytest.raises(AssertionError, match="resumed"):
        suite.test_state_round_trip_resumes(tmp_path)


def test_suite_catches_a_merge_that_overwrites(tmp_path) -> None:  # type: ignore[no-untyped-def]
    suite = TestMergingBrightness()
    suite.build_metric = OverwritingMerge  # type: ignore[assignment,method-assign]
    with pytest.raises(AssertionError, match="two processes' saved states merged"):
        suite.test_states_of_two_processes_merge_into_the_whole(tmp_path)
    with pytest.raises(AssertionError, match="has no merge_state"):
        suite.build_metric = MeanBrightness  # type: ignore[assignment,method-assign]
        suite.test_has_the_state_merging_ability()
