"""Tests of the ``asr`` cascade encoder: transcription, the text encoder inside, loading.

Whisper is a tiny random-weight ``WhisperForConditionalGeneration`` with a byte-level
tokenizer and a generation config that knows a few languages, saved with safetensors to a
temporary folder (see :mod:`voxcore_asr.testing`). Its transcripts are gibberish, but real
text produced by ``generate`` and the tokenizer, and deterministic.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import torch
from pydantic import ValidationError
from voxcore_asr import AsrConfig
from voxcore_asr.cascade import AsrEncoder, build_asr_encoder
from voxcore_asr.clip_text import ClipTextEncoder
from voxcore_asr.testing import TINY_CLIP, save_tiny_clip_text, save_tiny_whisper
from voxcore_asr.transcriber import WhisperTranscriber, load_transcriber
from voxcore_text import TextEncoderConfig, TrainableTextEncoder

from voxcore.plugin_api import (
    AudioError,
    PretrainedNotFoundError,
    TextEncoder,
    Transcriber,
    UnknownComponentError,
    UserError,
    Waveform,
    get_registry,
)
from voxcore.testing import TranscriberSuite, reset_plugins
from voxcore.testing.encoder import synthetic_waveform
from voxcore.testing.text_encoder import TextEncoderSuite

TINY_TEXT: dict[str, Any] = {"width": 32, "num_layers": 1, "num_heads": 4, "mlp_ratio": 2.0}
BYTE_TEXT: dict[str, Any] = {"name": "text", "config": TINY_TEXT}


@pytest.fixture(scope="module")
def whisper_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny-whisper")
    save_tiny_whisper(folder)
    return folder


@pytest.fixture(scope="module")
def transcriber(whisper_folder: Path) -> WhisperTranscriber:
    return load_transcriber(AsrConfig(model=str(whisper_folder), max_new_tokens=6))


def _config(folder: Path, **settings: Any) -> AsrConfig:
    values: dict[str, Any] = {"model": str(folder), "max_new_tokens": 6, "text": BYTE_TEXT}
    return AsrConfig.model_validate({**values, **settings})


def _speech() -> list[Waveform]:
    """Three utterances at other rates and channel counts than Whisper's 16 kHz mono."""
    return [synthetic_waveform(1.0, 16000, seed=1),
            synthetic_waveform(2.5, 44100, channels=2, seed=2),
            synthetic_waveform(0.3, 8000, seed=3)]


class TestAsrCascade(TextEncoderSuite):
    """The text-encoder suite on the cascade: its encode_text is the inner ``text`` encoder's."""

    @pytest.fixture(autouse=True)
    def _transcriber(self, transcriber: WhisperTranscriber) -> None:
        self.transcriber = transcriber

    def build_encoder(self) -> TextEncoder:
        config = AsrConfig(model="unused", text={"name": "text", "config": TINY_TEXT})
        text_encoder = TrainableTextEncoder(TextEncoderConfig(**TINY_TEXT))
        return AsrEncoder(config, self.transcriber, text_encoder)


class TestAsrTranscriber(TranscriberSuite):
    """The transcriber suite on the cascade built from a recipe config (tiny Whisper)."""

    @pytest.fixture(autouse=True)
    def _folder(self, whisper_folder: Path) -> None:
        self.folder = whisper_folder

    def build_transcriber(self) -> Transcriber:
        encoder: Transcriber = build_asr_encoder(_config(self.folder))
        return encoder


# -- transcription -------------------------------------------------------------------------

def test_transcribe_returns_deterministic_strings(whisper_folder: Path) -> None:
    encoder = build_asr_encoder(_config(whisper_folder))
    texts = encoder.transcribe(_speech())
    assert len(texts) == 3 and all(isinstance(t, str) and t for t in texts)
    assert encoder.transcribe(_speech()) == texts
    assert encoder.sample_rate == 16000


@pytest.mark.slow
def test_a_batch_equals_its_items_alone(whisper_folder: Path) -> None:
    encoder = build_asr_encoder(_config(whisper_folder))
    speech = _speech()
    batched = encoder.transcribe(speech)
    assert [encoder.transcribe([w])[0] for w in speech] == batched
    small_batches = build_asr_encoder(_config(whisper_folder, batch_size=2))
    assert small_batches.transcribe(speech) == batched
    assert encoder.transcribe([]) == []


