"""Shared fixtures: a tiny synthetic labelled image set and a judge trained on it once."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

import numpy as np
import pytest
import torch
from voxcore_judge import JudgeConfig
from voxcore_judge.judge import Judge, obtain_judge
from voxcore_judge.testing import TONES, draw_shape, write_shapes

from voxcore.plugin_api import Sample
from voxcore.testing import reset_plugins

Render = Callable[..., tuple[torch.Tensor, dict[str, list[str]]]]


@pytest.fixture(autouse=True)
def fresh_plugins() -> Iterator[None]:
    """Plugins are discovered afresh in every test (tests may add registry entries)."""
    reset_plugins()
    yield
    reset_plugins()


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Each test runs torch on one CPU thread, as the judge trains by default.

    The judge's convolutions are too small to gain from a second thread, and on cores that
    other processes share, two OpenMP threads made these tests 5-10x slower.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def shapes_config() -> JudgeConfig:
    """Small enough to train in about a second, enough to classify the shapes perfectly."""
    return JudgeConfig(labels=["shape", "tone"], color_invariant=["shape"], epochs=6,
                       batch_size=32, holdout=0.2)


@pytest.fixture(scope="session")
def shape_samples(tmp_path_factory: pytest.TempPathFactory) -> list[Sample]:
    """240 real 32 px images: circle/square on a dark/bright background."""
    return write_shapes(tmp_path_factory.mktemp("shapes"), 240, seed=0)


@pytest.fixture(scope="session")
def shapes_judge(shape_samples: list[Sample], shapes_config: JudgeConfig,
                 tmp_path_factory: pytest.TempPathFactory) -> Judge:
    """The judge trained on :func:`shape_samples` with :func:`shapes_config`."""
    return obtain_judge(shape_samples, shapes_config, tmp_path_factory.mktemp("judge-cache"))


def render_shapes(count: int, seed: int,
                  size: int = 32) -> tuple[torch.Tensor, dict[str, list[str]]]:
    """``count`` fresh real images as float ``[count, 3, size, size]`` and their labels."""
    rng = random.Random(1000 + seed)
    labels: dict[str, list[str]] = {"shape": [], "tone": []}
    images = []
    for index in range(count):
        shape, tone = rng.choice(("circle", "square")), TONES[(index + seed) % 2]
        pixels = np.asarray(draw_shape(shape, tone, size, rng), dtype=np.float32) / 255.0
        images.append(torch.from_numpy(pixels).permute(2, 0, 1))
        labels["shape"].append(shape)
        labels["tone"].append(tone)
    return torch.stack(images), labels


@pytest.fixture(scope="session")
def render() -> Render:
    """:func:`render_shapes`, for tests."""
    return render_shapes
