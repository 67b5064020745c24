"""``voice-table``: any corpus listed in a CSV or JSONL file (ESD, your own recordings, ...).

One row per utterance: ``audio`` (a path relative to the table's folder), ``emotion`` (a word
of :data:`~voxcore_voxemoset.voices.labels.EMOTION_WORDS`: canonical names or ``happy``,
``angry``, ``sad``, ...), ``speaker``, and optionally ``transcript`` and ``split``
(``train``/``test``; rows without one are split by speaker). A CSV has a header row naming
the columns; a JSONL file has one object per line.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

from voxcore.plugin_api import UserError
from voxcore_voxemoset.voices.common import (
    EMPTY_FILE_BYTES,
    READABLE_SUFFIXES,
    ListedCorpus,
    Skipped,
    Utterance,
    m4a_hint,
    path_key,
)
from voxcore_voxemoset.voices.config import VoiceTableConfig
from voxcore_voxemoset.voices.labels import canonical_emotion

__all__ = ["VoiceTableCorpus"]

_FORMAT = ("a .csv file with a header row, or a .jsonl file, with the fields audio (path "
           "relative to the table), emotion, speaker, and optionally transcript and split "
           "(e.g. 'Angry/0011_000351.wav,angry,0011,Some text,train')")
_REQUIRED = ("audio", "emotion", "speaker")


class VoiceTableCorpus(ListedCorpus[VoiceTableConfig]):
    """The rows of a voice table as :class:`~voxcore.plugin_api.ReferenceVoice` s.

    Ids are ``<corpus>/<audio path without its suffix>``, speakers ``<corpus>/<speaker>``. An
    audio file that libsndfile cannot decode (``.m4a``, ``.mp4``, ...) is used through a
    ``.wav`` copy beside it when there is one.
    """

    corpus = "voice-table"
    layout = _FORMAT

    @property
    def name(self) -> str:
        return self.config.corpus

    @property
    def where(self) -> Path:
        return Path(self.config.root)

    def _rows(self) -> list[tuple[str, dict[str, object]]]:
        table = self.where
        if not table.is_file():
            state = "is not a file" if table.exists() else "does not exist"
            raise UserError(f"{self.name}: the voice table {table.absolute()} {state}; set "
                            f"root to {_FORMAT}")
        try:
            text = table.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"{self.name}: cannot read the voice table {table.absolute()} "
                            f"({exc}); it must be UTF-8 text: {_FORMAT}") from exc
        if table.suffix.lower() == ".jsonl":
            rows: list[tuple[str, dict[str, object]]] = []
            for number, line in enumerate(text.splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise UserError(f"{self.name}: {table.absolute()}, line {number} is not JSON "
                                    f"({exc}); give {_FORMAT}") from exc
                rows.append((f"line {number}", row if isinstance(row, dict) else {}))
            return rows
        if table.suffix.lower() != ".csv":
            raise UserError(f"{self.name}: the voice table {table.absolute()} is neither .csv "
                            f"nor .jsonl; give {_FORMAT}")
        reader = csv.DictReader(io.StringIO(text))
        missing = [name for name in _REQUIRED if name not in (reader.fieldnames or ())]
        if missing:
            raise UserError(f"{self.name}: the voice table {table.absolute()} has no column "
                            f"{', '.join(missing)} (its header: {reader.fieldnames}); give "
                            f"{_FORMAT}")
        return [(f"line {reader.line_num}", dict(row)) for row in reader]

    def _list(self, skipped: Skipped) -> list[Utterance]:
        rows = self._rows()
        folder = self.where.parent
        utterances: list[Utterance] = []
        names: set[str] = set()
        for where, row in rows:
            audio, emotion_word, speaker, transcript, split = (
                _text(row.get(field)) for field in (*_REQUIRED, "transcript", "split"))
            emotion = canonical_emotion(emotion_word)
            if not (audio and emotion_word and speaker):
                skipped.add("rows without audio, emotion or speaker", where)
            elif emotion is None:
                skipped.add("rows with an emotion voxcore does not know", f"{where}: "
                            f"{emotion_word!r}")
            elif split and split not in ("train", "test"):
                skipped.add("rows whose split is not train or test", f"{where}: {split!r}")
            else:
                key = path_key(audio.replace("\\", "/").split("/"))
                path = _readable(folder / audio, skipped, where)
                if path is None:
                    continue
                name = "/".join(key)
                if name in names:
                    skipped.add("rows repeating an audio file", where)
                    continue
                names.add(name)
                utterances.append(Utterance(name=name, audio=path, key=key, speaker=speaker,
                                            emotion=emotion, transcript=transcript or None,
                                            split=split or None))
        if not utterances:
            found = ("it has no rows" if not rows
                     else f"none of its {len(rows)} rows is usable: " + "; ".join(skipped.lines()))
            raise UserError(f"{self.name}: found no usable utterance in the voice table "
                            f"{self.where.absolute()} ({found}); give {_FORMAT}")
        return utterances


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _readable(path: Path, skipped: Skipped, where: str) -> Path | None:
    """``path``, or its ``.wav`` copy when libsndfile cannot decode it; ``None`` (counted in
    ``skipped``) when neither can be used."""
    if path.suffix.lower() not in READABLE_SUFFIXES:
        copy = path.with_suffix(".wav")
        if copy.is_file():
            return copy
        if path.is_file():
            skipped.add(f"{path.suffix} files without a .wav copy (libsndfile cannot decode "
                        f"them)", f"{where}: {path.name}", m4a_hint(path.parent)
                        if path.suffix.lower() == ".m4a" else
                        f"convert them to .wav, e.g. ffmpeg -i {path.name} "
                        f"{copy.name}")
            return None
    try:
        size = os.stat(path).st_size
    except OSError:
        skipped.add("rows whose audio file does not exist", f"{where}: {path}")
        return None
    if size <= EMPTY_FILE_BYTES:
        skipped.add("empty audio files", f"{where}: {path.name}")
        return None
    return path