@pytest.mark.slow
def test_beam_search(whisper_folder: Path) -> None:
    encoder = build_asr_encoder(_config(whisper_folder, num_beams=3))
    texts = encoder.transcribe(_speech())
    assert len(texts) == 3 and all(isinstance(t, str) for t in texts)
    assert [encoder.transcribe([w])[0] for w in _speech()] == texts


def test_equals_transformers_generate(whisper_folder: Path) -> None:
    from transformers import WhisperForConditionalGeneration, WhisperProcessor

    encoder = build_asr_encoder(_config(whisper_folder))
    processor = WhisperProcessor.from_pretrained(whisper_folder)
    model = WhisperForConditionalGeneration.from_pretrained(whisper_folder).eval()
    audio = synthetic_waveform(1.0, 16000, seed=1)
    inputs = processor(audio.samples[0].numpy(), sampling_rate=16000, return_tensors="pt")
    ids = model.generate(inputs.input_features, language="en", task="transcribe",
                         max_new_tokens=6)
    want = processor.batch_decode(ids, skip_special_tokens=True)[0].strip()
    assert encoder.transcribe([audio]) == [want]


def test_english_only_checkpoint_ignores_the_language(tmp_path: Path) -> None:
    save_tiny_whisper(tmp_path, multilingual=False)
    encoder = build_asr_encoder(_config(tmp_path, language="de"))
    assert encoder.transcriber.language is None
    assert all(isinstance(t, str) for t in encoder.transcribe(_speech()[:1]))


def test_rejects_speech_longer_than_the_window(whisper_folder: Path) -> None:
    encoder = build_asr_encoder(_config(whisper_folder))
    with pytest.raises(AudioError, match=r"utterance 1 of the batch is 31\.0 s long; the asr "
                                         r"encoder transcribes at most 30 s"):
        encoder.transcribe([synthetic_waveform(1.0, 16000), synthetic_waveform(31.0, 16000)])


def test_max_new_tokens_is_capped_to_the_decoder_positions(whisper_folder: Path) -> None:
    transcriber = load_transcriber(_config(whisper_folder, max_new_tokens=1000))
    assert transcriber.max_new_tokens == 60  # 64 positions - a 4-token prompt


def test_transcriber_fingerprint_keys_weights_and_settings(tmp_path: Path,
                                                           whisper_folder: Path) -> None:
    def fingerprint(folder: Path, **settings: Any) -> str:
        return load_transcriber(_config(folder, **settings)).fingerprint

    base = fingerprint(whisper_folder)
    assert fingerprint(whisper_folder) == base
    for settings in ({"num_beams": 2}, {"language": "de"}, {"max_new_tokens": 5},
                     {"task": "translate"}):
        assert fingerprint(whisper_folder, **settings) != base, settings
    # Settings that do not change a transcript do not change the key.
    assert fingerprint(whisper_folder, batch_size=3) == base
    save_tiny_whisper(tmp_path, seed=1)
    assert fingerprint(tmp_path) != base
    encoder = build_asr_encoder(_config(whisper_folder))
    assert encoder.transcriber_fingerprint == base


# -- the text encoder inside ---------------------------------------------------------------

def test_encode_text_is_the_inner_encoders(whisper_folder: Path) -> None:
    encoder = build_asr_encoder(_config(whisper_folder)).eval()
    assert isinstance(encoder, TextEncoder) and encoder.output_dim == TINY_TEXT["width"]
    texts = ["a red circle", ""]
    out = encoder.encode_text(texts)
    want = encoder.text_encoder.encode_text(texts)
    assert tuple(out.features.shape) == (2, len("a red circle") + 2, TINY_TEXT["width"])
    assert out.mask.sum(dim=1).tolist() == [14, 2]
    torch.testing.assert_close(out.features, want.features)


def test_only_the_text_encoder_trains_and_is_saved(whisper_folder: Path) -> None:
    encoder = build_asr_encoder(_config(whisper_folder))
    names = [name for name, _ in encoder.named_parameters()]
    assert names and all(name.startswith("text_encoder.") for name in names)
    assert all(p.requires_grad for p in encoder.parameters())
    assert all(key.startswith("text_encoder.") for key in encoder.state_dict())
    assert not list(encoder.buffers()) or all(
        name.startswith("text_encoder.") for name, _ in encoder.named_buffers())
    whisper = encoder.transcriber.model
    assert not any(p.requires_grad for p in whisper.parameters())
    assert not whisper.training
    encoder.train()
    assert not whisper.training
    # The state dict loads into a fresh cascade strictly.
    other = build_asr_encoder(_config(whisper_folder))
    other.load_state_dict(encoder.state_dict(), strict=True)


