"""The cascade baseline's core path: transcribe the audio (cached), then train on the text."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import MakePlugin, toy_recipe, toy_site, write_toy_data

from voxcore.cli import main

TOY_ASR = '''
import torch
from pydantic import BaseModel, ConfigDict
from voxcore import hookimpl

HEARD = []

class ToyAsrConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    threshold_hz: float = 400.0

class ToyAsr(torch.nn.Module):
    """Hears only pitch: 'a high tone' or 'a low tone'; then the trainable text encoder."""

    def __init__(self, config):
        super().__init__()
        from voxcore.plugins import get_registry
        self.inner = get_registry("encoder").get("text").build(
            {"width": 16, "num_layers": 1, "num_heads": 2})
        self.output_dim = self.inner.output_dim
        self.threshold = config.threshold_hz
        self.transcriber_fingerprint = f"peak>{config.threshold_hz}"

    def transcribe(self, waveforms):
        heard = []
        for waveform in waveforms:
            mono = waveform.samples.mean(0)
            peak = torch.fft.rfft(mono).abs().argmax().item() * waveform.sample_rate / len(mono)
            heard.append("a high tone" if peak > self.threshold else "a low tone")
        HEARD.extend(heard)
        return heard

    def encode_text(self, texts):
        return self.inner.encode_text(texts)

@hookimpl
def voxcore_register_encoders(register):
    register("toy-asr", config=ToyAsrConfig, factory=ToyAsr)
'''


@pytest.mark.slow
def test_cascade_trains_on_cached_transcripts_and_generates_from_audio(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_plugin: MakePlugin,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.syspath_prepend(str(toy_site(tmp_path)))
    make_plugin("toy-asr", "toy_asr", TOY_ASR)
    manifest = write_toy_data(tmp_path / "data")
    recipe = toy_recipe(tmp_path, manifest, tmp_path / "cache", max_steps=2, checkpoint_every=2,
                        validate_every=0)
    text = recipe.read_text().replace("encoder: {name: mel, config: {n_mels: 16}}",
                                      "encoder: {name: toy-asr}")
    recipe.write_text(text)
    import toy_asr  # type: ignore[import-not-found]

    assert main(["train", str(recipe), "--run-dir", str(tmp_path / "run"), "--no-progress"]) == 0
    assert len(toy_asr.HEARD) == 12
    cached = sorted((tmp_path / "cache" / "transcripts").rglob("*.txt"))
    assert len(cached) == 12
    heard = {path.read_text() for path in cached}
    assert heard == {"a high tone", "a low tone"}  # the dataset's own transcripts say "a tone"

    assert main(["evaluate", str(tmp_path / "run"), "--split", "test", "--no-progress"]) == 0
    assert len(toy_asr.HEARD) == 12  # the test audio was already transcribed once
    out = tmp_path / "out"
    assert main(["generate", str(tmp_path / "run"), "--audio", str(manifest.parent / "a1.wav"),
                 "--out", str(out), "--steps", "2"]) == 0
    assert toy_asr.HEARD[-1] == "a high tone" and (out / "a1.png").is_file()
    assert main(["generate", str(tmp_path / "run"), "--text", "a low tone", "--out", str(out),
                 "--steps", "2"]) == 0
