"""CTranslate2 Whisper folders (the format of faster-whisper) as a source of Whisper weights.

A CTranslate2 model folder holds ``model.bin`` (every weight, in CTranslate2's own binary
format), ``config.json`` (suppressed tokens, language ids, alignment heads) and the tokenizer
(``tokenizer.json``, or ``vocabulary.txt``). :func:`read_model_bin` reads the binary format
itself (no ctranslate2 needed):

    u32 binary version | string spec name | u32 spec revision | u32 variable count
    per variable: string name | u8 rank | u32 dims[rank] | u8 dtype | u32 bytes | data
    u32 alias count | per alias: string alias | string variable name

(strings are a u16 length counting a closing NUL, then UTF-8; little endian). The variables
are mapped onto transformers' ``WhisperForConditionalGeneration`` (the fused query/key/value
projections split, the key projection's zero bias dropped, layer norms' gamma/beta as weight/
bias, the output projection tied to the token embeddings) and written once, with a config,
generation config, feature extractor and tokenizer built from the folder's files, into a
transformers folder in voxcore's cache keyed by the source files (:func:`converted_folder`).
From then on it loads like any Whisper checkpoint folder.
"""

from __future__ import annotations

import json
import mmap
import os
import shutil
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from voxcore.plugin_api import UserError, folder_fingerprint, save_tensors, write_text_atomic

__all__ = ["BINARY_VERSION", "Ct2FormatError", "Ct2Model", "architecture_of",
           "converted_folder", "dequantized", "is_ct2_folder", "read_model_bin",
           "whisper_state_dict"]

MODEL_FILE = "model.bin"
#: The binary version this reader knows (what ctranslate2 >= 3.0 writes).
BINARY_VERSION = 6
#: CTranslate2's DataType enum: id -> (torch dtype, bytes per element).
_DTYPES: dict[int, tuple[torch.dtype, int]] = {
    0: (torch.float32, 4), 1: (torch.int8, 1), 2: (torch.int16, 2), 3: (torch.int32, 4),
    4: (torch.float16, 2), 5: (torch.bfloat16, 2)}
_FORMAT = 1  # of the converted folder (bumped when the conversion changes)
_SOURCE_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt",
                 "vocabulary.json", "preprocessor_config.json")


class Ct2FormatError(UserError, ValueError):
    """A file that is not a usable CTranslate2 Whisper model; the message says what is wrong."""


@dataclass
class Ct2Model:
    """The variables of a ``model.bin`` (aliases resolved), its spec name and revision."""

    spec: str
    revision: int
    variables: dict[str, torch.Tensor] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> torch.Tensor:
        """The variable ``name`` (following an alias)."""
        name = self.aliases.get(name, name)
        if name not in self.variables:
            raise Ct2FormatError(f"the CTranslate2 model has no variable {name!r}")
        return self.variables[name]

    def scalar(self, name: str) -> int:
        """An integer scalar variable (``encoder/num_heads``)."""
        return int(self.get(name).item())


class _Reader:
    def __init__(self, data: mmap.mmap | bytes, path: Path) -> None:
        self.data, self.path, self.pos = data, path, 0

    def take(self, count: int, what: str) -> bytes:
        end = self._end(count, what)
        chunk = self.data[self.pos:end]
        self.pos = end
        return chunk

    def skip(self, count: int, what: str) -> None:
        self.pos = self._end(count, what)

    def _end(self, count: int, what: str) -> int:
        end = self.pos + count
        if end > len(self.data):
            raise Ct2FormatError(f"{self.path} is truncated: {what} needs {count} bytes at "
                                 f"offset {self.pos}, but the file has {len(self.data)}; "
                                 "download or convert the model again")
        return end

    def number(self, fmt: str, what: str) -> int:
        value: int = struct.unpack("<" + fmt, self.take(struct.calcsize(fmt), what))[0]
        return value

    def string(self, what: str) -> str:
        length = self.number("H", what)
        raw = self.take(length, what)
        if not raw.endswith(b"\0"):
            raise Ct2FormatError(f"{self.path}: {what} at offset {self.pos - length} is not a "
                                 "CTranslate2 string; the file is damaged or not a model")
        return raw[:-1].decode("utf-8", errors="replace")


