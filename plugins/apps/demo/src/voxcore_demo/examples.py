"""Example utterances one click away: taken from a run's evaluation data, one in each mood
(or emotion) when the data labels them, the same sentence in each where the data has one."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from voxcore.plugin_api import LoadedRun, Sample

__all__ = ["Example", "pick_examples"]

logger = logging.getLogger(__name__)

#: Labels that say how something was said, in the order they are looked for.
MANNER_LABELS = ("mood", "emotion")


@dataclass(frozen=True)
class Example:
    """One utterance of a dataset, with what is said in it and how."""

    audio: Path
    transcript: str
    manner: str | None

    @property
    def caption(self) -> str:
        """``mood: "sentence"`` (or the sentence alone)."""
        said = f"“{self.transcript}”" if self.transcript else self.audio.name
        return f"{self.manner}: {said}" if self.manner else said


def pick_examples(run: LoadedRun, limit: int = 5) -> list[Example]:
    """Up to ``limit`` utterances of the run's evaluation data (else its training data).

    None when the run names no dataset or its files are no longer where the recipe says
    (an exported model moved to another machine): the demo then has no examples, and says so
    in its log.
    """
    specs = run.resolved.eval_data or run.resolved.train_data
    if not specs or limit < 1:
        return []
    try:
        samples = [s for s in specs[0].build() if s.audio is not None and s.audio.is_file()]
    except Exception as exc:  # a dataset gone or moved is no reason not to serve the model
        logger.info("no example utterances: %s could not be read (%s)", specs[0].label, exc)
        return []
    chosen = _one_per_manner(samples, limit) or samples[:limit]
    return [Example(sample.audio, sample.transcript or "", _manner(sample))
            for sample in chosen if sample.audio is not None]


def _manner(sample: Sample) -> str | None:
    for key in MANNER_LABELS:
        if key in sample.labels:
            return str(sample.labels[key])
    return None


def _one_per_manner(samples: list[Sample], limit: int) -> list[Sample]:
    """One sample per manner value, preferring a sentence spoken in the most of them."""
    by_sentence: dict[str, dict[str, Sample]] = defaultdict(dict)
    first_of: dict[str, Sample] = {}
    for sample in samples:
        manner = _manner(sample)
        if manner is None:
            continue
        by_sentence[sample.transcript or ""].setdefault(manner, sample)
        first_of.setdefault(manner, sample)
    if not first_of:
        return []
    # The same words in each manner show what the voice alone changes.
    best = max(by_sentence.values(), key=len)
    chosen = {**first_of, **best} if len(best) > 1 else first_of
    return [chosen[manner] for manner in sorted(chosen)][:limit]
