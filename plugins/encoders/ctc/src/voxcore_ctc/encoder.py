"""The ``ctc-words`` speech encoder: what a frozen word recogniser heard, and how it sounded."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from voxcore_mel import MelEncoder

from voxcore.plugin_api import (
    CannotCheck,
    PreparationMissing,
    SpeechFeatures,
    UserError,
    Waveform,
    checking,
    zero_padding,
)
from voxcore_ctc import CtcWordsConfig
from voxcore_ctc.recognizer import (
    WEIGHTS_FILE,
    RecognizerSpec,
    WordRecognizer,
    greedy_words,
    load_recognizer,
    vocabulary_of,
)

__all__ = ["CtcWordsEncoder"]


class CtcWordsEncoder(torch.nn.Module):
    """One token per recognised word, then (optionally) the utterance's prosody frames.

    The recogniser (trained with ``voxcore train-recognizer``, or prepared from ``train_data``
    by ``voxcore prepare`` / ``voxcore train``, see :mod:`voxcore_ctc.preparation`) decodes
    each utterance
    greedily into words of its vocabulary. Word ``i`` becomes a one-hot token over the
    vocabulary; with ``prosody_stride`` > 0 the utterance's log-mel frames, averaged over
    ``prosody_stride`` frames, follow the words. Features are ``[B, words + frames,
    vocabulary + n_mels]``: a word token is zero in its mel channels and a frame zero in its
    word channels, so a Linear in the bottleneck gives each word its own learned embedding
    and each frame a projection of its spectrum. An utterance where nothing was recognised
    and no prosody is asked for keeps one all-zero token.

    Nothing here trains: the recogniser is frozen (held outside the module tree, so it is
    never saved in a run's checkpoints) and the features can be cached, keyed by
    ``weights_fingerprint`` (a hash of the recogniser's files).
    """

    def __init__(self, config: CtcWordsConfig, prepared: Path | None = None) -> None:
        super().__init__()
        self.config = config
        folder = Path(config.recognizer).expanduser() if config.recognizer else prepared
        if folder is None and checking():
            recognizer = _recognizer_for_check(config)
        elif folder is None:
            raise PreparationMissing("encoder 'ctc-words' has no recogniser: name one with "
                                     "encoder.config.recognizer, or prepare it from "
                                     "encoder.config.train_data with 'voxcore prepare RECIPE'")
        else:
            recognizer = load_recognizer(folder, source="encoder 'ctc-words' (encoder.config."
                                                        "recognizer)")
        for parameter in recognizer.parameters():
            parameter.requires_grad_(False)
        self._recognizer = [recognizer]
        self.mel = MelEncoder(recognizer.spec.mel)
        self.vocabulary: list[str] = list(recognizer.spec.vocabulary)
        self.sample_rate: int = self.mel.sample_rate
        n_mels = recognizer.spec.mel.n_mels if config.prosody_stride else 0
        self.output_dim: int = len(self.vocabulary) + n_mels
        self.folder = folder
        self.weights_fingerprint: str = (_content_hash(folder, recognizer.spec)
                                         if folder is not None else "")

    @property
    def recognizer(self) -> torch.nn.Module:
        """The frozen word recogniser."""
        return self._recognizer[0]

    def _apply(self, fn: Callable[[torch.Tensor], torch.Tensor],
               recurse: bool = True) -> CtcWordsEncoder:
        # Move the recogniser along with the module (it is outside the module tree).
        self._recognizer[0]._apply(fn, recurse)  # type: ignore[no-untyped-call]
        super()._apply(fn, recurse)  # type: ignore[no-untyped-call]
        return self

    @torch.no_grad()
    def encode(self, waveforms: Sequence[Waveform]) -> SpeechFeatures:
        """Encode utterances of any lengths, rates and channel counts."""
        mel = self.mel.encode(waveforms)
        logits, mask = self.recognizer(mel.features, mel.mask)
        heard = greedy_words(logits, mask)
        vocabulary = len(self.vocabulary)
        rows: list[torch.Tensor] = []
        for index, words in enumerate(heard):
            tokens = F.one_hot(torch.tensor(words, dtype=torch.long), vocabulary + 1)[:, 1:]
            tokens = tokens.to(device=mel.features.device, dtype=mel.features.dtype)
            if self.config.prosody_stride:
                frames = self._prosody(mel.features[index], mel.mask[index])
                tokens = torch.cat([F.pad(tokens, (0, frames.shape[1])),
                                    F.pad(frames, (vocabulary, 0))])
            if tokens.shape[0] == 0:
                tokens = mel.features.new_zeros(1, self.output_dim)
            rows.append(tokens)
        longest = max(row.shape[0] for row in rows)
        features = mel.features.new_zeros(len(rows), longest, self.output_dim)
        valid = torch.zeros(len(rows), longest, dtype=torch.bool, device=features.device)
        for index, row in enumerate(rows):
            features[index, : row.shape[0]] = row
            valid[index, : row.shape[0]] = True
        rate = self.mel.frame_rate / max(self.config.prosody_stride, 1)
        return SpeechFeatures(features=zero_padding(features, valid), mask=valid,
                              frame_rate=rate)

    def _prosody(self, frames: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The valid mel frames of one utterance averaged over ``prosody_stride`` frames."""
        valid = frames[mask].T.unsqueeze(0)
        stride = self.config.prosody_stride
        pooled = F.avg_pool1d(valid, stride, stride, ceil_mode=True)
        return pooled.squeeze(0).T

    def extra_repr(self) -> str:
        return (f"recognizer={self.folder}, vocabulary={len(self.vocabulary)}, "
                f"prosody_stride={self.config.prosody_stride}")


def _recognizer_for_check(config: CtcWordsConfig) -> WordRecognizer:
    """The recogniser ``train_data`` would give, on the meta device, for ``voxcore recipe
    check``: its vocabulary is the training transcripts' words (no audio is read)."""
    from voxcore_ctc.preparation import training_samples

    try:
        _, samples = training_samples(config)
    except UserError as exc:
        raise CannotCheck(f"its vocabulary is the words of encoder.config.train_data, which "
                          f"cannot be read here ({exc})") from None
    training = config.training
    spec = RecognizerSpec(vocabulary=vocabulary_of([s.transcript or "" for s in samples]),
                          mel=training.mel, width=training.width,
                          num_layers=training.num_layers, num_heads=training.num_heads)
    return WordRecognizer(spec)


def _content_hash(folder: Path, spec: RecognizerSpec) -> str:
    """A hash of what decides the features: the weights and the spec's vocabulary, front end
    and sizes (not where it was trained from or its measured figures)."""
    digest = hashlib.sha256((folder / WEIGHTS_FILE).read_bytes())
    digest.update(spec.model_dump_json(exclude={"trained_on", "heldout"}).encode())
    return digest.hexdigest()[:16]