def read_model_bin(path: Path, *, values: bool = True) -> Ct2Model:
    """Read every variable of a CTranslate2 ``model.bin``; :class:`Ct2FormatError` when it is
    not one, is of another binary version, or is cut short. With ``values=False`` only the
    shapes are read (tensors on the meta device; scalars keep their values)."""
    if not path.is_file() or path.stat().st_size == 0:
        raise Ct2FormatError(f"{path} does not exist or is empty; a CTranslate2 model folder "
                             "needs its model.bin")
    with path.open("rb") as handle:
        data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        return _parse(_Reader(data, path), values)
    finally:
        data.close()


def _parse(reader: _Reader, values: bool) -> Ct2Model:
    version = reader.number("I", "the binary version")
    if version != BINARY_VERSION:
        raise Ct2FormatError(f"{reader.path} is CTranslate2 binary version {version}; this reader "
                             f"knows version {BINARY_VERSION} (ctranslate2 3.0 and later): "
                             "convert the model again with a recent ct2-transformers-converter")
    model = Ct2Model(reader.string("the spec name"), reader.number("I", "the spec revision"))
    count = reader.number("I", "the variable count")
    for _ in range(count):
        name = reader.string("a variable name")
        rank = reader.number("B", f"the rank of {name}")
        shape = [reader.number("I", f"the shape of {name}") for _ in range(rank)]
        type_id = reader.number("B", f"the dtype of {name}")
        if type_id not in _DTYPES:
            raise Ct2FormatError(f"{reader.path}: variable {name} has an unknown dtype id "
                                 f"{type_id}; the file is damaged or newer than this reader")
        dtype, width = _DTYPES[type_id]
        size = reader.number("I", f"the size of {name}")
        elements = 1
        for dim in shape:
            elements *= dim
        if size != elements * width:
            raise Ct2FormatError(f"{reader.path}: variable {name} of shape {shape} should hold "
                                 f"{elements * width} bytes, the file says {size}")
        if values or size <= 8:
            raw = bytearray(reader.take(size, f"the values of {name}"))
            tensor = torch.frombuffer(raw, dtype=dtype) if size else torch.empty(0, dtype=dtype)
            model.variables[name] = tensor.reshape(shape)
        else:
            reader.skip(size, f"the values of {name}")
            model.variables[name] = torch.empty(shape, dtype=dtype, device="meta")
    aliases = reader.number("I", "the alias count")
    for _ in range(aliases):
        alias = reader.string("an alias")
        model.aliases[alias] = reader.string(f"the target of alias {alias}")
    if reader.pos != len(reader.data):
        raise Ct2FormatError(f"{reader.path} has {len(reader.data) - reader.pos} bytes after its "
                             "last alias; it is not a CTranslate2 model file")
    return model


def dequantized(model: Ct2Model) -> Ct2Model:
    """``model`` with its quantized weights (``--quantization int8*`` or ``int16``: integers
    plus a ``<name>_scale``, per output row for int8, one number for int16) turned back into
    float32, ``value / scale``, and the scales dropped. Float models come back unchanged."""
    scales = {name for name in model.variables if name.endswith("_scale")}
    if not scales:
        return model
    variables = {name: value for name, value in model.variables.items() if name not in scales}
    for scale_name in scales:
        name = scale_name[: -len("_scale")]
        if name not in variables:
            raise Ct2FormatError(f"the CTranslate2 model has {scale_name} but no {name}; the "
                                 "file is damaged")
        value, scale = variables[name], model.variables[scale_name]
        if value.device.type == "meta":
            variables[name] = torch.empty(value.shape, dtype=torch.float32, device="meta")
            continue
        if scale.numel() not in (1, value.shape[0]):
            raise Ct2FormatError(f"{scale_name} has {scale.numel()} values for {name} of shape "
                                 f"{list(value.shape)}; the file is damaged")
        scale = scale.float().reshape(-1, *([1] * (value.dim() - 1)))
        variables[name] = value.float() / scale
    return Ct2Model(model.spec, model.revision, variables, dict(model.aliases))


def is_ct2_folder(folder: Path) -> bool:
    """Whether ``folder`` looks like a CTranslate2 model (a ``model.bin``, no transformers
    ``model.safetensors``)."""
    return (folder / MODEL_FILE).is_file() and not (folder / "model.safetensors").is_file()


# -- Whisper ---------------------------------------------------------------------------------

def _linear(model: Ct2Model, scope: str) -> tuple[torch.Tensor, torch.Tensor | None]:
    weight = model.get(f"{scope}/weight")
    bias_name = model.aliases.get(f"{scope}/bias", f"{scope}/bias")
    return weight, model.variables.get(bias_name)


