"""The contracts between voxcore's stages.

A speech-to-image model is three parts joined by two small data types::

    Waveform ──► SpeechEncoder ──► SpeechFeatures ──► Bottleneck ──► Condition ──► ImageGenerator

Every interface is a :class:`typing.Protocol`, so a plugin's classes need not subclass anything
from voxcore; they only need the attributes and methods listed here. Components that hold
weights are expected to be ``torch.nn.Module`` instances too (so that ``.to()``,
``state_dict()`` and ``load_state_dict()`` work); the conformance suites in
:mod:`voxcore.testing` check both.

Padding is always explicit: every tensor with a time or token axis travels with a boolean
mask (``True`` = a real frame/token, ``False`` = padding), and nothing may attend to, pool
over or otherwise let padding change a result at a valid position.

This module does not import torch at run time, so it is cheap to import.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import torch

__all__ = [
    "Waveform",
    "SpeechFeatures",
    "Condition",
    "EvalBatch",
    "Sample",
    "SpeechEncoder",
    "TextEncoder",
    "Transcriber",
    "Bottleneck",
    "ImageGenerator",
    "Metric",
    "Dataset",
    "DatasetBuilder",
    "SupportsEditing",
    "SupportsLatentCache",
    "SupportsInterop",
    "SupportsGradientCheckpointing",
    "HasWeightsFingerprint",
    "DeclaresMinimumDuration",
    "ListsSchedulers",
    "MergesState",
    "LocatedDataset",
    "Preparation",
    "ABILITIES",
]


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


@dataclass(frozen=True)
class Waveform:
    """One utterance: ``samples`` is a float tensor ``[channels, time]`` at ``sample_rate`` Hz.

    Encoders resample and mix down to mono themselves, so any rate and channel count is valid.
    ``source`` names where it came from (the file :func:`voxcore.audio.load_audio` read), for
    messages; ``""`` when it was made in memory.
    """

    samples: torch.Tensor
    sample_rate: int
    source: str = ""

    def __post_init__(self) -> None:
        _check(self.samples.dim() == 2, f"Waveform.samples must be [channels, time], got shape "
               f"{tuple(self.samples.shape)}")
        _check(self.sample_rate > 0,
               f"Waveform.sample_rate must be positive, got {self.sample_rate}")

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return int(self.samples.shape[-1]) / self.sample_rate


@dataclass(frozen=True)
class SpeechFeatures:
    """Per-frame speech features of a padded batch.

    ``features`` is ``[B, N, D]``; ``mask`` is a bool ``[B, N]`` (``True`` = real frame);
    ``frame_rate`` is frames per second of audio (a text encoder reports tokens per
    character instead).
    """

    features: torch.Tensor
    mask: torch.Tensor
    frame_rate: float

    def __post_init__(self) -> None:
        _check(self.features.dim() == 3, f"SpeechFeatures.features must be [B, N, D], got shape "
               f"{tuple(self.features.shape)}")
        _check(tuple(self.mask.shape) == tuple(self.features.shape[:2]),
               f"SpeechFeatures.mask must be [B, N] = {tuple(self.features.shape[:2])}, got "
               f"{tuple(self.mask.shape)}")
        _check(str(self.mask.dtype) == "torch.bool", f"SpeechFeatures.mask must be bool, got "
               f"{self.mask.dtype}")

    @property
    def lengths(self) -> torch.Tensor:
        """Number of valid frames per item, ``[B]``."""
        return self.mask.sum(dim=1)


@dataclass(frozen=True)
class Condition:
    """What the image generator is conditioned on.

    ``tokens`` ``[B, M, D']`` enter the generator's cross-attention with ``mask`` ``[B, M]``
    (``True`` = real token); ``pooled`` ``[B, P]`` is an optional global vector (SDXL's
    added conditioning), ``None`` for generators that do not use one.
    """

    tokens: torch.Tensor
    mask: torch.Tensor
    pooled: torch.Tensor | None = None

    def __post_init__(self) -> None:
        _check(self.tokens.dim() == 3, f"Condition.tokens must be [B, M, D], got shape "
               f"{tuple(self.tokens.shape)}")
        _check(tuple(self.mask.shape) == tuple(self.tokens.shape[:2]),
               f"Condition.mask must be [B, M] = {tuple(self.tokens.shape[:2])}, got "
               f"{tuple(self.mask.shape)}")
        _check(str(self.mask.dtype) == "torch.bool", f"Condition.mask must be bool, got "
               f"{self.mask.dtype}")
        if self.pooled is not None:
            _check(self.pooled.dim() == 2 and self.pooled.shape[0] == self.tokens.shape[0],
                   f"Condition.pooled must be [B, P] with B = {self.tokens.shape[0]}, got "
                   f"{tuple(self.pooled.shape)}")


@dataclass(frozen=True)
class EvalBatch:
    """What a metric sees for one batch of generated images.

    ``images`` are the generated images, float ``[B, 3, H, W]`` in ``[0, 1]``; ``references``
    the real images of the same prompts if the metric needs them; ``transcripts`` the text of
    each prompt; ``labels`` per-item annotations by name (for example ``{"emotion": [...]}``).
    """

    images: torch.Tensor
    references: torch.Tensor | None = None
    transcripts: Sequence[str] | None = None
    labels: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Sample:
    """One item of a dataset: paths to its files plus its annotations."""

    id: str
    audio: Path | None
    image: Path | None
    transcript: str | None = None
    speaker: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)


@runtime_checkable
class SpeechEncoder(Protocol):
    """Turns waveforms into per-frame features (usually frozen during training).

    ``sample_rate`` is the rate the encoder works at (inputs at other rates are resampled);
    ``output_dim`` is ``D`` of the features it returns. Every item must get at least one valid
    frame; an encoder that needs a minimum length of audio for that declares it
    (:class:`DeclaresMinimumDuration`). Optional abilities: :class:`HasWeightsFingerprint`.
    """

    sample_rate: int
    output_dim: int

    def encode(self, waveforms: Sequence[Waveform]) -> SpeechFeatures:
        """Encode a batch of utterances of any lengths, rates and channel counts."""
        ...


@runtime_checkable
class TextEncoder(Protocol):
    """Turns transcripts into per-token features: the text-to-image baseline's encoder.

    It is registered as an encoder like any speech encoder and feeds the same bottleneck, so
    speech vs text is a one-line recipe change. Unlike a speech encoder it is trained with the
    rest of the model (its features are never cached).
    """

    output_dim: int

    def encode_text(self, texts: Sequence[str]) -> SpeechFeatures:
        """Encode a batch of transcripts of any lengths."""
        ...


@runtime_checkable
class Transcriber(Protocol):
    """A text encoder that can also hear: the cascaded ASR -> text-to-image baseline.

    A :class:`TextEncoder` that also has ``transcribe`` (speech recognition, frozen) trains
    on the transcripts it makes of the training audio, and turns audio prompts into text
    before encoding them. Transcripts are cached on disk by audio content and
    ``transcriber_fingerprint`` (which must change whenever the transcripts could: other
    weights, another language or decoding setting).
    """

    transcriber_fingerprint: str

    def transcribe(self, waveforms: Sequence[Waveform]) -> list[str]:
        """The text spoken in each utterance."""
        ...


@runtime_checkable
class Bottleneck(Protocol):
    """Compresses speech features into the generator's condition (the paper's SIB).

    ``input_dim`` is the encoder's ``output_dim``; ``output_dim`` the generator's
    cross-attention width; ``pooled_dim`` the width of ``Condition.pooled`` or ``None``.
    Its config model declares ``input_dim``/``output_dim``/``pooled_dim`` fields; a value of
    ``None`` there is filled in from the encoder and generator when a recipe is assembled.
    """

    input_dim: int
    output_dim: int
    pooled_dim: int | None

    def __call__(self, features: SpeechFeatures) -> Condition:
        """Map features (and their mask) to condition tokens (and their mask)."""
        ...


@runtime_checkable
class ImageGenerator(Protocol):
    """A conditional diffusion model that turns a :class:`Condition` into images.

    ``cross_attention_dim`` and ``pooled_dim`` say what condition it takes; ``resolution``
    is the side of the square images it trains on and produces. Images going in and
    coming out are float ``[B, 3, H, W]`` in ``[0, 1]``. Optional abilities:
    :class:`SupportsEditing`, :class:`SupportsLatentCache`, :class:`SupportsInterop`,
    :class:`SupportsGradientCheckpointing`, :class:`ListsSchedulers`.
    """

    cross_attention_dim: int
    pooled_dim: int | None
    resolution: int

    def null_condition(self, batch_size: int) -> Condition:
        """The learned "no condition" used for classifier-free guidance."""
        ...

    def training_loss(
        self,
        images: torch.Tensor,
        condition: Condition,
        *,
        drop: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Scalar diffusion loss for a batch.

        ``drop`` (bool ``[B]``) marks items whose condition is replaced by
        :meth:`null_condition` (condition dropout); ``generator`` seeds the noise and timesteps.
        """
        ...

    def generate(
        self,
        condition: Condition,
        *,
        num_inference_steps: int,
        guidance_scale: float,
        scheduler: str,
        generator: torch.Generator | list[torch.Generator] | None = None,
    ) -> torch.Tensor:
        """Sample one image per condition item, ``[B, 3, H, W]`` in ``[0, 1]``.

        ``generator`` draws all the noise. A list (diffusers' convention, one per item, as
        voxcore's commands pass) draws item ``i``'s noise with ``generator[i]`` alone, so an
        image does not depend on which other items share its batch
        (:func:`~voxcore.conditioning.seeded_randn` and
        :func:`~voxcore.conditioning.generator_for_item` do this).
        """
        ...


