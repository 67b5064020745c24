"""The asr cascade through the CLI: train on cached Whisper transcripts, evaluate, generate."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import toy_recipe, toy_site, write_toy_data
from voxcore_asr.testing import save_tiny_whisper


@pytest.mark.slow
def test_asr_cascade_trains_evaluates_and_generates(tmp_path: Path) -> None:
    whisper = tmp_path / "whisper"
    save_tiny_whisper(whisper)
    manifest = write_toy_data(tmp_path / "data")
    recipe = toy_recipe(tmp_path, manifest, tmp_path / "cache", max_steps=2, checkpoint_every=2,
                        validate_every=0)
    cascade = (f"encoder: {{name: asr, config: {{model: {whisper}, max_new_tokens: 8, text: "
               "{name: text, config: {width: 16, num_layers: 1, num_heads: 2}}}}")
    recipe.write_text(recipe.read_text().replace("encoder: {name: mel, config: {n_mels: 16}}",
                                                 cascade))
    env = {**os.environ, "PYTHONPATH": str(toy_site(tmp_path)), "HF_HUB_OFFLINE": "1"}

    def voxcore(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "voxcore.cli", *args], env=env, text=True,
                              capture_output=True, cwd=tmp_path, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        return done

    trained = voxcore("train", str(recipe), "--run-dir", str(tmp_path / "run"), "--no-progress")
    assert "0 reused from the cache, 12 transcribed" in trained.stderr
    transcripts = sorted((tmp_path / "cache" / "transcripts").rglob("*.txt"))
    assert len(transcripts) == 12 and all(p.read_text() for p in transcripts)
    voxcore("evaluate", str(tmp_path / "run"), "--split", "test", "--no-progress")
    assert (tmp_path / "run" / "eval" / "test" / "metrics.json").is_file()
    out = tmp_path / "out"
    made = voxcore("generate", str(tmp_path / "run"), "--audio",
                   str(manifest.parent / "a1.wav"), "--out", str(out), "--steps", "2")
    assert made.stdout.split() == [str(out / "a1.png")]
