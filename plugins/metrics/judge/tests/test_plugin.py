"""The plugin as voxcore sees it: registration, config, building through the registry."""

from __future__ import annotations

import random
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError
from voxcore_judge import JudgeConfig
from voxcore_judge.judge import (
    JudgePreparation,
    LowJudgeAccuracyError,
    LowJudgeAccuracyWarning,
    check_real_accuracy,
    default_cache_dir,
    obtain_judge,
)
from voxcore_judge.metric import JudgeMetric, build_judge
from voxcore_judge.testing import write_shapes

from voxcore.plugin_api import EvalBatch, PreparationMissing, Sample, UserError, get_registry
from voxcore.testing import PreparationSuite, register_for_test, run_preparation


def test_importing_the_plugin_module_does_not_import_torch_or_timm() -> None:
    code = ("import sys, voxcore_judge; "
            "bad = [m for m in ('torch', 'timm') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_judge_is_registered_with_its_config() -> None:
    entry = get_registry("metric").get("judge")
    assert entry.distribution == "voxcore-judge" and entry.config_model is JudgeConfig
    assert entry.description


def test_config_defaults_and_validation() -> None:
    config = JudgeConfig()
    assert (config.train_data.name, config.train_data.config) == ("voxshapes", {"split": "train"})
    assert config.labels == ["content", "mood"] and config.resolution == 32
    assert config.color_invariant == ["content"]
    assert config.min_real_accuracy == 0.95 and config.cache_dir is None
    with pytest.raises(ValidationError, match="extra"):
        JudgeConfig.model_validate({"epoch": 3})
    with pytest.raises(ValidationError, match="extra"):
        JudgeConfig.model_validate({"train_data": {"name": "x", "split": "train"}})
    with pytest.raises(ValidationError, match="distinct"):
        JudgeConfig(labels=["mood", "mood"], color_invariant=[])
    with pytest.raises(ValidationError, match="label keys"):
        JudgeConfig(labels=["a.b"], color_invariant=[])
    with pytest.raises(ValidationError, match=r"color_invariant names \['content'\]"):
        JudgeConfig(labels=["shape"])


class _ShapesDatasetConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    root: str


class _ShapesDataset:
    """A dataset as the registry builds one, with its manifest's ``path``."""

    def __init__(self, config: _ShapesDatasetConfig) -> None:
        self.path = Path(config.root) / "train.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("")
        self.samples = write_shapes(Path(config.root) / "images", 24)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> Sample:
        return self.samples[index]


def _register_shapes() -> None:
    register_for_test("dataset", "test-shapes", config=_ShapesDatasetConfig,
                      factory=_ShapesDataset)


def _settings(root: Path) -> dict[str, object]:
    return {"train_data": {"name": "test-shapes", "config": {"root": str(root)}},
            "labels": ["shape", "tone"], "color_invariant": ["shape"], "epochs": 1,
            "batch_size": 8, "min_real_accuracy": 0.0}


class TestJudgePreparation(PreparationSuite):
    """Training the judge is the metric's preparation; building the metric only loads it."""

    def build_preparation(self, tmp_path: Path) -> JudgePreparation:
        _register_shapes()
        return JudgePreparation(JudgeConfig.model_validate(_settings(tmp_path / "data")))

    def build_component(self, tmp_path: Path, prepared: Path | None) -> JudgeMetric:
        return build_judge(JudgeConfig.model_validate(_settings(tmp_path / "data")), prepared)


def test_the_registry_builds_the_judge_it_prepared(tmp_path: Path) -> None:
    _register_shapes()
    entry = get_registry("metric").get("judge")
    config = _settings(tmp_path)
    with pytest.raises(PreparationMissing, match="voxcore prepare"):
        entry.build(config)  # building never trains
    folder = run_preparation(entry.preparation(config))
    # By default the cache lives beside the dataset's manifest.
    assert folder.parent == tmp_path / ".judge-cache"
    metric = entry.build(config, prepared=folder)
    assert isinstance(metric, JudgeMetric) and metric.judge.folder == folder
    assert run_preparation(entry.preparation(config)) == folder  # reused, not retrained


def test_default_cache_dir_without_a_manifest(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "voxcore" / "judge"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir(object()) == Path.home() / ".cache" / "voxcore" / "judge"


def test_from_samples_uses_the_given_cache_dir(tmp_path: Path) -> None:
    samples = write_shapes(tmp_path / "data", 24)
    config = JudgeConfig(labels=["shape", "tone"], color_invariant=["shape"], epochs=1,
                         batch_size=8, min_real_accuracy=0.0,
                         cache_dir=str(tmp_path / "from-config"))
    metric = JudgeMetric.from_samples(samples, config, cache_dir=tmp_path / "explicit")
    assert metric.judge.folder.parent == tmp_path / "explicit"
    assert JudgeMetric.from_samples(samples, config).judge.folder.parent == (
        tmp_path / "from-config")


def test_low_real_accuracy_warns_or_raises() -> None:
    config = JudgeConfig(labels=["shape"], color_invariant=[], min_real_accuracy=0.9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_real_accuracy({"shape": 90.0}, config)
    with pytest.warns(LowJudgeAccuracyWarning, match=r"shape 80\.0%"):
        check_real_accuracy({"shape": 80.0}, config)
    with pytest.raises(LowJudgeAccuracyError, match="min_real_accuracy is 90%"):
        check_real_accuracy({"shape": 80.0}, config.model_copy(update={"on_low_accuracy":
                                                                        "raise"}))
    assert issubclass(LowJudgeAccuracyError, UserError)


def test_a_judge_that_cannot_learn_its_labels_is_refused(tmp_path: Path) -> None:
    # Labels drawn at random: nothing in the images predicts them.
    rng = random.Random(0)
    samples = [Sample(id=s.id, audio=None, image=s.image,
                      labels={"coin": rng.choice(["heads", "tails"])})
               for s in write_shapes(tmp_path / "data", 60)]
    config = JudgeConfig(labels=["coin"], color_invariant=[], epochs=2, batch_size=16,
                         holdout=0.3, on_low_accuracy="raise")
    with pytest.raises(LowJudgeAccuracyError, match="coin"):
        obtain_judge(samples, config, tmp_path / "cache")


def test_an_empty_batch_changes_nothing(tmp_path: Path) -> None:
    samples = write_shapes(tmp_path / "data", 24)
    config = JudgeConfig(labels=["shape", "tone"], color_invariant=["shape"], epochs=1,
                         batch_size=8, min_real_accuracy=0.0)
    metric = JudgeMetric.from_samples(samples, config, cache_dir=tmp_path / "cache")
    import torch

    metric.update(EvalBatch(images=torch.zeros(0, 3, 32, 32), labels={"shape": [], "tone": []}))
    assert int(metric.count) == 0
