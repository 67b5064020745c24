"""The model a recipe assembles: encoder -> bottleneck -> generator (:class:`VoxModel`).

It is built by :func:`voxcore.assembly.build_model`. Every call into a part's plugin code
goes through :meth:`VoxModel.blame`, so an exception raised inside a plugin becomes one error
naming that part, its distribution and its recipe section.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Literal

import torch

from voxcore.encoding import encode_waveforms
from voxcore.errors import UserError
from voxcore.failures import PartLabel, blame
from voxcore.interfaces import (
    Bottleneck,
    Condition,
    ImageGenerator,
    SpeechEncoder,
    SpeechFeatures,
    SupportsEditing,
    SupportsLatentCache,
    TextEncoder,
    Transcriber,
    Waveform,
)

Modality = Literal["speech", "text"]

#: The state-dict prefixes of the parts that train (the speech encoder is frozen).
TRAINABLE_PARTS = ("bottleneck", "generator", "text_encoder")


class VoxModel(torch.nn.Module):
    """The three parts of a speech-to-image (or text-to-image baseline) model.

    A speech encoder is frozen and kept outside the trainable state; a text encoder trains
    with the bottleneck and generator. ``labels`` names each part (``"encoder"``,
    ``"bottleneck"``, ``"generator"``) for messages.
    """

    def __init__(
        self,
        encoder: SpeechEncoder | TextEncoder,
        bottleneck: Bottleneck,
        generator: ImageGenerator,
        labels: Mapping[str, PartLabel] | None = None,
    ) -> None:
        super().__init__()
        self.labels: dict[str, PartLabel] = dict(labels or {})
        self.modality: Modality = "text" if isinstance(encoder, TextEncoder) else "speech"
        self.bottleneck = _as_module(bottleneck, "bottleneck")
        self.generator = _as_module(generator, "generator")
        #: Set for a cascade (ASR, then a text encoder): audio is transcribed, then encoded.
        self.transcriber: Transcriber | None = (
            encoder if isinstance(encoder, Transcriber) and self.modality == "text" else None)
        if self.modality == "text":
            self.text_encoder: torch.nn.Module | None = _as_module(encoder, "encoder")
            self.speech_encoder: SpeechEncoder | None = None
        else:
            self.text_encoder = None
            assert isinstance(encoder, SpeechEncoder)
            self.speech_encoder = encoder  # a submodule when it is a Module: moves with .to()
            if isinstance(encoder, torch.nn.Module):
                encoder.requires_grad_(False).eval()

    @contextmanager
    def blame(self, part: str, action: str) -> Iterator[None]:
        """Run plugin code of ``part``; an unexpected exception names the part."""
        with blame(self.labels.get(part), action):
            yield

    def train(self, mode: bool = True) -> VoxModel:
        """Like ``Module.train``, but a frozen speech encoder always stays in eval mode."""
        super().train(mode)
        if isinstance(self.speech_encoder, torch.nn.Module):
            self.speech_encoder.eval()
        return self

    @property
    def generator_part(self) -> ImageGenerator:
        """The generator, typed as the protocol."""
        generator: ImageGenerator = self.generator  # type: ignore[assignment]
        return generator

    @property
    def can_edit(self) -> bool:
        """Whether the generator can redraw given images (``voxcore edit``)."""
        return isinstance(self.generator, SupportsEditing)

    def require_editing(self) -> None:
        """A :class:`UserError` unless the generator can edit images."""
        if not self.can_edit:
            label = self.labels.get("generator")
            raise UserError(f"{label or 'the generator'} cannot edit images (it has no edit "
                            "method); use a run whose generator supports editing")

    def encode_speech(self, waveforms: Sequence[Waveform]) -> SpeechFeatures:
        """Frozen speech features of a batch of utterances (a cascade transcribes them, then
        encodes the transcripts)."""
        if self.transcriber is not None:
            with torch.no_grad():
                return self.encode_text(self.transcribe(waveforms))
        if self.speech_encoder is None:
            raise UserError("this model was trained on text, not speech: give it transcripts "
                            "(--text) instead of audio")
        with torch.no_grad():
            return encode_waveforms(self.speech_encoder, waveforms, self.labels.get("encoder"))

    def transcribe(self, waveforms: Sequence[Waveform]) -> list[str]:
        """What a cascade's speech recogniser hears in each utterance."""
        if self.transcriber is None:
            raise UserError("this model has no speech recogniser (it is not a cascade)")
        with self.blame("encoder", "transcribing speech"):
            return list(self.transcriber.transcribe(waveforms))

    def encode_text(self, texts: Sequence[str]) -> SpeechFeatures:
        """Text-encoder features of a batch of transcripts (with gradients)."""
        if self.text_encoder is None:
            raise UserError("this model was trained on speech, not text: give it audio "
                            "(--audio) instead of transcripts")
        encoder: TextEncoder = self.text_encoder  # type: ignore[assignment]
        with self.blame("encoder", "encoding text"):
            return encoder.encode_text(texts)

    def condition(self, features: SpeechFeatures) -> Condition:
        """Bottleneck the features into the generator's condition."""
        with self.blame("bottleneck", "conditioning"):
            result: Condition = self.bottleneck(features)
        return result

    def sample(self, condition: Condition, *, num_inference_steps: int, guidance_scale: float,
               scheduler: str,
               generator: torch.Generator | list[torch.Generator] | None = None) -> torch.Tensor:
        """The generator's images for ``condition`` (see :meth:`ImageGenerator.generate`)."""
        with self.blame("generator", "sampling"):
            return self.generator_part.generate(
                condition, num_inference_steps=num_inference_steps,
                guidance_scale=guidance_scale, scheduler=scheduler, generator=generator)

    def edit(self, images: torch.Tensor, condition: Condition, *, strength: float,
             num_inference_steps: int, guidance_scale: float, scheduler: str,
             generator: torch.Generator | list[torch.Generator] | None = None) -> torch.Tensor:
        """The generator's edit of ``images`` under ``condition``
        (:class:`~voxcore.interfaces.SupportsEditing`)."""
        self.require_editing()
        editor = self.generator
        assert isinstance(editor, SupportsEditing)
        with self.blame("generator", "editing"):
            return editor.edit(images, condition, strength=strength,
                               num_inference_steps=num_inference_steps,
                               guidance_scale=guidance_scale, scheduler=scheduler,
                               generator=generator)

    def encode_images_for_cache(self, images: torch.Tensor) -> torch.Tensor:
        """The generator's cacheable encoding of training images
        (:class:`~voxcore.interfaces.SupportsLatentCache`)."""
        generator = self.generator
        assert isinstance(generator, SupportsLatentCache)
        with self.blame("generator", "encoding images for the latent cache"):
            return generator.encode_for_cache(images)

    def forward(
        self,
        images: torch.Tensor,
        features: SpeechFeatures | None = None,
        texts: Sequence[str] | None = None,
        drop: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
        encoded: bool = False,
    ) -> torch.Tensor:
        """The diffusion loss of a batch: the one call a training step makes.

        It is ``forward`` (not a helper method) so that data-parallel wrappers see every
        parameter it uses. Give precomputed speech ``features`` or raw ``texts``. With
        ``encoded``, ``images`` are the generator's cached encodings of the images (see
        :mod:`voxcore.caches.latents`).
        """
        if texts is not None:
            features = self.encode_text(texts)
        if features is None:
            raise ValueError("VoxModel.forward needs speech features or texts")
        condition = self.condition(features)
        with self.blame("generator", "computing the diffusion loss"):
            if encoded:
                cached = self.generator
                assert isinstance(cached, SupportsLatentCache)
                return cached.training_loss_from_encoded(images, condition, drop=drop,
                                                         generator=generator)
            return self.generator_part.training_loss(images, condition, drop=drop,
                                                     generator=generator)

    def trainable_state(self) -> dict[str, torch.Tensor]:
        """What checkpoints hold: the trained parts' parameters that require grad, and their
        buffers, by name.

        Frozen weights (a pretrained UNet trained ``frozen``, or under LoRA adapters, and any
        VAE) are left out: the recipe loads them again, and a checkpoint stays the size of
        what was trained.
        """
        frozen = {name for name, p in self.named_parameters() if not p.requires_grad}
        return {k: v for k, v in self.state_dict().items()
                if k.split(".")[0] in TRAINABLE_PARTS and k not in frozen}

    def load_trainable_state(self, state: dict[str, torch.Tensor], source: str) -> None:
        """Load what :meth:`trainable_state` saved; a mismatch is a :class:`UserError`."""
        missing, unexpected = self.load_state_dict(state, strict=False)
        absent = sorted(set(self.trainable_state()) & set(missing))
        if absent or unexpected:
            raise UserError(f"{source} does not match the model the recipe builds (missing "
                            f"{absent[:5]}, unexpected {sorted(unexpected)[:5]})")


def _as_module(part: Any, what: str) -> torch.nn.Module:
    if not isinstance(part, torch.nn.Module):
        raise UserError(f"the {what} must be a torch.nn.Module, got {type(part).__name__}")
    return part
