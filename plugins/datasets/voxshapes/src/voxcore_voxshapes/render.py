"""Drawing VoxShapes images: one filled shape on a vertical-gradient background.

Rendering is a pure function of a :class:`Scene` (all randomness is decided before), drawn
at 4x the output size and box-filtered down, so edges are anti-aliased and the result is the
same on every machine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from voxcore_voxshapes.content import SHAPES
from voxcore_voxshapes.moods import RGB

__all__ = ["Scene", "render", "shape_polygon"]

_SUPERSAMPLE = 4
#: Thickness of a ring's band, as a fraction of its outer radius.
_RING_WIDTH = 0.42


@dataclass(frozen=True)
class Scene:
    """Everything an image shows.

    ``center`` is ``(x, y)`` and ``radius`` the shape's size, both as fractions of the image
    side (a circle's radius; other shapes are scaled to a similar area); ``angle`` rotates the
    shape (degrees, counter-clockwise).
    """

    shape: str
    center: tuple[float, float]
    radius: float
    angle: float
    foreground: RGB
    background_top: RGB
    background_bottom: RGB


def shape_polygon(shape: str, center: tuple[float, float], radius: float,
                  angle: float) -> list[tuple[float, float]]:
    """Vertices of ``shape`` (``bar``, ``pillar`` or ``triangle``), in the units of ``center``."""
    if shape == "bar":
        points = _rectangle(radius * 1.1, radius * 0.5)
    elif shape == "pillar":
        points = _rectangle(radius * 0.5, radius * 1.1)
    elif shape == "triangle":
        points = _regular(3, radius * 1.2, 90.0, dy=radius * 0.15)
    else:
        raise ValueError(f"no polygon for shape {shape!r}; polygons: bar, pillar, triangle")
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    cx, cy = center
    # Image y grows downwards, so "counter-clockwise, pointing up" flips the y of the maths.
    return [(cx + x * cos - y * sin, cy - (x * sin + y * cos)) for x, y in points]


def render(scene: Scene, resolution: int) -> Image.Image:
    """Draw ``scene`` as an RGB image of ``resolution`` x ``resolution`` pixels."""
    if scene.shape not in SHAPES:
        raise ValueError(f"unknown shape {scene.shape!r}; shapes: {', '.join(SHAPES)}")
    side = resolution * _SUPERSAMPLE
    top = np.asarray(scene.background_top, dtype=np.float64)
    bottom = np.asarray(scene.background_bottom, dtype=np.float64)
    t = np.linspace(0.0, 1.0, side)[:, None]
    column = np.rint(top * (1.0 - t) + bottom * t).astype(np.uint8)
    canvas = Image.fromarray(np.repeat(column[:, None, :], side, axis=1))  # uint8 [H, W, 3]
    draw = ImageDraw.Draw(canvas)
    cx, cy = scene.center[0] * side, scene.center[1] * side
    r = scene.radius * side
    if scene.shape == "circle":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=scene.foreground)
    elif scene.shape == "ring":
        outer = r * 1.1
        draw.ellipse((cx - outer, cy - outer, cx + outer, cy + outer), outline=scene.foreground,
                     width=max(1, round(outer * _RING_WIDTH)))
    else:
        draw.polygon(shape_polygon(scene.shape, (cx, cy), r, scene.angle), fill=scene.foreground)
    return canvas.resize((resolution, resolution), Image.Resampling.BOX)


def _rectangle(half_width: float, half_height: float) -> list[tuple[float, float]]:
    return [(-half_width, -half_height), (half_width, -half_height), (half_width, half_height),
            (-half_width, half_height)]


def _regular(count: int, radius: float, start: float,
             dy: float = 0.0) -> list[tuple[float, float]]:
    step = 360.0 / count
    return [(radius * math.cos(math.radians(start + i * step)),
             radius * math.sin(math.radians(start + i * step)) - dy) for i in range(count)]