def _split(weight: torch.Tensor, bias: torch.Tensor | None, parts: int
           ) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
    weights = weight.chunk(parts, dim=0)
    biases = bias.chunk(parts, dim=0) if bias is not None else [None] * parts
    yield from zip(weights, biases, strict=True)


def _attention(model: Ct2Model, scope: str, target: str, state: dict[str, torch.Tensor],
               cross: bool) -> None:
    if cross:
        q, q_bias = _linear(model, f"{scope}/linear_0")
        (k, k_bias), (v, v_bias) = _split(*_linear(model, f"{scope}/linear_1"), 2)
        out = _linear(model, f"{scope}/linear_2")
    else:
        (q, q_bias), (k, k_bias), (v, v_bias) = _split(*_linear(model, f"{scope}/linear_0"), 3)
        out = _linear(model, f"{scope}/linear_1")
    if k_bias is not None and k_bias.device.type != "meta" and bool(
            k_bias.float().abs().max() > 0):
        raise Ct2FormatError(f"{scope}: Whisper's key projection has no bias, but this model's "
                             "is not zero; it is not a Whisper model")
    for name, (weight, bias) in (("q_proj", (q, q_bias)), ("k_proj", (k, None)),
                                 ("v_proj", (v, v_bias)), ("out_proj", out)):
        state[f"{target}.{name}.weight"] = weight
        if bias is not None:
            state[f"{target}.{name}.bias"] = bias


def _norm(model: Ct2Model, scope: str, target: str, state: dict[str, torch.Tensor]) -> None:
    state[f"{target}.weight"] = model.get(f"{scope}/gamma")
    state[f"{target}.bias"] = model.get(f"{scope}/beta")


def _ffn(model: Ct2Model, scope: str, target: str, state: dict[str, torch.Tensor]) -> None:
    for index, name in ((0, "fc1"), (1, "fc2")):
        weight, bias = _linear(model, f"{scope}/linear_{index}")
        state[f"{target}.{name}.weight"] = weight
        if bias is not None:
            state[f"{target}.{name}.bias"] = bias
    _norm(model, f"{scope}/layer_norm", f"{target}.final_layer_norm", state)


def _layers(model: Ct2Model, side: str) -> int:
    count = 0
    while f"{side}/layer_{count}/ffn/linear_0/weight" in model.variables:
        count += 1
    return count


def whisper_state_dict(model: Ct2Model) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """The ``WhisperConfig`` keywords (architecture only) and the state dict of
    ``WhisperForConditionalGeneration`` of a CTranslate2 Whisper model."""
    if model.spec != "WhisperSpec":
        raise Ct2FormatError(f"the CTranslate2 model is a {model.spec!r}, not a Whisper model "
                             "(WhisperSpec); point encoder.config.model at a Whisper model")
    model = dequantized(model)
    state: dict[str, torch.Tensor] = {}
    for index in (1, 2):
        weight, bias = _linear(model, f"encoder/conv{index}")
        state[f"model.encoder.conv{index}.weight"] = weight
        if bias is not None:
            state[f"model.encoder.conv{index}.bias"] = bias
    state["model.encoder.embed_positions.weight"] = model.get("encoder/position_encodings/"
                                                              "encodings")
    encoder_layers, decoder_layers = _layers(model, "encoder"), _layers(model, "decoder")
    for i in range(encoder_layers):
        scope, target = f"encoder/layer_{i}", f"model.encoder.layers.{i}"
        _attention(model, f"{scope}/self_attention", f"{target}.self_attn", state, cross=False)
        _norm(model, f"{scope}/self_attention/layer_norm", f"{target}.self_attn_layer_norm",
              state)
        _ffn(model, f"{scope}/ffn", target, state)
    _norm(model, "encoder/layer_norm", "model.encoder.layer_norm", state)
    state["model.decoder.embed_tokens.weight"] = model.get("decoder/embeddings/weight")
    state["model.decoder.embed_positions.weight"] = model.get("decoder/position_encodings/"
                                                              "encodings")
    for i in range(decoder_layers):
        scope, target = f"decoder/layer_{i}", f"model.decoder.layers.{i}"
        _attention(model, f"{scope}/self_attention", f"{target}.self_attn", state, cross=False)
        _norm(model, f"{scope}/self_attention/layer_norm", f"{target}.self_attn_layer_norm",
              state)
        _attention(model, f"{scope}/attention", f"{target}.encoder_attn", state, cross=True)
        _norm(model, f"{scope}/attention/layer_norm", f"{target}.encoder_attn_layer_norm",
              state)
        _ffn(model, f"{scope}/ffn", target, state)
    _norm(model, "decoder/layer_norm", "model.decoder.layer_norm", state)
    projection = model.aliases.get("decoder/projection/weight", "decoder/projection/weight")
    embeddings = model.get("decoder/embeddings/weight")
    if projection != "decoder/embeddings/weight" and projection in model.variables and (
            embeddings.device.type != "meta") and not torch.equal(
            model.variables[projection], embeddings):
        raise Ct2FormatError("the model's output projection is not tied to its token "
                             "embeddings, as Whisper's is")
    conv1 = model.get("encoder/conv1/weight")
    architecture = {
        "d_model": int(conv1.shape[0]),
        "num_mel_bins": int(conv1.shape[1]),
        "encoder_layers": encoder_layers,
        "decoder_layers": decoder_layers,
        "encoder_attention_heads": model.scalar("encoder/num_heads"),
        "decoder_attention_heads": model.scalar("decoder/num_heads"),
        "encoder_ffn_dim": int(model.get("encoder/layer_0/ffn/linear_0/weight").shape[0]),
        "decoder_ffn_dim": int(model.get("decoder/layer_0/ffn/linear_0/weight").shape[0]),
        "max_source_positions": int(state["model.encoder.embed_positions.weight"].shape[0]),
        "max_target_positions": int(state["model.decoder.embed_positions.weight"].shape[0]),
        "vocab_size": int(embeddings.shape[0]),
    }
    return architecture, state


