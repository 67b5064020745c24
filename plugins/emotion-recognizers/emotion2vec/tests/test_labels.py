"""emotion2vec's labels mapped to voxcore's canonical emotions."""

from __future__ import annotations

from pathlib import Path

import pytest
from voxcore_emotion2vec import OTHER, PLUS_LABELS, canonical_emotion
from voxcore_emotion2vec.labels import label_map, read_labels

from voxcore.plugin_api import CANONICAL_EMOTIONS, PAPER_EMOTIONS, UserError


@pytest.mark.parametrize(("label", "emotion"), [
    ("生气/angry", "anger"), ("厌恶/disgusted", "disgust"), ("恐惧/fearful", "fear"),
    ("开心/happy", "enjoyment"), ("中立/neutral", "neutral"), ("其他/other", OTHER),
    ("难过/sad", "sadness"), ("吃惊/surprised", "surprise"), ("<unk>", OTHER),
    ("angry", "anger"), ("Happy", "enjoyment"), ("unknown", OTHER), ("生气", OTHER),
])
def test_labels_map_by_their_english_word(label: str, emotion: str) -> None:
    assert canonical_emotion(label) == emotion


def test_the_published_labels_cover_the_papers_emotions() -> None:
    mapping = label_map(PLUS_LABELS)
    assert mapping.emotions == ("enjoyment", "anger", "disgust", "fear", "sadness", "neutral",
                                "surprise", OTHER)
    assert set(PAPER_EMOTIONS) <= set(mapping.emotions)
    assert set(mapping.emotions) - {OTHER} <= set(CANONICAL_EMOTIONS)
    assert [mapping.emotions[t] for t in mapping.targets if t is not None] == [
        "anger", "disgust", "fear", "enjoyment", "neutral", OTHER, "sadness", "surprise", OTHER]


def test_without_other_labels_there_is_no_other_class() -> None:
    mapping = label_map(["angry", "happy", "unuse_2"])
    assert mapping.emotions == ("enjoyment", "anger")
    assert mapping.unused == (False, False, True)


def test_a_checkpoint_of_unused_labels_only_is_refused() -> None:
    with pytest.raises(UserError, match="scores no emotion"):
        label_map(["unuse_0", "unuse_1"])


def test_tokens_are_read_as_funasr_reads_them(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.txt"
    tokens.write_text("生气/angry \n开心/happy\n<unk>", encoding="utf-8")
    assert read_labels(tokens) == ("生气/angry", "开心/happy", "<unk>")
    tokens.write_text("", encoding="utf-8")
    with pytest.raises(UserError, match="lists no labels"):
        read_labels(tokens)
