"""Assembling a model from a recipe: encoder -> bottleneck -> generator.

The bottleneck's widths are not written in recipes: ``input_dim`` comes from the encoder's
``output_dim``, ``output_dim`` from the generator's ``cross_attention_dim`` and
``pooled_dim`` from the generator's ``pooled_dim``, so swapping an encoder or a generator
is a one-line change. A width that *is* written must agree with the parts it joins.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal

import torch

from voxcore.errors import UserError
from voxcore.interfaces import (
    Bottleneck,
    Condition,
    ImageGenerator,
    SpeechEncoder,
    SpeechFeatures,
    TextEncoder,
    Transcriber,
    Waveform,
)
from voxcore.recipe import ResolvedRecipe

Modality = Literal["speech", "text"]

#: The state-dict prefixes of the parts that train (the speech encoder is frozen).
TRAINABLE_PARTS = ("bottleneck", "generator", "text_encoder")


class VoxModel(torch.nn.Module):
    """The three parts of a speech-to-image (or text-to-image baseline) model.

    A speech encoder is frozen and kept outside the trainable state; a text encoder trains
    with the bottleneck and generator.
    """

    def __init__(
        self,
        encoder: SpeechEncoder | TextEncoder,
        bottleneck: Bottleneck,
        generator: ImageGenerator,
    ) -> None:
        super().__init__()
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

    def encode_speech(self, waveforms: Sequence[Waveform]) -> SpeechFeatures:
        """Frozen speech features of a batch of utterances (a cascade transcribes them, then
        encodes the transcripts)."""
        if self.transcriber is not None:
            with torch.no_grad():
                return self.encode_text(self.transcriber.transcribe(waveforms))
        if self.speech_encoder is None:
            raise UserError("this model was trained on text, not speech: give it transcripts "
                            "(--text) instead of audio")
        with torch.no_grad():
            return self.speech_encoder.encode(waveforms)

    def encode_text(self, texts: Sequence[str]) -> SpeechFeatures:
        """Text-encoder features of a batch of transcripts (with gradients)."""
        if self.text_encoder is None:
            raise UserError("this model was trained on speech, not text: give it audio "
                            "(--audio) instead of transcripts")
        encoder: TextEncoder = self.text_encoder  # type: ignore[assignment]
        return encoder.encode_text(texts)

    def condition(self, features: SpeechFeatures) -> Condition:
        """Bottleneck the features into the generator's condition."""
        result: Condition = self.bottleneck(features)
        return result

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
        :mod:`voxcore.training.latent_cache`).
        """
        if texts is not None:
            features = self.encode_text(texts)
        if features is None:
            raise ValueError("VoxModel.forward needs speech features or texts")
        condition = self.condition(features)
        if encoded:
            loss: torch.Tensor = self.generator.training_loss_from_encoded(  # type: ignore[operator]
                images, condition, drop=drop, generator=generator)
            return loss
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
        raise TypeError(f"the {what} must be a torch.nn.Module, got {type(part).__name__}")
    return part


#: Each part's random initialisation is drawn from its own stream of the recipe's seed.
_PART_STREAMS = {"encoder": 1, "generator": 2, "bottleneck": 3}


@contextmanager
def _seeded(seed: int, part: str) -> Iterator[None]:
    """Build ``part`` with torch's generator set to the part's own stream of ``seed``; the
    generator's state is restored afterwards."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed((seed * 1_000_003 + _PART_STREAMS[part]) % 2**63)
        yield


def build_model(resolved: ResolvedRecipe) -> VoxModel:
    """Build every part of a validated recipe, filling in the bottleneck's widths.

    Each part draws its initial weights from its own random stream of ``recipe.seed``, so a
    part's initialisation does not depend on the others: two recipes that differ only in the
    encoder start from the same generator weights (a comparison of encoders is not also a
    comparison of random initialisations).
    """
    seed = resolved.recipe.seed
    with _seeded(seed, "encoder"):
        encoder = resolved.encoder.build()
    with _seeded(seed, "generator"):
        generator = resolved.generator.build()
    if not isinstance(generator, ImageGenerator):
        raise UserError(f"generator {resolved.generator.entry.name!r} does not provide the "
                        "ImageGenerator interface (voxcore/interfaces.py)")
    if not isinstance(encoder, SpeechEncoder | TextEncoder):
        raise UserError(f"encoder {resolved.encoder.entry.name!r} provides neither the "
                        "SpeechEncoder nor the TextEncoder interface (voxcore/interfaces.py)")
    wanted = {
        "input_dim": (int(encoder.output_dim), "the encoder's output_dim"),
        "output_dim": (int(generator.cross_attention_dim), "the generator's cross_attention_dim"),
        "pooled_dim": (generator.pooled_dim, "the generator's pooled_dim"),
    }
    config = resolved.bottleneck.config.model_dump()
    problems = []
    for key, (value, source) in wanted.items():
        given = config.get(key)
        if given is None:
            config[key] = value
        elif given != value:
            problems.append(f"bottleneck.config.{key} is {given} but {source} is {value}; "
                            f"remove the key to have it filled in")
    if problems:
        raise UserError("the recipe's parts do not fit together:\n  - " + "\n  - ".join(problems))
    with _seeded(seed, "bottleneck"):
        bottleneck = resolved.bottleneck.entry.build(config)
    return VoxModel(encoder, bottleneck, generator)
