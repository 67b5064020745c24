"""The offline stages pass voxcore's conformance suites, and the builder's parts work alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from voxcore_voxemoset import (
    CaptionsFileConfig,
    EspeakSynthesizerConfig,
    ImagesConfig,
    SpeechEmotionConfig,
)
from voxcore_voxemoset.captions import check_captions
from voxcore_voxemoset.captions_file import CaptionsFile
from voxcore_voxemoset.emotion.recognizer import SpeechEmotionClassifier
from voxcore_voxemoset.emotion.train import speech_emotion_preparation
from voxcore_voxemoset.espeak import EspeakSynthesizer
from voxcore_voxemoset.images import read_images, trial_subset
from voxcore_voxemoset.plan import ReferencePool, Utterance
from voxcore_voxemoset.stats import table_row, word_histogram
from voxcore_voxemoset.testing import write_emoset
from voxcore_voxemoset.voices.testing import write_crema_d

from voxcore.plugin_api import LabelledImage, ReferenceVoice, UserError, get_registry
from voxcore.testing import (
    CaptionerSuite,
    EmotionRecognizerSuite,
    PreparationSuite,
    SynthesizerSuite,
    run_preparation,
    sample_images,
)

FIVE = ("enjoyment", "anger", "disgust", "fear", "sadness")


class TestCaptionsFile(CaptionerSuite):
    def build_captioner(self, tmp_path: Path) -> CaptionsFile:
        path = tmp_path / "captions.jsonl"
        lines = [{"image": f"image_{i}", "captions": [f"a thing number {i}", "a wall",
                                                      "a floor", "a door"]} for i in range(3)]
        path.write_text("\n".join(json.dumps(line) for line in lines))
        return CaptionsFile(CaptionsFileConfig(path=str(path)))


def test_captions_file_reads_csv_rows_by_file_name(tmp_path: Path) -> None:
    path = tmp_path / "captions.csv"
    path.write_text("image,caption\nimage_0.png,a red square\nimage_0.png,a small room\n")
    captioner = CaptionsFile(CaptionsFileConfig(path=str(path)))
    images = sample_images(tmp_path / "images", count=2)
    assert captioner.caption(images, count=3) == [["a red square", "a small room"], []]


def test_captions_file_refuses_a_file_without_captions(tmp_path: Path) -> None:
    path = tmp_path / "captions.jsonl"
    path.write_text(json.dumps({"picture": "x", "text": "y"}) + "\n")
    with pytest.raises(UserError, match="names no image with a caption"):
        CaptionsFile(CaptionsFileConfig(path=str(path)))


class TestEspeak(SynthesizerSuite):
    atol = 0.0  # a fresh espeak-ng process per utterance: the same samples, bit for bit

    def build_synthesizer(self, tmp_path: Path) -> EspeakSynthesizer:
        return EspeakSynthesizer(EspeakSynthesizerConfig())


@pytest.fixture(scope="module")
def trained_checker(tmp_path_factory: pytest.TempPathFactory) -> tuple[SpeechEmotionConfig, Path]:
    """The speech-emotion classifier trained on a fixture CREMA-D tree."""
    root = tmp_path_factory.mktemp("checker")
    write_crema_d(root / "CREMA-D")
    config = SpeechEmotionConfig(
        train_voices=[{"name": "crema-d", "config": {"root": str(root / "CREMA-D")}}],
        cache_dir=str(root / "cache"), epochs=5)
    return config, run_preparation(speech_emotion_preparation(config))


class TestSpeechEmotion(EmotionRecognizerSuite):
    @pytest.fixture(autouse=True)
    def _checker(self, trained_checker: tuple[SpeechEmotionConfig, Path]) -> None:
        self.checker = trained_checker

    def build_recognizer(self, tmp_path: Path) -> SpeechEmotionClassifier:
        config, folder = self.checker
        return SpeechEmotionClassifier(config, prepared=folder)


class TestSpeechEmotionPreparation(PreparationSuite):
    @pytest.fixture(autouse=True)
    def _voices(self, trained_checker: tuple[SpeechEmotionConfig, Path]) -> None:
        self.config = trained_checker[0]

    def build_preparation(self, tmp_path: Path) -> Any:
        config = self.config.model_copy(update={"cache_dir": str(tmp_path / "cache"),
                                                "epochs": 1})
        return speech_emotion_preparation(config)

    def build_component(self, tmp_path: Path, prepared: Path | None) -> Any:
        return SpeechEmotionClassifier(self.config, prepared=prepared)


def test_speech_emotion_is_registered_with_its_preparation() -> None:
    entry = get_registry("emotion_recognizer").get("speech-emotion")
    assert entry.needs_preparation
    with pytest.raises(UserError, match="train_voices"):
        entry.preparation({})


def test_check_captions_keeps_distinct_non_empty_ones() -> None:
    assert check_captions(["A dog.", " a dog. ", "", "a  cat", "a bird", "a fish"], 3) == \
        ["A dog.", "a cat", "a bird"]
    assert "2 distinct" in str(check_captions(["a", "A", "b"], 3))


def test_emoset_rows_of_four_and_three_and_labels_from_annotations(tmp_path: Path) -> None:
    ids = write_emoset(tmp_path, per_split={"train": 1}, categories=("anger", "awe", "fear"))
    rows = json.loads((tmp_path / "train.json").read_text())
    rows[0] = [rows[0][0], rows[0][2], rows[0][3]]  # three columns: the id is the file name
    rows[2] = ["", *rows[2][1:]]  # no label: the annotation's is used
    (tmp_path / "train.json").write_text(json.dumps(rows))
    found = read_images(ImagesConfig(root=str(tmp_path), splits=["train"]), FIVE)
    assert [(i.id, i.emotion) for i in found.images] == [(ids["train"][0], "anger"),
                                                        (ids["train"][2], "fear")]
    assert dict(found.left_out) == {"awe": 1}


def test_a_table_of_images(tmp_path: Path) -> None:
    images = sample_images(tmp_path / "pictures", count=3)
    table = tmp_path / "images.csv"
    table.write_text("image,emotion,split\npictures/image_0.png,amusement,train\n"
                     "pictures/image_1.png,sadness,test\npictures/gone.png,anger,train\n"
                     "pictures/image_2.png,,train\n")
    found = read_images(ImagesConfig(root=str(table), splits=["train", "test"]), FIVE)
    assert [(i.id, i.emotion, i.split) for i in found.images] == [
        ("image_0", "enjoyment", "train"), ("image_1", "sadness", "test")]
    reasons = sorted(s.reason for s in found.skipped)
    assert reasons[0] == "image file " + str(tmp_path / "pictures" / "gone.png") + " is missing"
    assert reasons[1] == "no emotion label"
    assert images[0].path.is_file()


def test_a_trial_takes_each_class_in_turn(tmp_path: Path) -> None:
    write_emoset(tmp_path, per_split={"train": 3}, categories=("anger", "fear", "sadness"))
    images = read_images(ImagesConfig(root=str(tmp_path), splits=["train"]), FIVE).images
    chosen = trial_subset(images, 4)
    assert [i.emotion for i in chosen].count("anger") == 2
    assert {i.emotion for i in chosen} == {"anger", "fear", "sadness"}


def reference(index: int, emotion: str = "anger", split: str = "train") -> ReferenceVoice:
    return ReferenceVoice(id=f"c/{emotion}{index}", audio=Path("x.wav"), emotion=emotion,
                          speaker=f"c/s{index}", corpus="c", split=split)


def test_references_differ_for_every_attempt_and_do_not_depend_on_the_order() -> None:
    voices = [reference(i) for i in range(6)] + [reference(9, split="test")]
    pool = ReferencePool(voices, ["anger"], {"train": "train", "test": "test"}, seed=0)
    again = ReferencePool(list(reversed(voices)), ["anger"], {"train": "train", "test": "test"},
                          seed=0)
    image = LabelledImage(id="x", path=Path("x.jpg"), emotion="anger", split="train")
    for index in range(20):
        utterance = Utterance(f"x_{index}", image, 0, "text")
        chosen = [pool.choose(utterance, attempt).id for attempt in range(6)]
        assert len(set(chosen)) == 6
        assert chosen == [again.choose(utterance, a).id for a in range(6)]
        assert pool.synthesis_seed(utterance, 0) != pool.synthesis_seed(utterance, 1)
    assert pool.missing(["train", "test"]) == []
    assert ReferencePool(voices, ["anger", "fear"], {"train": "train"}, 0).missing(
        ["train"]) == ["train/fear"]


def test_table_row_and_histogram() -> None:
    records = [
        {"image": "a", "status": "ok", "duration": 2.0, "text": "one two three",
         "confidence": 0.9, "dnsmos": {"ovrl_mos": 3.0}},
        {"image": "a", "status": "ok", "duration": 4.0, "text": "one two", "confidence": 0.7},
        {"image": "b", "status": "dropped", "text": "one", "attempts": []},
    ]
    row = table_row(records)
    assert row == {"images": 1, "utterances": 2, "length_s": 3.0, "words_per_caption": 2.5,
                   "nmos": 3.0, "nmos_utterances": 1, "emo_c": 0.8, "dropped": 1, "failed": 0}
    assert word_histogram(records) == {"words": [2, 3], "captions": [1, 1]}
