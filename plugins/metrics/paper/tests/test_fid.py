"""The fid metric on a random-weight FID Inception: conformance, sanity, weights, statistics."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest
import torch
from voxcore_metrics import FID_WEIGHTS_URL, FIDConfig
from voxcore_metrics.fid import (
    FEATURE_DIM,
    FIDInception,
    FIDMetric,
    FIDWeightsError,
    build_fid,
    load_reference_stats,
)
from voxcore_metrics.testing import random_fid_inception

from voxcore.plugin_api import EvalBatch, UserError, load_tensors, save_tensors
from voxcore.testing import MergesStateSuite


@cache
def small_inception() -> FIDInception:
    """Random weights, calibrated batch norms, 75 px inputs (fast); shared by the tests."""
    return random_fid_inception(seed=0, input_size=75)


def fid_metric(**kwargs: object) -> FIDMetric:
    return FIDMetric(small_inception(), batch_size=4, **kwargs)  # type: ignore[arg-type]


@pytest.mark.slow  # every compute() is two eigendecompositions of 2048 x 2048
class TestFIDSuite(MergesStateSuite):
    def build_metric(self) -> FIDMetric:
        return fid_metric()


def _images(count: int, seed: int, size: int = 32) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    # Smooth random images (upsampled noise), more image-like than white noise.
    low = torch.rand(count, 3, 8, 8, generator=g)
    return torch.nn.functional.interpolate(low, size=(size, size), mode="bilinear",
                                           align_corners=False)


def _fid(generated: torch.Tensor, references: torch.Tensor) -> float:
    metric = fid_metric()
    metric.update(EvalBatch(images=generated, references=references))
    return metric.compute()["fid"]


@pytest.mark.slow
def test_fid_of_a_set_with_itself_is_zero() -> None:
    images = _images(12, 0)
    other = _fid(images, _images(12, 1))
    assert other > 0
    assert _fid(images, images) < 1e-6 * other


@pytest.mark.slow
def test_fid_grows_with_noise() -> None:
    images = _images(12, 2)
    g = torch.Generator().manual_seed(3)
    noise = torch.rand(images.shape, generator=g)
    # Blend towards noise (no clipping, so each step moves the images further).
    values = [_fid((1 - t) * images + t * noise, images) for t in (0.0, 0.05, 0.15, 0.4)]
    assert values == sorted(values) and values[0] < 1e-6 * values[-1], values
    assert len(set(values)) == len(values), values


@pytest.mark.slow
def test_resumed_state_gives_the_one_pass_value(tmp_path: Path) -> None:
    batches = [EvalBatch(images=_images(5, s), references=_images(5, 10 + s)) for s in range(3)]
    one_pass = fid_metric()
    for batch in batches:
        one_pass.update(batch)
    first = fid_metric()
    first.update(batches[0])
    save_tensors(tmp_path / "state.safetensors", first.state_dict())
    resumed = fid_metric()
    resumed.load_state_dict(load_tensors(tmp_path / "state.safetensors"))
    resumed.update(batches[1])
    resumed.update(batches[2])
    assert resumed.compute()["fid"] == pytest.approx(one_pass.compute()["fid"], rel=1e-9)
    # The state is sums, not images: its size does not depend on how many were added.
    sizes = {k: v.numel() for k, v in first.state_dict().items()}
    assert sizes == {k: v.numel() for k, v in resumed.state_dict().items()}
    assert sizes["generated.sum_outer"] == FEATURE_DIM**2


@pytest.mark.slow
def test_reference_statistics_file_replaces_references(tmp_path: Path) -> None:
    real, fake = _images(8, 4), _images(8, 5)
    writer = fid_metric()
    writer.update(EvalBatch(images=real, references=real))
    stats = tmp_path / "real.safetensors"
    writer.save_reference_stats(stats)
    expected = _fid(fake, real)
    with_stats = fid_metric(reference_stats=load_reference_stats(stats))
    with_stats.update(EvalBatch(images=fake, references=_images(8, 6)))  # references ignored
    assert with_stats.compute()["fid"] == pytest.approx(expected, rel=1e-9)
    mu, sigma = load_reference_stats(stats)
    npz = tmp_path / "real.npz"
    np.savez(npz, mu=mu.numpy(), sigma=sigma.numpy())  # pytorch-fid's --save-stats format
    assert torch.equal(load_reference_stats(npz)[1], sigma)


def test_compute_needs_references_or_statistics() -> None:
    metric = fid_metric()
    metric.update(EvalBatch(images=_images(3, 0)))
    with pytest.raises(ValueError, match="reference"):
        metric.compute()


def test_missing_weights_say_where_to_get_them(tmp_path: Path) -> None:
    for weights in (None, str(tmp_path / "nowhere.pth")):
        with pytest.raises(FIDWeightsError) as info:
            build_fid(FIDConfig(weights=weights))
        message = str(info.value)
        assert FID_WEIGHTS_URL in message and "'weights'" in message
        assert "pt_inception-2015-12-05-6726825d.pth" in message
        assert isinstance(info.value, UserError)


def test_weights_load_from_pth_and_safetensors(tmp_path: Path) -> None:
    state = small_inception().inception.state_dict()
    torch.save(state, tmp_path / "fid.pth")
    save_tensors(tmp_path / "fid.safetensors", state)
    x = _images(2, 7)
    for name in ("fid.pth", "fid.safetensors"):
        network = FIDInception.from_weights(tmp_path / name)
        network.input_size = 75
        with torch.no_grad():
            assert torch.allclose(network(x), small_inception()(x))
    metric = build_fid(FIDConfig(weights=str(tmp_path / "fid.safetensors")))
    assert metric.network.input_size == 299  # the factory never changes pytorch-fid's size


def test_weights_of_another_network_are_refused(tmp_path: Path) -> None:
    save_tensors(tmp_path / "other.safetensors", {"fc.weight": torch.zeros(2, 2)})
    with pytest.raises(FIDWeightsError, match="does not hold the FID Inception weights"):
        FIDInception.from_weights(tmp_path / "other.safetensors")


@pytest.mark.slow
def test_features_equal_pytorch_fid_inception(monkeypatch: pytest.MonkeyPatch) -> None:
    """pytorch-fid's own InceptionV3, given our weights, computes the same pool3 features."""
    from pytorch_fid import inception as reference  # type: ignore[import-untyped]

    ours = random_fid_inception(seed=1, input_size=299, calibration_images=4)
    state = ours.inception.state_dict()
    monkeypatch.setattr(reference, "load_state_dict_from_url", lambda *a, **k: state)
    theirs = reference.InceptionV3([reference.InceptionV3.BLOCK_INDEX_BY_DIM[2048]]).eval()
    x = _images(2, 8, size=64)  # resized to 299 by both
    with torch.no_grad():
        expected = theirs(x)[0].flatten(1)
        actual = ours(x)
    assert actual.shape == (2, FEATURE_DIM)
    assert actual.abs().mean() > 1e-3  # calibrated: features of a sensible scale
    assert torch.allclose(actual, expected, rtol=1e-5, atol=1e-6)
    assert sum(v.numel() for v in state.values()) > 23_000_000
