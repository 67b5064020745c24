"""The ``f5-tts`` synthesizer on a tiny random F5-TTS: the conformance suite, seeds, batching,
fingerprints, and equality with f5-tts's own inference."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import soundfile
import torch
from voxcore_f5tts import F5TTSConfig
from voxcore_f5tts.synthesizer import F5TTSSynthesizer

from voxcore.plugin_api import (
    ReferenceVoice,
    SpeechSynthesizer,
    SynthesisRequest,
    UserError,
    get_registry,
)
from voxcore.testing import SynthesizerSuite, reference_voice

if TYPE_CHECKING:
    from conftest import TinyF5


def build(tiny: TinyF5, **overrides: object) -> F5TTSSynthesizer:
    return F5TTSSynthesizer(F5TTSConfig(**tiny.config(**overrides)))


class TestF5TTSSynthesizer(SynthesizerSuite):
    """voxcore's checks of every synthesizer, on the tiny model from local files."""

    @pytest.fixture(autouse=True)
    def _tiny(self, tiny_f5: TinyF5) -> None:
        self.tiny = tiny_f5

    def build_synthesizer(self, tmp_path: Path) -> SpeechSynthesizer:
        built: SpeechSynthesizer = get_registry("synthesizer").build("f5-tts", self.tiny.config())
        return built


def test_speech_is_24khz_mono_and_needs_transcripts(tiny_f5: TinyF5, tmp_path: Path) -> None:
    synthesizer = build(tiny_f5)
    assert synthesizer.needs_reference_transcripts is True
    voice = reference_voice(tmp_path)
    [wave] = synthesizer.synthesize([SynthesisRequest("a", "a red ball.", voice)])
    assert wave.sample_rate == 24_000
    assert wave.samples.shape[0] == 1 and wave.samples.dtype == torch.float32


def test_same_seed_same_speech_other_seed_other_speech(tiny_f5: TinyF5, tmp_path: Path) -> None:
    synthesizer = build(tiny_f5)
    voice = reference_voice(tmp_path)
    text = "a dog runs across the beach"
    first = synthesizer.synthesize([SynthesisRequest("a", text, voice, seed=5)])[0]
    again = synthesizer.synthesize([SynthesisRequest("b", text, voice, seed=5)])[0]
    other = synthesizer.synthesize([SynthesisRequest("c", text, voice, seed=6)])[0]
    assert torch.equal(first.samples, again.samples)
    assert first.samples.shape == other.samples.shape
    assert float((first.samples - other.samples).abs().max()) > 1e-3


def test_batch_size_does_not_change_speech(tiny_f5: TinyF5, tmp_path: Path) -> None:
    voices = [reference_voice(tmp_path, emotion=e, seconds=s)
              for e, s in (("anger", 1.3), ("sadness", 0.8), ("fear", 1.0))]
    texts = ["a cat sleeps.", "three boats float on a calm lake", "an old man reads a book"]
    requests = [SynthesisRequest(str(i), t, v, seed=i)
                for i, (t, v) in enumerate(zip(texts, voices, strict=True))]
    together = build(tiny_f5, batch_size=3).synthesize(requests)
    in_pairs = build(tiny_f5, batch_size=2).synthesize(requests)
    for a, b in zip(together, in_pairs, strict=True):
        torch.testing.assert_close(a.samples, b.samples, atol=1e-4, rtol=0)


def test_batched_sampling_is_exact_in_float64(tiny_f5: TinyF5, tmp_path: Path) -> None:
    """In float64 an item sampled in a padded batch equals it sampled alone to rounding:
    nothing of the other items (attention, convolutions, the text's GRN) reaches it."""
    from voxcore_f5tts.sampling import FlowItem, Guidance, sample_mels

    synthesizer = build(tiny_f5)
    model = synthesizer._loaded()
    model.cfm.double()
    voices = [reference_voice(tmp_path, emotion="anger", seconds=1.4),
              reference_voice(tmp_path, emotion="sadness", seconds=0.7)]
    requests = [SynthesisRequest("a", "a long text about a red ball lying on grass", voices[0]),
                SynthesisRequest("b", "a cat", voices[1], seed=3)]
    items = [FlowItem(reference=c.item.reference.double(), tokens=c.item.tokens,
                      noise=c.item.noise.double())
             for i, r in enumerate(requests) for c in synthesizer._chunks(i, r, model)]
    assert items[0].noise.shape[0] != items[1].noise.shape[0]
    guidance = Guidance(nfe_step=4, cfg_strength=2.0, sway_sampling_coef=-1.0)
    together = sample_mels(model.cfm, items, guidance)
    for item, batched in zip(items, together, strict=True):
        alone = sample_mels(model.cfm, [item], guidance)[0]
        torch.testing.assert_close(batched, alone, atol=1e-5, rtol=0)


