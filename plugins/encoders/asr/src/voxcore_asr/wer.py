"""Word error rate of transcripts against references, on normalised words."""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["normalised_words", "word_error_rate"]


def normalised_words(text: str) -> list[str]:
    """Lower-case words without punctuation ("Mr. John-Dashwood" -> mr, john, dashwood)."""
    return re.sub(r"[^a-z' ]", " ", text.lower().replace("-", " ")).split()


def word_error_rate(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Substitutions, insertions and deletions over all references' words (Levenshtein on
    :func:`normalised_words`), for transcripts paired with their references."""
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} transcripts for {len(references)} references")
    errors = total = 0
    for hypothesis, reference in zip(hypotheses, references, strict=True):
        heard, said = normalised_words(hypothesis), normalised_words(reference)
        row = list(range(len(heard) + 1))
        for i, word in enumerate(said, 1):
            diagonal, row[0] = row[0], i
            for j, other in enumerate(heard, 1):
                diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1,
                                               diagonal + (word != other))
        errors += row[-1]
        total += len(said)
    return errors / max(total, 1)
