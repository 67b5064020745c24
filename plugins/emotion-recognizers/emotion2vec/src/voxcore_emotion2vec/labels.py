"""emotion2vec's labels and the emotions voxcore reports for them.

An emotion2vec+ checkpoint names its classes in ``tokens.txt``, one per line, in the order of
its output layer: ``生气/angry``, ``厌恶/disgusted``, ``恐惧/fearful``, ``开心/happy``,
``中立/neutral``, ``其他/other``, ``难过/sad``, ``吃惊/surprised``, ``<unk>`` (older copies
write the English word alone). FunASR gives a label starting with ``unuse`` no probability
(its logit is set to -inf before the softmax); this module does the same.

Each label maps to one of :data:`~voxcore.plugin_api.CANONICAL_EMOTIONS` by its English word
(``happy`` is ``enjoyment``, as in the paper). ``other``, ``<unk>`` and any word without a
canonical emotion are not emotions: their probabilities are added up under :data:`OTHER`, a
class a dataset builder never asks for, so every row still sums to 1 and an utterance the
model cannot place counts against every emotion instead of for one of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from voxcore.plugin_api import CANONICAL_EMOTIONS, UserError

__all__ = ["CANONICAL_OF", "OTHER", "PLUS_LABELS", "LabelMap", "canonical_emotion",
           "is_unused", "label_map", "read_labels"]

#: The class the probability of ``other``, ``<unk>`` and unknown labels is reported under.
OTHER = "other"

#: The English words of emotion2vec+'s labels and their canonical emotions.
CANONICAL_OF: dict[str, str] = {
    "angry": "anger", "disgusted": "disgust", "fearful": "fear", "happy": "enjoyment",
    "neutral": "neutral", "sad": "sadness", "surprised": "surprise",
}

#: The labels of the published emotion2vec+ checkpoints, as their ``tokens.txt`` lists them.
PLUS_LABELS: tuple[str, ...] = ("生气/angry", "厌恶/disgusted", "恐惧/fearful", "开心/happy",
                                "中立/neutral", "其他/other", "难过/sad", "吃惊/surprised",
                                "<unk>")

_UNUSED_PREFIX = "unuse"


def read_labels(path: Path) -> tuple[str, ...]:
    """The labels in a ``tokens.txt``, read the way FunASR's tokenizer reads them (each line,
    trailing whitespace removed)."""
    try:
        with path.open(encoding="utf-8") as handle:
            labels = tuple(line.rstrip() for line in handle)
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read emotion2vec's labels from {path} ({exc})") from exc
    if not labels:
        raise UserError(f"{path} lists no labels; an emotion2vec+ checkpoint's tokens.txt "
                        "has one label per line (生气/angry, ..., <unk>)")
    return labels


def is_unused(label: str) -> bool:
    """Whether FunASR gives ``label`` no probability (a slot the model does not use)."""
    return label.startswith(_UNUSED_PREFIX)


def canonical_emotion(label: str) -> str:
    """The canonical emotion of a label (``"开心/happy"`` is ``"enjoyment"``), or
    :data:`OTHER` for ``other``, ``<unk>`` and words without one."""
    english = label.rsplit("/", 1)[-1].strip().lower()
    return CANONICAL_OF.get(english, OTHER)


@dataclass(frozen=True)
class LabelMap:
    """How a checkpoint's label probabilities become emotion probabilities.

    ``labels`` are the model's own, in output order; ``emotions`` what the recognizer
    reports (canonical order, :data:`OTHER` last when any label falls there); ``targets``
    holds, per label, the index of its emotion, or ``None`` for an unused label.
    """

    labels: tuple[str, ...]
    emotions: tuple[str, ...]
    targets: tuple[int | None, ...]

    @property
    def unused(self) -> tuple[bool, ...]:
        """Per label, whether it gets no probability."""
        return tuple(target is None for target in self.targets)


def label_map(labels: Sequence[str]) -> LabelMap:
    """The :class:`LabelMap` of a checkpoint's labels."""
    used = [label for label in labels if not is_unused(label)]
    if not used:
        raise UserError(f"every label of this checkpoint starts with {_UNUSED_PREFIX!r} "
                        f"({', '.join(labels)}); it scores no emotion")
    found = {canonical_emotion(label) for label in used}
    emotions = tuple(e for e in (*CANONICAL_EMOTIONS, OTHER) if e in found)
    targets = tuple(None if is_unused(label) else emotions.index(canonical_emotion(label))
                    for label in labels)
    return LabelMap(labels=tuple(labels), emotions=emotions, targets=targets)