def architecture_of(folder: Path) -> dict[str, Any]:
    """The ``WhisperConfig`` keywords of a CTranslate2 Whisper folder, from the shapes in its
    ``model.bin`` (no weight values are read)."""
    architecture, _ = whisper_state_dict(read_model_bin(folder / MODEL_FILE, values=False))
    return architecture


# -- the tokenizer and generation settings ---------------------------------------------------

def _tokenizer_json(folder: Path) -> dict[str, Any]:
    file = folder / "tokenizer.json"
    if not file.is_file():
        raise Ct2FormatError(f"{folder} has no tokenizer.json; a CTranslate2 Whisper folder needs "
                             "its tokenizer (faster-whisper folders have one; copy it from the "
                             "original checkpoint otherwise)")
    try:
        loaded: dict[str, Any] = json.loads(file.read_text(encoding="utf-8"))
        model = loaded["model"]
        if model.get("type") != "BPE" or "vocab" not in model or "merges" not in model:
            raise KeyError("model.vocab / model.merges of a BPE tokenizer")
    except (OSError, ValueError, KeyError) as exc:
        raise Ct2FormatError(f"{file} is not a Whisper (BPE) tokenizer file ({exc})") from None
    return loaded


def _special_ids(tokenizer: dict[str, Any]) -> dict[str, int]:
    return {token["content"]: int(token["id"]) for token in tokenizer.get("added_tokens", [])}


def _write_tokenizer(tokenizer: dict[str, Any], out: Path) -> None:
    """The slow tokenizer's files (``vocab.json``, ``merges.txt``, ``added_tokens.json``) and
    the fast one's (``tokenizer.json``), with the settings Whisper's tokenizer has."""
    model = tokenizer["model"]
    merges = [merge if isinstance(merge, str) else " ".join(merge) for merge in model["merges"]]
    write_text_atomic(out / "vocab.json", json.dumps(model["vocab"], ensure_ascii=False))
    write_text_atomic(out / "merges.txt", "#version: 0.2\n" + "\n".join(merges) + "\n")
    special = _special_ids(tokenizer)
    write_text_atomic(out / "added_tokens.json", json.dumps(
        {token: index for token, index in special.items() if index >= len(model["vocab"])},
        ensure_ascii=False))
    write_text_atomic(out / "tokenizer.json", json.dumps(tokenizer, ensure_ascii=False))
    write_text_atomic(out / "special_tokens_map.json", json.dumps({
        "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>",
        "unk_token": "<|endoftext|>", "pad_token": "<|endoftext|>"}))
    write_text_atomic(out / "tokenizer_config.json", json.dumps({
        "tokenizer_class": "WhisperTokenizer", "errors": "replace", "add_prefix_space": False,
        "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>",
        "unk_token": "<|endoftext|>", "pad_token": "<|endoftext|>",
        "model_max_length": 1024}))