def test_sampler_equals_f5tts_cfm_sample(tiny_f5: TinyF5, tmp_path: Path) -> None:
    """One item's mel equals what f5-tts's ``CFM.sample(seed=...)`` makes of it."""
    from voxcore_f5tts.sampling import Guidance, sample_mels

    synthesizer = build(tiny_f5)
    model = synthesizer._loaded()
    request = SynthesisRequest("a", "a small boat", reference_voice(tmp_path), seed=11)
    [chunk] = synthesizer._chunks(0, request, model)
    ours = sample_mels(model.cfm, [chunk.item], Guidance(4, 2.0, -1.0))[0]
    prepared = synthesizer._reference(request.reference.audio)
    theirs, _ = model.cfm.sample(cond=prepared.audio, text=chunk.item.tokens[None],
                                 duration=chunk.item.noise.shape[0], steps=4, cfg_strength=2.0,
                                 sway_sampling_coef=-1.0, seed=11)
    torch.testing.assert_close(ours, theirs[0], atol=1e-5, rtol=0)


@pytest.mark.slow
def test_speech_equals_f5tts_inference(tiny_f5: TinyF5, tmp_path: Path) -> None:
    """The whole request equals f5-tts's own path on the same files: its reference
    preprocessing, ``load_model``, ``load_vocoder(is_local=True)`` and
    ``infer_batch_process`` (seeded as this plugin seeds)."""
    from f5_tts.infer.utils_infer import (
        infer_batch_process,
        load_model,
        load_vocoder,
        preprocess_ref_audio_text,
    )
    from f5_tts.model import DiT

    voice = reference_voice(tmp_path, seconds=2.0)
    request = SynthesisRequest("a", "a red ball lies on the green grass.", voice, seed=7)
    ours = build(tiny_f5).synthesize([request])[0]

    path, ref_text = preprocess_ref_audio_text(str(voice.audio), str(voice.transcript),
                                               show_info=lambda *_: None)
    audio, rate = soundfile.read(path, dtype="float32", always_2d=True)
    model = load_model(DiT, tiny_f5.architecture, str(tiny_f5.checkpoint),
                       vocab_file=str(tiny_f5.model / "vocab.txt"), device="cpu")
    vocoder = load_vocoder("vocos", is_local=True, local_path=str(tiny_f5.vocoder), device="cpu")
    torch.manual_seed(request.seed)
    wave, sample_rate, _ = next(infer_batch_process(
        (torch.from_numpy(audio.T.copy()), rate), ref_text, [request.text], model, vocoder,
        progress=None, nfe_step=4, device="cpu"))
    assert sample_rate == ours.sample_rate
    torch.testing.assert_close(ours.samples[0], torch.from_numpy(wave).float(), atol=1e-5,
                               rtol=0)


@pytest.mark.slow
def test_long_text_is_cut_into_cross_faded_chunks(tiny_f5: TinyF5, tmp_path: Path) -> None:
    from voxcore_f5tts.text import chunk_text, max_chunk_bytes, reference_text

    voice = reference_voice(tmp_path, seconds=1.0)
    sentence = "a red ball lies on the grass near an old wooden fence."
    text = " ".join([sentence] * 12)
    synthesizer = build(tiny_f5, cross_fade_duration=0.1)
    prepared = synthesizer._reference(voice.audio)
    limit = max_chunk_bytes(reference_text(str(voice.transcript)), prepared.seconds, 1.0)
    chunks = chunk_text(text, limit)
    assert len(chunks) > 1
    [wave] = synthesizer.synthesize([SynthesisRequest("a", text, voice)])
    [short] = synthesizer.synthesize([SynthesisRequest("b", sentence, voice)])
    assert wave.duration > short.duration * (len(chunks) - 1)


