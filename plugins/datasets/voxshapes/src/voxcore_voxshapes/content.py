"""What a VoxShapes image shows (a shape at a position) and the neutral words that describe it."""

from __future__ import annotations

__all__ = ["SHAPES", "POSITIONS", "POSITION_X", "TEMPLATES", "PLACES", "transcript",
           "content_label"]

#: Chosen to stay apart when blurred at 16x16 pixels (where the quickstart generates): round,
#: hollow, pointed, wide and tall. Stars, crosses and squares all blur into the same blob.
SHAPES: tuple[str, ...] = ("circle", "ring", "triangle", "bar", "pillar")
POSITIONS: tuple[str, ...] = ("left", "center", "right")

#: Horizontal centre of the shape for each position, as a fraction of the image width.
POSITION_X: dict[str, float] = {"left": 0.3, "center": 0.5, "right": 0.7}

#: Sentence patterns; ``{shape}`` and ``{place}`` are filled in. None of them carries a mood.
TEMPLATES: tuple[str, ...] = (
    "a {shape} {place}",
    "there is a {shape} {place}",
    "one {shape} {place}",
    "a single {shape} {place}",
    "a {shape} placed {place}",
)

#: Ways of saying each position.
PLACES: dict[str, tuple[str, ...]] = {
    "left": ("on the left", "at the left", "on the left side"),
    "center": ("in the middle", "in the center", "at the center"),
    "right": ("on the right", "at the right", "on the right side"),
}


def transcript(shape: str, position: str, template: int, place: int) -> str:
    """The sentence ``TEMPLATES[template]`` for ``shape`` at ``position`` (phrasing ``place``)."""
    places = PLACES[position]
    return TEMPLATES[template].format(shape=shape, place=places[place % len(places)])


def content_label(shape: str, position: str) -> str:
    """The ``content`` label of an image: ``"circle-left"``."""
    return f"{shape}-{position}"
