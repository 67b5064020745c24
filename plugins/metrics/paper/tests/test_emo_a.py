"""Emo-A: 'voxcore train-classifier' on an EmoSet-layout fixture, then the emo-a metric."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from voxcore_metrics import EMOTIONS, EmoAConfig
from voxcore_metrics.emotion import EmoAMetric, build_emo_a, canonical_emotion, load_classifier
from voxcore_metrics.testing import emotion_images, write_emoset

from voxcore.cli import main
from voxcore.plugin_api import EvalBatch, UserError
from voxcore.testing import MergesStateSuite

TRAIN_ARGS = ["--model", "test_resnet", "--resolution", "32", "--epochs", "3",
              "--batch-size", "16", "--lr", "3e-3", "--seed", "0"]


@pytest.fixture(scope="session")
def emoset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_emoset(tmp_path_factory.mktemp("emoset"), train_per_class=24, val_per_class=6)


@pytest.fixture(scope="session")
def trained(emoset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A classifier trained through the CLI (one torch thread)."""
    from voxcore.testing import reset_plugins

    reset_plugins()
    out = tmp_path_factory.mktemp("classifier")
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert main(["train-classifier", str(emoset), "--out", str(out), *TRAIN_ARGS]) == 0
    finally:
        torch.set_num_threads(previous)
        reset_plugins()
    return out


def _labels(count: int, offset: int = 0) -> list[str]:
    return [EMOTIONS[(i + offset) % len(EMOTIONS)] for i in range(count)]


def test_training_writes_safetensors_and_config(trained: Path) -> None:
    info = json.loads((trained / "classifier.json").read_text())
    assert info["classes"] == list(EMOTIONS)
    assert info["model"] == "test_resnet" and info["resolution"] == 32
    assert set(info["normalization"]) == {"mean", "std"}
    # 24 images per EmoSet folder: amusement + excitement make 48 enjoyment; awe left out.
    assert info["train_counts"] == {"enjoyment": 48, "anger": 24, "disgust": 24, "fear": 24,
                                    "sadness": 24}
    assert info["num_heldout"] == 6 * 6
    assert info["heldout_accuracy"] >= 80.0
    assert (trained / "classifier.safetensors").is_file()
    assert not list(trained.glob("*.pt*")) and not list(trained.glob("*.bin"))


def test_emo_a_scores_correct_labels_higher_than_wrong_ones(trained: Path) -> None:
    metric = build_emo_a(EmoAConfig(classifier=str(trained)))
    labels = _labels(20)
    images = emotion_images(labels, seed=1)
    metric.update(EvalBatch(images=images, labels={"emotion": labels}))
    right = metric.compute()["emo_a"]
    metric.reset()
    metric.update(EvalBatch(images=images, labels={"emotion": _labels(20, offset=2)}))
    wrong = metric.compute()["emo_a"]
    assert right >= 80.0 and wrong <= 20.0, (right, wrong)


def test_emotions_outside_the_classes_are_skipped_and_counted(trained: Path) -> None:
    metric = build_emo_a(EmoAConfig(classifier=str(trained)))
    labels = ["Amusement", "awe", "anger", "contentment", "excitement", "neutral"]
    metric.update(EvalBatch(images=emotion_images(["enjoyment"] * 6, seed=2),
                            labels={"emotion": labels}))
    values = metric.compute()
    assert values["emo_a_scored"] == 3.0 and values["emo_a_skipped"] == 3.0
    assert values["emo_a_classifier_heldout"] >= 80.0


class TestEmoASuite(MergesStateSuite):
    @pytest.fixture(autouse=True)
    def _classifier(self, trained: Path) -> None:
        self.folder = trained

    def build_metric(self) -> EmoAMetric:
        return EmoAMetric(load_classifier(self.folder), batch_size=4)


def test_canonical_emotions() -> None:
    assert canonical_emotion(" Excitement") == "enjoyment"
    assert canonical_emotion("amusement") == "enjoyment"
    assert canonical_emotion("awe") == "awe"
    assert [canonical_emotion(e) for e in EMOTIONS] == list(EMOTIONS)


def test_missing_classifier_folder_says_how_to_train(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="voxcore train-classifier"):
        build_emo_a(EmoAConfig(classifier=str(tmp_path)))


def test_cli_refuses_missing_or_empty_data(tmp_path: Path, fresh_plugins: None,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "out")
    assert main(["train-classifier", str(tmp_path / "missing"), "--out", out]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "empty" / "image").mkdir(parents=True)
    assert main(["train-classifier", str(tmp_path / "empty"), "--out", out]) == 2
    assert "no training images" in capsys.readouterr().err
    assert main(["train-classifier", "--out", out]) == 2
    assert "EMOSET_DIR or --dataset" in capsys.readouterr().err
    assert main(["train-classifier", str(tmp_path), "--out", out, "--model", "nope"]) == 2
    assert "timm model" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_trains_on_a_registered_dataset(emoset: Path, tmp_path: Path, fresh_plugins: None,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """--dataset NAME reads samples' labels['emotion'] from any registered dataset."""
    from pydantic import BaseModel, ConfigDict

    from voxcore.plugin_api import Sample
    from voxcore.testing import register_for_test

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        root: str

    class Folder:
        def __init__(self, config: Config) -> None:
            files = sorted(Path(config.root).glob("image/*/*.jpg"))
            self.samples = [Sample(id=f.stem, audio=None, image=f,
                                   labels={"emotion": f.parent.name}) for f in files]

        def __len__(self) -> int:
            return len(self.samples)

        def __getitem__(self, index: int) -> Sample:
            return self.samples[index]

    register_for_test("dataset", "emo-folder", config=Config, factory=Folder)
    monkeypatch.setattr("voxcore.plugins.reset", lambda: None)  # keep the entry for main()
    out = tmp_path / "out"
    args = ["train-classifier", "--dataset", "emo-folder", "--dataset-option",
            f"root={emoset}", "--out", str(out), *TRAIN_ARGS]
    args[args.index("--epochs") + 1] = "1"
    assert main(args) == 0
    info = json.loads((out / "classifier.json").read_text())
    assert info["source"].startswith("dataset emo-folder")
    assert info["num_train"] + info["num_heldout"] == 30 * 6  # awe left out


def test_emoset_split_rows_of_four_read_like_rows_of_three(emoset: Path, tmp_path: Path) -> None:
    """EmoSet-118K's released split files list [emotion, image id, image path, annotation]."""
    import shutil

    from voxcore_metrics.train import collect_emoset

    four = tmp_path / "emoset-four"
    shutil.copytree(emoset, four)
    for split in ("train", "val"):
        rows = json.loads((four / f"{split}.json").read_text())
        (four / f"{split}.json").write_text(json.dumps(
            [[emotion, Path(image).stem, image, annotation]
             for emotion, image, annotation in rows]))
    three_train, three_held, _ = collect_emoset(emoset, 0.1, 0)
    four_train, four_held, _ = collect_emoset(four, 0.1, 0)
    assert [(f.path.relative_to(four), f.emotion) for f in four_train] == \
        [(f.path.relative_to(emoset), f.emotion) for f in three_train]
    assert len(four_held) == len(three_held) == 6 * 6
