"""The ``emotion2vec`` recognizer on a tiny random checkpoint: voxcore's conformance suite,
FunASR's own scores, batching, precision and the label mapping end to end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from voxcore_emotion2vec import Emotion2vecConfig, write_tiny_checkpoint
from voxcore_emotion2vec.recognizer import Emotion2vecRecognizer, build_emotion2vec_recognizer

from voxcore.plugin_api import Waveform, get_registry
from voxcore.testing import EmotionRecognizerSuite
from voxcore.testing.encoder import synthetic_waveform


def recognizer(folder: Path, **settings: Any) -> Emotion2vecRecognizer:
    return build_emotion2vec_recognizer(Emotion2vecConfig(model=str(folder), **settings))


def utterances() -> list[Waveform]:
    """16 kHz mono utterances of different lengths (one shorter than a frame)."""
    generator = torch.Generator().manual_seed(7)
    lengths = (16_000, 27_000, 9_100, 4_000, 300)
    return [Waveform(0.1 * torch.randn(1, length, generator=generator), 16_000)
            for length in lengths]


class TestEmotion2vecRecognizer(EmotionRecognizerSuite):
    atol = 1e-5

    def build_recognizer(self, tmp_path: Path) -> Emotion2vecRecognizer:
        return recognizer(write_tiny_checkpoint(tmp_path / "tiny"), batch_size=2)


def test_it_is_registered_as_emotion2vec(tiny_folder: Path) -> None:
    entry = get_registry("emotion_recognizer").get("emotion2vec")
    built = entry.build({"model": str(tiny_folder)})
    assert isinstance(built, Emotion2vecRecognizer)
    assert built.emotions == ("enjoyment", "anger", "disgust", "fear", "sadness", "neutral",
                              "surprise", "other")


def test_batches_score_as_single_utterances(tiny_folder: Path) -> None:
    waves = utterances()
    alone = torch.cat([recognizer(tiny_folder).label_probabilities([w]) for w in waves])
    for batch_size in (2, 3, 8):
        together = recognizer(tiny_folder, batch_size=batch_size).label_probabilities(waves)
        torch.testing.assert_close(together, alone, atol=1e-6, rtol=0)


def test_padding_reaches_the_positional_convolution_without_the_mask(tiny_folder: Path) -> None:
    """Why the padding is zeroed: with FunASR's padding mask alone, a short utterance
    batched with a long one scores differently from the same utterance alone."""
    from voxcore_emotion2vec.inference import normalised_batch

    rec = recognizer(tiny_folder)
    model = rec.model
    short, long = (w.samples[0] for w in utterances()[2:0:-1])
    batch, lengths = normalised_batch(model, [short, long])
    padding = torch.arange(batch.shape[1])[None, :] >= lengths[:, None]
    with torch.inference_mode():
        masked_only = model.extract_features(batch, padding_mask=padding)["x"]
        alone = model.extract_features(batch[:1, : int(lengths[0])])["x"]
    frames = alone.shape[1]
    assert not torch.allclose(masked_only[0, :frames], alone[0], atol=1e-4)


@pytest.mark.slow
def test_scores_equal_funasr_generate(tiny_folder: Path) -> None:
    """The same folder through FunASR's AutoModel (numpy input, never file paths)."""
    from funasr import AutoModel  # type: ignore[import-untyped]

    waves = utterances()[:4]
    ours = recognizer(tiny_folder, batch_size=4).label_probabilities(waves)
    auto = AutoModel(model=str(tiny_folder), device="cpu", disable_update=True,
                     disable_pbar=True, disable_log=True, ncpu=torch.get_num_threads())
    for wave, row in zip(waves, ours, strict=True):
        result = auto.generate(wave.samples[0].numpy(), granularity="utterance",
                               extract_embedding=False)[0]
        assert result["labels"] == list(recognizer(tiny_folder).labels)
        np.testing.assert_allclose(row.numpy(), np.array(result["scores"]), atol=1e-6, rtol=0)


