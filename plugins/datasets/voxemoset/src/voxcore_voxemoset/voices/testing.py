"""Small corpora of real speech named like CREMA-D's, RAVDESS's and MEAD's files, for tests.

Each writer speaks its utterances with espeak-ng (through ``voxcore_voxshapes``): a few
speakers (espeak-ng voice variants), every one of the paper's five emotions plus neutral, each
emotion with VoxShapes' mood prosody (:mod:`voxcore_voxshapes.moods`, neutral with espeak-ng's
plain settings), 16 kHz mono wav, about one second each; a default tree has 24 files and takes
well under a second to write. :func:`write_emobox_split` writes EmoBox's split files for such
a tree (see :mod:`voxcore_voxemoset.voices.splits`)::

    from voxcore_voxemoset.voices.testing import write_crema_d, write_emobox_split

    files = write_crema_d(tmp_path / "CREMA-D")
    emobox = write_emobox_split(tmp_path / "EmoBox", "cremad", tmp_path / "CREMA-D",
                                test=lambda path: "_IEO_" in path.name)
    CremaDCorpus(CremaDConfig(root=str(tmp_path / "CREMA-D"), split_file=str(emobox)))
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import soundfile
from voxcore_voxshapes import (
    MOOD_NAMES,
    apply_tremolo,
    get_mood,
    resample,
    synthesize,
    trim_silence,
)

from voxcore_voxemoset.voices.crema_d import EMOTIONS as CREMA_D_EMOTIONS
from voxcore_voxemoset.voices.crema_d import SENTENCES as CREMA_D_SENTENCES
from voxcore_voxemoset.voices.mead import EMOTIONS as MEAD_EMOTIONS
from voxcore_voxemoset.voices.ravdess import EMOTIONS as RAVDESS_EMOTIONS
from voxcore_voxemoset.voices.ravdess import STATEMENTS as RAVDESS_STATEMENTS

__all__ = ["CREMA_D_ACTORS", "MEAD_SENTENCES", "MEAD_SPEAKERS", "RAVDESS_ACTORS", "SAMPLE_RATE",
           "speak", "write_crema_d", "write_emobox_split", "write_mead", "write_mead_sentences",
           "write_ravdess"]

SAMPLE_RATE = 16_000
#: Fixture actors of CREMA-D: (ActorID, espeak-ng voice, sentence code, level of its
#: emotional utterances; neutral ones are always XX, as in CREMA-D).
CREMA_D_ACTORS: tuple[tuple[str, str, str, str], ...] = (
    ("1001", "en-us+m3", "IEO", "HI"), ("1002", "en-us+f2", "DFA", "XX"),
    ("1003", "en-us+m1", "TSI", "XX"), ("1004", "en-us+f4", "IEO", "LO"))
#: Fixture actors of RAVDESS: (actor number, espeak-ng voice); odd actors are male, as there.
RAVDESS_ACTORS: tuple[tuple[str, str], ...] = (
    ("01", "en-us+m3"), ("02", "en-us+f2"), ("03", "en-us+m1"), ("04", "en-us+f4"))
#: Fixture speakers of MEAD: (speaker, espeak-ng voice).
MEAD_SPEAKERS: tuple[tuple[str, str], ...] = (
    ("M003", "en-us+m3"), ("W009", "en-us+f2"), ("M005", "en-us+m1"), ("W011", "en-us+f4"))
#: What the fixture's MEAD files say, by number (short stand-ins, not MEAD's own sentences).
MEAD_SENTENCES: dict[int, str] = {1: "Call an ambulance", 2: "She had your dark suit"}

_CANONICAL_TO_RAVDESS = {emotion: code for code, emotion in RAVDESS_EMOTIONS.items()}
_RAVDESS_LABELS = {"01": "Neutral", "02": "Calm", "03": "Happy", "04": "Sad", "05": "Angry",
                   "06": "Fearful", "07": "Disgust", "08": "Surprised"}
_EMOBOX_PREFIX = {"cremad": "", "ravdess": "audio/", "mead": ""}


def speak(text: str, voice: str, emotion: str, *, speed: float = 1.6,
          sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """``text`` spoken by espeak-ng ``voice`` with the prosody of ``emotion`` (a canonical
    name; emotions without a VoxShapes mood get plain prosody), ``speed`` times the mood's
    rate so fixtures stay short; trimmed, float32 mono at ``sample_rate``."""
    mood = get_mood(emotion) if emotion in MOOD_NAMES else None
    pitch, pitch_range, rate, volume, word_gap = (
        (mood.prosody.pitch, mood.prosody.pitch_range, mood.prosody.rate, mood.prosody.volume,
         mood.prosody.word_gap) if mood is not None else (50, 50, 175, 100, 0))
    samples, native_rate = synthesize(text, voice, pitch=pitch, pitch_range=pitch_range,
                                      rate=min(450, round(rate * speed)), volume=volume,
                                      word_gap=round(word_gap / speed))
    samples = trim_silence(samples, native_rate)
    if mood is not None:
        samples = apply_tremolo(samples, native_rate, mood.tremolo_hz, mood.tremolo_depth)
    resampled: np.ndarray = resample(samples, native_rate, sample_rate)
    return np.clip(resampled, -1.0, 1.0, out=resampled)


def _write(path: Path, samples: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), samples, SAMPLE_RATE, subtype="PCM_16")
    return path


def write_crema_d(root: Path, *, actors: Sequence[tuple[str, str, str, str]] = CREMA_D_ACTORS,
                  emotions: Sequence[str] = ("ANG", "DIS", "FEA", "HAP", "NEU", "SAD"),
                  speed: float = 1.6) -> list[Path]:
    """Write ``root/AudioWAV/<ActorID>_<SentenceCode>_<EmotionCode>_<Level>.wav``: each
    actor (:data:`CREMA_D_ACTORS`) saying its sentence in each emotion code."""
    written = []
    for actor, voice, sentence, level in actors:
        for code in emotions:
            name = f"{actor}_{sentence}_{code}_{'XX' if code == 'NEU' else level}.wav"
            samples = speak(CREMA_D_SENTENCES[sentence], voice, CREMA_D_EMOTIONS[code],
                            speed=speed)
            written.append(_write(root / "AudioWAV" / name, samples))
    return written


def write_ravdess(root: Path, *, actors: Sequence[tuple[str, str]] = RAVDESS_ACTORS,
                  emotions: Sequence[str] = ("01", "03", "04", "05", "06", "07"),
                  zip_folder: bool = True, speed: float = 1.6) -> list[Path]:
    """Write ``root/Audio_Speech_Actors_01-24/Actor_NN/03-01-EE-II-SS-01-NN.wav`` (without the
    zip's folder when ``zip_folder`` is false): each actor in each emotion code, statements
    and intensities alternating (neutral always normal)."""
    folder = root / "Audio_Speech_Actors_01-24" if zip_folder else root
    written = []
    for index, (actor, voice) in enumerate(actors):
        for position, code in enumerate(emotions):
            statement = "01" if (index + position) % 2 == 0 else "02"
            intensity = "01" if code == "01" or index % 2 == 0 else "02"
            name = f"03-01-{code}-{intensity}-{statement}-01-{actor}.wav"
            samples = speak(RAVDESS_STATEMENTS[statement], voice, RAVDESS_EMOTIONS[code],
                            speed=speed)
            written.append(_write(folder / f"Actor_{actor}" / name, samples))
    return written


def write_mead(root: Path, *, speakers: Sequence[tuple[str, str]] = MEAD_SPEAKERS,
               emotions: Sequence[str] = ("angry", "disgusted", "fear", "happy", "sad",
                                          "neutral"),
               speed: float = 1.6) -> list[Path]:
    """Write ``root/<Speaker>/audio/<emotion>/level_<n>/<nnn>.wav`` (the ``.wav`` copies the
    reader takes): each speaker in each emotion folder, at level 1 (neutral, and every other
    speaker) or 3, saying sentence 001 or 002 of :data:`MEAD_SENTENCES`."""
    written = []
    for index, (speaker, voice) in enumerate(speakers):
        for position, emotion in enumerate(emotions):
            level = 1 if emotion == "neutral" or index % 2 == 0 else 3
            number = 1 + (index + position) % 2
            samples = speak(MEAD_SENTENCES[number], voice, MEAD_EMOTIONS[emotion], speed=speed)
            path = root / speaker / "audio" / emotion / f"level_{level}" / f"{number:03d}.wav"
            written.append(_write(path, samples))
    return written


def write_mead_sentences(path: Path) -> Path:
    """Write the texts of the fixture's MEAD files as a ``sentences`` file: CSV (header
    ``emotion,level,number,text``, level blank) or, for a ``.json`` path,
    ``{emotion: {number: text}}``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".json":
        nested = {emotion: {f"{number:03d}": text for number, text in MEAD_SENTENCES.items()}
                  for emotion in MEAD_EMOTIONS}
        path.write_text(json.dumps(nested, indent=1), encoding="utf-8")
        return path
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["emotion", "level", "number", "text"])
        for emotion in MEAD_EMOTIONS:
            for number, text in MEAD_SENTENCES.items():
                writer.writerow([emotion, "", f"{number:03d}", text])
    return path


