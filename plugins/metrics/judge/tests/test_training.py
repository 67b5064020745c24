"""Training the judge: label encoding, the held-out split, image loading, determinism."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from voxcore_judge import JudgeConfig
from voxcore_judge.testing import write_shapes
from voxcore_judge.train import encode_labels, load_labelled, split_holdout, train_judge

from voxcore.plugin_api import Sample


def test_holdout_split_is_disjoint_complete_seeded_and_never_empty() -> None:
    train, held = split_holdout(100, 0.1, seed=0)
    assert len(held) == 10 and len(train) == 90
    assert sorted(torch.cat([train, held]).tolist()) == list(range(100))
    assert torch.equal(split_holdout(100, 0.1, seed=0)[1], held)
    assert not torch.equal(split_holdout(100, 0.1, seed=1)[1], held)
    train, held = split_holdout(3, 0.01, seed=0)
    assert (len(train), len(held)) == (2, 1)
    with pytest.raises(ValueError, match="at least 3"):
        split_holdout(2, 0.5, seed=0)


def test_labels_are_encoded_against_a_sorted_vocabulary() -> None:
    samples = [Sample(id=str(i), audio=None, image=None, labels={"mood": m})
               for i, m in enumerate(["sad", "angry", "sad"])]
    vocab, targets = encode_labels(samples, ["mood"])
    assert vocab == {"mood": ["angry", "sad"]}
    assert targets["mood"].tolist() == [1, 0, 1]
    with pytest.raises(ValueError, match="3 training sample.*no label 'content'"):
        encode_labels(samples, ["mood", "content"])


def test_images_are_loaded_resized_into_unit_range(tmp_path: Path) -> None:
    samples = write_shapes(tmp_path, 4, size=48)
    data = load_labelled(samples, JudgeConfig(labels=["shape"], color_invariant=[],
                                              resolution=16))
    assert data.images.shape == (4, 3, 16, 16) and data.images.dtype == torch.float32
    assert float(data.images.min()) >= 0.0 and float(data.images.max()) <= 1.0
    assert data.vocab == {"shape": ["circle", "square"]}
    no_image = [Sample(id="x", audio=None, image=None, labels={"shape": "circle"})]
    with pytest.raises(ValueError, match="no image"):
        load_labelled(no_image, JudgeConfig(labels=["shape"], color_invariant=[]))


def test_training_is_deterministic_under_a_seed(tmp_path: Path) -> None:
    samples = write_shapes(tmp_path, 24)
    config = JudgeConfig(labels=["shape", "tone"], color_invariant=["shape"], epochs=1,
                         batch_size=8)
    data = load_labelled(samples, config)
    first, second = train_judge(data, config), train_judge(data, config)
    assert (first.num_train, first.num_heldout) == (22, 2)
    for (name, a), b in zip(first.classifier.state_dict().items(),
                            second.classifier.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    other = train_judge(data, config.model_copy(update={"seed": 1}))
    assert not torch.equal(other.classifier.nets["shape"].head.weight,
                           first.classifier.nets["shape"].head.weight)
