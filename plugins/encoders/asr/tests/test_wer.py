"""Word error rate: Levenshtein over normalised words."""

from __future__ import annotations

import pytest
from voxcore_asr import normalised_words, word_error_rate


def test_normalises_case_punctuation_and_hyphens() -> None:
    assert normalised_words("And Mr. John-Dashwood's, then!") == ["and", "mr", "john",
                                                                   "dashwood's", "then"]


@pytest.mark.parametrize(("heard", "said", "rate"), [
    ("a circle on the left", "a circle on the left", 0.0),
    ("a ring on the left", "a circle on the left", 1 / 5),     # a substitution
    ("a circle the left", "a circle on the left", 1 / 5),      # a deletion
    ("a big circle on the left", "a circle on the left", 1 / 5),  # an insertion
    ("", "a circle", 1.0),
])
def test_counts_each_kind_of_error(heard: str, said: str, rate: float) -> None:
    assert word_error_rate([heard], [said]) == pytest.approx(rate)


def test_pools_errors_over_all_reference_words() -> None:
    assert word_error_rate(["a b", "c d e f"], ["a x", "c d e f"]) == pytest.approx(1 / 6)
    with pytest.raises(ValueError, match="1 transcripts for 2 references"):
        word_error_rate(["a"], ["a", "b"])