def test_whisper_follows_the_device_but_keeps_its_dtype(whisper_folder: Path) -> None:
    encoder = build_asr_encoder(_config(whisper_folder))
    encoder.to(torch.float64)
    assert encoder.text_encoder.embedding.weight.dtype == torch.float64
    whisper_weight = encoder.transcriber.model.get_encoder().conv1.weight
    assert whisper_weight.dtype == torch.float32 and whisper_weight.device.type == "cpu"
    encoder.to("cpu")
    assert encoder.transcribe(_speech()[:1])


def test_with_clip_text(whisper_folder: Path, tmp_path: Path) -> None:
    save_tiny_clip_text(tmp_path)
    encoder = build_asr_encoder(_config(whisper_folder, text={
        "name": "clip-text", "config": {"model": str(tmp_path)}}))
    assert isinstance(encoder.text_encoder, ClipTextEncoder)
    assert encoder.output_dim == TINY_CLIP["hidden_size"]
    assert encoder.weights_fingerprint == encoder.text_encoder.weights_fingerprint
    assert not any(p.requires_grad for p in encoder.parameters())
    out = encoder.encode_text(encoder.transcribe(_speech()[:2]))
    assert tuple(out.features.shape) == (2, 77, TINY_CLIP["hidden_size"])


# -- building through the registry ------------------------------------------------------------

def test_built_through_the_registry(whisper_folder: Path) -> None:
    reset_plugins()
    entry = get_registry("encoder").get("asr")
    assert entry.distribution == "voxcore-asr"
    encoder = entry.build({"model": str(whisper_folder), "text": BYTE_TEXT})
    assert isinstance(encoder, AsrEncoder)
    assert isinstance(encoder.text_encoder, TrainableTextEncoder)


def test_inner_text_encoder_problems(whisper_folder: Path, tmp_path: Path) -> None:
    with pytest.raises(UnknownComponentError, match="unknown encoder 'txet'"):
        build_asr_encoder(_config(whisper_folder, text={"name": "txet"}))
    with pytest.raises(UserError, match=r"encoder\.config\.text\.config is not a valid config "
                                        "of text encoder 'text'"):
        build_asr_encoder(_config(whisper_folder, text={"name": "text",
                                                        "config": {"widht": 3}}))
    with pytest.raises(UserError, match="'mel', which is not a text encoder"):
        build_asr_encoder(_config(whisper_folder, text={"name": "mel"}))
    with pytest.raises(PretrainedNotFoundError,
                       match=r"set encoder\.config\.text\.config\.model to a folder"):
        build_asr_encoder(_config(whisper_folder, text={
            "name": "clip-text", "config": {"model": str(tmp_path / "nowhere")}}))


# -- loading Whisper -----------------------------------------------------------------------

def test_refuses_pickled_weights(tmp_path: Path) -> None:
    save_tiny_whisper(tmp_path, safe_serialization=False)
    with pytest.raises(UserError, match=r"lacks model\.safetensors\. It has pytorch_model\.bin: "
                                        "voxcore loads only safetensors"):
        load_transcriber(_config(tmp_path))


def test_refuses_another_architecture(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"model_type": "bert"}')
    with pytest.raises(UserError, match="describes a 'bert' model, not Whisper"):
        load_transcriber(_config(tmp_path))


def test_needs_the_tokenizer(tmp_path: Path) -> None:
    save_tiny_whisper(tmp_path)
    (tmp_path / "vocab.json").unlink()
    with pytest.raises(UserError, match="has no vocab.json"):
        load_transcriber(_config(tmp_path))


def test_unknown_language(whisper_folder: Path) -> None:
    english = load_transcriber(_config(whisper_folder, language="English"))
    assert english.language == "en"
    assert english.fingerprint == load_transcriber(_config(whisper_folder)).fingerprint
    with pytest.raises(UserError, match="'klingon' is not a language .* de, en, fr"):
        load_transcriber(_config(whisper_folder, language="klingon"))


