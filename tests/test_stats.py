"""RunningGaussian accumulates exactly; frechet_distance matches the closed forms."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from voxcore.io import load_tensors, save_tensors
from voxcore.stats import RunningGaussian, frechet_distance


def _features(n: int = 50, dim: int = 4, seed: int = 0, offset: float = 0.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    mixing = torch.randn(dim, dim, generator=g, dtype=torch.float64)
    return (torch.randn(n, dim, generator=g, dtype=torch.float64) @ mixing + offset)


def test_mean_and_unbiased_covariance_match_torch() -> None:
    x = _features()
    gaussian = RunningGaussian(4)
    gaussian.update(x)
    torch.testing.assert_close(gaussian.mean, x.mean(dim=0))
    torch.testing.assert_close(gaussian.covariance, torch.cov(x.T, correction=1))
    assert gaussian.mean.dtype == gaussian.covariance.dtype == torch.float64


def test_two_batches_equal_one_batch() -> None:
    x = _features(n=37)
    whole, parts = RunningGaussian(4), RunningGaussian(4)
    whole.update(x)
    parts.update(x[:11])
    parts.update(x[11:])
    assert int(parts.count) == 37
    torch.testing.assert_close(parts.mean, whole.mean)
    torch.testing.assert_close(parts.covariance, whole.covariance)


def test_merge_equals_updating_one_instance() -> None:
    x = _features(n=30)
    first, second, whole = RunningGaussian(4), RunningGaussian(4), RunningGaussian(4)
    first.update(x[:13])
    second.update(x[13:])
    whole.update(x)
    first.merge(second)
    torch.testing.assert_close(first.covariance, whole.covariance)
    with pytest.raises(ValueError, match="merge"):
        first.merge(RunningGaussian(3))


def test_float32_input_is_accumulated_in_float64() -> None:
    # A large common offset cancels badly in float32 sums of outer products.
    x = _features(n=400, offset=1000.0).float()
    gaussian = RunningGaussian(4)
    for chunk in x.split(64):
        gaussian.update(chunk)
    expected = torch.cov(x.double().T)
    torch.testing.assert_close(gaussian.covariance, expected, rtol=1e-9, atol=1e-9)


def test_state_round_trip_through_safetensors(tmp_path: Path) -> None:
    x = _features(n=20)
    gaussian = RunningGaussian(4)
    gaussian.update(x[:8])
    save_tensors(tmp_path / "g.safetensors", gaussian.state_dict())
    resumed = RunningGaussian(4)
    resumed.load_state_dict(load_tensors(tmp_path / "g.safetensors"))
    resumed.update(x[8:])
    gaussian.update(x[8:])
    torch.testing.assert_close(resumed.covariance, gaussian.covariance)
    assert int(resumed.count) == 20


def test_state_dict_is_a_copy_and_reset_forgets() -> None:
    gaussian = RunningGaussian(4)
    gaussian.update(_features(n=5))
    state = gaussian.state_dict()
    gaussian.reset()
    assert int(state["count"]) == 5 and int(gaussian.count) == 0
    assert float(gaussian.sum_outer.abs().sum()) == 0.0


def test_bad_inputs_are_rejected() -> None:
    gaussian = RunningGaussian(4)
    with pytest.raises(ValueError, match="at least one"):
        _ = gaussian.mean
    gaussian.update(_features(n=1))
    with pytest.raises(ValueError, match="at least two"):
        _ = gaussian.covariance
    with pytest.raises(ValueError, match=r"\[N, 4\]"):
        gaussian.update(torch.zeros(3, 5))
    with pytest.raises(ValueError, match="expected"):
        gaussian.load_state_dict(RunningGaussian(3).state_dict())
    with pytest.raises(KeyError, match="count"):
        gaussian.load_state_dict({"sum": torch.zeros(4)})
    with pytest.raises(ValueError, match="positive"):
        RunningGaussian(0)


# -- frechet_distance: expected values are closed forms, not re-implementations -------------


def _vec(*values: float) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


def _mat(*rows: tuple[float, ...]) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float64)


def test_identical_gaussians_are_at_distance_zero() -> None:
    sigma = torch.cov(_features(n=100, dim=6).T)
    mu = _vec(1, 2, 3, 4, 5, 6)
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-9)


def test_shifted_mean_adds_the_squared_shift() -> None:
    sigma = torch.cov(_features(n=100, dim=3).T)
    assert frechet_distance(_vec(0, 0, 0), sigma, _vec(1, -2, 2), sigma) == pytest.approx(
        9.0, abs=1e-9)


def test_diagonal_covariances() -> None:
    # For commuting (diagonal) covariances: sum of (sqrt(a) - sqrt(b))^2.
    value = frechet_distance(_vec(0, 0), torch.diag(_vec(4, 9)),
                             _vec(0, 1), torch.diag(_vec(1, 16)))
    assert value == pytest.approx(1 + (2 - 1) ** 2 + (3 - 4) ** 2, abs=1e-9)


def test_non_commuting_covariances_match_the_2x2_closed_form() -> None:
    # For 2x2 M with positive eigenvalues, tr sqrt(M) = sqrt(tr M + 2 sqrt(det M)).
    # S1 S2 = [[2, 3], [1, 6]]: trace 8, det S1 * det S2 = 9, so tr sqrt = sqrt(14).
    s1, s2 = _mat((2, 1), (1, 2)), _mat((1, 0), (0, 3))
    value = frechet_distance(_vec(0, 0), s1, _vec(1, 2), s2)
    assert value == pytest.approx(5 + 4 + 4 - 2 * math.sqrt(14), abs=1e-9)
    assert frechet_distance(_vec(1, 2), s2, _vec(0, 0), s1) == pytest.approx(value, abs=1e-9)


def test_singular_covariance() -> None:
    # rank-1 S1: tr sqrt(S1 I) = sqrt(tr S1) = sqrt(2).
    value = frechet_distance(_vec(0, 0), _mat((1, 1), (1, 1)), _vec(0, 0), torch.eye(2).double())
    assert value == pytest.approx(2 + 2 - 2 * math.sqrt(2), abs=1e-9)


def test_rotation_invariance_in_higher_dimensions() -> None:
    g = torch.Generator().manual_seed(3)
    q, _ = torch.linalg.qr(torch.randn(16, 16, generator=g, dtype=torch.float64))
    d1 = torch.rand(16, generator=g, dtype=torch.float64) + 0.1
    d2 = torch.rand(16, generator=g, dtype=torch.float64) + 0.1
    shift = torch.randn(16, generator=g, dtype=torch.float64)
    value = frechet_distance(torch.zeros(16, dtype=torch.float64), q @ torch.diag(d1) @ q.T,
                             q @ shift, q @ torch.diag(d2) @ q.T)
    expected = float(shift @ shift + ((d1.sqrt() - d2.sqrt()) ** 2).sum())
    assert value == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="mu2"):
        frechet_distance(_vec(0, 0), torch.eye(2), _vec(0, 0, 0), torch.eye(3))
    with pytest.raises(ValueError, match="sigma2"):
        frechet_distance(_vec(0, 0), torch.eye(2), _vec(0, 0), torch.eye(3))
