"""The ``fid`` metric: Fréchet Inception Distance with the standard FID Inception-v3.

The network is pytorch-fid's: torchvision's Inception-v3 with the blocks patched the way the
TensorFlow FID graph computes them (:mod:`pytorch_fid.inception`'s ``FIDInception*`` blocks),
1008 classes, no auxiliary head. It is built here without pytorch-fid's download call and its
weights are read from the local file named by ``FIDConfig.weights``; nothing is ever fetched,
and nothing ever runs with random weights unless a test builds :class:`FIDInception` itself.

Images are resized bilinearly to 299 x 299 (``align_corners=False``, no antialiasing, as
pytorch-fid does), scaled to ``[-1, 1]``, and their 2048-wide pool3 features accumulate into
float64 running sums (:class:`voxcore.stats.RunningGaussian`), one for generated images and
one for the real references, so memory does not grow with the number of images and a saved
state resumes exactly. The Fréchet distance is the eigenvalue-based
:func:`voxcore.stats.frechet_distance` (the same value as pytorch-fid's ``sqrtm``).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import torch
import torch.nn.functional as F
import torchvision
from pytorch_fid.inception import (
    FIDInceptionA,
    FIDInceptionC,
    FIDInceptionE_1,
    FIDInceptionE_2,
)
from torch import nn

from voxcore.plugin_api import (
    EvalBatch,
    RunningGaussian,
    TensorState,
    UserError,
    frechet_distance,
    load_tensors,
    save_tensors,
)
from voxcore_metrics import FID_WEIGHTS_URL, FIDConfig
from voxcore_metrics.images import check_images, chunks

__all__ = ["FEATURE_DIM", "FIDInception", "FIDMetric", "FIDWeightsError", "build_fid",
           "load_fid_weights", "load_reference_stats", "save_reference_stats"]

#: Width of Inception's pool3 features.
FEATURE_DIM = 2048
#: The side images are resized to, as in pytorch-fid.
INPUT_SIZE = 299

_WEIGHTS_NAME = "pt_inception-2015-12-05-6726825d.pth"


class FIDWeightsError(UserError, FileNotFoundError):
    """The FID Inception weights are not configured, missing, or not the right network's."""


def _fix(key: str = "weights") -> str:
    return (f"download {_WEIGHTS_NAME} from {FID_WEIGHTS_URL} (on a machine with network "
            f"access) and set the fid metric's config key '{key}' to its path (a recipe's "
            f"metrics: - {{name: fid, config: {{{key}: /path/to/{_WEIGHTS_NAME}}}}})")


def _fid_inception_v3() -> torchvision.models.Inception3:
    """pytorch-fid's FID Inception architecture (its ``fid_inception_v3`` minus the download)."""
    inception = torchvision.models.inception_v3(weights=None, aux_logits=False,
                                                num_classes=1008, init_weights=False)
    inception.Mixed_5b = FIDInceptionA(192, pool_features=32)
    inception.Mixed_5c = FIDInceptionA(256, pool_features=64)
    inception.Mixed_5d = FIDInceptionA(288, pool_features=64)
    inception.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
    inception.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
    inception.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
    inception.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
    inception.Mixed_7b = FIDInceptionE_1(1280)
    inception.Mixed_7c = FIDInceptionE_2(2048)
    return inception