@runtime_checkable
class Metric(Protocol):
    """An accumulating image metric (FID, CLIPScore, Emo-A, ...).

    Its running state is a flat dict of tensors so that a long evaluation can be saved with
    safetensors and resumed.
    """

    def update(self, batch: EvalBatch) -> None:
        """Add one batch of generated images (and their prompts) to the running state."""
        ...

    def compute(self) -> dict[str, float]:
        """The metric's values over everything added since the last :meth:`reset`."""
        ...

    def reset(self) -> None:
        """Forget everything added so far."""
        ...

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The running state as named tensors."""
        ...

    def load_state_dict(self, state: Mapping[str, torch.Tensor]) -> None:
        """Restore a running state produced by :meth:`state_dict`."""
        ...


@runtime_checkable
class Dataset(Protocol):
    """A sized, indexable collection of :class:`Sample` s."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> Sample: ...


@runtime_checkable
class DatasetBuilder(Protocol):
    """Makes a dataset on disk (``voxcore data NAME --out DIR``) from its validated config."""

    def build(self, out_dir: Path) -> None:
        """Write the dataset's files under ``out_dir`` (created if missing)."""
        ...


# -- optional abilities -------------------------------------------------------------------
#
# A component has an ability when it has the attributes below (checked with ``isinstance``);
# nothing needs to be declared or subclassed. Each ability has an opt-in conformance suite in
# :mod:`voxcore.testing`.


