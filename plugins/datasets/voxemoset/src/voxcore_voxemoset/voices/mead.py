"""``mead``: MEAD's audio (Wang et al. 2020) as released,
``<Speaker>/audio/<emotion>/level_<n>/<nnn>.m4a``.

Each speaker (M003, W009, ...) has an ``audio.tar`` that unpacks to ``audio/<emotion>/
level_<n>/<nnn>.m4a``: emotions angry, contempt, disgusted, fear, happy, neutral, sad and
surprised; levels 1-3 (neutral only 1); ``nnn`` numbers the sentence. libsndfile (voxcore's
``load_audio``) cannot decode AAC ``.m4a``, so the reader takes ``.wav`` copies made beside
them (:func:`~voxcore_voxemoset.voices.common.m4a_hint` says how).

MEAD's folders do not hold the sentences' texts. A ``sentences`` file gives them, as a CSV
with a header row ``emotion,level,number,text`` (``level`` may be left out or blank: the row
holds for every level) or as JSON: a list of such objects, or ``{emotion: {number: text}}``.
``emotion`` is MEAD's folder name (``happy``) or the canonical one (``enjoyment``),
``number`` the file's number (``1`` or ``"001"``), ``level`` ``1`` or ``"level_1"``. A
level's own row wins over a row for every level.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

from voxcore.plugin_api import UserError
from voxcore_voxemoset.voices.common import (
    ListedCorpus,
    Skipped,
    Utterance,
    is_empty,
    m4a_hint,
    no_usable_files,
    require_folder,
    scan_files,
)
from voxcore_voxemoset.voices.config import MeadConfig
from voxcore_voxemoset.voices.labels import canonical_emotion

__all__ = ["EMOTIONS", "MeadCorpus", "read_sentences"]

#: MEAD's emotion folders -> canonical emotions.
EMOTIONS: dict[str, str] = {"angry": "anger", "contempt": "contempt", "disgusted": "disgust",
                            "fear": "fear", "happy": "enjoyment", "neutral": "neutral",
                            "sad": "sadness", "surprised": "surprise"}

_LEVEL = re.compile(r"^level_(\d+)$")
_NUMBER = re.compile(r"^\d{3}$")
_SENTENCES_FORMAT = ("a CSV with a header row emotion,level,number,text (level optional), or "
                     "JSON: a list of {emotion, level?, number, text} objects or "
                     "{emotion: {number: text}}")

#: (canonical emotion, level or None for every level, number) -> text.
Sentences = dict[tuple[str, int | None, int], str]


def _sentence_key(emotion: object, level: object, number: object, where: str) -> tuple[
        str, int | None, int]:
    name = canonical_emotion(str(emotion)) if emotion is not None else None
    if name is None:
        raise UserError(f"{where}: unknown emotion {emotion!r}; use MEAD's folder names "
                        f"({', '.join(EMOTIONS)})")
    level_text = "" if level is None else str(level).strip().removeprefix("level_")
    number_text = "" if number is None else str(number).strip()
    if not number_text.isdigit() or not (level_text == "" or level_text.isdigit()):
        raise UserError(f"{where}: number {number!r} and level {level!r} must be whole numbers "
                        "(such as 1 or 001, and 1 or level_1; level may be blank)")
    return name, int(level_text) if level_text else None, int(number_text)


def read_sentences(path: Path) -> Sentences:
    """The texts of a ``sentences`` file (format in the module docstring)."""
    if not path.is_file():
        state = "is not a file" if path.exists() else "does not exist"
        raise UserError(f"mead: the sentences file {path.absolute()} {state}; give "
                        f"{_SENTENCES_FORMAT}, or leave sentences unset")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"mead: cannot read the sentences file {path.absolute()} ({exc})") \
            from exc
    rows: list[tuple[str, dict[str, object]]] = []
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UserError(f"mead: the sentences file {path.absolute()} is not valid JSON "
                            f"({exc}); give {_SENTENCES_FORMAT}") from exc
        if isinstance(data, dict):
            for emotion, numbers in data.items():
                if not isinstance(numbers, dict):
                    raise UserError(f"mead: {path.absolute()}, {emotion!r}: expected "
                                    f"{{number: text}}; give {_SENTENCES_FORMAT}")
                rows += [(f"{emotion!r} {number!r}",
                          {"emotion": emotion, "number": number, "text": sentence})
                         for number, sentence in numbers.items()]
        elif isinstance(data, list):
            rows = [(f"item {index}", row if isinstance(row, dict) else {})
                    for index, row in enumerate(data)]
        else:
            raise UserError(f"mead: {path.absolute()} holds no list or object; give "
                            f"{_SENTENCES_FORMAT}")
    else:
        reader = csv.DictReader(io.StringIO(text))
        missing = {"emotion", "number", "text"} - set(reader.fieldnames or ())
        if missing:
            raise UserError(f"mead: the sentences file {path.absolute()} has no column "
                            f"{', '.join(sorted(missing))}; give {_SENTENCES_FORMAT}")
        rows = [(f"line {reader.line_num}", dict(row)) for row in reader]
    sentences: Sentences = {}
    for where, row in rows:
        place = f"mead: {path.absolute()}, {where}"
        sentence = row.get("text")
        if not isinstance(sentence, str) or not sentence.strip():
            raise UserError(f"{place}: no text; give {_SENTENCES_FORMAT}")
        key = _sentence_key(row.get("emotion"), row.get("level"), row.get("number"), place)
        sentences[key] = sentence.strip()
    return sentences


class MeadCorpus(ListedCorpus[MeadConfig]):
    """MEAD's utterances (their ``.wav`` copies) as :class:`~voxcore.plugin_api.ReferenceVoice` s.

    Ids are ``mead/<Speaker>_<emotion>_level_<n>_<nnn>``, speakers ``mead/<Speaker>``; the
    transcript comes from the ``sentences`` file, or is ``None``.
    """

    corpus = "mead"
    layout = ("the MEAD folder, holding a folder per speaker with its audio.tar unpacked: "
              "<Speaker>/audio/<emotion>/level_<n>/<nnn>.wav (e.g. M003/audio/angry/level_1/"
              "001.wav; .wav copies of the released .m4a files)")

    @property
    def where(self) -> Path:
        return Path(self.config.root)

    def _list(self, skipped: Skipped) -> list[Utterance]:
        root = require_folder(self.where, self.corpus, self.layout)
        sentences = (read_sentences(Path(self.config.sentences))
                     if self.config.sentences is not None else {})
        speakers = ([root] if (root / "audio").is_dir() else
                    [path for path in _folders(root) if (path / "audio").is_dir()])
        if not speakers:
            raise UserError(f"mead: no folder in {root.absolute()} has an audio/ folder (each "
                            f"speaker's audio.tar unpacks to one); expected {self.layout}")
        utterances: list[Utterance] = []
        looked_at = m4a_only = 0
        for speaker, emotion, level, folder in _level_folders(speakers, root, skipped):
            files, count = _numbered_files(folder, root, skipped)
            looked_at += count
            for number, found in sorted(files.items()):
                if ".wav" not in found:
                    m4a_only += 1
                    skipped.add(".m4a files without a .wav copy",
                                str(found[".m4a"].relative_to(root)), m4a_hint(root))
                    continue
                canonical = EMOTIONS[emotion]
                transcript = sentences.get((canonical, level, int(number)),
                                           sentences.get((canonical, None, int(number))))
                utterances.append(Utterance(
                    name=f"{speaker}_{emotion}_{folder.name}_{number}", audio=found[".wav"],
                    key=(speaker, "audio", emotion, folder.name, number), speaker=speaker,
                    emotion=canonical, transcript=transcript, level=str(level)))
        if not utterances and m4a_only:
            raise UserError(
                f"mead: {root.absolute()} holds MEAD's {m4a_only} .m4a files but no .wav "
                f"copies, and voxcore's audio reader (libsndfile) cannot decode .m4a (AAC); "
                f"{m4a_hint(root)}")
        if not utterances:
            raise no_usable_files(self.corpus, root, self.layout, skipped, looked_at)
        return utterances

    def _keep(self, utterance: Utterance) -> bool:
        return self.config.levels is None or int(utterance.level or 0) in self.config.levels


def _level_folders(speakers: list[Path], root: Path,
                   skipped: Skipped) -> Iterator[tuple[str, str, int, Path]]:
    """``(speaker, emotion folder name, level, folder)`` of every ``level_<n>`` folder."""
    for speaker in speakers:
        for emotion_folder in _folders(speaker / "audio"):
            if emotion_folder.name not in EMOTIONS:
                skipped.add("folders of unknown emotions", str(emotion_folder.relative_to(root)))
                continue
            for level_folder in _folders(emotion_folder):
                level = _LEVEL.match(level_folder.name)
                if level is None:
                    skipped.add("folders not named level_<n>",
                                str(level_folder.relative_to(root)))
                else:
                    yield speaker.name, emotion_folder.name, int(level[1]), level_folder


def _numbered_files(folder: Path, root: Path,
                    skipped: Skipped) -> tuple[dict[str, dict[str, Path]], int]:
    """The ``.wav`` and ``.m4a`` files of a level folder by number (``"001"``), and how many
    audio files it holds."""
    files: dict[str, dict[str, Path]] = {}
    count = 0
    for entry in scan_files(folder):
        stem, suffix = os.path.splitext(entry.name)
        suffix = suffix.lower()
        if suffix not in (".wav", ".m4a"):
            continue
        count += 1
        path = Path(entry.path)
        if _NUMBER.match(stem) is None:
            skipped.add("files not named <nnn>.wav", str(path.relative_to(root)))
        elif suffix == ".wav" and is_empty(entry):
            skipped.add("empty files", str(path.relative_to(root)))
        else:
            files.setdefault(stem, {})[suffix] = path
    return files, count


def _folders(folder: Path) -> list[Path]:
    """The visible subfolders of ``folder``, in name order."""
    return sorted(path for path in folder.iterdir()
                  if path.is_dir() and not path.name.startswith("."))