@pytest.mark.slow
def test_resampling_and_mixdown_match_funasr(tiny_folder: Path) -> None:
    """FunASR resamples numpy input given its rate (``fs``); stereo is mixed down first."""
    from funasr import AutoModel

    waves = [synthetic_waveform(1.3, 22_050, seed=1),
             synthetic_waveform(0.8, 44_100, channels=2, seed=2)]
    ours = recognizer(tiny_folder).label_probabilities(waves)
    auto = AutoModel(model=str(tiny_folder), device="cpu", disable_update=True,
                     disable_pbar=True, disable_log=True, ncpu=torch.get_num_threads())
    for wave, row in zip(waves, ours, strict=True):
        mono = wave.samples.mean(dim=0).numpy()
        result = auto.generate(mono, fs=wave.sample_rate, granularity="utterance",
                               extract_embedding=False)[0]
        np.testing.assert_allclose(row.numpy(), np.array(result["scores"]), atol=1e-5, rtol=0)


def test_an_extractor_normalising_over_time_runs_one_utterance_at_a_time(
        tmp_path: Path) -> None:
    from voxcore_emotion2vec.architecture import TINY, model_conf
    from voxcore_emotion2vec.inference import can_batch

    folder = write_tiny_checkpoint(tmp_path / "grouped",
                                   model_conf=model_conf(TINY, extractor_mode="default"))
    rec = recognizer(folder, batch_size=4)
    assert not can_batch(rec.model)
    waves = utterances()[:3]
    alone = torch.cat([rec.label_probabilities([w]) for w in waves])
    torch.testing.assert_close(rec.label_probabilities(waves), alone, atol=0, rtol=0)


def test_emotions_add_up_the_labels_they_map(tiny_folder: Path) -> None:
    rec = recognizer(tiny_folder)
    waves = utterances()
    labels = rec.label_probabilities(waves)
    emotions = rec.emotion_probabilities(waves)
    column = dict(zip(rec.labels, labels.T, strict=True))
    expected = {"anger": "生气/angry", "disgust": "厌恶/disgusted", "fear": "恐惧/fearful",
                "enjoyment": "开心/happy", "neutral": "中立/neutral", "sadness": "难过/sad",
                "surprise": "吃惊/surprised"}
    for emotion, label in expected.items():
        torch.testing.assert_close(emotions[:, rec.emotions.index(emotion)], column[label])
    torch.testing.assert_close(emotions[:, rec.emotions.index("other")],
                               column["其他/other"] + column["<unk>"])
    torch.testing.assert_close(emotions.sum(dim=1), torch.ones(len(waves)))


def test_unused_labels_get_nothing_and_are_not_reported(tmp_path: Path) -> None:
    labels = ("生气/angry", "unuse_1", "unuse_2", "开心/happy", "中立/neutral", "unuse_5",
              "难过/sad", "unuse_7", "<unk>")
    rec = recognizer(write_tiny_checkpoint(tmp_path / "five", labels=labels))
    assert rec.emotions == ("enjoyment", "anger", "sadness", "neutral", "other")
    scores = rec.label_probabilities(utterances()[:2])
    assert bool((scores[:, [1, 2, 5, 7]] == 0).all())
    torch.testing.assert_close(rec.emotion_probabilities(utterances()[:2]).sum(dim=1),
                               torch.ones(2))


def test_lower_precision_runs_and_stays_close(tiny_folder: Path) -> None:
    waves = utterances()[:3]
    full = recognizer(tiny_folder).emotion_probabilities(waves)
    half = recognizer(tiny_folder, dtype="bfloat16").emotion_probabilities(waves)
    assert half.dtype == torch.float32
    torch.testing.assert_close(half, full, atol=0.05, rtol=0)


def test_an_empty_batch_gives_no_rows(tiny_folder: Path) -> None:
    rec = recognizer(tiny_folder)
    assert tuple(rec.emotion_probabilities([]).shape) == (0, len(rec.emotions))


def test_weights_load_at_the_first_utterance_and_follow_to(tiny_folder: Path) -> None:
    rec = recognizer(tiny_folder).to("cpu")
    assert rec._model is None
    rec.emotion_probabilities(utterances()[:1])
    assert next(rec.model.parameters()).device == torch.device("cpu")
    assert rec.model.modality_encoders["AUDIO"].decoder is None
