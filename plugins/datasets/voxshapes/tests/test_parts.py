"""Tests of the pieces a build is made of: planning, rendering and signal processing."""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest
from pydantic import ValidationError
from voxcore_voxshapes import VoxShapesBuildConfig
from voxcore_voxshapes.content import POSITIONS, SHAPES
from voxcore_voxshapes.dsp import apply_tremolo, resample, trim_silence
from voxcore_voxshapes.moods import MOOD_NAMES, MOODS, get_mood
from voxcore_voxshapes.plan import plan_build
from voxcore_voxshapes.render import Scene, render

# -- plan --------------------------------------------------------------------------------------


def test_plan_is_balanced_and_reproducible() -> None:
    config = VoxShapesBuildConfig(size=750, seed=5)
    plan = plan_build(config)
    assert plan == plan_build(config)
    assert plan != plan_build(VoxShapesBuildConfig(size=750, seed=6))
    combos = Counter((s.shape, s.position, s.mood) for s in plan.samples)
    assert len(combos) == len(SHAPES) * len(POSITIONS) * len(MOOD_NAMES)
    assert set(combos.values()) == {10}
    assert [s.id for s in plan.samples] == [f"{i:06d}" for i in range(750)]
    assert {s.voice for s in plan.samples} == set(config.voices)


def test_heldout_pairs_share_no_shape_or_mood_and_leave_train() -> None:
    plan = plan_build(VoxShapesBuildConfig(size=600, heldout_pairs=5, test_fraction=0.2))
    shapes, moods = zip(*plan.heldout_pairs, strict=True)
    assert len(set(shapes)) == len(set(moods)) == 5
    for spec in plan.samples:
        assert (spec.split == "heldout") == ((spec.shape, spec.mood) in plan.heldout_pairs)
    seen = [s for s in plan.samples if s.split != "heldout"]
    assert sum(s.split == "test" for s in seen) == round(0.2 * len(seen))
    train = {(s.shape, s.mood) for s in plan.samples if s.split == "train"}
    assert {s for s, _ in train} == set(SHAPES) and {m for _, m in train} == set(MOOD_NAMES)


def test_transcripts_name_the_content_and_never_the_mood() -> None:
    plan = plan_build(VoxShapesBuildConfig(size=300))
    place_words = {"left": {"left"}, "center": {"middle", "center"}, "right": {"right"}}
    mood_words = {"happy", "joy", "enjoyment", "angry", "anger", "mad", "disgust", "disgusting",
                  "fear", "afraid", "scared", "sad", "sadness", *MOOD_NAMES}
    for spec in plan.samples:
        words = set(spec.transcript.split())
        assert spec.shape in words
        assert place_words[spec.position] & words, spec.transcript
        assert not mood_words & words, spec.transcript
    assert len({s.transcript for s in plan.samples}) > 50


def test_prosody_is_jittered_around_each_mood() -> None:
    plan = plan_build(VoxShapesBuildConfig(size=500))
    for mood in MOODS:
        pitches = [s.prosody.pitch for s in plan.samples if s.mood == mood.name]
        rates = [s.prosody.rate for s in plan.samples if s.mood == mood.name]
        assert len(set(rates)) > 5
        assert max(abs(p - mood.prosody.pitch) for p in pitches) <= mood.jitter.pitch
        assert abs(np.mean(rates) - mood.prosody.rate) < mood.jitter.rate / 2


def test_config_rejects_bad_values() -> None:
    with pytest.raises(ValidationError, match="size"):
        VoxShapesBuildConfig(size=0)
    with pytest.raises(ValidationError, match="heldout_pairs"):
        VoxShapesBuildConfig(heldout_pairs=6)
    with pytest.raises(ValidationError, match="repeated: en-us"):
        VoxShapesBuildConfig(voices=["en-us", "en-us"])
    with pytest.raises(ValidationError, match="extra"):
        VoxShapesBuildConfig(colour="red")  # type: ignore[call-arg]
    with pytest.raises(KeyError, match="moods: enjoyment, anger"):
        get_mood("joy")