@runtime_checkable
class SupportsEditing(Protocol):
    """A generator that redraws given images under a condition (``voxcore edit``)."""

    def edit(
        self,
        images: torch.Tensor,
        condition: Condition,
        *,
        strength: float,
        num_inference_steps: int,
        guidance_scale: float,
        scheduler: str,
        generator: torch.Generator | list[torch.Generator] | None = None,
    ) -> torch.Tensor:
        """``images`` ``[B, 3, R, R]`` in ``[0, 1]`` noised to ``strength`` (in ``(0, 1]``) and
        denoised under ``condition``; same shape and range. A strength outside ``(0, 1]`` or
        images of another shape raise ``ValueError``. ``generator`` as in
        :meth:`ImageGenerator.generate` (a list: one per item)."""
        ...


@runtime_checkable
class SupportsLatentCache(Protocol):
    """A generator whose frozen image encoder's output the trainer may cache on disk.

    ``image_cache_key()`` names the encoder's identity and input size (``""`` turns caching
    off); ``encode_for_cache`` is deterministic; ``training_loss_from_encoded`` of its output
    equals ``training_loss`` of the images under the same random generator.
    """

    def image_cache_key(self) -> str:
        """Identity of the cached encodings (empty: do not cache)."""
        ...

    def encode_for_cache(self, images: torch.Tensor) -> torch.Tensor:
        """A deterministic encoding of ``[B, 3, R, R]`` images, one row per image."""
        ...

    def training_loss_from_encoded(
        self,
        encoded: torch.Tensor,
        condition: Condition,
        *,
        drop: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """:meth:`ImageGenerator.training_loss` of images given as their encodings."""
        ...


@runtime_checkable
class SupportsInterop(Protocol):
    """A generator that writes (and reads) trained weights in its ecosystem's own formats.

    ``voxcore export`` calls ``save_interop(folder, state)`` with the generator's trained
    tensors; it writes what it can (for example ``pytorch_lora_weights.safetensors``) and
    returns what is left for voxcore's own ``generator.safetensors``. ``load_interop(folder)``
    returns the tensors it wrote, by the same names.
    """

    def save_interop(self, folder: Path, state: dict[str, torch.Tensor]
                     ) -> dict[str, torch.Tensor]:
        """Write interop files into ``folder``; return the tensors still to be saved."""
        ...

    def load_interop(self, folder: Path) -> dict[str, torch.Tensor]:
        """The tensors :meth:`save_interop` wrote into ``folder``."""
        ...


@runtime_checkable
class SupportsGradientCheckpointing(Protocol):
    """A generator that trades compute for memory (``train.gradient_checkpointing: true``)."""

    def enable_gradient_checkpointing(self) -> None:
        """Turn gradient checkpointing on; the loss and its gradients stay the same."""
        ...


@runtime_checkable
class HasWeightsFingerprint(Protocol):
    """An encoder whose features depend on weight files named in its config.

    ``weights_fingerprint`` (for example :func:`voxcore.hub.folder_fingerprint` of the files)
    keys its cached features, so new weights behind the same name are encoded afresh.
    """

    weights_fingerprint: str


@runtime_checkable
class DeclaresMinimumDuration(Protocol):
    """An encoder that needs at least ``min_duration`` seconds of audio to give one frame.

    Shorter audio is refused before it is encoded, with its duration and this minimum.
    """

    min_duration: float


@runtime_checkable
class ListsSchedulers(Protocol):
    """A generator that names the sampling schedulers ``generate(scheduler=...)`` accepts, so
    a recipe's ``generate.scheduler`` is checked before anything runs."""

    schedulers: Sequence[str]


@runtime_checkable
class MergesState(Protocol):
    """A metric whose running states from several processes add up, so ``evaluate`` can
    split its prompts among processes (``accelerate launch``). :class:`~voxcore.metric_state.
    TensorState` provides it for counters, sums and feature Gaussians."""

    def merge_state(self, state: Mapping[str, torch.Tensor]) -> None:
        """Add another instance's :meth:`Metric.state_dict` to this one's running state."""
        ...


@runtime_checkable
class LocatedDataset(Protocol):
    """A dataset read from a manifest or folder at ``path`` (caches of what is learned from it,
    such as a judge, can then live beside it)."""

    path: Path


@runtime_checkable
class Preparation(Protocol):
    """Something a component must learn from data before it can be built.

    A component registered with ``prepare=`` (see :mod:`voxcore.hookspecs`) gets one of these
    from its config, or ``None`` when that config needs nothing prepared. ``voxcore prepare``
    and ``voxcore train`` (as its first, logged step) run it: when :meth:`cache_folder` holds
    no finished artefact, :meth:`prepare` writes one into a fresh temporary folder that voxcore
    then renames into place. The component is then built with ``prepared=FOLDER``; building
    never prepares, and a missing artefact is an error that names the command that makes it.
    Runs and exported folders keep a copy of every prepared artefact.
    """

    #: What is prepared, for logs and messages ("word recogniser").
    description: str

    def cache_folder(self) -> Path:
        """Where the artefact of this config is kept: a folder named by a key of everything
        it is learned from (data and settings), so other data or settings prepare anew."""
        ...

    def prepare(self, folder: Path) -> Mapping[str, float | int | str]:
        """Learn from the data and write the artefact into ``folder`` (which exists and is
        empty); return figures worth recording (held-out accuracy, seconds, ...)."""
        ...


#: Every optional ability, by the name used in messages and docs.
ABILITIES: dict[str, type] = {
    "editing": SupportsEditing,
    "latent cache": SupportsLatentCache,
    "interop": SupportsInterop,
    "gradient checkpointing": SupportsGradientCheckpointing,
    "weights fingerprint": HasWeightsFingerprint,
    "minimum duration": DeclaresMinimumDuration,
    "schedulers": ListsSchedulers,
    "transcriber": Transcriber,
    "state merging": MergesState,
}