class FIDInception(nn.Module):
    """The FID Inception-v3 up to pool3: ``[B, 3, H, W]`` in ``[0, 1]`` -> ``[B, 2048]``.

    ``FIDInception()`` has *random* weights: load the real ones with
    :meth:`from_weights` (what the ``fid`` metric does). ``input_size`` is the side images are
    resized to; only tests change it from 299 (to run faster), which changes the features.
    The state dict keys are those of ``pt_inception-2015-12-05-6726825d.pth`` (under
    ``inception.``), fc layer included.
    """

    def __init__(self, input_size: int = INPUT_SIZE) -> None:
        super().__init__()
        if input_size < 75:
            raise ValueError(f"Inception-v3 needs inputs of at least 75 px, got {input_size}")
        self.input_size = input_size
        self.inception = _fid_inception_v3()
        self.requires_grad_(False)
        self.eval()

    @classmethod
    def from_weights(cls, path: str | Path | None, key: str = "weights") -> FIDInception:
        """The network with the FID weights from ``path`` (``.pth`` or ``.safetensors``).

        Raises :class:`FIDWeightsError` naming the file, where to download it and the config
        ``key`` to set when ``path`` is ``None``, missing, or holds another network's weights.
        """
        network = cls()
        state = load_fid_weights(path, key)
        try:
            network.inception.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise FIDWeightsError(
                f"{path} does not hold the FID Inception weights ({str(exc).splitlines()[0]}); "
                f"{_fix(key)}") from exc
        return network

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Pool3 features, float32 ``[B, 2048]``."""
        x = images.to(dtype=torch.float32)
        if tuple(x.shape[-2:]) != (self.input_size, self.input_size):
            x = F.interpolate(x, size=(self.input_size, self.input_size), mode="bilinear",
                              align_corners=False)
        x = 2 * x - 1
        net = self.inception
        for layer in (net.Conv2d_1a_3x3, net.Conv2d_2a_3x3, net.Conv2d_2b_3x3, net.maxpool1,
                      net.Conv2d_3b_1x1, net.Conv2d_4a_3x3, net.maxpool2,
                      net.Mixed_5b, net.Mixed_5c, net.Mixed_5d, net.Mixed_6a, net.Mixed_6b,
                      net.Mixed_6c, net.Mixed_6d, net.Mixed_6e, net.Mixed_7a, net.Mixed_7b,
                      net.Mixed_7c, net.avgpool):
            x = layer(x)
        return torch.flatten(x, 1)


def load_fid_weights(path: str | Path | None, key: str = "weights") -> dict[str, torch.Tensor]:
    """Read the FID Inception state dict from a ``.pth`` (``weights_only``) or safetensors file."""
    if path is None:
        raise FIDWeightsError(f"the fid metric needs the FID Inception weights; {_fix(key)}")
    file = Path(path).expanduser()
    if not file.is_file():
        raise FIDWeightsError(f"FID Inception weights file {file} does not exist; {_fix(key)}")
    try:
        if file.suffix == ".safetensors":
            return load_tensors(file)
        state = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise FIDWeightsError(f"cannot read FID Inception weights from {file} "
                              f"({type(exc).__name__}: {exc}); {_fix(key)}") from exc
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor)
                                              for v in state.values()):
        raise FIDWeightsError(f"{file} is not a state dict of tensors; {_fix(key)}")
    return {str(k): v for k, v in state.items()}


def save_reference_stats(path: str | Path, mu: torch.Tensor, sigma: torch.Tensor) -> None:
    """Write reference statistics (``mu`` ``[D]``, ``sigma`` ``[D, D]``) as safetensors."""
    save_tensors(path, {"mu": mu.double().cpu(), "sigma": sigma.double().cpu()},
                 metadata={"format": "voxcore-fid-stats", "features": "inception-pool3"})


def load_reference_stats(path: str | Path) -> tuple[torch.Tensor, torch.Tensor]:
    """``(mu, sigma)`` from a safetensors file (or pytorch-fid's ``.npz``), float64."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise UserError(f"FID reference statistics file {file} does not exist; write one with "
                        "FIDMetric.save_reference_stats() (or pytorch-fid's --save-stats), or "
                        "unset the fid metric's 'reference_stats' to use EvalBatch.references")
    if file.suffix == ".npz":
        import numpy as np

        with np.load(file, allow_pickle=False) as data:
            mu, sigma = torch.from_numpy(data["mu"]), torch.from_numpy(data["sigma"])
    else:
        tensors = load_tensors(file)
        missing = [k for k in ("mu", "sigma") if k not in tensors]
        if missing:
            raise UserError(f"FID reference statistics {file} lacks {', '.join(missing)}")
        mu, sigma = tensors["mu"], tensors["sigma"]
    if mu.shape != (FEATURE_DIM,) or sigma.shape != (FEATURE_DIM, FEATURE_DIM):
        raise UserError(f"FID reference statistics {file} have shapes {tuple(mu.shape)} and "
                        f"{tuple(sigma.shape)}, expected ({FEATURE_DIM},) and "
                        f"({FEATURE_DIM}, {FEATURE_DIM})")
    return mu.double(), sigma.double()


