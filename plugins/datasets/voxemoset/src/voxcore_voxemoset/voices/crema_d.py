"""``crema-d``: CREMA-D (Cao et al. 2014) as released,
``AudioWAV/<Actor>_<Sentence>_<Emotion>_<Level>.wav``.

91 actors (1001-1091) each speak twelve sentences; ``1001_DFA_ANG_XX.wav`` is actor 1001
saying "Don't forget a jacket" in anger at an unspecified level. Emotions: ANG, DIS, FEA,
HAP, NEU, SAD; levels: LO, MD, HI (only the sentence IEO has them) and XX.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from voxcore_voxemoset.voices.common import (
    ListedCorpus,
    Skipped,
    Utterance,
    is_empty,
    no_usable_files,
    require_folder,
    scan_files,
)
from voxcore_voxemoset.voices.config import CremaDConfig

__all__ = ["EMOTIONS", "LEVELS", "SENTENCES", "CremaDCorpus"]

#: CREMA-D's emotion codes -> canonical emotions.
EMOTIONS: dict[str, str] = {"ANG": "anger", "DIS": "disgust", "FEA": "fear", "HAP": "enjoyment",
                            "NEU": "neutral", "SAD": "sadness"}
#: CREMA-D's intensity levels (XX: unspecified).
LEVELS: tuple[str, ...] = ("LO", "MD", "HI", "XX")
#: What each sentence code says.
SENTENCES: dict[str, str] = {
    "IEO": "It's eleven o'clock",
    "TIE": "That is exactly what happened",
    "IOM": "I'm on my way to the meeting",
    "IWW": "I wonder what this is about",
    "TAI": "The airplane is almost full",
    "MTI": "Maybe tomorrow it will be cold",
    "IWL": "I would like a new alarm clock",
    "ITH": "I think I have a doctor's appointment",
    "DFA": "Don't forget a jacket",
    "ITS": "I think I've seen this before",
    "TSI": "The surface is slick",
    "WSI": "We'll stop in a couple of minutes",
}

_NAME = re.compile(r"^(?P<actor>\d{4})_(?P<sentence>[A-Z]{3})_(?P<emotion>[A-Z]{3})"
                   r"_(?P<level>[A-Z]{2})$")
_UNPARSEABLE = "files not named <ActorID>_<SentenceCode>_<EmotionCode>_<Level>.wav"


class CremaDCorpus(ListedCorpus[CremaDConfig]):
    """CREMA-D's wav files as :class:`~voxcore.plugin_api.ReferenceVoice` s.

    Ids are ``crema-d/<file name without .wav>``, speakers ``crema-d/<ActorID>``; the
    transcript is the sentence the code names.
    """

    corpus = "crema-d"
    layout = ("the CREMA-D folder, which holds AudioWAV/<ActorID>_<SentenceCode>_<EmotionCode>"
              "_<Level>.wav (e.g. AudioWAV/1001_DFA_ANG_XX.wav), or that AudioWAV folder")

    @property
    def where(self) -> Path:
        return Path(self.config.root)

    def _list(self, skipped: Skipped) -> list[Utterance]:
        root = require_folder(self.where, self.corpus, self.layout)
        folder = root / "AudioWAV" if (root / "AudioWAV").is_dir() else root
        utterances: list[Utterance] = []
        looked_at = 0
        for entry in scan_files(folder):
            stem, suffix = os.path.splitext(entry.name)
            if suffix.lower() != ".wav":
                continue
            looked_at += 1
            found = _NAME.match(stem)
            if (found is None or found["sentence"] not in SENTENCES
                    or found["emotion"] not in EMOTIONS or found["level"] not in LEVELS):
                skipped.add(_UNPARSEABLE, entry.name)
            elif is_empty(entry):
                skipped.add("empty files", entry.name)
            else:
                utterances.append(Utterance(
                    name=stem, audio=Path(entry.path), key=(stem,), speaker=found["actor"],
                    emotion=EMOTIONS[found["emotion"]],
                    transcript=SENTENCES[found["sentence"]], level=found["level"]))
        if not utterances:
            raise no_usable_files(self.corpus, folder, self.layout, skipped, looked_at)
        return utterances

    def _keep(self, utterance: Utterance) -> bool:
        return self.config.levels is None or utterance.level in self.config.levels
