"""Tests of voxcore-ctc: the recogniser, its training command, and the ctc-words encoder.

A small VoxShapes build (espeak-ng speech) is the real data: the recogniser must learn its
words. Conformance runs on random-weight recognisers saved the way the command saves them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from pydantic import ValidationError
from voxcore_ctc import CtcWordsConfig, RecognizerTraining
from voxcore_ctc.encoder import CtcWordsEncoder
from voxcore_ctc.preparation import CACHE_FOLDER, RecognizerPreparation
from voxcore_ctc.recognizer import (
    SPEC_FILE,
    WEIGHTS_FILE,
    RecognizerSpec,
    WordRecognizer,
    greedy_words,
    load_recognizer,
    save_recognizer,
    transcript_words,
)
from voxcore_ctc.train import (
    collect_utterances,
    recognition_accuracy,
    train_recognizer,
)
from voxcore_mel import MelConfig

from voxcore.plugin_api import PreparationMissing, SpeechEncoder, UserError, get_registry
from voxcore.testing import PreparationSuite, WeightsFingerprintSuite, run_preparation
from voxcore.testing.encoder import synthetic_waveform

MEL = MelConfig(n_mels=80, hop_length=320)
VOCABULARY = ["circle", "left", "ring", "the"]


def save_random(folder: Path, *, hears_nothing: bool = False, seed: int = 0) -> Path:
    """A random-weight recogniser in ``folder``; with ``hears_nothing`` it only emits blanks."""
    torch.manual_seed(seed)
    model = WordRecognizer(RecognizerSpec(vocabulary=VOCABULARY, mel=MEL, width=32,
                                          num_layers=1, num_heads=2))
    if hears_nothing:
        with torch.no_grad():
            model.head.bias[0] = 100.0
    save_recognizer(model, folder)
    return folder


class TestCtcWordsProsody(WeightsFingerprintSuite):
    """Words (none heard by this recogniser) and prosody frames at 12.5 per second."""

    def build_encoder(self) -> SpeechEncoder:
        folder = save_random(self._folder / "recognizer", hears_nothing=True)
        return CtcWordsEncoder(CtcWordsConfig(recognizer=str(folder)))

    def build_encoder_with_other_weights(self) -> SpeechEncoder:
        folder = save_random(self._folder / "other", hears_nothing=True, seed=1)
        return CtcWordsEncoder(CtcWordsConfig(recognizer=str(folder)))

    @pytest.fixture(autouse=True)
    def _temporary_folder(self, tmp_path: Path) -> None:
        self._folder: Path = tmp_path


# -- the recogniser ----------------------------------------------------------------------------

def test_transcript_words() -> None:
    assert transcript_words("There's a Ring, on the LEFT side.") == [
        "there's", "a", "ring", "on", "the", "left", "side"]
    assert transcript_words("  ") == []


def test_greedy_decoding_drops_blanks_and_repeats_but_not_separated_repeats() -> None:
    best = torch.tensor([[0, 1, 1, 0, 1, 2, 2, 3], [2, 2, 0, 0, 0, 0, 0, 4]])
    logits = torch.nn.functional.one_hot(best, 5).float()
    mask = torch.tensor([[True] * 8, [True] * 6 + [False] * 2])
    assert greedy_words(logits, mask) == [[1, 1, 2, 3], [2]]


def test_padding_does_not_change_the_logits() -> None:
    torch.manual_seed(0)
    model = WordRecognizer(RecognizerSpec(vocabulary=VOCABULARY, mel=MEL, width=32,
                                          num_layers=1, num_heads=2)).eval()
    short, long = torch.randn(1, 13, 80), torch.randn(1, 30, 80)
    batch = torch.zeros(2, 30, 80)
    batch[0, :13], batch[1] = short[0], long[0]
    mask = torch.zeros(2, 30, dtype=torch.bool)
    mask[0, :13], mask[1] = True, True
    together, together_mask = model(batch, mask)
    alone, alone_mask = model(short, torch.ones(1, 13, dtype=torch.bool))
    assert int(together_mask[0].sum()) == alone.shape[1] == 4  # ceil(13 / 4)
    torch.testing.assert_close(together[0, :4], alone[0], atol=1e-5, rtol=1e-5)


def test_saved_and_loaded_recogniser_is_the_same(tmp_path: Path) -> None:
    save_random(tmp_path / "r")
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == [SPEC_FILE, WEIGHTS_FILE]
    loaded = load_recognizer(tmp_path / "r")
    torch.manual_seed(0)
    fresh = WordRecognizer(loaded.spec)
    assert not loaded.training
    for name, tensor in fresh.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[name], tensor, atol=0, rtol=0)


@pytest.mark.parametrize("damage, message", [
    ("missing", "holds no trained recogniser"),
    ("spec", "is not a recogniser spec"),
    ("format", "has format 'other/9'"),
    ("weights", "does not fit"),
])
def test_bad_recogniser_folders_say_what_to_do(tmp_path: Path, damage: str,
                                               message: str) -> None:
    folder = save_random(tmp_path / "r")
    spec = json.loads((folder / SPEC_FILE).read_text())
    if damage == "missing":
        (folder / WEIGHTS_FILE).unlink()
    elif damage == "spec":
        (folder / SPEC_FILE).write_text("{not json")
    elif damage == "format":
        (folder / SPEC_FILE).write_text(json.dumps({**spec, "format": "other/9"}))
    else:
        (folder / SPEC_FILE).write_text(json.dumps({**spec, "width": 64, "num_heads": 2}))
    with pytest.raises(UserError, match=message) as caught:
        get_registry("encoder").build("ctc-words", {"recognizer": str(folder)})
    assert "voxcore train-recognizer" in str(caught.value)
    assert "encoder.config.recognizer" in str(caught.value)


def test_config_needs_exactly_one_source() -> None:
    for given in ({}, {"recognizer": "x", "train_data": {"name": "voxshapes"}}):
        with pytest.raises(ValidationError, match="either 'recognizer'"):
            CtcWordsConfig.model_validate(given)
    with pytest.raises(ValidationError, match="'heldout_data' goes with 'train_data'"):
        CtcWordsConfig.model_validate({"recognizer": "x", "heldout_data": {"name": "v"}})
    with pytest.raises(ValidationError, match="num_heads"):
        CtcWordsConfig.model_validate({"train_data": {"name": "v"},
                                       "training": {"width": 30, "num_heads": 4}})


def test_config_rejects_typos_and_negative_strides() -> None:
    with pytest.raises(ValidationError, match="recogniser"):
        CtcWordsConfig.model_validate({"recognizer": "x", "recogniser": "y"})
    with pytest.raises(ValidationError, match="prosody_stride"):
        CtcWordsConfig.model_validate({"recognizer": "x", "prosody_stride": -1})


def test_plugin_module_does_not_import_torch() -> None:
    code = "import sys, voxcore_ctc; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=60)
    assert result.stdout.strip() == "False"


# -- the encoder -------------------------------------------------------------------------------

def test_words_only_and_what_the_tokens_hold(tmp_path: Path) -> None:
    folder = save_random(tmp_path / "r", seed=3)
    words = CtcWordsEncoder(CtcWordsConfig(recognizer=str(folder), prosody_stride=0))
    both = CtcWordsEncoder(CtcWordsConfig(recognizer=str(folder), prosody_stride=4))
    assert (words.output_dim, both.output_dim) == (4, 4 + 80)
    audio = [synthetic_waveform(1.0, 16000, seed=5)]
    heard = greedy_words(*words.recognizer(*_mel(words, audio)))[0]
    only = words.encode(audio)
    assert only.features.shape[1] == max(len(heard), 1) and len(heard) > 0
    assert only.features[0].argmax(-1).tolist() == [i - 1 for i in heard]
    assert bool((only.features[0].sum(-1) == 1).all())  # one-hot word tokens
    full = both.encode(audio)
    frames = full.features.shape[1] - len(heard)
    assert frames == 13  # ceil(49 mel frames / 4)
    torch.testing.assert_close(full.features[0, : len(heard), :4], only.features[0])
    assert bool((full.features[0, : len(heard), 4:] == 0).all())
    assert bool((full.features[0, len(heard):, :4] == 0).all())
    assert words.weights_fingerprint == both.weights_fingerprint
    mel = both.mel.encode(audio)
    every = CtcWordsEncoder(CtcWordsConfig(recognizer=str(folder))).encode(audio)
    assert every.frame_rate == 50.0 and full.frame_rate == 12.5
    torch.testing.assert_close(every.features[0, len(heard):, 4:], mel.features[0])
    torch.testing.assert_close(full.features[0, len(heard):len(heard) + 1, 4:],
                               mel.features[0, :4].mean(0, keepdim=True))


def test_nothing_heard_and_no_prosody_keeps_one_zero_token(tmp_path: Path) -> None:
    folder = save_random(tmp_path / "r", hears_nothing=True)
    encoder = CtcWordsEncoder(CtcWordsConfig(recognizer=str(folder), prosody_stride=0))
    out = encoder.encode([synthetic_waveform(0.7, 16000)])
    assert out.features.shape == (1, 1, 4) and bool(out.mask.all())
    assert float(out.features.abs().sum()) == 0.0


def test_recogniser_is_frozen_and_not_in_the_state(tmp_path: Path) -> None:
    encoder = CtcWordsEncoder(CtcWordsConfig(recognizer=str(save_random(tmp_path / "r"))))
    assert not any(name.startswith("_recognizer") for name in encoder.state_dict())
    assert all(not p.requires_grad for p in encoder.recognizer.parameters())
    encoder.to(torch.float64)
    assert next(encoder.recognizer.parameters()).dtype == torch.float64


def test_weights_fingerprint_follows_the_weights(tmp_path: Path) -> None:
    folder = save_random(tmp_path / "r")
    first = CtcWordsEncoder(CtcWordsConfig(recognizer=str(folder))).weights_fingerprint
    save_random(folder)  # the same weights written again: the same fingerprint
    assert CtcWordsEncoder(CtcWordsConfig(recognizer=str(folder))).weights_fingerprint == first
    spec = json.loads((folder / SPEC_FILE).read_text())
    (folder / SPEC_FILE).write_text(json.dumps({**spec, "trained_on": "elsewhere",
                                                "heldout": {"utterances": 3.0}}))
    assert CtcWordsEncoder(CtcWordsConfig(recognizer=str(folder))).weights_fingerprint == first
    save_random(folder, seed=1)
    assert CtcWordsEncoder(CtcWordsConfig(recognizer=str(folder))).weights_fingerprint != first


def _mel(encoder: CtcWordsEncoder, audio: list) -> tuple[torch.Tensor, torch.Tensor]:  # type: ignore[type-arg]
    mel = encoder.mel.encode(audio)
    return mel.features, mel.mask


# -- learning on real speech -------------------------------------------------------------------

@pytest.fixture(scope="module")
def voxshapes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("data") / "voxshapes"
    builder = get_registry("dataset_builder").get("voxshapes").build({"size": 60, "seed": 0})
    builder.build(root)
    return root


@pytest.mark.slow
def test_learns_the_words_of_its_training_speech(voxshapes: Path, tmp_path: Path) -> None:
    train = collect_utterances("voxshapes", {"root": str(voxshapes), "split": "train"}, MEL)
    assert len(train) >= 40 and all(train.words)
    options = RecognizerTraining(mel=MEL, width=64, num_layers=1, num_heads=2, steps=250,
                                 batch_size=16, lr=3e-3)
    spec = train_recognizer(train, None, options, tmp_path / "r")
    model = load_recognizer(tmp_path / "r")
    assert model.spec == spec and spec.heldout == {"train_seconds": spec.heldout["train_seconds"]}
    figures = recognition_accuracy(model, train)
    assert figures["words_recognised_percent"] > 90, figures
    untrained = WordRecognizer(spec).eval()
    assert recognition_accuracy(untrained, train)["words_recognised_percent"] < 50


@pytest.mark.slow
def test_train_recognizer_command_then_encoder(voxshapes: Path, tmp_path: Path) -> None:
    out = tmp_path / "recognizer"
    result = subprocess.run(
        [sys.executable, "-m", "voxcore.cli", "train-recognizer", "--dataset", "voxshapes",
         "--dataset-option", f"root={voxshapes}", "--out", str(out), "--width", "32",
         "--num-layers", "1", "--num-heads", "2", "--steps", "20", "--batch-size", "8"],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "transcripts exact" in result.stdout and f"recognizer: {out}" in result.stdout
    spec = RecognizerSpec.model_validate_json((out / SPEC_FILE).read_text())
    assert set(spec.heldout) == {"train_seconds", "utterances", "exact_transcripts_percent",
                                 "words_recognised_percent"}
    assert spec.heldout["utterances"] > 0 and "voxshapes" in spec.trained_on
    assert {"circle", "left", "right"} <= set(spec.vocabulary)
    encoder = get_registry("encoder").build("ctc-words", {"recognizer": str(out)})
    assert encoder.output_dim == len(spec.vocabulary) + 80


def _prepared_settings(voxshapes: Path, tmp_path: Path, steps: int = 30) -> dict[str, object]:
    return {"train_data": {"name": "voxshapes",
                           "config": {"root": str(voxshapes), "split": "train"}},
            "heldout_data": {"name": "voxshapes",
                             "config": {"root": str(voxshapes), "split": "test"}},
            "training": {"width": 32, "num_layers": 1, "num_heads": 2, "steps": steps,
                         "batch_size": 8},
            "cache_dir": str(tmp_path / "cache")}


@pytest.mark.slow
class TestRecognizerPreparation(PreparationSuite):
    """The recogniser is ctc-words' preparation: trained once, cached, never by building."""

    @pytest.fixture(autouse=True)
    def _data(self, voxshapes: Path) -> None:
        self._voxshapes = voxshapes

    def build_preparation(self, tmp_path: Path) -> RecognizerPreparation:
        return RecognizerPreparation(CtcWordsConfig.model_validate(
            _prepared_settings(self._voxshapes, tmp_path)))

    def build_component(self, tmp_path: Path, prepared: Path | None) -> CtcWordsEncoder:
        return get_registry("encoder").build(
            "ctc-words", _prepared_settings(self._voxshapes, tmp_path), prepared=prepared)


