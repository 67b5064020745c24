"""Size and CPU speed of the ``sib`` and ``transformer`` bottlenecks at the paper's widths.

Prints each one's parameter count at 1024 -> 768 (SONAR -> SD1.5) next to the paper's
Table 8, then the median time of a forward pass on a batch of 8 x 500 frames of width 1024,
with the Transformer / SIB ratio::

    uv run python benchmarks/bottleneck_params.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn
from voxcore_sib import SibConfig, TransformerBottleneckConfig
from voxcore_sib.sib import SpeechInformationBottleneck
from voxcore_sib.transformer import TransformerBottleneck

from voxcore.interfaces import SpeechFeatures

INPUT_DIM, OUTPUT_DIM = 1024, 768
PAPER_PARAMS = {"sib": 50e6, "transformer": 71e6}


def build(name: str) -> nn.Module:
    """The bottleneck ``name`` at the paper's widths, on the current default device."""
    if name == "sib":
        return SpeechInformationBottleneck(SibConfig(input_dim=INPUT_DIM, output_dim=OUTPUT_DIM))
    return TransformerBottleneck(TransformerBottleneckConfig(input_dim=INPUT_DIM,
                                                             output_dim=OUTPUT_DIM))


def forward_seconds(module: nn.Module, features: SpeechFeatures, runs: int) -> float:
    """Median wall time of ``runs`` forward passes, after one warm-up pass."""
    times = []
    with torch.inference_mode():
        module(features)
        for _ in range(runs):
            start = time.perf_counter()
            module(features)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Print the parameter table, then the timing table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed forward passes per model")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--frames", type=int, default=500)
    args = parser.parse_args()
    names = ("sib", "transformer")

    print(f"parameters at {INPUT_DIM} -> {OUTPUT_DIM} (meta device)")
    for name in names:
        with torch.device("meta"):
            count = sum(p.numel() for p in build(name).parameters())
        paper = PAPER_PARAMS[name]
        print(f"  {name:<12} {count / 1e6:7.2f} M   paper {paper / 1e6:.0f} M   "
              f"({(count - paper) / paper:+.1%})")

    torch.manual_seed(0)
    features = SpeechFeatures(torch.randn(args.batch, args.frames, INPUT_DIM),
                              torch.ones(args.batch, args.frames, dtype=torch.bool), 50.0)
    seconds = {}
    for name in names:
        module = build(name).eval()
        seconds[name] = forward_seconds(module, features, args.runs)
        del module
    print(f"forward on CPU, batch {args.batch} x {args.frames} frames x {INPUT_DIM}, "
          f"median of {args.runs} ({torch.get_num_threads()} threads)")
    for name in names:
        print(f"  {name:<12} {seconds[name] * 1e3:9.1f} ms")
    print(f"  transformer / sib = {seconds['transformer'] / seconds['sib']:.2f}x")


if __name__ == "__main__":
    main()
