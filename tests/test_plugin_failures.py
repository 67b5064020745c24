"""An exception inside a plugin is one clear error naming the part (a traceback only with
``--debug``); audio too short for the encoder is refused with its duration and the minimum."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import toy_recipe, toy_site, write_plugin, write_toy_data

ENCODERS = """
import torch
from pydantic import BaseModel, ConfigDict
from voxcore.plugin_api import SpeechFeatures, hookimpl

class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

class Frames:
    sample_rate = 16000
    output_dim = 16

    def __init__(self, config):
        self.config = config

    def encode(self, waveforms):
        frames = max(w.samples.shape[-1] for w in waveforms) // 160
        return SpeechFeatures(torch.randn(len(waveforms), frames, 16),
                              torch.ones(len(waveforms), frames, dtype=torch.bool), 100.0)

class Boom(Frames):
    def encode(self, waveforms):
        raise RuntimeError("the microphone exploded")

class SlowStart(Frames):
    min_duration = 0.5

@hookimpl
def voxcore_register_encoders(register):
    register("boom", config=Settings, factory=Boom)
    register("slow-start", config=Settings, factory=SlowStart)
"""


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("failures")
    site = toy_site(tmp)
    write_plugin(site, "acme-boom", "acme_boom", ENCODERS)
    return {"site": site, "tmp": tmp, "manifest": write_toy_data(tmp / "data")}


def voxcore(toy: dict[str, Path], *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(toy["site"])}
    return subprocess.run([sys.executable, "-m", "voxcore.cli", *args], capture_output=True,
                          text=True, env=env, cwd=toy["tmp"], timeout=600)


def recipe_with(toy: dict[str, Path], encoder: str) -> Path:
    recipe = toy_recipe(toy["tmp"] / encoder, toy["manifest"], toy["tmp"] / "cache")
    recipe.write_text(recipe.read_text().replace("{name: mel, config: {n_mels: 16}}",
                                                 f"{{name: {encoder}}}"))
    return recipe


@pytest.mark.slow
def test_an_exception_in_a_plugin_names_the_component(toy: dict[str, Path]) -> None:
    recipe = recipe_with(toy, "boom")
    result = voxcore(toy, "train", str(recipe), "--run-dir", str(toy["tmp"] / "run-boom"),
                     "--no-progress")
    assert result.returncode == 2
    assert ("error: encoder 'boom' (acme-boom 1.0.0, recipe section encoder) failed while "
            "encoding speech: RuntimeError: the microphone exploded") in result.stderr
    assert "Traceback" not in result.stderr
    debug = voxcore(toy, "--debug", "train", str(recipe), "--run-dir",
                    str(toy["tmp"] / "run-boom"), "--no-progress")
    assert debug.returncode == 2
    assert "Traceback" in debug.stderr and "acme_boom.py" in debug.stderr


@pytest.mark.slow
def test_audio_shorter_than_the_encoder_needs_is_refused(toy: dict[str, Path]) -> None:
    recipe = recipe_with(toy, "slow-start")
    result = voxcore(toy, "train", str(recipe), "--run-dir", str(toy["tmp"] / "run-short"),
                     "--no-progress")
    assert result.returncode == 2
    assert "a0.wav is 0.400 s long, too short for encoder 'slow-start'" in result.stderr
    assert "it needs at least 0.500 s of audio to give one frame" in result.stderr
    assert "Traceback" not in result.stderr
