"""What running Whisper's encoder on the real frames only (``trim_padding``) saves, side by side.

Usage: ``uv run python benchmarks/whisper_trim.py [--seconds 4.25] [--rounds 2] [--layers 32]``.

Builds the full-size ``openai/whisper-large-v3`` encoder architecture (weights do not change
FLOPs or latency, and none can be downloaded here, so they are random), then for one utterance
of ``--seconds`` of speech-like signal prints, for the stock 30 s window and for trimming:

- MACs counted with ``torch.utils.flop_counter`` on the ``meta`` device (no compute);
- CPU latency, the two modes alternated ``--rounds`` times in one run (use ``--layers`` to run
  fewer of the 32 layers when time is short; MACs are always for the full encoder);
- how far the trimmed features at the valid frames are from the stock ones (cosine similarity
  and relative L2). With random weights this only shows that trimming is *not* a no-op:
  Whisper attends to its padding. Whether real weights stay close needs the real checkpoint:
  pass ``--model PATH`` to a local whisper-large-v3 folder to measure that instead.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch.utils.flop_counter import FlopCounterMode
from voxcore_whisper import WhisperEncoderConfig
from voxcore_whisper.architectures import WHISPER_LARGE_V3, whisper_config
from voxcore_whisper.encoder import (
    WhisperSpeechEncoder,
    encoder_from_architecture,
    load_whisper_encoder,
)

from voxcore.interfaces import Waveform
from voxcore.testing.encoder import synthetic_waveform


def build(trim: bool, model: str | None, layers: int, device: str) -> WhisperSpeechEncoder:
    settings = WhisperEncoderConfig(trim_padding=trim, **({"model": model} if model else {}))
    if model:
        return load_whisper_encoder(settings)
    torch.manual_seed(0)
    return encoder_from_architecture(
        whisper_config({**WHISPER_LARGE_V3, "encoder_layers": layers}), settings, device=device)


def macs(trim: bool, speech: Waveform) -> int:
    encoder = build(trim, None, WHISPER_LARGE_V3["encoder_layers"], "meta")
    with FlopCounterMode(display=False) as counter:
        encoder.encode([speech])
    return int(counter.get_total_flops()) // 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=4.25)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--layers", type=int, default=WHISPER_LARGE_V3["encoder_layers"],
                        help="encoder layers to run for latency (random weights only)")
    parser.add_argument("--model", help="a local Whisper checkpoint folder instead of random "
                                        "weights")
    args = parser.parse_args()
    speech = synthetic_waveform(args.seconds, 16000)
    print(f"whisper-large-v3 encoder, {args.seconds:g} s of speech, torch threads "
          f"{torch.get_num_threads()}")
    full_macs, trim_macs = macs(False, speech), macs(True, speech)
    print(f"MACs: 30 s window {full_macs / 1e9:.0f} G, trimmed {trim_macs / 1e9:.0f} G "
          f"({full_macs / trim_macs:.1f}x fewer)")

    encoders = {trim: build(trim, args.model, args.layers, "cpu") for trim in (False, True)}
    times: dict[bool, list[float]] = {False: [], True: []}
    outputs = {}
    with torch.no_grad():
        for _ in range(args.rounds):
            for trim, encoder in encoders.items():
                start = time.perf_counter()
                outputs[trim] = encoder.encode([speech])
                times[trim].append(time.perf_counter() - start)
    full_s, trim_s = statistics.median(times[False]), statistics.median(times[True])
    note = "" if args.model or args.layers == WHISPER_LARGE_V3["encoder_layers"] else (
        f" ({args.layers} of 32 layers)")
    print(f"CPU latency{note}: 30 s window {full_s:.2f} s, trimmed {trim_s:.2f} s "
          f"({full_s / trim_s:.1f}x faster), median of {args.rounds}")
    full, trimmed = outputs[False], outputs[True]
    a, b = full.features[full.mask], trimmed.features[trimmed.mask]
    cosine = torch.nn.functional.cosine_similarity(a, b, dim=-1)
    relative = (a - b).norm() / a.norm()
    weights = args.model or "random weights"
    print(f"valid frames {int(full.mask.sum())}: cosine(trimmed, stock) mean {cosine.mean():.3f} "
          f"min {cosine.min():.3f}; relative L2 {relative:.3f} ({weights})")


if __name__ == "__main__":
    main()