def _generation_config(settings: dict[str, Any], special: dict[str, int],
                       vocab_size: int, max_length: int) -> dict[str, Any]:
    """What ``generate`` needs, from the folder's ``config.json`` and the special tokens."""
    def token(name: str) -> int:
        if name not in special:
            raise Ct2FormatError(f"the tokenizer has no {name} token; it is not Whisper's")
        return special[name]

    eos, start = token("<|endoftext|>"), token("<|startoftranscript|>")
    no_timestamps = token("<|notimestamps|>")
    # openai/whisper's rule: the multilingual vocabulary has 51865 tokens or more.
    multilingual = vocab_size >= 51865
    generation: dict[str, Any] = {
        "bos_token_id": start, "decoder_start_token_id": start, "eos_token_id": eos,
        "pad_token_id": eos, "no_timestamps_token_id": no_timestamps, "max_length": max_length,
        "suppress_tokens": list(settings.get("suppress_ids", [])),
        "begin_suppress_tokens": list(settings.get("suppress_ids_begin", [])),
        "is_multilingual": multilingual, "return_timestamps": False,
        "max_initial_timestamp_index": 50,
    }
    if settings.get("alignment_heads"):
        generation["alignment_heads"] = [list(pair) for pair in settings["alignment_heads"]]
    if multilingual:
        by_id = {index: name for name, index in special.items()}
        generation["lang_to_id"] = {by_id[index]: index for index in settings.get("lang_ids", [])
                                    if index in by_id}
        generation["task_to_id"] = {"transcribe": token("<|transcribe|>"),
                                    "translate": token("<|translate|>")}
    else:
        generation["forced_decoder_ids"] = [[1, no_timestamps]]
    return generation


def convert(folder: Path, out: Path) -> None:
    """Write the transformers Whisper folder of the CTranslate2 folder ``folder`` into ``out``
    (an empty folder): every check runs before anything is written."""
    from transformers import WhisperConfig, WhisperFeatureExtractor

    tokenizer = _tokenizer_json(folder)
    settings: dict[str, Any] = {}
    if (folder / "config.json").is_file():
        try:
            settings = json.loads((folder / "config.json").read_text())
        except (OSError, ValueError) as exc:
            raise Ct2FormatError(f"{folder / 'config.json'} is unreadable ({exc})") from None
    model = read_model_bin(folder / MODEL_FILE)
    architecture, state = whisper_state_dict(model)
    special = _special_ids(tokenizer)
    generation = _generation_config(settings, special, architecture["vocab_size"],
                                    architecture["max_target_positions"])
    config = WhisperConfig(**architecture, **{key: generation[key] for key in (
        "bos_token_id", "eos_token_id", "pad_token_id", "decoder_start_token_id")},
        suppress_tokens=None, begin_suppress_tokens=None, tie_word_embeddings=True)
    config.architectures = ["WhisperForConditionalGeneration"]
    config.save_pretrained(out)
    write_text_atomic(out / "generation_config.json", json.dumps(generation, indent=2) + "\n")
    if (folder / "preprocessor_config.json").is_file():
        shutil.copy(folder / "preprocessor_config.json", out / "preprocessor_config.json")
    else:
        WhisperFeatureExtractor(feature_size=architecture["num_mel_bins"]).save_pretrained(out)
    _write_tokenizer(tokenizer, out)
    # Float32 on disk: the same values as the source's float16, and no precision decision
    # is baked in (the component's dtype setting picks what it runs in).
    save_tensors(out / "model.safetensors", {k: v.float() if v.is_floating_point() else v
                                             for k, v in state.items()},
                 metadata={"format": "pt"})
    write_text_atomic(out / "voxcore-converted.json", json.dumps(
        {"format": _FORMAT, "from": str(folder), "spec": model.spec,
         "revision": model.revision}, indent=2) + "\n")


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "voxcore" / "converted" / "whisper-ct2"


def converted_folder(folder: Path, cache_root: Path | None = None) -> Path:
    """The transformers folder converted from the CTranslate2 Whisper folder ``folder``,
    converting it the first time (into a temporary folder renamed into place); it is keyed by
    the source files (names, sizes, modification times), so replaced weights convert anew."""
    key = folder_fingerprint(folder, _SOURCE_FILES)
    root = cache_root or _cache_root()
    target = root / f"{key}-v{_FORMAT}"
    if (target / "voxcore-converted.json").is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=root))
    try:
        convert(folder, scratch)
        try:
            scratch.rename(target)
        except OSError:
            if not (target / "voxcore-converted.json").is_file():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target
