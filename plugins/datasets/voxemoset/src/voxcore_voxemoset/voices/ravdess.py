"""``ravdess``: RAVDESS speech (Livingstone & Russo 2018) as released,
``Actor_NN/03-01-EE-II-SS-RR-AA.wav``.

``Audio_Speech_Actors_01-24.zip`` holds ``Actor_01`` ... ``Actor_24``; each file name is seven
two-digit fields: modality (03 audio-only), vocal channel (01 speech, 02 song), emotion (01
neutral, 02 calm, 03 happy, 04 sad, 05 angry, 06 fearful, 07 disgust, 08 surprised),
intensity (01 normal, 02 strong; neutral has only normal), statement (01 "Kids are talking by
the door", 02 "Dogs are sitting by the door"), repetition (01, 02) and actor (01-24; odd
actors are male, even female).
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection
from pathlib import Path

from voxcore.plugin_api import UserError
from voxcore_voxemoset.voices.common import (
    ListedCorpus,
    Skipped,
    Utterance,
    is_empty,
    logger,
    no_usable_files,
    require_folder,
    scan_files,
)
from voxcore_voxemoset.voices.config import RavdessConfig

__all__ = ["EMOTIONS", "INTENSITIES", "STATEMENTS", "RavdessCorpus"]

#: RAVDESS's emotion codes -> canonical emotions.
EMOTIONS: dict[str, str] = {"01": "neutral", "02": "calm", "03": "enjoyment", "04": "sadness",
                            "05": "anger", "06": "fear", "07": "disgust", "08": "surprise"}
#: RAVDESS's intensity codes.
INTENSITIES: dict[str, str] = {"01": "normal", "02": "strong"}
#: What each statement code says.
STATEMENTS: dict[str, str] = {"01": "Kids are talking by the door",
                              "02": "Dogs are sitting by the door"}

_NAME = re.compile(r"^(?P<modality>\d{2})-(?P<channel>\d{2})-(?P<emotion>\d{2})-"
                   r"(?P<intensity>\d{2})-(?P<statement>\d{2})-(?P<repetition>\d{2})-"
                   r"(?P<actor>\d{2})$")
_ALLOWED: dict[str, Collection[str]] = {
    "modality": ("03",), "channel": ("01", "02"), "emotion": EMOTIONS,
    "intensity": INTENSITIES, "statement": STATEMENTS, "repetition": ("01", "02")}
_UNPARSEABLE = "files not named 03-01-<emotion>-<intensity>-<statement>-<repetition>-<actor>.wav"


def _parse(stem: str) -> re.Match[str] | None:
    """The fields of an audio-only file name (speech or song), ``None`` for anything else."""
    found = _NAME.match(stem)
    if found is None or found["actor"] == "00" or any(
            found[field] not in allowed for field, allowed in _ALLOWED.items()):
        return None
    return found


class RavdessCorpus(ListedCorpus[RavdessConfig]):
    """RAVDESS's speech files as :class:`~voxcore.plugin_api.ReferenceVoice` s.

    The folder is searched recursively, so the ``Actor_NN`` folders may sit in ``root`` or in
    ``root/Audio_Speech_Actors_01-24/`` (EmoBox's ``audio/Audio_Speech_Actors_01-24`` too).
    Song files (vocal channel 02) are skipped. Ids are ``ravdess/<file name without .wav>``,
    speakers ``ravdess/Actor_NN``; the transcript is the statement.
    """

    corpus = "ravdess"
    layout = ("the folder of RAVDESS's speech audio (Audio_Speech_Actors_01-24.zip), holding "
              "Actor_NN/03-01-<emotion>-<intensity>-<statement>-<repetition>-<actor>.wav (e.g. "
              "Actor_01/03-01-05-01-01-01-01.wav), directly or in Audio_Speech_Actors_01-24/")

    @property
    def where(self) -> Path:
        return Path(self.config.root)

    def _list(self, skipped: Skipped) -> list[Utterance]:
        root = require_folder(self.where, self.corpus, self.layout)
        utterances: list[Utterance] = []
        looked_at = songs = 0
        seen: set[str] = set()
        for folder, subfolders, _ in os.walk(root):
            subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
            for entry in scan_files(Path(folder)):
                stem, suffix = os.path.splitext(entry.name)
                if suffix.lower() != ".wav":
                    continue
                looked_at += 1
                found = _parse(stem)
                if found is None:
                    skipped.add(_UNPARSEABLE, entry.name)
                elif found["channel"] == "02":
                    songs += 1
                elif is_empty(entry):
                    skipped.add("empty files", entry.name)
                elif stem in seen:
                    skipped.add("second copies of a file",
                                os.path.relpath(entry.path, root))
                else:
                    seen.add(stem)
                    utterances.append(Utterance(
                        name=stem, audio=Path(entry.path), key=(stem,),
                        speaker=f"Actor_{found['actor']}", emotion=EMOTIONS[found["emotion"]],
                        transcript=STATEMENTS[found["statement"]],
                        level=INTENSITIES[found["intensity"]]))
        if songs:
            logger.info("ravdess (%s): skipped %d song files (vocal channel 02)",
                        root.absolute(), songs)
        if not utterances and songs and looked_at == songs:
            raise UserError(f"ravdess: {root.absolute()} holds only song files (vocal channel "
                            "02, Audio_Song_Actors_01-24.zip); the references are the speech "
                            f"files: set root to {self.layout}")
        if not utterances:
            raise no_usable_files(self.corpus, root, self.layout, skipped, looked_at)
        return utterances

    def _keep(self, utterance: Utterance) -> bool:
        return self.config.intensities is None or utterance.level in self.config.intensities
