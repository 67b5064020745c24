"""The ``judge`` metric: per-label accuracy and FID of generated images, by a trained judge.

Build it from a recipe's config with :func:`build_judge` (what the registry calls, with the
judge prepared by ``voxcore prepare`` / ``voxcore train``), or from samples in hand with
:meth:`JudgeMetric.from_samples` (which trains the judge if it is not cached).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import ClassVar

import torch

from voxcore.plugin_api import (
    EvalBatch,
    PreparationMissing,
    RunningGaussian,
    Sample,
    TensorState,
    check_images,
    frechet_distance,
)
from voxcore_judge import JudgeConfig
from voxcore_judge.judge import Judge, default_cache_dir, load_judge, obtain_judge

__all__ = ["JudgeMetric", "build_judge"]


class JudgeMetric(TensorState):
    """Judges generated images with a trained classifier (a :class:`voxcore.interfaces.Metric`).

    :meth:`update` classifies ``batch.images`` and counts predictions that match
    ``batch.labels[<label>]`` (a label value the judge never saw in training counts as
    wrong), and accumulates the classifier's features of the generated images and of
    ``batch.references`` (when given). :meth:`compute` returns, as floats:

    - ``<label>_accuracy``: percent of generated images classified as their prompt's label;
    - ``fid``: Fréchet distance between the features of generated and reference images (only
      once at least two of each were added);
    - ``real_<label>_accuracy``: the judge's own accuracy on held-out real images, percent.
    """

    def __init__(self, judge: Judge, config: JudgeConfig) -> None:
        if set(config.labels) != set(judge.vocab):
            raise ValueError(f"the judge classifies {sorted(judge.vocab)} but the config asks "
                             f"for {sorted(config.labels)}")
        self.judge = judge
        self.config = config
        self.labels = list(config.labels)
        self._index = {label: {value: i for i, value in enumerate(judge.vocab[label])}
                       for label in self.labels}
        self.count: torch.Tensor
        self.correct: torch.Tensor
        self.generated: RunningGaussian
        self.reference: RunningGaussian
        self.reset()

    #: ``count`` images, ``correct[i]`` of them right on label ``i``, feature Gaussians.
    state_names: ClassVar[tuple[str, ...]] = ("count", "correct", "generated", "reference")
    state_label: ClassVar[str] = "judge metric"

    def initial_state(self) -> dict[str, torch.Tensor | RunningGaussian]:
        """Nothing counted yet."""
        dim = self.judge.classifier.feature_dim
        return {"count": torch.zeros((), dtype=torch.int64),
                "correct": torch.zeros(len(self.labels), dtype=torch.int64),
                "generated": RunningGaussian(dim), "reference": RunningGaussian(dim)}

    @classmethod
    def from_samples(cls, samples: Sequence[Sample], config: JudgeConfig | None = None, *,
                     cache_dir: str | Path | None = None) -> JudgeMetric:
        """A metric whose judge is trained on (or loaded from the cache for) ``samples``.

        ``config.train_data`` is ignored. The cache folder is ``cache_dir``, else
        ``config.cache_dir``, else :func:`~voxcore_judge.judge.default_cache_dir`.
        """
        config = config or JudgeConfig()
        folder = cache_dir or config.cache_dir
        resolved = Path(folder).expanduser() if folder is not None else default_cache_dir()
        return cls(obtain_judge(samples, config, resolved), config)

    @property
    def real_accuracy(self) -> dict[str, float]:
        """The judge's per-label accuracy on held-out real images, in percent."""
        return dict(self.judge.real_accuracy)

    @torch.no_grad()
    def predict(self, images: torch.Tensor) -> dict[str, list[str]]:
        """The judge's label for each image, per label key."""
        check_images(images)
        logits = self.judge.classifier.eval()(images)
        return {label: [self.judge.vocab[label][i] for i in logits[label].argmax(1).tolist()]
                for label in self.labels}

    @torch.no_grad()
    def update(self, batch: EvalBatch) -> None:
        """Classify and featurize ``batch.images`` (and featurize ``batch.references``)."""
        images = batch.images
        check_images(images, "EvalBatch.images")
        size = int(images.shape[0])
        if size == 0:
            return
        targets = {label: self._targets(batch, label, size) for label in self.labels}
        if batch.references is not None:
            check_images(batch.references, "EvalBatch.references")
        classifier = self.judge.classifier.eval()
        features, logits = classifier.judge(images)
        references = None if batch.references is None else classifier.features(batch.references)
        for index, (label, target) in enumerate(targets.items()):
            self.correct[index] += (logits[label].argmax(dim=1).cpu() == target).sum()
        self.generated.update(features)
        if references is not None:
            self.reference.update(references)
        self.count += size

    def compute(self) -> dict[str, float]:
        """Accuracies (percent), ``fid`` when references were given, the judge's own accuracy."""
        count = int(self.count)
        if count == 0:
            raise ValueError("JudgeMetric.compute() needs at least one update() with images")
        values = {f"{label}_accuracy": 100.0 * int(self.correct[index]) / count
                  for index, label in enumerate(self.labels)}
        if int(self.reference.count) >= 2 and int(self.generated.count) >= 2:
            values["fid"] = frechet_distance(self.generated.mean, self.generated.covariance,
                                             self.reference.mean, self.reference.covariance)
        values.update({f"real_{label}_accuracy": float(value)
                       for label, value in self.judge.real_accuracy.items()})
        return values

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The running state (see :class:`~voxcore.plugin_api.TensorState`) plus the judge's
        key, so a state is only resumed with the judge that accumulated it."""
        return {**super().state_dict(), "judge_key": _encode(self.judge.key)}

    def load_state_dict(self, state: Mapping[str, torch.Tensor]) -> None:
        """Restore a state from :meth:`state_dict` of a metric with the same judge."""
        super().load_state_dict(self._counts_of(state))

    def merge_state(self, state: Mapping[str, torch.Tensor]) -> None:
        """Add another process's state (:meth:`state_dict` of a metric with the same judge)."""
        super().merge_state(self._counts_of(state))

    def _counts_of(self, state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """``state`` without its judge key, once the key is checked to be this judge's."""
        if "judge_key" not in state:
            raise KeyError(f"judge metric state has keys {sorted(state)}, expected a judge_key")
        saved_key = bytes(state["judge_key"].tolist()).decode("ascii", errors="replace")
        if saved_key != self.judge.key:
            raise ValueError(f"this state was accumulated by judge {saved_key}, not by this "
                             f"metric's judge {self.judge.key}; its counts cannot be resumed "
                             "or merged")
        return {k: v for k, v in state.items() if k != "judge_key"}

    def _targets(self, batch: EvalBatch, label: str, size: int) -> torch.Tensor:
        if label not in batch.labels:
            raise ValueError(f"EvalBatch has no labels {label!r} (it has "
                             f"{sorted(batch.labels) or 'none'}); the judge classifies "
                             f"{self.labels}")
        values = list(batch.labels[label])
        if len(values) != size:
            raise ValueError(f"EvalBatch.labels[{label!r}] has {len(values)} values for "
                             f"{size} images")
        # -1 never equals a predicted class: an unknown label counts as wrong.
        return torch.tensor([self._index[label].get(value, -1) for value in values],
                            dtype=torch.int64)


def build_judge(config: JudgeConfig, prepared: Path | None = None) -> JudgeMetric:
    """The registry's factory: the metric with the judge prepared in ``prepared``."""
    if prepared is None:
        raise PreparationMissing("metric 'judge' has no trained judge: prepare it with "
                                 "'voxcore prepare RECIPE' (voxcore train does it too)")
    return JudgeMetric(load_judge(prepared, config), config)


def _encode(text: str) -> torch.Tensor:
    return torch.tensor(list(text.encode("ascii")), dtype=torch.uint8)
