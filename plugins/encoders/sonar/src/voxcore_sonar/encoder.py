"""The ``sonar`` speech encoder: SONAR's per-frame states, before its attention pooler.

Preprocessing is SONAR's own (``SpeechToEmbeddingModelPipeline``): 16 kHz audio scaled to
16-bit range, 80-bin log-mel filterbanks from fairseq2, standardized per utterance. The
w2v-BERT frontend stacks two filterbank frames, so features come at 50 frames per second,
1024 wide. The forward pass is the model's own up to (and including) its final layer norm;
the pooler that turns frames into one sentence embedding is dropped, as in the paper.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

from voxcore_sonar.native import ensure_libsndfile

ensure_libsndfile()

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from fairseq2.data.audio import WaveformToFbankConverter  # noqa: E402
from fairseq2.nn import BatchLayout  # noqa: E402
from sonar.models.sonar_speech import (  # noqa: E402
    SonarSpeechEncoderConfig,
    SonarSpeechEncoderFactory,
    SonarSpeechEncoderModel,
    get_sonar_speech_encoder_hub,
)

from voxcore.plugin_api import (  # noqa: E402
    PretrainedNotFoundError,
    SpeechFeatures,
    UserError,
    Waveform,
    checking,
    folder_fingerprint,
    lengths_to_mask,
    to_mono_batch,
)
from voxcore_sonar import SonarEncoderConfig  # noqa: E402

__all__ = ["SonarSpeechEncoder", "load_sonar_encoder", "encoder_from_architecture",
           "arch_config"]

_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
#: Filterbank frames per second (10 ms shift) before the frontend stacks them.
FBANK_RATE = 100.0
SAMPLE_RATE = 16000


class SonarSpeechEncoder(torch.nn.Module):
    """SONAR speech encoder frames ``[B, N, 1024]`` at 50 frames per second, pooler removed.

    ``model`` is a sonar-space ``SonarSpeechEncoderModel``; its pooler is deleted here, so the
    module holds (and the state dict lists) only what produces the frames.
    """

    def __init__(self, config: SonarEncoderConfig, model: SonarSpeechEncoderModel,
                 fingerprint: str = "") -> None:
        super().__init__()
        self.config = config
        del model.encoder_pooler  # the paper's "we remove its last aggregation layer"
        self.model = model.eval().requires_grad_(False).to(_DTYPES[config.dtype])
        self.sample_rate: int = SAMPLE_RATE
        self.output_dim: int = int(model.encoder.layers[0].self_attn_layer_norm.normalized_shape[0])
        stride = int(getattr(model.encoder_frontend, "fbank_stride", 2) or 2)
        self.frame_rate: float = FBANK_RATE / stride
        self.stride = stride
        #: Changes when the weights behind ``config.model`` change (used by feature caches).
        self.weights_fingerprint = fingerprint
        self._fbank = WaveformToFbankConverter(num_mel_bins=80, waveform_scale=2**15,
                                               channel_last=True, standardize=True)

    @property
    def device(self) -> torch.device:
        weight: torch.Tensor = next(self.model.parameters())
        return weight.device

    def encode(self, waveforms: Sequence[Waveform]) -> SpeechFeatures:
        """Encode utterances of any length, rate and channel count."""
        batch, lengths = to_mono_batch(waveforms, self.sample_rate)
        fbanks = [self._filterbank(row[:n].cpu()) for row, n in
                  zip(batch, lengths.tolist(), strict=True)]
        counts = [f.shape[0] for f in fbanks]
        width = max(counts) + max(counts) % self.stride  # SONAR's Collater pads to a multiple of 2
        seqs = torch.stack([F.pad(f, (0, 0, 0, width - f.shape[0])) for f in fbanks])
        seqs = seqs.to(device=self.device, dtype=next(self.model.parameters()).dtype)
        layout = BatchLayout.of(seqs, counts)
        frames, layout = self.model.encoder_frontend(seqs, layout)
        frames = self.model.encoder(frames, layout)
        if self.model.layer_norm is not None:
            frames = self.model.layer_norm(frames)
        valid = torch.tensor(list(layout.seq_lens), dtype=torch.int64)
        mask = lengths_to_mask(valid, frames.shape[1]).to(frames.device)
        features = frames.float().masked_fill(~mask.unsqueeze(-1), 0.0)
        return SpeechFeatures(features=features, mask=mask, frame_rate=self.frame_rate)

    def _filterbank(self, samples: torch.Tensor) -> torch.Tensor:
        # Filterbank frames take 25 ms windows every 10 ms and the frontend stacks `stride` of
        # them: shorter utterances are zero-padded to make one encoder frame.
        minimum = int(0.025 * self.sample_rate) + int(0.010 * self.sample_rate) * (self.stride - 1)
        if samples.shape[0] < minimum:
            samples = F.pad(samples, (0, minimum - samples.shape[0]))
        rate = float(self.sample_rate)
        out = self._fbank({"waveform": samples.unsqueeze(1), "sample_rate": rate})
        fbank: torch.Tensor = out["fbank"]
        return fbank.float()

    def extra_repr(self) -> str:
        return (f"model={self.config.model!r}, output_dim={self.output_dim}, "
                f"frame_rate={self.frame_rate:g}, dtype={self.config.dtype}")


def arch_config(arch: str = "english") -> SonarSpeechEncoderConfig:
    """The registered SONAR speech encoder architecture ``arch`` (``english``/``non_english``)."""
    config: SonarSpeechEncoderConfig = get_sonar_speech_encoder_hub().get_arch_config(arch)
    return config


def encoder_from_architecture(architecture: SonarSpeechEncoderConfig,
                              config: SonarEncoderConfig | None = None,
                              device: str | torch.device = "cpu") -> SonarSpeechEncoder:
    """An encoder with fresh weights, built with ``SonarSpeechEncoderFactory``.

    For tests (tiny configs) and for counting the published architecture's parameters and
    FLOPs on the ``meta`` device.
    """
    with torch.device(device):
        model = SonarSpeechEncoderFactory(architecture).create_model()
    return SonarSpeechEncoder(config if config is not None else SonarEncoderConfig(), model)


def load_sonar_encoder(config: SonarEncoderConfig) -> SonarSpeechEncoder:
    """Build the ``sonar`` encoder of a recipe: load the checkpoint ``config.model`` names
    (for ``voxcore recipe check``: only its architecture, on the meta device)."""
    if checking():
        return encoder_from_architecture(arch_config(config.arch), config, device="meta")
    name = config.model
    path = Path(name).expanduser()
    looks_like_file = path.suffix in {".pt", ".safetensors"} or "/" in name
    if looks_like_file:
        return SonarSpeechEncoder(config, _load_file(path, config.arch),
                                  folder_fingerprint(path.parent, [path.name]))
    return SonarSpeechEncoder(config, _load_asset(name), "")


def _load_file(path: Path, arch: str) -> SonarSpeechEncoderModel:
    if not path.is_file():
        raise PretrainedNotFoundError(
            f"SONAR checkpoint file {path} does not exist; set encoder.config.model to a SONAR "
            "speech encoder checkpoint (.pt in fairseq2's format, or .safetensors) or to an "
            "asset card name such as sonar_speech_encoder_eng")
    architecture = arch_config(arch)
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        # Built on the CPU, not 'meta': some of its buffers are computed, not saved.
        built: SonarSpeechEncoderModel = SonarSpeechEncoderFactory(architecture).create_model()
        state = load_file(str(path))
        try:
            built.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise UserError(f"SONAR checkpoint {path} does not fit the {arch!r} architecture "
                            f"(encoder.config.arch): {str(exc)[:300]}") from exc
        return built
    hub = get_sonar_speech_encoder_hub()
    try:
        model: SonarSpeechEncoderModel = hub.load_custom_model(
            path, architecture, device=torch.device("cpu"), restrict=True)
    except Exception as exc:  # fairseq2 raises several checkpoint error types
        raise UserError(f"SONAR checkpoint {path} could not be loaded as a {arch!r} speech "
                        f"encoder (encoder.config.arch): {type(exc).__name__}: "
                        f"{str(exc)[:300]}") from exc
    return model


def _load_asset(name: str) -> SonarSpeechEncoderModel:
    from fairseq2.assets import get_asset_store

    hub = get_sonar_speech_encoder_hub()
    card = get_asset_store().maybe_retrieve_card(name)
    if card is None:
        raise UserError(f"unknown SONAR asset {name!r} (encoder.config.model); known speech "
                        f"encoders: {', '.join(_known_speech_assets())}; or give a local "
                        "checkpoint file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model: SonarSpeechEncoderModel = hub.load_model(card, device=torch.device("cpu"))
    except Exception as exc:  # AssetDownloadError and friends; offline is the common case
        try:
            uri = str(card.field("checkpoint").as_uri())
        except Exception:  # only for the message
            uri = "the checkpoint its asset card names"
        raise PretrainedNotFoundError(
            f"SONAR asset {name!r} is not in the fairseq2 cache ({_cache_dir()}) and could not "
            f"be downloaded ({type(exc).__name__}: {str(exc)[:200]}); download {uri} on a "
            "machine with network access and set encoder.config.model to the downloaded file "
            "(and encoder.config.arch), or set FAIRSEQ2_CACHE_DIR to a cache that has it"
        ) from exc
    return model


def _known_speech_assets() -> list[str]:
    """Names of the speech encoder cards sonar-space ships (for did-you-mean messages)."""
    from importlib.resources import files

    import yaml

    text = files("sonar").joinpath("cards", "sonar_speech_encoder.yaml").read_text()
    names = (doc.get("name", "") for doc in yaml.safe_load_all(text) if isinstance(doc, dict))
    return sorted(n for n in names if n.startswith("sonar_speech_encoder_") and
                  n != "sonar_speech_encoder_base")


def _cache_dir() -> str:
    try:
        from fairseq2.assets.dirs import AssetDirectories
        from fairseq2.runtime.dependency import get_dependency_resolver

        return str(get_dependency_resolver().resolve(AssetDirectories).get_cache_dir())
    except Exception:  # the path is only for the message
        return "FAIRSEQ2_CACHE_DIR or ~/.cache/fairseq2/assets"

