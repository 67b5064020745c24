"""Conformance suite for :class:`voxcore.interfaces.Metric` plugins.

Subclass it in a plugin's tests and override :meth:`MetricSuite.build_metric` (and, if the
metric needs references, transcripts or labels, :meth:`MetricSuite.make_batch`)::

    class TestMyMetric(MetricSuite):
        def build_metric(self):
            return MyMetric(MyMetricConfig())

A metric whose running states merge (``merge_state``, so an evaluation can be split among
processes) subclasses :class:`MergesStateSuite` instead.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from voxcore.interfaces import EvalBatch, MergesState, Metric
from voxcore.io import load_tensors, save_tensors


class MetricSuite:
    """Checks every metric must pass: value types, batch-split invariance, reset, resume."""

    #: Images per batch made by :meth:`make_batch`, and their side.
    batch_size = 6
    image_size = 32
    #: Tolerance for comparing values computed along different paths.
    rtol = 1e-4
    atol = 1e-5

    def build_metric(self) -> Metric:
        """A fresh metric instance (override in the subclass)."""
        raise NotImplementedError("subclasses of MetricSuite must override build_metric()")

    def make_batch(self, seed: int) -> EvalBatch:
        """A batch of random images with references, transcripts and emotion labels."""
        g = torch.Generator().manual_seed(seed)
        n, size = self.batch_size, self.image_size
        emotions = ["enjoyment", "anger", "disgust", "fear", "sadness"]
        return EvalBatch(
            images=torch.rand(n, 3, size, size, generator=g),
            references=torch.rand(n, 3, size, size, generator=g),
            transcripts=[f"a photo of object number {seed * n + i}" for i in range(n)],
            labels={"emotion": [emotions[(seed + i) % len(emotions)] for i in range(n)]},
        )

    # -- helpers -------------------------------------------------------------------------

    def _values(self, metric: Metric, batches: list[EvalBatch]) -> dict[str, float]:
        metric.reset()
        for batch in batches:
            metric.update(batch)
        return metric.compute()

    def _assert_same(self, a: dict[str, float], b: dict[str, float], what: str) -> None:
        assert a.keys() == b.keys(), f"{what}: different keys {sorted(a)} vs {sorted(b)}"
        for key in a:
            assert math.isclose(a[key], b[key], rel_tol=self.rtol, abs_tol=self.atol), (
                f"{what}: {key} = {a[key]} vs {b[key]}")

    @staticmethod
    def _split(batch: EvalBatch, at: int) -> tuple[EvalBatch, EvalBatch]:
        def part(sl: slice) -> EvalBatch:
            return EvalBatch(
                images=batch.images[sl],
                references=None if batch.references is None else batch.references[sl],
                transcripts=None if batch.transcripts is None else list(batch.transcripts)[sl],
                labels={k: list(v)[sl] for k, v in batch.labels.items()},
            )

        return part(slice(0, at)), part(slice(at, None))

    # -- checks --------------------------------------------------------------------------

    def test_is_a_metric(self) -> None:
        assert isinstance(self.build_metric(), Metric), "does not satisfy voxcore.interfaces.Metric"

    def test_compute_returns_finite_floats(self) -> None:
        values = self._values(self.build_metric(), [self.make_batch(0), self.make_batch(1)])
        assert values, "compute() returned no values"
        for key, value in values.items():
            assert isinstance(key, str) and isinstance(value, float), (
                f"compute() must map str to float, got {key!r}: {type(value).__name__}")
            assert math.isfinite(value), f"{key} is not finite: {value}"

    def test_batch_split_does_not_matter(self) -> None:
        batch = self.make_batch(2)
        first, second = self._split(batch, self.batch_size // 3)  # uneven on purpose
        whole = self._values(self.build_metric(), [batch])
        parts = self._values(self.build_metric(), [first, second])
        self._assert_same(whole, parts, "one batch vs the same images in two batches")

    def test_reset_forgets(self) -> None:
        metric = self.build_metric()
        fresh = self._values(metric, [self.make_batch(3)])
        metric.update(self.make_batch(4))
        again = self._values(metric, [self.make_batch(3)])
        self._assert_same(fresh, again, "after reset()")

    def test_deterministic(self) -> None:
        batches = [self.make_batch(5), self.make_batch(6)]
        self._assert_same(self._values(self.build_metric(), batches),
                          self._values(self.build_metric(), batches), "two identical runs")

    def test_state_round_trip_resumes(self, tmp_path: Path) -> None:
        batches = [self.make_batch(7), self.make_batch(8)]
        expected = self._values(self.build_metric(), batches)
        interrupted = self.build_metric()
        interrupted.reset()
        interrupted.update(batches[0])
        path = tmp_path / "metric_state.safetensors"
        save_tensors(path, interrupted.state_dict())
        resumed = self.build_metric()
        resumed.reset()
        resumed.load_state_dict(load_tensors(path))
        resumed.update(batches[1])
        self._assert_same(expected, resumed.compute(), "resumed from a saved state")


class MergesStateSuite(MetricSuite):
    """:class:`~voxcore.interfaces.MergesState` (the metric can be evaluated split among
    processes): two processes' saved states merged give the values of one process. Subclass
    it instead of :class:`MetricSuite` for such a metric."""

    def test_has_the_state_merging_ability(self) -> None:
        metric = self.build_metric()
        assert isinstance(metric, MergesState), (
            f"{type(metric).__name__} has no merge_state(state) "
            "(voxcore.plugin_api.TensorState provides it)")

    def test_states_of_two_processes_merge_into_the_whole(self, tmp_path: Path) -> None:
        batches = [self.make_batch(9), self.make_batch(10), self.make_batch(11)]
        whole = self._values(self.build_metric(), batches)
        shares = []  # as two processes leave them: one saved state each
        for index, share in enumerate((batches[:1], batches[1:])):
            process = self.build_metric()
            process.reset()
            for batch in share:
                process.update(batch)
            path = tmp_path / f"state-{index}-of-2.safetensors"
            save_tensors(path, process.state_dict())
            shares.append(path)
        merged = self.build_metric()
        merged.reset()
        merged.load_state_dict(load_tensors(shares[0]))
        assert isinstance(merged, MergesState)
        merged.merge_state(load_tensors(shares[1]))
        self._assert_same(whole, merged.compute(),
                          "one process vs two processes' saved states merged (merge_state)")
