"""Where the files of F5-TTS come from: local paths, the Hugging Face cache, or a download.

Every file is looked up locally first (a path, or the hub cache), so that a machine without
network fails at once instead of retrying each download; only files found nowhere are
downloaded, and only when ``HF_HUB_OFFLINE`` is not set. What cannot be found is reported in
one :class:`~voxcore.plugin_api.PretrainedNotFoundError` that names each missing file with the
command that downloads it and the config keys that point at a local copy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from voxcore.plugin_api import CannotCheck, ConfigProblem, PretrainedNotFoundError, hub_cache_dir
from voxcore_f5tts.config import F5TTSConfig

__all__ = ["HUB_PREFIX", "VOCODER_FILES", "F5Files", "HubFile", "package_vocab",
           "parse_hub_file", "resolve_files"]

HUB_PREFIX = "hf://"

#: What a Vocos folder must hold (``charactr/vocos-mel-24khz``'s layout).
VOCODER_FILES = ("config.yaml", "pytorch_model.bin")

_CHECKPOINT_SUFFIXES = (".safetensors", ".pt")
_RECIPE_KEY = "synthesizer.config"


@dataclass(frozen=True)
class HubFile:
    """One file of a Hugging Face repository."""

    repo: str
    filename: str

    @property
    def url(self) -> str:
        """The ``hf://`` form f5-tts's CLI and this plugin's config use."""
        return f"{HUB_PREFIX}{self.repo}/{self.filename}"


@dataclass(frozen=True)
class F5Files:
    """The local files a synthesizer reads: checkpoint, vocabulary and Vocos folder."""

    checkpoint: Path
    vocab: Path
    vocoder: Path


def parse_hub_file(spec: str) -> HubFile | None:
    """``hf://owner/repo/path/in/repo`` as a :class:`HubFile`; ``None`` for anything else."""
    if not spec.startswith(HUB_PREFIX):
        return None
    parts = spec[len(HUB_PREFIX):].split("/")
    if len(parts) < 3 or not all(parts):
        raise ConfigProblem("model", f"model {spec!r} is not a hub file: write "
                                     f"'{HUB_PREFIX}<owner>/<repo>/<path of the file in the "
                                     "repo>'")
    return HubFile("/".join(parts[:2]), "/".join(parts[2:]))


def package_vocab() -> Path:
    """The vocab.txt f5-tts ships (the Emilia pinyin vocabulary of the published models)."""
    return Path(str(resources.files("f5_tts").joinpath("infer/examples/vocab.txt")))


def resolve_files(config: F5TTSConfig, *, download: bool = True) -> F5Files:
    """The local files ``config`` names, downloading hub files missing from the cache when
    ``download`` is true and ``HF_HUB_OFFLINE`` is not set.

    Raises :class:`PretrainedNotFoundError` naming every missing file and how to get it
    (:class:`CannotCheck` instead when ``download`` is false, for ``voxcore recipe check``).
    """
    finder = _Finder(config, download=download and not _offline(), checking=not download)
    checkpoint = finder.checkpoint(config.model)
    vocoder = finder.vocoder(config.vocoder)
    vocab = finder.vocab(config.vocab, checkpoint)
    if finder.missing:
        message = finder.message()
        raise PretrainedNotFoundError(message) if download else CannotCheck(message)
    assert checkpoint is not None and vocoder is not None and vocab is not None
    return F5Files(checkpoint=checkpoint, vocab=vocab, vocoder=vocoder)


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


