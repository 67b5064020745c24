"""What the emotion check costs: figures for the plugin's README.

    .venv/bin/python plugins/emotion-recognizers/emotion2vec/benchmarks/measure_cost.py [--full]

- the tiny random checkpoint through the recognizer: CPU seconds per 4 s utterance;
- emotion2vec+ large (:data:`~voxcore_emotion2vec.architecture.PLUS_LARGE`): parameters and
  multiply-accumulates per second of audio, counted by ``torch.utils.flop_counter`` on the
  ``meta`` device (no weights, no time): every matrix product and convolution, attention
  included; norms, activations and softmax are not counted (well under 1%);
- with ``--full``: the same architecture with random weights on this CPU, seconds per
  4.25 s utterance (the weights change no arithmetic, so this is the real model's speed).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402
from voxcore_emotion2vec import Emotion2vecConfig, write_tiny_checkpoint  # noqa: E402
from voxcore_emotion2vec.architecture import PLUS_LARGE  # noqa: E402
from voxcore_emotion2vec.inference import label_logits, normalised_batch  # noqa: E402
from voxcore_emotion2vec.loading import build_emotion2vec  # noqa: E402
from voxcore_emotion2vec.recognizer import build_emotion2vec_recognizer  # noqa: E402

from voxcore.plugin_api import Waveform  # noqa: E402

SECONDS = 4.25  # VoxEmoset's mean utterance length (the brief's figure)
UTTERANCES = 247_000


def _utterances(count: int, seconds: float) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return [0.1 * torch.randn(round(seconds * 16_000), generator=generator)
            for _ in range(count)]


def _timed(run: Any) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def tiny_seconds() -> None:
    with tempfile.TemporaryDirectory() as folder:
        rec = build_emotion2vec_recognizer(
            Emotion2vecConfig(model=str(write_tiny_checkpoint(folder)), batch_size=8))
        waves = [Waveform(w[None], 16_000) for w in _utterances(32, 4.0)]
        rec.emotion_probabilities(waves[:8])  # load the weights, warm up
        wall, cpu = _timed(lambda: rec.emotion_probabilities(waves))
    print(f"tiny model, 32 x 4 s, batch 8, {torch.get_num_threads()} threads: "
          f"{wall / 32 * 1000:.1f} ms wall, {cpu / 32 * 1000:.1f} ms CPU per utterance")


def large_macs() -> None:
    with torch.device("meta"):
        model = build_emotion2vec(PLUS_LARGE, vocab_size=9)
    print(f"emotion2vec+ large: {sum(p.numel() for p in model.parameters()):,} parameters")
    for seconds in (1.0, SECONDS, 10.0):
        wave = torch.zeros(1, round(seconds * 16_000), device="meta")
        counter = FlopCounterMode(display=False)
        with counter, torch.inference_mode():
            label_logits(model, wave, torch.tensor([wave.shape[1]]))
        macs = counter.get_total_flops() / 2
        print(f"  {seconds:5.2f} s utterance: {macs / 1e9:6.1f} GMAC, "
              f"{macs / seconds / 1e9:5.2f} GMAC per second of audio")
        if seconds == SECONDS:
            total = macs * UTTERANCES
            print(f"  {UTTERANCES:,} utterances of {SECONDS} s: {total / 1e15:.1f} PMAC "
                  f"= {2 * total / 1e15:.1f} PFLOP")


def large_cpu_seconds() -> None:
    torch.manual_seed(0)
    model = build_emotion2vec(PLUS_LARGE, vocab_size=9)
    for batch in (1, 4):
        waves = _utterances(batch, SECONDS)
        inputs = normalised_batch(model, waves)
        with torch.inference_mode():
            label_logits(model, *inputs)  # warm up
            wall, cpu = _timed(lambda: label_logits(model, *inputs))  # noqa: B023
        print(f"emotion2vec+ large (random weights), batch {batch} x {SECONDS} s, "
              f"{torch.get_num_threads()} threads: {wall / batch:.2f} s wall, "
              f"{cpu / batch:.2f} s CPU per utterance")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true",
                        help="also time the full-size model on this CPU (about 700 MB)")
    args = parser.parse_args()
    tiny_seconds()
    large_macs()
    if args.full:
        large_cpu_seconds()


if __name__ == "__main__":
    main()
