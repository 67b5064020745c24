"""Tiny synthetic labelled image sets for testing and benchmarking the judge.

Each image is one shape (``circle``, ``square``, ``triangle`` or ``cross``) of a random colour,
position and size on a background whose ``tone`` is ``dark`` or ``bright``, drawn with PIL.
No torch here: :func:`write_shapes` writes PNGs and returns their
:class:`~voxcore.interfaces.Sample` s, labelled ``{"shape": ..., "tone": ...}``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw

from voxcore.plugin_api import Sample

__all__ = ["SHAPES", "TONES", "draw_shape", "write_shapes"]

SHAPES = ("circle", "square", "triangle", "cross")
TONES = ("dark", "bright")

_BACKGROUND = {"dark": (0, 70), "bright": (185, 255)}


def draw_shape(shape: str, tone: str, size: int, rng: random.Random) -> Image.Image:
    """One RGB image ``size`` x ``size`` of ``shape`` on a ``tone`` background."""
    low, high = _BACKGROUND[tone]
    background = _colour(rng, low, high)
    # The shape takes the opposite brightness, so it always stands out.
    fill = _colour(rng, 255 - high, 255 - low)
    image = Image.new("RGB", (size, size), background)
    draw = ImageDraw.Draw(image)
    radius = rng.uniform(0.22, 0.34) * size
    cx = rng.uniform(radius + 1, size - radius - 1)
    cy = rng.uniform(radius + 1, size - radius - 1)
    box = (cx - radius, cy - radius, cx + radius, cy + radius)
    if shape == "circle":
        draw.ellipse(box, fill=fill)
    elif shape == "square":
        draw.rectangle(box, fill=fill)
    elif shape == "triangle":
        points = [(cx, cy - radius), (cx - radius, cy + radius), (cx + radius, cy + radius)]
        draw.polygon(points, fill=fill)
    elif shape == "cross":
        bar = radius / 3
        draw.rectangle((cx - radius, cy - bar, cx + radius, cy + bar), fill=fill)
        draw.rectangle((cx - bar, cy - radius, cx + bar, cy + radius), fill=fill)
    else:
        raise ValueError(f"unknown shape {shape!r}; shapes are {', '.join(SHAPES)}")
    return image


def _colour(rng: random.Random, low: int, high: int) -> tuple[int, int, int]:
    return (rng.randint(low, high), rng.randint(low, high), rng.randint(low, high))


def write_shapes(
    root: str | Path,
    count: int,
    *,
    seed: int = 0,
    size: int = 32,
    shapes: Sequence[str] = ("circle", "square"),
    tones: Sequence[str] = TONES,
) -> list[Sample]:
    """Write ``count`` PNGs under ``root`` and return their samples.

    Labels cycle through every (shape, tone) pair, so the classes are balanced.
    """
    folder = Path(root)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    samples = []
    for index in range(count):
        shape = shapes[index % len(shapes)]
        tone = tones[(index // len(shapes)) % len(tones)]
        path = folder / f"{seed}-{index:05d}.png"
        draw_shape(shape, tone, size, rng).save(path)
        samples.append(Sample(id=f"{seed}-{index}", audio=None, image=path,
                              labels={"shape": shape, "tone": tone}))
    return samples
