"""Training-step throughput with and without the speech-feature cache, side by side.

Usage: ``uv run python benchmarks/feature_cache.py [--data DIR] [--steps 10] [--rounds 3]``.
Builds a small VoxShapes set in DIR if it is not there, fills the cache, then alternates
rounds of training steps of the quickstart speech model (``mel`` -> ``sib`` -> ``tiny-unet``)
whose features come from the cache with rounds that read and encode the batch's audio every
step (what training without a cache does), and prints steps per second of each and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from voxcore.assembly import build_model
from voxcore.audio import load_audio
from voxcore.plugins import get_registry
from voxcore.recipe import load_recipe
from voxcore.recipe.shipped import find_recipe
from voxcore.runs import cache_root as default_cache_root
from voxcore.training.data import load_examples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("data/voxshapes-bench"))
    parser.add_argument("--steps", type=int, default=10, help="steps per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not (args.data / "voxshapes.json").is_file():
        get_registry("dataset_builder").get("voxshapes").build({"size": 300}).build(args.data)
    cache = Path(tempfile.mkdtemp(prefix="voxcore-cache-"))
    resolved = load_recipe(find_recipe("quickstart/speech.yaml"),
                           [f"data.train.0.config.root={args.data}", f"data.cache_dir={cache}"])
    torch.manual_seed(0)
    model = build_model(resolved)
    started = time.perf_counter()
    examples = load_examples(model, resolved.train_data, [1.0], resolved.encoder,
                             default_cache_root(resolved), model.generator_part.resolution)
    fill = time.perf_counter() - started
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], 1e-4)
    batch_size = resolved.recipe.train.batch_size
    draws = torch.Generator().manual_seed(0)

    def step(cached: bool) -> None:
        indices = examples.draw(batch_size, draws)
        batch = examples.batch(indices)
        features = batch.features
        if not cached:
            waveforms = [load_audio(examples.samples[i].audio)  # type: ignore[arg-type]
                         for i in indices]
            features = model.encode_speech(waveforms)
        loss = model(batch.images, features, None, None, draws)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    rates: dict[str, list[float]] = {"cached features": [], "encode every step": []}
    step(True)  # warm-up
    for _ in range(args.rounds):
        for name, cached in (("cached features", True), ("encode every step", False)):
            begin = time.perf_counter()
            for _ in range(args.steps):
                step(cached)
            rates[name].append(args.steps / (time.perf_counter() - begin))
    print(f"filling the cache for {len(examples)} utterances took {fill:.1f} s "
          f"(batch {batch_size}, {torch.get_num_threads()} threads)")
    for name, values in rates.items():
        print(f"{name:18s} {statistics.median(values):6.2f} steps/s "
              f"(rounds: {', '.join(f'{v:.2f}' for v in values)})")
    ratio = statistics.median(rates["cached features"]) / statistics.median(
        rates["encode every step"])
    print(f"cache speed-up: {ratio:.2f}x")


if __name__ == "__main__":
    main()
