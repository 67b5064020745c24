"""Helpers shared by the core tests (importable because pytest puts tests/ on sys.path)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

MakePlugin = Callable[..., Path]


def write_plugin(site: Path, dist: str, module: str, source: str,
                 requires: str | None = "voxcore>=0.1", version: str = "1.0.0",
                 entry_point: str | None = None) -> None:
    """Lay out a plugin distribution in ``site`` exactly as ``pip install`` would."""
    import textwrap

    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    lines = ["Metadata-Version: 2.1", f"Name: {dist}", f"Version: {version}"]
    if requires:
        lines.append(f"Requires-Dist: {requires}")
    (info / "METADATA").write_text("\n".join(lines) + "\n")
    (info / "entry_points.txt").write_text(
        f"[voxcore.plugins]\n{entry_point or dist} = {module}\n")

ECHO_PLUGIN = """
from pydantic import BaseModel, ConfigDict
from voxcore import hookimpl

class EchoConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    gain: float = 1.0

class Echo:
    # a working encoder: one silent 80-wide frame per 10 ms, scaled by gain

    sample_rate = 16000
    output_dim = 80

    def __init__(self, config):
        self.config = config

    def encode(self, waveforms):
        import torch
        from voxcore.plugin_api import SpeechFeatures

        frames = max(1, max(w.samples.shape[-1] for w in waveforms) // 160)
        features = torch.zeros(len(waveforms), frames, 80) * self.config.gain
        return SpeechFeatures(features, torch.ones(len(waveforms), frames, dtype=torch.bool),
                              100.0)

@hookimpl
def voxcore_register_encoders(register):
    register("{name}", config=EchoConfig, factory=Echo, description="test encoder")
"""


def echo_plugin(name: str = "echo") -> str:
    """Source of a tiny third-party plugin registering encoder ``name``."""
    return ECHO_PLUGIN.replace("{name}", name)


TOY_PLUGIN = """
import torch
from pydantic import BaseModel, ConfigDict
from voxcore import hookimpl

class ToyDataConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    manifest: str
    split: str = "train"

def toy_dataset(config):
    from pathlib import Path
    from voxcore.data import ManifestDataset
    return ManifestDataset(Path(config.manifest).parent / f"{config.split}.jsonl")

class BrightnessConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

class Brightness:
    def __init__(self, config):
        self.reset()
    def reset(self):
        self.total, self.count = torch.zeros((), dtype=torch.float64), torch.zeros(())
    def update(self, batch):
        import os, signal
        self.updates = getattr(self, "updates", 0) + 1
        # Tests kill one process of a multi-process evaluation here (TOY_KILL_RANK's, at its
        # TOY_KILL_AFTER-th batch: after its images are written, before they are scored).
        if (os.environ.get("TOY_KILL_RANK") == os.environ.get("RANK")
                and self.updates == int(os.environ.get("TOY_KILL_AFTER", "0"))):
            os.kill(os.getpid(), signal.SIGKILL)
        self.total += batch.images.double().mean(dim=(1, 2, 3)).sum()
        self.count += batch.images.shape[0]
    def compute(self):
        return {"brightness": float(self.total / self.count)}
    def state_dict(self):
        return {"total": self.total, "count": self.count}
    def load_state_dict(self, state):
        self.total, self.count = state["total"].clone(), state["count"].clone()
    def merge_state(self, state):
        self.total = self.total + state["total"]
        self.count = self.count + state["count"]

@hookimpl
def voxcore_register_datasets(register):
    register("toy", config=ToyDataConfig, factory=toy_dataset)

@hookimpl
def voxcore_register_metrics(register):
    register("brightness", config=BrightnessConfig, factory=Brightness)
"""


def toy_site(folder: Path) -> Path:
    """``folder/site`` with the toy dataset/metric plugin installed (for ``PYTHONPATH``)."""
    site = folder / "site"
    site.mkdir(parents=True, exist_ok=True)
    write_plugin(site, "toy-data", "toy_data", TOY_PLUGIN)
    return site


def write_toy_data(folder: Path, count: int = 12) -> Path:
    """Tones whose pitch decides the colour of a square; returns the train manifest."""
    import json

    import numpy as np
    import soundfile
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for index in range(count):
        high = index % 2 == 1
        seconds = np.arange(int(16000 * (0.4 + 0.03 * index))) / 16000
        tone = 0.3 * np.sin(2 * np.pi * (700 if high else 180) * seconds)
        soundfile.write(folder / f"a{index}.wav", tone, 16000)
        colour = (220, 40, 40) if high else (40, 40, 220)
        Image.new("RGB", (24, 24), colour).save(folder / f"i{index}.png")
        rows.append({"id": f"s{index}", "audio": f"a{index}.wav", "image": f"i{index}.png",
                     "transcript": "a tone", "labels": {"pitch": "high" if high else "low"}})
    for split, part in (("train", rows), ("test", rows[:4])):
        (folder / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in part))
    return folder / "train.jsonl"


def toy_recipe(folder: Path, manifest: Path, cache: Path, **train: object) -> Path:
    """A tiny mel -> sib -> tiny-unet recipe over the toy data."""
    settings = {"lr": 1e-3, "batch_size": 4, "max_steps": 6, "checkpoint_every": 3,
                "keep_checkpoints": 2, "validate_every": 3, **train}
    text = f"""
name: toy
encoder: {{name: mel, config: {{n_mels: 16}}}}
bottleneck: {{name: sib, config: {{ratio: 4, num_heads: 2, widths: [16, 16]}}}}
generator: {{name: tiny-unet, config: {{resolution: 16, block_out_channels: [16, 32],
                                       cross_attention_dim: 16}}}}
data:
  train: [{{name: toy, config: {{manifest: {manifest}}}}}]
  eval: [{{name: toy, config: {{manifest: {manifest}, split: test}}}}]
  cache_dir: {cache}
train: {settings}
generate: {{steps: 3, guidance_scale: 2.0, scheduler: ddim, batch_size: 4}}
metrics: [{{name: brightness}}]
"""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "toy.yaml"
    path.write_text(text)
    return path
