"""Print how long the judge takes to train and to judge, and how accurate it is.

    python plugins/metrics/judge/benchmarks/judge_speed.py [--images 1000] [--size 32]

Trains the default judge (``JudgeConfig()`` but for the label keys: ``shape``, colour
invariant, and ``tone``) on a synthetic set of
real images (four shapes on dark or bright backgrounds, from :mod:`voxcore_judge.testing`),
reports its held-out real accuracy, then times ``update`` on a batch of 256 images with
references.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
from voxcore_judge import JudgeConfig
from voxcore_judge.images import load_images
from voxcore_judge.metric import JudgeMetric
from voxcore_judge.testing import SHAPES, write_shapes

from voxcore.plugin_api import EvalBatch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--size", type=int, default=32, help="side of the image files")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        samples = write_shapes(Path(tmp) / "images", args.images, size=args.size, shapes=SHAPES)
        config = JudgeConfig(labels=["shape", "tone"], color_invariant=["shape"],
                             cache_dir=str(Path(tmp) / "cache"))
        started, cpu = time.perf_counter(), time.process_time()
        metric = JudgeMetric.from_samples(samples, config)
        trained, cpu = time.perf_counter() - started, time.process_time() - cpu
        started = time.perf_counter()
        JudgeMetric.from_samples(samples, config)
        loaded = time.perf_counter() - started
        info = metric.judge.info
        print(f"model {config.model}, {info['feature_dim']}-dim features, "
              f"resolution {config.resolution}, torch threads {torch.get_num_threads()}, "
              f"training threads {config.num_threads}")
        print(f"train on {info['num_train']} images ({config.epochs} epochs): {trained:.1f} s "
              f"wall, {cpu:.1f} s CPU (training loop {info['train_seconds']:.1f} s); "
              f"held-out accuracy on "
              f"{info['num_heldout']} real images: {metric.real_accuracy}")
        print(f"second build (loads from cache): {loaded:.2f} s")
        batch, real = samples[:256], samples[256:512]
        images = load_images([s.image for s in batch if s.image is not None], args.size)
        references = load_images([s.image for s in real if s.image is not None], args.size)
        labels = {key: [s.labels[key] for s in batch] for key in config.labels}
        eval_batch = EvalBatch(images=images, references=references, labels=labels)
        metric.update(eval_batch)
        timings, cpus = [], []
        for _ in range(5):
            metric.reset()
            started, cpu = time.perf_counter(), time.process_time()
            metric.update(eval_batch)
            timings.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu)
        print(f"update on 256 images + 256 references: median {sorted(timings)[2]:.3f} s wall "
              f"(min {min(timings):.3f} s), {sorted(cpus)[2]:.3f} s CPU")
        print(f"compute(): {metric.compute()}")


if __name__ == "__main__":
    main()