class _Finder:
    """Looks files up, remembering what is missing and the commands that would fetch it."""

    def __init__(self, config: F5TTSConfig, *, download: bool, checking: bool) -> None:
        self.config = config
        self.download = download
        self.checking = checking
        self.unreachable = False
        self.cache = hub_cache_dir(config.cache_dir)
        self.missing: list[str] = []
        self.commands: list[str] = []
        self.settings: list[str] = []

    def checkpoint(self, spec: str) -> Path | None:
        hub = parse_hub_file(spec)
        if hub is not None:
            found = self._hub_file(hub, self.config.revision)
            if found is None:
                local = Path(hub.repo.split("/")[-1]) / hub.filename
                self._missing(f"checkpoint {hub.url}",
                              f"huggingface-cli download {hub.repo} {hub.filename}"
                              f"{_revision(self.config.revision)} --local-dir "
                              f"{hub.repo.split('/')[-1]}",
                              f"{_RECIPE_KEY}.model: {local}")
            return found
        path = Path(spec).expanduser()
        if path.is_file():
            return path
        if path.is_dir():
            return self._checkpoint_in(path)
        self._missing(f"checkpoint {path} (no such file or folder)", None,
                      f"{_RECIPE_KEY}.model: a .safetensors or .pt file, or a folder holding "
                      f"one, or {HUB_PREFIX}<owner>/<repo>/<file>")
        return None

    def _checkpoint_in(self, folder: Path) -> Path | None:
        found = sorted(p for p in folder.iterdir()
                       if p.is_file() and p.suffix in _CHECKPOINT_SUFFIXES)
        safetensors = [p for p in found if p.suffix == ".safetensors"]
        candidates = safetensors or found
        if len(candidates) == 1:
            return candidates[0]
        what = (f"several checkpoints ({', '.join(p.name for p in candidates)})" if candidates
                else "no .safetensors or .pt checkpoint")
        self._missing(f"checkpoint in {folder}: it holds {what}", None,
                      f"{_RECIPE_KEY}.model: the checkpoint file itself")
        return None

    def vocoder(self, spec: str) -> Path | None:
        folder = Path(spec).expanduser()
        if folder.is_dir():
            absent = [name for name in VOCODER_FILES if not (folder / name).is_file()]
            if not absent:
                return folder
            self._missing(f"vocoder files {', '.join(absent)} in {folder}", None,
                          f"{_RECIPE_KEY}.vocoder: a folder with {' and '.join(VOCODER_FILES)}")
            return None
        if spec.startswith((".", "/", "~")) or spec.count("/") != 1:
            self._missing(f"vocoder folder {folder} (no such folder)", None,
                          f"{_RECIPE_KEY}.vocoder: a folder with "
                          f"{' and '.join(VOCODER_FILES)}, or a hub id")
            return None
        paths = [self._hub_file(HubFile(spec, name), None) for name in VOCODER_FILES]
        if all(path is not None for path in paths):
            parents = {path.parent for path in paths if path is not None}
            if len(parents) == 1:
                return parents.pop()
        local = spec.split("/")[-1]
        self._missing(f"vocoder {spec} ({', '.join(VOCODER_FILES)})",
                      f"huggingface-cli download {spec} {' '.join(VOCODER_FILES)} --local-dir "
                      f"{local}", f"{_RECIPE_KEY}.vocoder: {local}")
        return None

    def vocab(self, spec: str | None, checkpoint: Path | None) -> Path | None:
        if spec is not None:
            path = Path(spec).expanduser()
            if path.is_file():
                return path
            self._missing(f"vocabulary {path} (no such file)", None,
                          f"{_RECIPE_KEY}.vocab: a vocab.txt, or null for f5-tts's own")
            return None
        if checkpoint is not None and (checkpoint.parent / "vocab.txt").is_file():
            return checkpoint.parent / "vocab.txt"
        return package_vocab()

    def _hub_file(self, hub: HubFile, revision: str | None) -> Path | None:
        from huggingface_hub import hf_hub_download, try_to_load_from_cache

        cached = try_to_load_from_cache(hub.repo, hub.filename, cache_dir=self.cache,
                                        revision=revision)
        if isinstance(cached, str):
            return Path(cached)
        if not self.download or self.unreachable:
            return None
        from huggingface_hub.errors import LocalEntryNotFoundError

        try:
            return Path(hf_hub_download(hub.repo, hub.filename, revision=revision,
                                        cache_dir=self.cache))
        except LocalEntryNotFoundError:
            # No connection (after the hub library's retries, ~20 s): the other files would
            # wait as long for nothing.
            self.unreachable = True
            return None
        except (OSError, ValueError):  # the hub's other errors (404, gated) are OSErrors
            return None

    def _missing(self, what: str, command: str | None, setting: str) -> None:
        self.missing.append(what)
        if command is not None:
            self.commands.append(command)
        self.settings.append(setting)

    def message(self) -> str:
        where = (f"not in the Hugging Face cache {self.cache}, and "
                 + ("nothing is downloaded while checking" if self.checking else
                    "HF_HUB_OFFLINE is set" if _offline() else
                    "the hub could not be reached"))
        lines = ["F5-TTS cannot find these files:",
                 *(f"  - {what}" for what in self.missing)]
        if self.commands:
            lines += [f"Hub files are {where}. Download them on a machine with network access:",
                      *(f"  {command}" for command in self.commands),
                      "(without --local-dir they go into the hub cache, where they are found "
                      "by themselves), then point the config at the local copies:"]
        else:
            lines.append("Point the config at existing files:")
        lines += [f"  {setting}" for setting in self.settings]
        return "\n".join(lines)


def _revision(revision: str | None) -> str:
    return f" --revision {revision}" if revision else ""