def test_importing_the_plugin_stays_light() -> None:
    code = ("import sys, voxcore_voxshapes\n"
            "heavy = {'numpy', 'PIL', 'torch', 'soundfile', 'voxcore_voxshapes.tts'}\n"
            "print(sorted(heavy & set(sys.modules)))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"


# -- render ------------------------------------------------------------------------------------

def _scene(shape: str = "circle", x: float = 0.5, fill: tuple[int, int, int] = (255, 0, 0),
           angle: float = 0.0) -> Scene:
    return Scene(shape=shape, center=(x, 0.5), radius=0.18, angle=angle, foreground=fill,
                 background_top=(0, 0, 0), background_bottom=(0, 0, 200))


@pytest.mark.parametrize("shape", SHAPES)
def test_each_shape_is_drawn_where_asked_with_a_similar_area(shape: str) -> None:
    for x in (0.3, 0.5, 0.7):
        image = np.asarray(render(_scene(shape, x, angle=7.0), 64)).astype(float)
        assert image.shape == (64, 64, 3)
        red = image[..., 0] / 255.0
        columns = np.arange(64) + 0.5
        centroid = float((red.sum(axis=0) * columns).sum() / red.sum()) / 64
        assert abs(centroid - x) < 0.03
        assert 0.05 < red.mean() < 0.16  # a circle of radius 0.18 covers 0.10


@pytest.mark.parametrize("shape", SHAPES)
def test_shapes_stay_inside_the_frame_at_the_largest_jitter(shape: str) -> None:
    for x, y, angle in itertools.product((0.28, 0.72), (0.47, 0.53), (10.0, -10.0)):
        scene = _scene(shape, x, angle=angle)
        scene = Scene(**{**scene.__dict__, "center": (x, y), "radius": 0.22})
        red = np.asarray(render(scene, 64))[..., 0]
        assert red[:, 0].max() == 0 and red[:, -1].max() == 0
        assert red[0].max() == 0 and red[-1].max() == 0


def test_bars_are_wide_pillars_tall_and_rings_hollow() -> None:
    def extent(shape: str) -> tuple[int, int]:
        rows, columns = np.nonzero(np.asarray(render(_scene(shape), 64))[..., 0] > 127)
        return int(np.ptp(columns)), int(np.ptp(rows))

    width, height = extent("bar")
    assert width > 1.8 * height
    width, height = extent("pillar")
    assert height > 1.8 * width
    ring = np.asarray(render(_scene("ring"), 64))[..., 0]
    assert ring[32, 32] == 0 and ring[32, 32 - 10] > 200


def test_shapes_look_different_and_background_is_a_gradient() -> None:
    masks = {s: np.asarray(render(_scene(s), 32))[..., 0] > 127 for s in SHAPES}
    for a in SHAPES:
        for b in SHAPES:
            if a < b:
                assert (masks[a] != masks[b]).sum() >= 15, (a, b)
    image = np.asarray(render(_scene(), 32))
    assert image[0, 0, 2] < 10 and image[-1, 0, 2] > 190
    assert np.array_equal(image, np.asarray(render(_scene(), 32)))
    with pytest.raises(ValueError, match="unknown shape 'blob'"):
        render(_scene("blob"), 32)


def test_mood_palettes_are_far_apart() -> None:
    means = {m.name: np.mean([m.palette.background_top, m.palette.background_bottom], axis=0)
             for m in MOODS}
    for a in MOOD_NAMES:
        for b in MOOD_NAMES:
            if a < b:
                assert np.linalg.norm(means[a] - means[b]) > 60, (a, b)


# -- dsp ---------------------------------------------------------------------------------------

def test_resample_keeps_tones_and_removes_what_cannot_be_kept() -> None:
    t = np.arange(22050) / 22050
    tone = np.sin(2 * np.pi * 440 * t) * np.hanning(t.size)
    out = resample(tone, 22050, 16000)
    assert out.dtype == np.float32 and out.size == 16000
    spectrum = np.abs(np.fft.rfft(out))
    assert abs(int(np.argmax(spectrum)) - 440) <= 1
    assert abs(np.sqrt(np.mean(out**2)) - np.sqrt(np.mean(tone**2))) < 0.01
    alias = resample(np.sin(2 * np.pi * 10000 * t) * np.hanning(t.size), 22050, 16000)
    assert np.sqrt(np.mean(alias**2)) < 0.01  # 10 kHz is above the new Nyquist frequency
    assert resample(out, 16000, 22050).size == 22050
    assert resample(tone[:1001], 22050, 22050).size == 1001


def test_trim_silence_keeps_a_margin() -> None:
    rate = 16000
    signal = np.concatenate([np.zeros(rate), 0.5 * np.ones(rate // 2), np.zeros(rate)])
    trimmed = trim_silence(signal, rate, margin=0.05)
    assert trimmed.size == rate // 2 + 2 * 800
    assert trim_silence(np.zeros(100), rate).size == 100


def test_tremolo_modulates_the_amplitude() -> None:
    rate = 16000
    steady = np.ones(rate, dtype=np.float32)
    shaken = apply_tremolo(steady, rate, hz=8.0, depth=0.6)
    assert shaken.dtype == np.float32
    assert shaken.min() == pytest.approx(0.4, abs=1e-3) and shaken.max() == pytest.approx(1.0)
    spectrum = np.abs(np.fft.rfft(shaken - shaken.mean()))
    assert int(np.argmax(spectrum)) == 8
    assert apply_tremolo(steady, rate, 8.0, 0.0) is steady
    with pytest.raises(ValueError, match="depth"):
        apply_tremolo(steady, rate, 8.0, 1.5)
