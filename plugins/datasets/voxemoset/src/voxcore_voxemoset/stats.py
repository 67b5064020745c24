"""The figures of a build: Table 1's columns per split and class, and what was left out.

Table 1 of the paper gives, per dataset: images, utterances, mean length in seconds, mean
words per description, NMOS (DNSMOS) and Emo-C (the emotion classifier's mean confidence in
the intended emotion). Here they are per split and class, over the utterances written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from statistics import fmean
from typing import Any

__all__ = ["TABLE_COLUMNS", "caption_words", "table_row", "word_histogram"]

#: The columns of :func:`table_row`, in the report's order.
TABLE_COLUMNS: tuple[str, ...] = ("images", "utterances", "length_s", "words_per_caption",
                                  "nmos", "emo_c", "dropped")


def caption_words(text: str) -> int:
    """Words in a caption, as the paper's histogram counts them (whitespace-separated)."""
    return len(text.split())


def table_row(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Table 1's figures over ``records`` (every planned utterance of a split and class)."""
    written = [r for r in records if r.get("status") == "ok"]
    scored = [r["dnsmos"]["ovrl_mos"] for r in written if "dnsmos" in r]
    return {
        "images": len({r["image"] for r in written}),
        "utterances": len(written),
        "length_s": _mean(float(r["duration"]) for r in written),
        "words_per_caption": _mean(caption_words(r["text"]) for r in written),
        "nmos": _mean(scored),
        "nmos_utterances": len(scored),
        "emo_c": _mean(float(r["confidence"]) for r in written),
        "dropped": sum(1 for r in records if r.get("status") == "dropped"),
        "failed": sum(1 for r in records if r.get("status") == "failed"),
    }


def word_histogram(records: Iterable[dict[str, Any]]) -> dict[str, list[int]]:
    """How many written utterances' captions have each word count (Fig. B1)."""
    counts = Counter(caption_words(r["text"]) for r in records if r.get("status") == "ok")
    if not counts:
        return {"words": [], "captions": []}
    words = list(range(min(counts), max(counts) + 1))
    return {"words": words, "captions": [counts.get(w, 0) for w in words]}


def _mean(values: Iterable[float]) -> float | None:
    found = list(values)
    return round(fmean(found), 4) if found else None