@pytest.mark.slow
def test_prepared_recogniser_is_keyed_by_its_settings(voxshapes: Path, tmp_path: Path) -> None:
    entry = get_registry("encoder").get("ctc-words")
    settings = _prepared_settings(voxshapes, tmp_path)
    with pytest.raises(PreparationMissing, match="voxcore prepare"):
        entry.build(settings)  # building never trains
    assert not (tmp_path / "cache").exists()
    folder = run_preparation(entry.preparation(settings))
    assert folder.parent == tmp_path / "cache" and len(folder.name) == 32
    spec = RecognizerSpec.model_validate_json((folder / SPEC_FILE).read_text())
    assert spec.heldout["utterances"] > 0
    encoder = entry.build(settings, prepared=folder)
    assert encoder.folder == folder and encoder.output_dim == len(spec.vocabulary) + 80
    longer = entry.preparation(_prepared_settings(voxshapes, tmp_path, steps=31))
    assert longer.cache_folder() != folder
    assert entry.preparation({"recognizer": str(folder)}) is None  # nothing to prepare


@pytest.mark.slow
def test_default_cache_is_beside_the_manifest(voxshapes: Path, tmp_path: Path) -> None:
    settings = {**_prepared_settings(voxshapes, tmp_path), "cache_dir": None}
    preparation = RecognizerPreparation(CtcWordsConfig.model_validate(settings))
    assert preparation.cache_folder().parent == voxshapes / CACHE_FOLDER