def test_reference_without_transcript_is_refused(tiny_f5: TinyF5, tmp_path: Path) -> None:
    voice = reference_voice(tmp_path)
    untranscribed = ReferenceVoice(id=voice.id, audio=voice.audio, emotion=voice.emotion,
                                   speaker=voice.speaker, corpus=voice.corpus, split=voice.split)
    with pytest.raises(UserError, match="no transcript"):
        build(tiny_f5).synthesize([SynthesisRequest("a", "a cat", untranscribed)])


def test_runs_in_bfloat16(tiny_f5: TinyF5, tmp_path: Path) -> None:
    synthesizer = build(tiny_f5, dtype="bfloat16")
    [wave] = synthesizer.synthesize([SynthesisRequest("a", "a cat", reference_voice(tmp_path))])
    assert bool(torch.isfinite(wave.samples).all())
    assert synthesizer.to("cpu") is synthesizer


def test_fingerprint_follows_settings_and_weights(tiny_f5: TinyF5, tmp_path: Path,
                                                  write_checkpoint: Callable[..., None]
                                                  ) -> None:
    base = build(tiny_f5).synthesizer_fingerprint
    assert build(tiny_f5).synthesizer_fingerprint == base
    assert build(tiny_f5, batch_size=3).synthesizer_fingerprint == base
    for change in ({"nfe_step": 8}, {"cfg_strength": 1.5}, {"speed": 0.9},
                   {"dtype": "float16"}, {"max_reference_seconds": 10.0},
                   {"sway_sampling_coef": None}):
        assert build(tiny_f5, **change).synthesizer_fingerprint != base, change
    other = tmp_path / "other"
    write_checkpoint(other, seed=1)
    changed = build(tiny_f5, model=str(other))
    assert changed.synthesizer_fingerprint != base
    (other / "vocab.txt").write_text((other / "vocab.txt").read_text() + "z\n")
    assert build(tiny_f5, model=str(other)).synthesizer_fingerprint != \
        changed.synthesizer_fingerprint


def test_pt_checkpoint_gives_the_same_speech(tiny_f5: TinyF5, tmp_path: Path) -> None:
    """A ``.pt`` training checkpoint (EMA state with its bookkeeping entries) loads as the
    safetensors release does."""
    from safetensors.torch import load_file

    ema = load_file(str(tiny_f5.checkpoint))
    ema.update({"initted": torch.tensor(True), "step": torch.tensor(1250000)})
    folder = tmp_path / "pt"
    folder.mkdir()
    torch.save({"ema_model_state_dict": ema, "update": 1250000}, folder / "model_1250000.pt")
    (folder / "vocab.txt").write_bytes((tiny_f5.model / "vocab.txt").read_bytes())
    request = SynthesisRequest("a", "a cat", reference_voice(tmp_path / "voice"), seed=4)
    from_pt = build(tiny_f5, model=str(folder)).synthesize([request])[0]
    released = build(tiny_f5).synthesize([request])[0]
    assert torch.equal(from_pt.samples, released.samples)


def test_checkpoint_of_another_architecture_is_explained(tiny_f5: TinyF5, tmp_path: Path) -> None:
    synthesizer = build(tiny_f5, architecture={**tiny_f5.architecture, "dim": 48})
    with pytest.raises(UserError, match="does not fit architecture"):
        synthesizer.synthesize([SynthesisRequest("a", "a cat", reference_voice(tmp_path))])


def test_without_guidance_batches_stay_equal(tiny_f5: TinyF5, tmp_path: Path) -> None:
    synthesizer = build(tiny_f5, cfg_strength=0.0)
    requests = [SynthesisRequest("a", "a cat sleeps", reference_voice(tmp_path), seed=1),
                SynthesisRequest("b", "two dogs run along the beach",
                                 reference_voice(tmp_path, emotion="fear", seconds=0.8), seed=2)]
    together = synthesizer.synthesize(requests)
    for request, batched in zip(requests, together, strict=True):
        alone = synthesizer.synthesize([request])[0]
        torch.testing.assert_close(batched.samples, alone.samples, atol=1e-4, rtol=0)
