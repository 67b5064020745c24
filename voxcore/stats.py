"""Gaussian statistics of feature vectors, as FID-style metrics need them.

:class:`RunningGaussian` accumulates the mean and covariance of a stream of feature vectors
batch by batch (so a metric's result does not depend on how images were batched, and its
state can be saved and resumed); :func:`frechet_distance` is the Fréchet distance between two
Gaussians, the formula behind FID.

Everything is computed in float64: feature sums over tens of thousands of images lose the
digits FID depends on in float32.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

__all__ = ["RunningGaussian", "frechet_distance"]

_STATE_KEYS = ("count", "sum", "sum_outer")


class RunningGaussian:
    """Running mean and (unbiased) covariance of ``dim``-wide feature vectors.

    It keeps the count, the sum and the sum of outer products, so updating with two batches
    gives the same state as updating with their concatenation, and two instances can be
    :meth:`merge` d (for example across processes).
    """

    def __init__(self, dim: int, device: str | torch.device = "cpu") -> None:
        if dim <= 0:
            raise ValueError(f"RunningGaussian dim must be positive, got {dim}")
        self.dim = dim
        self.device = torch.device(device)
        self.count = torch.zeros((), dtype=torch.int64, device=self.device)
        self.sum = torch.zeros(dim, dtype=torch.float64, device=self.device)
        self.sum_outer = torch.zeros(dim, dim, dtype=torch.float64, device=self.device)

    def reset(self) -> None:
        """Forget every feature added so far."""
        self.count.zero_()
        self.sum.zero_()
        self.sum_outer.zero_()

    def update(self, features: torch.Tensor) -> None:
        """Add a batch of feature vectors, ``[N, dim]`` (any float dtype, any device)."""
        if features.dim() != 2 or features.shape[1] != self.dim:
            raise ValueError(f"features must be [N, {self.dim}], got {tuple(features.shape)}")
        x = features.detach().to(device=self.device, dtype=torch.float64)
        self.count += x.shape[0]
        self.sum += x.sum(dim=0)
        self.sum_outer += x.T @ x

    def merge(self, other: RunningGaussian) -> None:
        """Add everything ``other`` has accumulated to this one."""
        if other.dim != self.dim:
            raise ValueError(f"cannot merge a {other.dim}-dim RunningGaussian into a "
                             f"{self.dim}-dim one")
        self.count += other.count.to(self.device)
        self.sum += other.sum.to(self.device)
        self.sum_outer += other.sum_outer.to(self.device)

    @property
    def mean(self) -> torch.Tensor:
        """Mean feature vector, float64 ``[dim]``; needs at least one vector."""
        n = int(self.count)
        if n < 1:
            raise ValueError("RunningGaussian.mean needs at least one feature vector")
        return self.sum / n

    @property
    def covariance(self) -> torch.Tensor:
        """Unbiased covariance (divided by ``N - 1``), float64 ``[dim, dim]``; needs N >= 2."""
        n = int(self.count)
        if n < 2:
            raise ValueError(f"RunningGaussian.covariance needs at least two feature vectors, "
                             f"has {n}")
        mean = self.sum / n
        cov = (self.sum_outer - n * torch.outer(mean, mean)) / (n - 1)
        return (cov + cov.T) / 2

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The accumulated state: ``count``, ``sum`` and ``sum_outer`` (copies)."""
        return {"count": self.count.clone(), "sum": self.sum.clone(),
                "sum_outer": self.sum_outer.clone()}

    def load_state_dict(self, state: Mapping[str, torch.Tensor]) -> None:
        """Restore a state produced by :meth:`state_dict` (of the same ``dim``)."""
        missing = [key for key in _STATE_KEYS if key not in state]
        if missing:
            raise KeyError(f"RunningGaussian state lacks {', '.join(missing)}")
        shapes = {"count": (), "sum": (self.dim,), "sum_outer": (self.dim, self.dim)}
        for key, shape in shapes.items():
            if tuple(state[key].shape) != shape:
                raise ValueError(f"RunningGaussian state {key!r} has shape "
                                 f"{tuple(state[key].shape)}, expected {shape}")
        self.count = state["count"].to(device=self.device, dtype=torch.int64).clone()
        self.sum = state["sum"].to(device=self.device, dtype=torch.float64).clone()
        self.sum_outer = state["sum_outer"].to(device=self.device, dtype=torch.float64).clone()


def _psd_sqrt(matrix: torch.Tensor) -> torch.Tensor:
    """Symmetric square root of a symmetric positive semi-definite matrix."""
    eigenvalues, eigenvectors = torch.linalg.eigh(matrix)
    # Round-off makes the zero eigenvalues of a singular covariance slightly negative.
    roots = eigenvalues.clamp(min=0).sqrt()
    root: torch.Tensor = (eigenvectors * roots) @ eigenvectors.T
    return root


def frechet_distance(
    mu1: torch.Tensor, sigma1: torch.Tensor, mu2: torch.Tensor, sigma2: torch.Tensor
) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2), in float64.

    ``|mu1 - mu2|^2 + tr(sigma1) + tr(sigma2) - 2 tr((sigma1 sigma2)^(1/2))``: the same value
    as the usual ``scipy.linalg.sqrtm``-based FID code, computed as the sum of the square roots
    of the eigenvalues of ``sqrt(sigma1) sigma2 sqrt(sigma1)`` (symmetric, so a real ``eigh``
    suffices, and singular covariances from few samples are fine).
    """
    mu1, mu2 = mu1.detach().double().cpu(), mu2.detach().double().cpu()
    sigma1, sigma2 = sigma1.detach().double().cpu(), sigma2.detach().double().cpu()
    dim = mu1.shape[0] if mu1.dim() == 1 else -1
    for name, mu in (("mu1", mu1), ("mu2", mu2)):
        if mu.dim() != 1 or mu.shape[0] != dim:
            raise ValueError(f"{name} must be a vector like mu1, got shape {tuple(mu.shape)}")
    for name, sigma in (("sigma1", sigma1), ("sigma2", sigma2)):
        if tuple(sigma.shape) != (dim, dim):
            raise ValueError(f"{name} must be [{dim}, {dim}], got {tuple(sigma.shape)}")
    sigma1, sigma2 = (sigma1 + sigma1.T) / 2, (sigma2 + sigma2.T) / 2
    root1 = _psd_sqrt(sigma1)
    middle = root1 @ sigma2 @ root1
    eigenvalues = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp(min=0)
    diff = mu1 - mu2
    distance = diff @ diff + sigma1.trace() + sigma2.trace() - 2 * eigenvalues.sqrt().sum()
    # The true distance is >= 0; round-off can leave -1e-12 for identical Gaussians.
    return max(float(distance), 0.0)