@pytest.mark.parametrize("arguments, message", [
    (["--steps", "0"], "steps: Input should be greater than 0"),
    (["--width", "30", "--num-heads", "4"], "num_heads (4) must divide width (30)"),
    (["--mel", "{oops"], "--mel is not JSON"),
    (["--mel", '{"n_mel": 80}'], "mel.n_mel: Extra inputs are not permitted"),
    (["--dataset", "nope"], "nope"),
])
def test_train_recognizer_rejects_bad_options(tmp_path: Path, arguments: list[str],
                                              message: str) -> None:
    base = ["--dataset", "voxshapes", "--dataset-option", f"root={tmp_path}", "--out",
            str(tmp_path / "r")]
    result = subprocess.run([sys.executable, "-m", "voxcore.cli", "train-recognizer", *base,
                             *arguments], capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_train_and_generate_through_the_cli(voxshapes: Path, tmp_path: Path) -> None:
    recipe = tmp_path / "speech.yaml"
    data = f"{{name: voxshapes, config: {{root: {voxshapes}, split: train}}}}"
    recipe.write_text(f"""
name: ctc-toy
encoder:
  name: ctc-words
  config:
    train_data: {data}
    training: {{width: 32, num_layers: 1, num_heads: 2, steps: 20, batch_size: 8}}
    cache_dir: {tmp_path / "recognizers"}
bottleneck: {{name: words-prosody, config: {{prosody: {{ratio: 4, widths: [16, 16],
                                                        num_heads: 2}}}}}}
generator: {{name: tiny-unet, config: {{resolution: 16, block_out_channels: [16, 32],
                                       cross_attention_dim: 16, pooled_dim: 16}}}}
data: {{train: [{data}], cache_dir: {tmp_path / "features"}}}
train: {{lr: 1.0e-3, batch_size: 4, max_steps: 2, checkpoint_every: 2, validate_every: 0}}
generate: {{steps: 2}}
""")

    def voxcore(*args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([sys.executable, "-m", "voxcore.cli", *args],
                                capture_output=True, text=True, timeout=600, cwd=tmp_path)
        assert result.returncode == 0, result.stderr[-3000:]
        return result

    trained = voxcore("train", str(recipe), "--run-dir", str(tmp_path / "run"), "--no-progress")
    assert "preparing: word recogniser of encoder (ctc-words)" in trained.stderr
    assert "speech features (voxcore-ctc:ctc-words)" in trained.stderr
    audio = sorted((voxshapes / "audio").glob("*.wav"))[:2]
    voxcore("generate", str(tmp_path / "run"), "--audio", *map(str, audio), "--out",
            str(tmp_path / "images"))
    assert len(list((tmp_path / "images").glob("*.png"))) == 2