def test_missing_local_folder(tmp_path: Path) -> None:
    with pytest.raises(PretrainedNotFoundError, match=r"folder .*nowhere does not exist; set "
                                                      r"encoder\.config\.model"):
        build_asr_encoder(_config(tmp_path / "nowhere"))


@pytest.mark.parametrize("model", ["openai/whisper-large-v3", "nobody/no-such-whisper"])
def test_hub_id_offline_fails_fast_and_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model: str
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cache = tmp_path / "hub"
    started = time.monotonic()
    with pytest.raises(PretrainedNotFoundError) as caught:
        build_asr_encoder(_config(Path("unused"), model=model, cache_dir=str(cache)))
    assert time.monotonic() - started < 10
    message = str(caught.value)
    assert f"Whisper checkpoint {model!r}" in message
    assert f"is not in the Hugging Face cache {cache} and HF_HUB_OFFLINE is set" in message
    assert "set encoder.config.model to the downloaded folder" in message


# -- config ----------------------------------------------------------------------------------

def test_config_defaults() -> None:
    config = AsrConfig()
    assert (config.model, config.language, config.task, config.num_beams, config.dtype) == (
        "openai/whisper-large-v3", "en", "transcribe", 1, "float32")
    assert (config.text.name, config.text.config) == ("clip-text", {})


@pytest.mark.parametrize(("values", "message"), [
    ({"beams": 3}, "Extra inputs are not permitted"),
    ({"num_beams": 0}, "greater than or equal to 1"),
    ({"text": {"name": "asr"}}, "cannot be another asr cascade"),
    ({"text": {"config": {}}}, "Field required"),
    ({"text": {"name": "text", "settings": {}}}, "Extra inputs are not permitted"),
    ({"task": "summarize"}, "'transcribe' or 'translate'"),
])
def test_config_rejects(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        AsrConfig.model_validate(values)


# -- in a model -------------------------------------------------------------------------------

def _tiny_generator(cross_attention_dim: int) -> torch.nn.Module:
    generator: torch.nn.Module = get_registry("generator").build(
        "tiny-unet", {"resolution": 8, "block_out_channels": [8, 8], "attention_head_dim": 4,
                      "cross_attention_dim": cross_attention_dim})
    return generator


def test_sd_text_baseline_feeds_clip_states_to_the_generator(tmp_path: Path) -> None:
    """clip-text -> identity -> a frozen generator: the condition is CLIP's states exactly."""
    from voxcore.plugin_api import VoxModel

    save_tiny_clip_text(tmp_path)
    registry = get_registry
    encoder = registry("encoder").build("clip-text", {"model": str(tmp_path)})
    width = encoder.output_dim
    bottleneck = registry("bottleneck").build("identity", {"input_dim": width,
                                                           "output_dim": width})
    model = VoxModel(encoder, bottleneck, _tiny_generator(width))
    assert model.modality == "text"
    features = model.encode_text(["a red circle"])
    condition = model.condition(features)
    torch.testing.assert_close(condition.tokens, features.features, atol=0.0, rtol=0.0)
    assert not any(key.startswith("text_encoder.") for key in model.trainable_state())


@pytest.mark.slow
def test_cascade_in_a_model_saves_no_whisper_weights(whisper_folder: Path) -> None:
    from voxcore.plugin_api import VoxModel

    encoder = build_asr_encoder(_config(whisper_folder))
    bottleneck = get_registry("bottleneck").build(
        "identity", {"input_dim": encoder.output_dim, "output_dim": 16})
    model = VoxModel(encoder, bottleneck, _tiny_generator(16))
    assert model.modality == "text"
    state = model.trainable_state()
    encoder_keys = [key for key in state if key.startswith("text_encoder.")]
    assert encoder_keys and all(k.startswith("text_encoder.text_encoder.") for k in encoder_keys)
    assert not any("whisper" in key or "decoder" in key for key in state)
    model.train()
    assert not encoder.transcriber.model.training
    images = torch.rand(2, 3, 8, 8)
    loss = model(images, texts=encoder.transcribe(_speech()[:2]),
                 generator=torch.Generator().manual_seed(0))
    loss.backward()
    grad = encoder.text_encoder.embedding.weight.grad
    assert grad is not None and bool(grad.any())
