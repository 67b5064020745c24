"""The ``asr`` encoder: the cascade baseline, Whisper transcription then a text encoder.

:class:`AsrEncoder` is a :class:`~voxcore.interfaces.TextEncoder` (``encode_text`` and
``output_dim`` are the inner text encoder's) with a :meth:`~AsrEncoder.transcribe` method. The
core transcribes the audio with it (caching transcripts under
:attr:`~AsrEncoder.transcriber_fingerprint`) and feeds the transcripts to ``encode_text``.

Only the inner text encoder is part of the module tree: its parameters train (or stay frozen,
for ``clip-text``) and are saved; Whisper is held outside the tree, so neither its parameters
nor its buffers ever enter ``parameters()`` or ``state_dict()``. It still follows the module
through ``.to(device)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from pydantic import ValidationError
from torch import nn

from voxcore.plugin_api import (
    HasWeightsFingerprint,
    PretrainedNotFoundError,
    SpeechFeatures,
    TextEncoder,
    UserError,
    Waveform,
    checking,
    get_registry,
)
from voxcore_asr import AsrConfig
from voxcore_asr.transcriber import WhisperTranscriber, load_transcriber

__all__ = ["AsrEncoder", "build_asr_encoder", "build_text_encoder"]


class AsrEncoder(nn.Module):
    """Whisper transcripts -> the inner text encoder's features.

    ``text_encoder`` (a submodule) encodes the text; ``transcriber`` (not a submodule) turns
    speech into text. ``sample_rate`` is the rate Whisper works at (other rates are resampled).
    """

    def __init__(self, config: AsrConfig, transcriber: WhisperTranscriber,
                 text_encoder: nn.Module) -> None:
        super().__init__()
        if not isinstance(text_encoder, TextEncoder):
            raise TypeError(f"the asr cascade needs a text encoder (output_dim, encode_text), "
                            f"got {type(text_encoder).__name__}")
        self.config = config
        self.text_encoder = text_encoder
        # Bypass nn.Module.__setattr__: a plain attribute, outside parameters() and state_dict().
        object.__setattr__(self, "_transcriber", transcriber)
        self.output_dim: int = int(text_encoder.output_dim)
        self.sample_rate: int = transcriber.sample_rate
        #: Hash of Whisper's weights and the generation settings: cached transcripts key on it.
        self.transcriber_fingerprint: str = transcriber.fingerprint
        #: Fingerprint of the inner text encoder's pretrained weights ('' when it has none).
        self.weights_fingerprint: str = (str(text_encoder.weights_fingerprint or "")
                                         if isinstance(text_encoder, HasWeightsFingerprint)
                                         else "")

    @property
    def transcriber(self) -> WhisperTranscriber:
        """The Whisper transcriber (kept outside the module tree)."""
        transcriber: WhisperTranscriber = self.__dict__["_transcriber"]
        return transcriber

    def transcribe(self, waveforms: Sequence[Waveform]) -> list[str]:
        """One transcript per utterance (up to 30 s each, any rate and channel count)."""
        return self.transcriber.transcribe(waveforms)

    def encode_text(self, texts: Sequence[str]) -> SpeechFeatures:
        """The inner text encoder's features of a batch of transcripts."""
        encoder: TextEncoder = self.text_encoder
        return encoder.encode_text(texts)

    def _apply(self, fn: Callable[[torch.Tensor], torch.Tensor], recurse: bool = True
               ) -> AsrEncoder:
        """Like ``Module._apply`` (what ``.to()``, ``.cuda()``... call), and moves Whisper too.

        Whisper follows the device only: its dtype stays ``config.dtype`` whatever a
        ``.to(dtype)`` or ``.half()`` does to the text encoder.
        """
        super()._apply(fn, recurse)  # type: ignore[no-untyped-call]
        # A probe on Whisper's current device: '.half()' keeps it there, '.to(cuda)' moves it.
        probe = fn(torch.empty(0, device=self.transcriber.device))
        self.transcriber.to(probe.device)
        return self

    def extra_repr(self) -> str:
        return (f"whisper={self.config.model!r}, language={self.transcriber.language!r}, "
                f"num_beams={self.config.num_beams}, output_dim={self.output_dim}")


def build_text_encoder(config: AsrConfig) -> nn.Module:
    """The inner text encoder ``config.text`` names, built through the encoder registry."""
    entry = get_registry("encoder").get(config.text.name)
    try:
        settings = entry.validate_config(config.text.config)
    except ValidationError as exc:
        raise UserError(f"encoder.config.text.config is not a valid config of text encoder "
                        f"{config.text.name!r}:\n{exc}") from exc
    try:
        encoder = entry.resolve_factory()(settings)
    except PretrainedNotFoundError as exc:
        raise PretrainedNotFoundError(str(exc).replace(
            "encoder.config.", "encoder.config.text.config.")) from exc
    if not (isinstance(encoder, nn.Module) and isinstance(encoder, TextEncoder)):
        raise UserError(f"encoder.config.text names {config.text.name!r}, which is not a text "
                        "encoder (a torch.nn.Module with output_dim and encode_text); name one "
                        "such as 'clip-text' or 'text'")
    return encoder


def build_asr_encoder(config: AsrConfig) -> AsrEncoder:
    """Build the ``asr`` encoder of a recipe: the text encoder first, then Whisper (for
    ``voxcore recipe check``, which only assembles the model, Whisper is not loaded)."""
    text_encoder = build_text_encoder(config)
    transcriber: Any = _NotLoadedForCheck() if checking() else load_transcriber(config)
    return AsrEncoder(config, transcriber, text_encoder)


class _NotLoadedForCheck:
    """Where Whisper would be while a recipe is only assembled to check it: the cascade's
    condition comes from its text encoder, which is checked; nothing is transcribed."""

    sample_rate = 16000
    fingerprint = ""
    device = torch.device("meta")

    def transcribe(self, waveforms: Sequence[Waveform]) -> list[str]:
        raise UserError("this asr encoder was assembled for a recipe check; Whisper is not "
                        "loaded")

    def to(self, device: torch.device) -> None:
        """Nothing to move."""
