"""Deciding every sample of a build up front: content, mood, words, voice, prosody, split.

All randomness of a build is drawn here, in one fixed order from one seeded generator, so a
seed fixes the whole dataset; rendering (:mod:`voxcore_voxshapes.worker`) is then a pure
function of each :class:`SampleSpec`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from voxcore_voxshapes.config import VoxShapesBuildConfig
from voxcore_voxshapes.content import (
    PLACES,
    POSITION_X,
    POSITIONS,
    SHAPES,
    TEMPLATES,
    transcript,
)
from voxcore_voxshapes.moods import MOOD_NAMES, RGB, Prosody, get_mood
from voxcore_voxshapes.render import Scene
from voxcore_voxshapes.speech import jittered_prosody

__all__ = ["SampleSpec", "Plan", "plan_build"]

#: Half-widths of the per-sample jitter of the image.
_CENTER_JITTER = (0.02, 0.03)
_RADIUS = (0.19, 0.22)
_ANGLE_JITTER = 10.0
_COLOR_JITTER = 10
_BRIGHTNESS_JITTER = 0.08


@dataclass(frozen=True)
class SampleSpec:
    """Everything needed to render one sample's image and utterance."""

    id: str
    split: str
    shape: str
    position: str
    mood: str
    transcript: str
    voice: str
    prosody: Prosody
    tremolo_phase: float
    scene: Scene


@dataclass(frozen=True)
class Plan:
    """A whole build: its samples (in id order) and the held-out (shape, mood) pairs."""

    samples: tuple[SampleSpec, ...]
    heldout_pairs: tuple[tuple[str, str], ...]


def plan_build(config: VoxShapesBuildConfig) -> Plan:
    """Draw every sample of a build from ``config.seed``."""
    rng = np.random.default_rng(config.seed)
    # A partial matching of shapes to moods: no shape or mood loses more than one pairing.
    shapes = rng.permutation(len(SHAPES))
    moods = rng.permutation(len(MOOD_NAMES))
    heldout = tuple((SHAPES[shapes[i]], MOOD_NAMES[moods[i]])
                    for i in range(config.heldout_pairs))
    combos = [(s, p, m) for s in SHAPES for p in POSITIONS for m in MOOD_NAMES]
    # Cycling through shuffled copies of every combination keeps them balanced at any size.
    cycles = -(-config.size // len(combos))
    order = np.concatenate([rng.permutation(len(combos)) for _ in range(cycles)])[: config.size]
    drawn = [_draw(rng, index, *combos[int(c)], config.voices)
             for index, c in enumerate(order)]
    split = _splits(rng, drawn, heldout, config.test_fraction)
    samples = tuple(replace(spec, split=name) for spec, name in zip(drawn, split, strict=True))
    return Plan(samples=samples, heldout_pairs=heldout)


def _draw(rng: np.random.Generator, index: int, shape: str, position: str, mood_name: str,
          voices: list[str]) -> SampleSpec:
    mood = get_mood(mood_name)
    template = int(rng.integers(len(TEMPLATES)))
    place = int(rng.integers(len(PLACES[position])))
    voice = voices[int(rng.integers(len(voices)))]
    prosody = jittered_prosody(mood, rng)
    tremolo_phase = float(rng.uniform(0.0, 2.0 * np.pi))
    center = (POSITION_X[position] + float(rng.uniform(-1, 1)) * _CENTER_JITTER[0],
              0.5 + float(rng.uniform(-1, 1)) * _CENTER_JITTER[1])
    radius = float(rng.uniform(*_RADIUS))
    round_shape = shape in ("circle", "ring")  # turning them changes nothing
    angle = 0.0 if round_shape else float(rng.uniform(-_ANGLE_JITTER, _ANGLE_JITTER))
    brightness = 1.0 + float(rng.uniform(-_BRIGHTNESS_JITTER, _BRIGHTNESS_JITTER))
    palette = mood.palette
    top, bottom, fill = (_color(rng, c, brightness) for c in
                         (palette.background_top, palette.background_bottom, palette.foreground))
    scene = Scene(shape=shape, center=center, radius=radius, angle=angle, foreground=fill,
                  background_top=top, background_bottom=bottom)
    return SampleSpec(id=f"{index:06d}", split="", shape=shape, position=position,
                      mood=mood_name, transcript=transcript(shape, position, template, place),
                      voice=voice, prosody=prosody, tremolo_phase=tremolo_phase, scene=scene)


def _splits(rng: np.random.Generator, drawn: list[SampleSpec],
            heldout: tuple[tuple[str, str], ...], test_fraction: float) -> list[str]:
    split = ["heldout" if (s.shape, s.mood) in heldout else "train" for s in drawn]
    seen = [i for i, name in enumerate(split) if name == "train"]
    for i in rng.permutation(seen)[: round(test_fraction * len(seen))]:
        split[int(i)] = "test"
    return split


def _color(rng: np.random.Generator, color: RGB, brightness: float) -> RGB:
    noise = rng.integers(-_COLOR_JITTER, _COLOR_JITTER + 1, size=3)
    r, g, b = (int(min(255, max(0, round(c * brightness) + int(n))))
               for c, n in zip(color, noise, strict=True))
    return (r, g, b)
