"""The five moods of VoxShapes: how each one looks (palette) and sounds (prosody).

The moods are VoxEmoset's five emotion classes (VoxStudio Sec. 4.1). A mood sets the look of
the whole scene and the prosody of the voice, never the words: transcripts describe only the
content, so a model can only recover the mood from *how* the sentence is spoken.

Looks, all clearly apart at 32x32 (mean brightness alone orders most of them):

- enjoyment: bright, warm: pale yellow to orange background, saturated orange shape;
- anger: saturated red background, near-black shape (strongest contrast);
- disgust: murky olive-to-brown background, pale sickly green shape;
- fear: almost black with a violet cast, dim lavender shape;
- sadness: dark desaturated blue-grey, low contrast.

Sounds (espeak-ng settings, each jittered per sample):

- enjoyment: high pitch, widest pitch range, brisk and fluent, loud-ish;
- anger: mid-low pitch, wide range, fast clipped words with short gaps, loudest;
- disgust: low pitch, moderate range, slow, short pauses between words;
- fear: highest pitch, flat, fastest, quiet, with a trembling (tremolo) voice;
- sadness: lowest pitch, flat, slowest, quietest, long pauses between words.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RGB", "Palette", "Prosody", "Mood", "MOODS", "MOOD_NAMES", "get_mood"]

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Palette:
    """Colours of a scene: a vertical background gradient and the shape's fill."""

    background_top: RGB
    background_bottom: RGB
    foreground: RGB


@dataclass(frozen=True)
class Prosody:
    """espeak-ng settings of one utterance (see :func:`voxcore_voxshapes.tts.synthesize`)."""

    pitch: int
    pitch_range: int
    rate: int
    volume: int
    word_gap: int = 0


@dataclass(frozen=True)
class Mood:
    """One mood: its palette, its mean prosody and how far each setting is jittered.

    ``jitter`` gives the half-width of the uniform jitter of each :class:`Prosody` field;
    ``tremolo_hz``/``tremolo_depth`` add an amplitude tremor to the voice (0 = none).
    """

    name: str
    palette: Palette
    prosody: Prosody
    jitter: Prosody
    tremolo_hz: float = 0.0
    tremolo_depth: float = 0.0


MOODS: tuple[Mood, ...] = (
    Mood("enjoyment",
         Palette((255, 238, 150), (255, 184, 70), (236, 96, 18)),
         Prosody(pitch=85, pitch_range=95, rate=185, volume=130, word_gap=0),
         Prosody(pitch=6, pitch_range=5, rate=10, volume=10, word_gap=0)),
    Mood("anger",
         Palette((232, 32, 22), (150, 6, 6), (18, 4, 4)),
         Prosody(pitch=40, pitch_range=65, rate=250, volume=160, word_gap=4),
         Prosody(pitch=6, pitch_range=8, rate=12, volume=8, word_gap=1)),
    Mood("disgust",
         Palette((128, 122, 46), (84, 66, 30), (150, 166, 62)),
         Prosody(pitch=22, pitch_range=50, rate=130, volume=100, word_gap=5),
         Prosody(pitch=6, pitch_range=8, rate=10, volume=10, word_gap=1)),
    Mood("fear",
         Palette((40, 22, 66), (6, 3, 16), (120, 98, 170)),
         Prosody(pitch=97, pitch_range=10, rate=320, volume=80, word_gap=0),
         Prosody(pitch=3, pitch_range=6, rate=15, volume=10, word_gap=0),
         tremolo_hz=8.0, tremolo_depth=0.6),
    Mood("sadness",
         Palette((96, 110, 134), (58, 70, 92), (34, 44, 68)),
         Prosody(pitch=5, pitch_range=5, rate=100, volume=60, word_gap=12),
         Prosody(pitch=4, pitch_range=4, rate=8, volume=8, word_gap=3)),
)

#: Mood names in their canonical order (the paper's five emotion classes).
MOOD_NAMES: tuple[str, ...] = tuple(m.name for m in MOODS)


def get_mood(name: str) -> Mood:
    """The mood called ``name``; raises :class:`KeyError` naming the valid ones."""
    for mood in MOODS:
        if mood.name == name:
            return mood
    raise KeyError(f"unknown mood {name!r}; moods: {', '.join(MOOD_NAMES)}")
