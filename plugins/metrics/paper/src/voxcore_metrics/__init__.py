"""voxcore plugin: the paper's metrics, FID, CLIPScore and Emo-A (VoxStudio Sec. 5).

- ``fid``: Fréchet Inception Distance with the standard FID Inception-v3 weights
  (pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth``), streamed: only float64 sums are
  kept, so 10k images never sit in memory;
- ``clipscore``: mean of ``max(100 * cos(image, transcript), 0)`` with CLIP ViT-L/14;
- ``emo-a``: emotion accuracy of generated images by a timm classifier over the paper's five
  classes, trained with ``voxcore train-classifier`` (this plugin adds that command).

This module is imported whenever voxcore loads its plugins, so it only declares the configs,
registers the metrics (factories as ``"module:attr"`` strings) and adds the command; torch,
transformers and timm are imported only when a metric is built or the command runs.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from voxcore.plugin_api import hookimpl

__all__ = ["CLIPScoreConfig", "EMOTIONS", "EMOTION_ALIASES", "EmoAConfig", "FIDConfig",
           "FID_WEIGHTS_URL", "voxcore_add_commands", "voxcore_register_metrics"]

#: Where the standard FID Inception weights are published (pytorch-fid's release).
FID_WEIGHTS_URL = ("https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
                   "pt_inception-2015-12-05-6726825d.pth")

#: The paper's five emotion classes (VoxEmoset, Sec. 4.1), in canonical order.
EMOTIONS = ("enjoyment", "anger", "disgust", "fear", "sadness")

#: EmoSet category names folded into the paper's classes ("amusement" and "excitement" are one
#: class, "enjoyment"); EmoSet's "awe" and "contentment" are not among the classes.
EMOTION_ALIASES = {"amusement": "enjoyment", "excitement": "enjoyment", "sad": "sadness"}


class FIDConfig(BaseModel):
    """Settings of the ``fid`` metric (a recipe's ``metrics[i].config``)."""

    model_config = ConfigDict(extra="forbid")

    weights: str | None = Field(
        default=None,
        description="path to the FID Inception weights: pytorch-fid's "
                    "pt_inception-2015-12-05-6726825d.pth (read with weights_only=True) or "
                    f"the same state dict as .safetensors; download from {FID_WEIGHTS_URL}")
    reference_stats: str | None = Field(
        default=None,
        description="optional precomputed statistics of the real images (.safetensors with "
                    "'mu' and 'sigma', or pytorch-fid's .npz); when set, EvalBatch.references "
                    "are ignored")
    batch_size: int = Field(default=50, ge=1,
                            description="images per Inception forward pass (memory bound)")
    device: str = Field(default="cpu", description="torch device Inception runs on")


class CLIPScoreConfig(BaseModel):
    """Settings of the ``clipscore`` metric."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(default="openai/clip-vit-large-patch14",
                       description="CLIP checkpoint: a Hugging Face hub id (looked up in the "
                                   "local cache first) or a local folder")
    weight: float = Field(default=100.0, gt=0,
                          description="w in mean(max(w * cos(image, text), 0)); the paper's "
                                      "scores (~30) use w = 100")
    batch_size: int = Field(default=32, ge=1, description="images per CLIP forward pass")
    device: str = Field(default="cpu", description="torch device CLIP runs on")


class EmoAConfig(BaseModel):
    """Settings of the ``emo-a`` metric."""

    model_config = ConfigDict(extra="forbid")

    classifier: str = Field(
        description="folder written by 'voxcore train-classifier --out DIR' (holding "
                    "classifier.safetensors and classifier.json)")
    label: str = Field(default="emotion",
                       description="EvalBatch.labels key holding each prompt's emotion")
    batch_size: int = Field(default=64, ge=1, description="images per classifier pass")
    device: str = Field(default="cpu", description="torch device the classifier runs on")


@hookimpl
def voxcore_register_metrics(register: Any) -> None:
    """Register ``fid``, ``clipscore`` and ``emo-a``."""
    register("fid", config=FIDConfig, factory="voxcore_metrics.fid:build_fid",
             description="Fréchet Inception Distance (FID Inception-v3 weights, pool3 features)")
    register("clipscore", config=CLIPScoreConfig,
             factory="voxcore_metrics.clipscore:build_clipscore",
             description="CLIPScore: mean max(100 cos(image, transcript), 0), CLIP ViT-L/14")
    register("emo-a", config=EmoAConfig, factory="voxcore_metrics.emotion:build_emo_a",
             description="emotion accuracy of generated images by a classifier trained with "
                         "'voxcore train-classifier'")


@hookimpl
def voxcore_add_commands(commands: Any) -> None:
    """Add ``voxcore train-classifier``."""
    from voxcore_metrics.commands import add_train_classifier

    add_train_classifier(commands)
