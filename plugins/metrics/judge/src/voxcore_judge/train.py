"""Training the judge from scratch on real labelled images, with a held-out slice to prove it.

:func:`train_judge` holds out ``config.holdout`` of the images (a seeded random slice), trains
a :class:`~voxcore_judge.classifier.JudgeClassifier` on the rest with AdamW and a one-cycle
schedule, and measures its per-label accuracy on the held-out images: the number that says
whether the judge itself can be trusted. Training images are shifted by up to
``config.max_shift`` pixels, and the nets of ``config.color_invariant`` labels see half of
them with scrambled colours.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from voxcore.plugin_api import Sample
from voxcore_judge import JudgeConfig
from voxcore_judge.classifier import JudgeClassifier
from voxcore_judge.images import load_images
from voxcore_judge.threads import torch_threads

__all__ = ["LabelledImages", "TrainResult", "accuracy", "encode_labels", "load_labelled",
           "split_holdout", "train_judge"]


@dataclass(frozen=True)
class LabelledImages:
    """Images ``[N, 3, r, r]`` with integer ``targets`` per label key into ``vocab[label]``."""

    images: torch.Tensor
    targets: dict[str, torch.Tensor]
    vocab: dict[str, list[str]]

    def __len__(self) -> int:
        return int(self.images.shape[0])


@dataclass(frozen=True)
class TrainResult:
    """A trained classifier and what training measured (accuracies in percent)."""

    classifier: JudgeClassifier
    real_accuracy: dict[str, float]
    num_train: int
    num_heldout: int
    seconds: float


def encode_labels(
    samples: Sequence[Sample], labels: Sequence[str]
) -> tuple[dict[str, list[str]], dict[str, torch.Tensor]]:
    """Sorted vocabulary per label key and each sample's class index.

    Raises ``ValueError`` naming the samples that lack a label key.
    """
    vocab: dict[str, list[str]] = {}
    targets: dict[str, torch.Tensor] = {}
    for label in labels:
        missing = [s.id for s in samples if label not in s.labels]
        if missing:
            shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
            raise ValueError(f"{len(missing)} training sample(s) have no label {label!r} "
                             f"(e.g. {shown}); the judge's labels are {list(labels)}")
        vocab[label] = sorted({s.labels[label] for s in samples})
        index = {value: i for i, value in enumerate(vocab[label])}
        targets[label] = torch.tensor([index[s.labels[label]] for s in samples])
    return vocab, targets


def load_labelled(samples: Sequence[Sample], config: JudgeConfig) -> LabelledImages:
    """Read the samples' images at ``config.resolution`` and encode their labels."""
    missing = [s.id for s in samples if s.image is None]
    if missing:
        raise ValueError(f"{len(missing)} training sample(s) have no image (e.g. "
                         f"{', '.join(missing[:5])}); the judge trains on real images")
    vocab, targets = encode_labels(samples, config.labels)
    paths = [s.image for s in samples if s.image is not None]
    return LabelledImages(load_images(paths, config.resolution), targets, vocab)


def split_holdout(count: int, fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Seeded random (train, held-out) split: at least 2 to train on and 1 held out."""
    if count < 3:
        raise ValueError(f"the judge needs at least 3 real images (2 to train on, 1 to hold "
                         f"out), got {count}")
    held = min(count - 2, max(1, round(count * fraction)))
    order = torch.randperm(count, generator=torch.Generator().manual_seed(seed))
    return order[held:], order[:held]


def _random_shift(images: torch.Tensor, pad: int, generator: torch.Generator) -> torch.Tensor:
    """Shift each image by up to ``pad`` pixels each way, filling in with its own border."""
    side = images.shape[-1]
    padded = F.pad(images, (pad, pad, pad, pad), mode="replicate")
    offsets = torch.randint(0, 2 * pad + 1, (images.shape[0], 2), generator=generator).tolist()
    return torch.stack([padded[i, :, y:y + side, x:x + side]
                        for i, (y, x) in enumerate(offsets)])


def _scramble_colours(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Scramble the colours of a random half of the images.

    A scrambled image has its RGB channels permuted and each channel inverted at random:
    what is drawn and where survive, the palette and which side is lighter do not.
    """
    count = images.shape[0]
    scrambled = torch.rand(count, generator=generator) < 0.5
    order = torch.argsort(torch.rand(count, 3, generator=generator), dim=1)
    order = torch.where(scrambled[:, None], order, torch.arange(3)).to(images.device)
    invert = (torch.rand(count, 3, generator=generator) < 0.5) & scrambled[:, None]
    x = torch.gather(images, 1, order[:, :, None, None].expand_as(images))
    return torch.where(invert[:, :, None, None].to(images.device), 1.0 - x, x)


@torch.no_grad()
def accuracy(classifier: JudgeClassifier, images: torch.Tensor,
             targets: Mapping[str, torch.Tensor], batch_size: int) -> dict[str, float]:
    """Per-label accuracy of ``classifier`` on ``images``, in percent."""
    classifier.eval()
    correct = dict.fromkeys(targets, 0)
    for start in range(0, images.shape[0], batch_size):
        logits = classifier(images[start:start + batch_size])
        for label, target in targets.items():
            predicted = logits[label].argmax(dim=1).cpu()
            correct[label] += int((predicted == target[start:start + batch_size]).sum())
    return {label: 100.0 * hits / max(1, images.shape[0]) for label, hits in correct.items()}


def train_judge(data: LabelledImages, config: JudgeConfig) -> TrainResult:
    """Train a judge on ``data`` minus a held-out slice, and measure it on that slice.

    Torch uses ``config.num_threads`` CPU threads meanwhile.
    """
    with torch_threads(config.num_threads):
        return _train(data, config)


def _train(data: LabelledImages, config: JudgeConfig) -> TrainResult:
    started = time.perf_counter()
    train_idx, held_idx = split_holdout(len(data), config.holdout, config.seed)
    heads = {label: len(values) for label, values in data.vocab.items()}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        classifier = JudgeClassifier(config.model, heads, config.resolution, config.model_kwargs,
                                     config.color_invariant)
    classifier.to(config.device)
    images, targets = data.images[train_idx], {k: v[train_idx] for k, v in data.targets.items()}
    generator = torch.Generator().manual_seed(config.seed)
    steps_per_epoch = math.ceil(len(train_idx) / config.batch_size)
    optimizer = torch.optim.AdamW(classifier.parameters(), lr=config.lr,
                                  weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.lr, total_steps=config.epochs * steps_per_epoch, pct_start=0.2)
    classifier.train()
    for _ in range(config.epochs):
        order = torch.randperm(len(train_idx), generator=generator)
        for batch in torch.split(order, config.batch_size):
            # A lone image cannot be batch-normalized; it is seen again next epoch.
            if batch.numel() > 1:
                x = classifier.prepare(images[batch])
                if config.max_shift > 0:
                    x = _random_shift(x, config.max_shift, generator)
                losses = []
                for label, net in classifier.nets.items():
                    seen = (_scramble_colours(x, generator) if label in config.color_invariant
                            else x)
                    target = targets[label][batch].to(x.device)
                    losses.append(F.cross_entropy(net(seen), target))
                loss = torch.stack(losses).sum()
                optimizer.zero_grad(set_to_none=True)
                torch.autograd.backward(loss)
                optimizer.step()
            schedule.step()
    classifier.eval()
    held_targets = {k: v[held_idx] for k, v in data.targets.items()}
    real = accuracy(classifier, data.images[held_idx], held_targets, config.batch_size)
    return TrainResult(classifier, real, len(train_idx), len(held_idx),
                       time.perf_counter() - started)
