"""The clipscore metric on a tiny random CLIP: conformance, reference formula, pairing."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from voxcore_metrics import CLIPScoreConfig
from voxcore_metrics.clipscore import (
    CLIPScoreMetric,
    TranscriptTruncatedWarning,
    build_clipscore,
)

from voxcore.plugin_api import EvalBatch, PretrainedNotFoundError
from voxcore.testing import MergesStateSuite

TRANSCRIPTS = ["a red apple on a table", "two dogs run on the beach", "a man rides a bike",
               "snow covers the quiet village", "a bowl of hot soup", "an old clock tower"]


def _metric(folder: Path, **kwargs: object) -> CLIPScoreMetric:
    return build_clipscore(CLIPScoreConfig(model=str(folder), **kwargs))  # type: ignore[arg-type]


def _images(count: int, seed: int, size: int = 32) -> torch.Tensor:
    """Images on the 8-bit grid (what PIL-based preprocessing sees exactly)."""
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (count, 3, size, size), generator=g).float() / 255.0


@pytest.fixture
def clip_folder(tiny_clip: Path) -> Path:
    return tiny_clip


class TestCLIPScoreSuite(MergesStateSuite):
    @pytest.fixture(autouse=True)
    def _folder(self, tiny_clip: Path) -> None:
        self.folder = tiny_clip

    def build_metric(self) -> CLIPScoreMetric:
        return _metric(self.folder, batch_size=4)


def test_matches_transformers_clip_processor_and_model(clip_folder: Path) -> None:
    """Same value as CLIPProcessor + CLIPModel + the torchmetrics formula, computed apart."""
    from PIL import Image
    from transformers import CLIPModel, CLIPProcessor

    images = _images(4, 0)
    texts = TRANSCRIPTS[:4]
    metric = _metric(clip_folder)
    metric.update(EvalBatch(images=images, transcripts=texts))
    model = CLIPModel.from_pretrained(clip_folder).eval()
    processor = CLIPProcessor.from_pretrained(clip_folder)
    pil = [Image.fromarray((img.permute(1, 2, 0) * 255).round().byte().numpy()) for img in images]
    inputs = processor(text=texts, images=pil, return_tensors="pt", padding=True)
    with torch.no_grad():
        img = model.get_image_features(pixel_values=inputs["pixel_values"])
        txt = model.get_text_features(input_ids=inputs["input_ids"],
                                      attention_mask=inputs["attention_mask"])
    img, txt = img / img.norm(dim=-1, keepdim=True), txt / txt.norm(dim=-1, keepdim=True)
    expected = (100 * (img * txt).sum(-1)).clamp(min=0).mean().item()
    assert expected > 0  # otherwise the comparison would prove little
    assert metric.compute()["clipscore"] == pytest.approx(expected, rel=1e-4, abs=1e-4)


def test_matching_pairs_score_higher_than_shuffled_pairs(clip_folder: Path) -> None:
    """Make CLIP agree with the transcripts, then check the metric pairs image i with text i.

    The visual projection is solved (least squares, exact since there are fewer images than
    pooled vision features) so that image i's embedding equals transcript i's. A metric that
    pairs each image with its own transcript then scores 100; one that mixed pairs up, skipped
    the projection or normalization, would not, and shuffled pairs must score lower.
    """
    metric = _metric(clip_folder)
    model = metric.model
    images = _images(len(TRANSCRIPTS), 1)
    with torch.no_grad():
        pooled = model.vision_model(pixel_values=metric.preprocess(images)).pooler_output
        tokens, _ = metric.tokenize(TRANSCRIPTS)
        text = model.get_text_features(**tokens)
        solution = torch.linalg.lstsq(pooled.double(), text.double()).solution  # [hidden, proj]
        model.visual_projection.weight.copy_(solution.T.float())
    matched = metric.scores(images, TRANSCRIPTS)
    assert torch.all(matched > 99.9), matched
    for shift in range(1, len(TRANSCRIPTS)):
        shuffled = metric.scores(images, TRANSCRIPTS[shift:] + TRANSCRIPTS[:shift])
        assert torch.all(shuffled < matched - 0.01), (shift, shuffled, matched)
    metric.update(EvalBatch(images=images, transcripts=TRANSCRIPTS))
    assert metric.compute()["clipscore"] == pytest.approx(float(matched.mean()))


def test_scores_are_clipped_at_zero_and_weighted(clip_folder: Path) -> None:
    images = _images(6, 2)
    plain = _metric(clip_folder, weight=1.0).scores(images, TRANSCRIPTS)
    scaled = _metric(clip_folder).scores(images, TRANSCRIPTS)
    assert torch.all(plain >= 0) and torch.all(plain <= 1)
    assert torch.allclose(scaled, 100 * plain)


def test_long_transcripts_warn_once_with_their_count(clip_folder: Path) -> None:
    metric = _metric(clip_folder)
    long = "word " * 100
    with pytest.warns(TranscriptTruncatedWarning, match=r"^2 transcript\(s\)"):
        metric.update(EvalBatch(images=_images(3, 3), transcripts=[long, "short", long]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        metric.update(EvalBatch(images=_images(1, 4), transcripts=[long]))
    assert metric.compute()["clipscore_truncated"] == 3.0


def test_non_square_images_are_centre_cropped(clip_folder: Path) -> None:
    metric = _metric(clip_folder)
    wide = torch.rand(2, 3, 40, 80)
    assert metric.preprocess(wide).shape == (2, 3, 32, 32)


def test_missing_transcripts_are_an_error(clip_folder: Path) -> None:
    with pytest.raises(ValueError, match="transcripts"):
        _metric(clip_folder).update(EvalBatch(images=_images(1, 0)))


def test_missing_folder_says_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(PretrainedNotFoundError, match="config.model"):
        _metric(tmp_path / "no" / "such" / "clip")


def test_folder_without_safetensors_is_refused(tmp_path: Path, clip_folder: Path) -> None:
    for file in clip_folder.iterdir():
        if file.suffix != ".safetensors":
            (tmp_path / file.name).write_bytes(file.read_bytes())
    with pytest.raises(PretrainedNotFoundError, match="safetensors"):
        _metric(tmp_path)


def test_default_model_is_clip_vit_l14() -> None:
    assert CLIPScoreConfig().model == "openai/clip-vit-large-patch14"
    assert CLIPScoreConfig().weight == 100.0
    assert np.isclose(CLIPScoreConfig(weight=2.5).weight, 2.5)
