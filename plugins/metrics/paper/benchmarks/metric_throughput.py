"""Throughput and memory of the streaming fid and clipscore metrics as the image count grows.

For FID (the full FID Inception-v3 architecture, random weights with calibrated batch norms)
and CLIPScore (a small random CLIP), it feeds 64, 128, 256 and 512 random images in batches
(each batch made, scored and dropped, as an evaluation does) and prints, per count:

- images/s of ``update()`` and the time of one ``compute()``;
- the peak resident memory above the level before the run (sampled every 5 ms) and the
  tracemalloc peak (Python-level allocations), with their ratio to the smallest count's:
  streaming metrics keep sums, not images, so both stay flat as the count grows.

By default Inception sees 75 px inputs (its smallest) and FID gets no references, so that
the run takes under three minutes on two busy cores; ``--fid-size 299`` measures pytorch-fid's
real input size (2-3 images/s on a busy core here) and ``--references`` feeds as many real
images. One 299 px batch is always timed too, for the real per-image cost. FID's
``compute()`` (two eigendecompositions of 2048 x 2048) costs the same for any count; it is
timed once, after the largest.

    python plugins/metrics/paper/benchmarks/metric_throughput.py [--counts 64 128 256 512]
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import torch

from voxcore.plugin_api import EvalBatch

PAGE = 4096


def rss_bytes() -> int:
    """Current resident set size of this process."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * PAGE


class PeakRSS:
    """Samples the RSS in a thread; ``peak`` is the highest value seen inside the block."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes())
            time.sleep(self.interval)

    def __enter__(self) -> PeakRSS:
        self.peak = rss_bytes()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())


def measure(make_metric: Callable[[], object], make_batch: Callable[[int, int], EvalBatch],
            count: int, batch_size: int, compute: bool) -> dict[str, float]:
    """Feed ``count`` images to a fresh metric: throughput, memory peaks (and compute time)."""
    metric = make_metric()
    gc.collect()
    before = rss_bytes()
    tracemalloc.start()
    with PeakRSS() as peak:
        started = time.perf_counter()
        for index, start in enumerate(range(0, count, batch_size)):
            metric.update(make_batch(min(batch_size, count - start), index))  # type: ignore[attr-defined]
        update_s = time.perf_counter() - started
    _, traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    started = time.perf_counter()
    if compute:
        metric.compute()  # type: ignore[attr-defined]
    compute_s = time.perf_counter() - started if compute else float("nan")
    return {"images_per_s": count / update_s, "compute_s": compute_s,
            "rss_mib": max(0, peak.peak - before) / 2**20, "traced_mib": traced / 2**20}


def report(name: str, rows: dict[int, dict[str, float]]) -> None:
    """Print one table; memory columns also as a ratio to the smallest count."""
    first = rows[min(rows)]
    print(f"\n{name}")
    print(f"{'images':>7} {'img/s':>8} {'compute s':>10} {'peak RSS+ MiB':>14} {'x':>6} "
          f"{'tracemalloc KiB':>16} {'x':>6}")
    for count, row in sorted(rows.items()):
        # Below 1 MiB the sampled RSS is noise; its ratio would mean nothing.
        rss_ratio = row["rss_mib"] / first["rss_mib"] if first["rss_mib"] >= 1 else float("nan")
        traced_ratio = row["traced_mib"] / first["traced_mib"]
        print(f"{count:>7} {row['images_per_s']:>8.1f} {row['compute_s']:>10.2f} "
              f"{row['rss_mib']:>14.1f} {rss_ratio:>6.2f} {1024 * row['traced_mib']:>16.1f} "
              f"{traced_ratio:>6.2f}")


def main() -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[64, 128, 256, 512])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--fid-size", type=int, default=75,
                        help="Inception input side (299 = pytorch-fid's; default 75: fast)")
    parser.add_argument("--image-size", type=int, default=64, help="side of the input images")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--skip", choices=["fid", "clipscore"], action="append", default=[])
    parser.add_argument("--references", action="store_true",
                        help="also feed FID as many reference images (doubles its time)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from voxcore_metrics import CLIPScoreConfig
    from voxcore_metrics.clipscore import build_clipscore
    from voxcore_metrics.fid import FEATURE_DIM, FIDInception, FIDMetric
    from voxcore_metrics.testing import random_fid_inception, write_tiny_clip

    size = args.image_size

    def batch(n: int, seed: int) -> EvalBatch:
        g = torch.Generator().manual_seed(seed)
        images = torch.rand(n, 3, size, size, generator=g)
        references = torch.rand(n, 3, size, size, generator=g) if args.references else None
        return EvalBatch(images=images, references=references,
                         transcripts=[f"a photo of thing number {seed}-{i}" for i in range(n)])

    print(f"torch threads {args.threads}, batch {args.batch_size}, images {size} px; "
          "peak RSS+ = resident memory above the level before each run")
    if "fid" not in args.skip:
        network = random_fid_inception(input_size=args.fid_size, calibration_images=8)
        real = FIDInception()  # speed does not depend on the weights: no calibration
        x = torch.rand(4, 3, size, size)
        with torch.no_grad():
            started = time.perf_counter()
            real(x)
        print(f"FID Inception at 299 px: {4 / (time.perf_counter() - started):.1f} img/s "
              "(one batch of 4)")
        del real
        last = max(args.counts)
        # Without references, compute() uses fixed statistics, as with a reference_stats file.
        stats = (None if args.references else
                 (torch.zeros(FEATURE_DIM, dtype=torch.float64),
                  torch.eye(FEATURE_DIM, dtype=torch.float64)))
        rows = {n: measure(lambda: FIDMetric(network, batch_size=args.batch_size,
                                             reference_stats=stats), batch,
                           n, args.batch_size, compute=n == last) for n in args.counts}
        factor = 2 if args.references else 1
        report(f"fid (random full FID Inception, {args.fid_size} px inputs"
               f"{'; + as many references, counted in img/s' if args.references else ''}; "
               "compute() = two 2048 x 2048 eigendecompositions, whatever the count, timed "
               "once)", {n: {**r, "images_per_s": factor * r["images_per_s"]}
                         for n, r in rows.items()})
    if "clipscore" not in args.skip:
        with tempfile.TemporaryDirectory() as tmp:
            folder = write_tiny_clip(Path(tmp) / "clip", image_size=64, hidden=128,
                                     projection=64)
            config = CLIPScoreConfig(model=str(folder), batch_size=args.batch_size)
            metric = build_clipscore(config)
            def fresh() -> object:
                metric.reset()
                return metric

            rows = {n: measure(fresh, batch, n,
                               args.batch_size, compute=True) for n in args.counts}
        report("clipscore (small random CLIP: 2+2 layers, width 128, 64 px, patch 8)", rows)


if __name__ == "__main__":
    main()