class FIDMetric(TensorState):
    """Streaming FID (a :class:`voxcore.interfaces.Metric`).

    :meth:`update` adds the Inception features of ``batch.images`` (generated) and of
    ``batch.references`` (real; ignored when ``reference_stats`` are given) to float64 running
    sums. :meth:`compute` returns ``{"fid": ...}`` once at least two generated images and two
    references (or the reference statistics) are in.
    """

    def __init__(self, network: FIDInception, *,
                 reference_stats: tuple[torch.Tensor, torch.Tensor] | None = None,
                 batch_size: int = 50, device: str = "cpu") -> None:
        self.network = network.to(device).eval()
        self.device = torch.device(device)
        self.batch_size = batch_size
        self.reference_stats = reference_stats
        self.generated: RunningGaussian
        self.reference: RunningGaussian
        self.reset()

    #: Running sums of the generated and the reference images' Inception features.
    state_names: ClassVar[tuple[str, ...]] = ("generated", "reference")
    state_label: ClassVar[str] = "fid"

    def initial_state(self) -> dict[str, torch.Tensor | RunningGaussian]:
        """No image added (fixed reference statistics are not part of the state)."""
        return {"generated": RunningGaussian(FEATURE_DIM),
                "reference": RunningGaussian(FEATURE_DIM)}

    @torch.no_grad()
    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Pool3 features ``[B, 2048]`` (on the CPU) of float ``[B, 3, H, W]`` images."""
        check_images(images)
        parts = [self.network(images[part].to(self.device)).cpu()
                 for part in chunks(int(images.shape[0]), self.batch_size)]
        return torch.cat(parts) if parts else torch.empty(0, FEATURE_DIM)

    def update(self, batch: EvalBatch) -> None:
        """Accumulate the features of ``batch.images`` and (unless stats are fixed) references."""
        check_images(batch.images, "EvalBatch.images")
        self.generated.update(self.features(batch.images))
        if batch.references is not None and self.reference_stats is None:
            check_images(batch.references, "EvalBatch.references")
            self.reference.update(self.features(batch.references))

    def compute(self) -> dict[str, float]:
        """``{"fid": Fréchet distance between generated and reference features}``."""
        if int(self.generated.count) < 2:
            raise ValueError(f"FID needs at least 2 generated images, got "
                             f"{int(self.generated.count)}")
        if self.reference_stats is not None:
            mu, sigma = self.reference_stats
        elif int(self.reference.count) >= 2:
            mu, sigma = self.reference.mean, self.reference.covariance
        else:
            raise ValueError(f"FID needs at least 2 reference images (EvalBatch.references), got "
                             f"{int(self.reference.count)}; or set 'reference_stats'")
        return {"fid": frechet_distance(self.generated.mean, self.generated.covariance, mu,
                                        sigma)}

    def save_reference_stats(self, path: str | Path) -> None:
        """Write the references accumulated so far as a statistics file for ``reference_stats``.

        Feed the real images as ``EvalBatch(images=real, references=real)`` (or as
        references of any batches), then call this; needs at least two references.
        """
        save_reference_stats(path, self.reference.mean, self.reference.covariance)


def build_fid(config: FIDConfig) -> FIDMetric:
    """The registry's factory: the FID Inception with the configured weights."""
    stats = (load_reference_stats(config.reference_stats)
             if config.reference_stats is not None else None)
    network = FIDInception.from_weights(config.weights)
    return FIDMetric(network, reference_stats=stats, batch_size=config.batch_size,
                     device=config.device)
