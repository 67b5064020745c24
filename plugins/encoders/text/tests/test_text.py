"""Tests of the text encoder: the conformance suite plus text-specific properties."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import torch
from pydantic import ValidationError
from voxcore_text import TextEncoderConfig
from voxcore_text.encoder import TOKENS_PER_UNIT, TrainableTextEncoder
from voxcore_text.tokenizer import BOS, EOS, PAD, split_words, tokenize

from voxcore.plugin_api import TextEncoder, get_registry
from voxcore.testing.text_encoder import TextEncoderSuite

TINY = TextEncoderConfig(width=32, num_layers=2, num_heads=4, mlp_ratio=2.0)


class TestTrainableTextEncoder(TextEncoderSuite):
    def build_encoder(self) -> TextEncoder:
        return TrainableTextEncoder(TINY)


class TestTrainableTextEncoderWords(TextEncoderSuite):
    def build_encoder(self) -> TextEncoder:
        return TrainableTextEncoder(TextEncoderConfig(width=32, num_layers=0, num_heads=4,
                                                      tokenizer="words", word_buckets=64))


class TestTrainableTextEncoderShortLowercase(TextEncoderSuite):
    def build_encoder(self) -> TextEncoder:
        return TrainableTextEncoder(TextEncoderConfig(width=24, num_layers=1, num_heads=3,
                                                 max_length=40, lowercase=True))


def _encoder(**overrides: Any) -> TrainableTextEncoder:
    torch.manual_seed(0)
    return TrainableTextEncoder(TINY.model_copy(update=overrides)).eval()


# -- tokens --------------------------------------------------------------------------------

def test_tokens_are_bos_utf8_bytes_eos_then_padding() -> None:
    ids, mask = tokenize(["hi", "é"], max_length=16)
    assert ids.tolist() == [[BOS, ord("h"), ord("i"), EOS], [BOS, 0xC3, 0xA9, EOS]]
    ids, mask = tokenize(["", "abc"], max_length=16)
    assert ids.tolist() == [[BOS, EOS, PAD, PAD, PAD], [BOS, 97, 98, 99, EOS]]
    assert mask.tolist() == [[True, True, False, False, False], [True] * 5]


def test_word_tokens_are_hashed_words_and_marks_with_specials_after_the_buckets() -> None:
    assert split_words("A ring, on the left-side!") == [
        "A", "ring", ",", "on", "the", "left", "-", "side", "!"]
    assert split_words("it's  here") == ["it's", "here"]
    ids, mask = tokenize(["a ring on the left", "a ring", ""], max_length=16,
                         tokenizer="words", buckets=50)
    bos, eos, pad = 50, 51, 52
    assert ids[:, 0].tolist() == [bos] * 3 and ids[0, 6].item() == eos
    assert ids[0, 1:3].tolist() == ids[1, 1:3].tolist()  # the same words, the same ids
    assert ids[2].tolist() == [bos, eos, pad, pad, pad, pad, pad]
    assert mask.sum(dim=1).tolist() == [7, 4, 2]
    assert bool((ids[mask] < 53).all()) and bool((ids[0, 1:6] < 50).all())
    # Stable across processes (not Python's salted hash): fixed values.
    again, _ = tokenize(["a ring on the left"], max_length=16, tokenizer="words", buckets=50)
    assert again.tolist() == ids[:1, :7].tolist()


def test_word_tokens_truncate_by_word_and_keep_eos() -> None:
    ids, mask = tokenize(["one two three four five"], max_length=5, tokenizer="words",
                         buckets=4096)
    assert mask.sum().item() == 5 and ids[0, -1].item() == 4097
    full, _ = tokenize(["one two three"], max_length=16, tokenizer="words", buckets=4096)
    assert ids[0, 1:4].tolist() == full[0, 1:4].tolist()


def test_word_encoder_without_layers_gives_each_word_its_own_token() -> None:
    encoder = _encoder(tokenizer="words", word_buckets=128, num_layers=0)
    assert len(encoder.layers) == 0 and encoder.embedding.num_embeddings == 131
    out = encoder.encode_text(["a ring on the left", "a circle on the left"])
    assert out.mask.sum(dim=1).tolist() == [7, 7]
    same = (out.features[0] - out.features[1]).abs().amax(dim=-1)
    # Without context only the changed word's token differs.
    assert (same > 0).tolist() == [False, False, True, False, False, False, False]


def test_features_are_zero_at_padding_and_frame_rate_is_per_character() -> None:
    out = _encoder().encode_text(["ab", "a longer text"])
    assert out.mask.sum(dim=1).tolist() == [4, 15]
    assert bool((out.features[0, 4:] == 0).all())
    assert out.frame_rate == TOKENS_PER_UNIT == 1.0


def test_truncates_at_max_length() -> None:
    encoder = _encoder(max_length=12)
    head = "abcdefghij"  # max_length - 2 bytes survive
    out = encoder.encode_text([head + "klmnop", head + " and a different ending", head])
    assert out.mask.sum(dim=1).tolist() == [12, 12, 12]
    assert out.features.shape[1] == 12
    # Everything past the limit is dropped, so the three texts encode identically.
    torch.testing.assert_close(out.features[0], out.features[1], atol=0.0, rtol=0.0)
    torch.testing.assert_close(out.features[0], out.features[2], atol=0.0, rtol=0.0)
    ids, _ = tokenize([head + "klmnop"], max_length=12)
    assert ids[0, -1].item() == EOS


def test_lowercase_option() -> None:
    folded = _encoder(lowercase=True).encode_text(["A Red CIRCLE", "a red circle"])
    torch.testing.assert_close(folded.features[0], folded.features[1], atol=0.0, rtol=0.0)
    cased = _encoder().encode_text(["A Red CIRCLE", "a red circle"])
    assert not torch.allclose(cased.features[0], cased.features[1])


def test_features_follow_the_module_dtype() -> None:
    out = _encoder().to(torch.bfloat16).encode_text(["a red circle", ""])
    assert out.features.dtype == torch.bfloat16
    assert bool(torch.isfinite(out.features).all())


def test_rejects_a_bare_string_and_non_strings() -> None:
    encoder = _encoder()
    with pytest.raises(TypeError, match="not one string"):
        encoder.encode_text("a red circle")
    with pytest.raises(TypeError, match="takes strings, got NoneType"):
        encoder.encode_text(["a red circle", None])  # type: ignore[list-item]


def test_default_size() -> None:
    encoder = TrainableTextEncoder()
    assert encoder.output_dim == 128
    # 259 x 128 embedding, 2 x (2 LayerNorms, qkv, out, 128-512-128 MLP), final LayerNorm.
    assert sum(p.numel() for p in encoder.parameters()) == 429_952


# -- config --------------------------------------------------------------------------------

def test_config_defaults() -> None:
    config = TextEncoderConfig()
    assert (config.width, config.num_layers, config.num_heads, config.mlp_ratio) == (
        128, 2, 4, 4.0)
    assert (config.dropout, config.max_length, config.lowercase) == (0.0, 256, False)
    assert (config.tokenizer, config.word_buckets) == ("bytes", 4096)


@pytest.mark.parametrize(("values", "message"), [
    ({"widht": 64}, "Extra inputs are not permitted"),
    ({"width": 100, "num_heads": 8}, r"num_heads \(8\) must divide width \(100\)"),
    ({"width": 0}, "greater than 0"),
    ({"num_layers": -1}, "greater than or equal to 0"),
    ({"tokenizer": "bpe"}, "'bytes' or 'words'"),
    ({"word_buckets": 0}, "greater than 0"),
    ({"num_heads": 0}, "greater than 0"),
    ({"mlp_ratio": 0.0}, "greater than 0"),
    ({"dropout": 1.0}, "less than 1"),
    ({"max_length": 2}, "greater than or equal to 3"),
])
def test_config_rejects(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        TextEncoderConfig.model_validate(values)


# -- plugin --------------------------------------------------------------------------------

def test_registered_as_plugin() -> None:
    entry = get_registry("encoder").get("text")
    assert entry.distribution == "voxcore-text"
    assert entry.config_model is TextEncoderConfig
    encoder = entry.build({})
    assert isinstance(encoder, TrainableTextEncoder) and encoder.output_dim == 128
    small = get_registry("encoder").build("voxcore-text:text", {"width": 64, "num_heads": 2})
    assert isinstance(small, TrainableTextEncoder) and small.output_dim == 64


def test_registry_build_validates_config() -> None:
    with pytest.raises(ValidationError, match="must divide width"):
        get_registry("encoder").build("text", {"width": 30})


def test_plugin_module_does_not_import_torch() -> None:
    code = "import sys, voxcore_text; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=60)
    assert result.stdout.strip() == "False"


# -- learning ------------------------------------------------------------------------------

SIDES = ("left", "right")
SHAPES = ("circle", "square", "triangle", "star")
ADJECTIVES = ("red", "blue", "green", "small", "big")
TRAIN_PHRASINGS = (
    "a {a} {s} on the {side}", "the {a} {s} is on the {side}", "{side}: a {a} {s}",
    "on the {side} a {a} {s}", "draw a {a} {s} to the {side}",
    "the {side} half shows a {a} {s}", "a {a} {s}, placed {side}",
    "put the {a} {s} {side} of the center", "{side} side, {a} {s}",
    "at the {side} there is one {a} {s}", "see the {a} {s} at the {side} edge",
    "a {a} {s} sits {side}",
    # Rich in the letters of the other side word, so that counting letters does not solve
    # the task: the encoder has to learn which letters form which word.
    "a bright {a} {s} lit on the {side}", "the {a} {s} with a thin grey ring, {side}",
    "a flat {a} {s} fell to the {side}", "the {a} {s} tilts slightly {side}",
)
HELD_OUT_PHRASINGS = (
    "there is a {a} {s} on the {side}", "the {a} {s} sits to the {side}",
    "one {a} {s} at the {side} side", "on the {side} edge: the {a} {s}",
)


def _phrases(phrasings: tuple[str, ...]) -> tuple[list[str], torch.Tensor]:
    items = [(p.format(a=a, s=s, side=side), label) for p in phrasings for a in ADJECTIVES
             for s in SHAPES for label, side in enumerate(SIDES)]
    return [text for text, _ in items], torch.tensor([label for _, label in items])


def _pooled(encoder: TrainableTextEncoder, texts: list[str]) -> torch.Tensor:
    out = encoder.encode_text(texts)
    weight = out.mask.unsqueeze(-1).to(out.features.dtype)
    return (out.features * weight).sum(dim=1) / weight.sum(dim=1)


@pytest.fixture
def one_thread() -> Iterator[None]:
    # A model this small trains faster on one thread, and two threads stall each other badly
    # when the 2-core machine is busy with other work.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.slow
@pytest.mark.usefixtures("one_thread")
def test_learns_which_side_a_phrase_names() -> None:
    """Encoder + a linear probe on its masked mean learn left vs right from 16 phrasings and
    classify 4 phrasings never seen in training without a mistake (a frozen random encoder
    with a trained probe gets 77-99 % here)."""
    train_texts, train_labels = _phrases(TRAIN_PHRASINGS)
    test_texts, test_labels = _phrases(HELD_OUT_PHRASINGS)
    assert not set(train_texts) & set(test_texts)
    torch.manual_seed(0)
    encoder = TrainableTextEncoder(TINY)
    probe = torch.nn.Linear(encoder.output_dim, len(SIDES))
    optimizer = torch.optim.Adam([*encoder.parameters(), *probe.parameters()], lr=3e-3)
    generator = torch.Generator().manual_seed(0)
    for _ in range(150):
        batch = torch.randint(len(train_texts), (32,), generator=generator)
        logits = probe(_pooled(encoder, [train_texts[i] for i in batch.tolist()]))
        loss = torch.nn.functional.cross_entropy(logits, train_labels[batch])
        optimizer.zero_grad()
        torch.autograd.backward(loss)
        optimizer.step()
    encoder.eval()
    with torch.no_grad():
        predicted = probe(_pooled(encoder, test_texts)).argmax(dim=1)
    wrong = [text for text, ok in zip(test_texts, predicted == test_labels, strict=True)
             if not ok]
    assert not wrong, f"{len(wrong)} of {len(test_texts)} held-out phrases misclassified: {wrong}"