def _emobox_entry(dataset: str, root: Path, path: Path) -> dict[str, object]:
    """One line of an EmoBox split file for ``path`` (EmoBox's ``key``, ``wav``, ``emo``)."""
    relative = path.relative_to(root)
    stem = path.stem
    if dataset == "cremad":
        key, emo, wav = f"cremad-{stem.replace('_', '-')}", stem.split("_")[2], relative
    elif dataset == "ravdess":
        key, emo, wav = f"ravdess-{stem}", _RAVDESS_LABELS[stem.split("-")[2]], relative
    else:
        speaker, _, emotion, level = relative.parts[:4]
        key = f"mead-{speaker}-{emotion}-{level.replace('_', '-')}-{stem}"
        emo, wav = emotion, relative.with_suffix(".m4a")
    info = soundfile.info(str(path))
    return {"key": key, "dataset": dataset,
            "wav": f"downloads/{dataset}/{_EMOBOX_PREFIX[dataset]}{wav.as_posix()}",
            "type": "raw", "sample_rate": info.samplerate, "num_frame": float(info.frames),
            "task": "category", "length": info.duration, "emo": emo, "channel": 1}


def write_emobox_split(folder: Path, dataset: Literal["cremad", "ravdess", "mead"], root: Path,
                       *, test: Callable[[Path], bool], fold: int = 1) -> Path:
    """Write EmoBox's split files for the ``.wav`` files under ``root``, as EmoBox names them
    (``downloads/<dataset>/...`` paths, MEAD's as ``.m4a``): ``folder/<dataset>/fold_<fold>/
    <dataset>_{train,test}_fold_<fold>.jsonl`` and the ``.json`` twins. ``test`` says which
    files are in the test split. Returns ``folder/<dataset>`` (what ``split_file`` takes)."""
    entries: dict[str, list[dict[str, object]]] = {"train": [], "test": []}
    for path in sorted(root.rglob("*.wav")):
        entries["test" if test(path) else "train"].append(_emobox_entry(dataset, root, path))
    fold_folder = folder / dataset / f"fold_{fold}"
    fold_folder.mkdir(parents=True, exist_ok=True)
    for split, rows in entries.items():
        stem = fold_folder / f"{dataset}_{split}_fold_{fold}"
        stem.with_suffix(".jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows),
                                              encoding="utf-8")
        mapping = {row["key"]: {field: row[field] for field in
                                ("wav", "length", "emo", "dataset", "channel")} for row in rows}
        stem.with_suffix(".json").write_text(json.dumps(mapping, indent=4), encoding="utf-8")
    return folder / dataset
