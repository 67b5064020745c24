"""Building VoxShapes on disk: plan, render in worker processes, write manifests, publish.

The dataset is written into a hidden temporary folder beside ``out_dir`` and renamed into
place only when complete (``voxshapes.json`` last), so a killed build never leaves a folder
that looks like a finished dataset.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

from voxcore.plugin_api import DatasetError, Sample, write_manifest, write_text_atomic
from voxcore_voxshapes.config import METADATA_FILE, SPLITS, VoxShapesBuildConfig
from voxcore_voxshapes.content import POSITIONS, SHAPES, TEMPLATES, content_label
from voxcore_voxshapes.moods import MOODS
from voxcore_voxshapes.plan import Plan, SampleSpec, plan_build
from voxcore_voxshapes.tts import espeak_info, has_voice
from voxcore_voxshapes.worker import AUDIO_DIR, IMAGE_DIR, render_chunk

__all__ = ["FORMAT_VERSION", "CHUNK_SIZE", "VoxShapesBuilder"]

#: Version of the on-disk layout and of the generation recipe (moods, shapes, phrasing).
#: 2: shapes circle, ring, triangle, bar, pillar, drawn larger (1 had squares, crosses, stars).
FORMAT_VERSION = 2
#: Samples rendered per worker process. Fixed (not derived from the number of workers) so
#: the audio, which depends on what its process synthesized before, is the same however
#: many workers run.
CHUNK_SIZE = 100


class VoxShapesBuilder:
    """Builds VoxShapes from a :class:`VoxShapesBuildConfig` (``voxcore data voxshapes``)."""

    #: What a build writes as ``format_version``: a folder with another one is outdated.
    format_version: int = FORMAT_VERSION

    def __init__(self, config: VoxShapesBuildConfig) -> None:
        self.config = config

    def build(self, out_dir: Path) -> None:
        """Write ``audio/``, ``images/``, ``train/test/heldout.jsonl`` and ``voxshapes.json``.

        Raises :class:`DatasetError` if ``out_dir`` exists and is not empty, unless
        ``overwrite`` is set (then it is replaced once the new build is complete).
        """
        out = Path(out_dir).absolute()
        self._check_target(out)
        espeak = espeak_info()  # fails early, with a clear message, if espeak-ng is missing
        unknown = [voice for voice in self.config.voices if not has_voice(voice)]
        if unknown:
            raise DatasetError(f"espeak-ng has no voice {', '.join(map(repr, unknown))}; use a "
                               "language such as 'en-us', optionally with a variant: "
                               "'en-us+m3', 'en-us+f2'")
        plan = plan_build(self.config)
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
        try:
            (staging / AUDIO_DIR).mkdir()
            (staging / IMAGE_DIR).mkdir()
            durations = self._render(plan.samples, staging)
            for split in SPLITS:
                write_manifest(staging / f"{split}.jsonl",
                               [_sample(spec, staging) for spec in plan.samples
                                if spec.split == split])
            description = _describe(self.config, plan, durations, espeak.version)
            write_text_atomic(staging / METADATA_FILE, json.dumps(description, indent=2) + "\n")
            _make_shareable(staging)
            _publish(staging, out)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def build_unless_built(self, out_dir: Path) -> bool:
        """Build into ``out_dir`` unless it already holds a build of this config (then reuse
        it); ``True`` when it built. A folder with a build of other settings, or of another
        format, is refused with a :class:`DatasetError` and left as it is."""
        info = Path(out_dir) / METADATA_FILE
        if not info.is_file():
            self.build(out_dir)
            return True
        try:
            described = json.loads(info.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise DatasetError(f"{info} is unreadable ({exc}); remove {out_dir} to build it "
                               "again") from None
        built = described.get("config", {})
        if described.get("format_version") != FORMAT_VERSION:
            raise DatasetError(f"{out_dir} holds a VoxShapes build of format "
                               f"{described.get('format_version')} (another voxcore-voxshapes); "
                               f"this one writes format {FORMAT_VERSION}. Remove {out_dir} (or "
                               "choose another folder) to build it again")
        wanted = _described_config(self.config)
        differing = sorted(key for key in wanted if key in built and built[key] != wanted[key])
        if differing:
            shown = ", ".join(f"{key} {built.get(key)}" for key in differing)
            raise DatasetError(f"{out_dir} holds a VoxShapes build with other settings "
                               f"({shown}); remove it or choose another folder")
        return False

    def _check_target(self, out: Path) -> None:
        if out.exists() and not out.is_dir():
            raise DatasetError(f"cannot build VoxShapes at {out}: it is a file; choose a "
                               "folder with --out")
        if out.is_dir() and any(out.iterdir()) and not self.config.overwrite:
            raise DatasetError(f"cannot build VoxShapes at {out}: the folder exists and is not "
                               "empty; delete it, choose another --out, or pass overwrite=true")

    def _render(self, specs: Sequence[SampleSpec], staging: Path) -> list[float]:
        chunks = [specs[i:i + CHUNK_SIZE] for i in range(0, len(specs), CHUNK_SIZE)]
        workers = min(self.config.workers or os.cpu_count() or 1, len(chunks))
        # A new process per chunk (one task per child) starts espeak-ng from its initial
        # state every time, which makes the audio reproducible.
        with ProcessPoolExecutor(workers, mp_context=_fresh_process_context(),
                                 max_tasks_per_child=1) as pool:
            results = pool.map(render_chunk, chunks, [str(staging)] * len(chunks),
                               [self.config.resolution] * len(chunks),
                               [self.config.sample_rate] * len(chunks))
            return [seconds for chunk in results for seconds in chunk]


def _fresh_process_context() -> multiprocessing.context.BaseContext:
    """A start method whose processes have never synthesized speech.

    "fork" would copy this process's espeak-ng state; "forkserver" forks from a clean server
    that imported the worker module once (cheap children), "spawn" (Windows) starts each
    interpreter anew.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # Only takes effect if this process has not started its fork server yet; otherwise the
    # children import the worker module themselves, which is slower but equally correct.
    context.set_forkserver_preload(["voxcore_voxshapes.worker"])
    return context


def _sample(spec: SampleSpec, root: Path) -> Sample:
    return Sample(
        id=spec.id,
        audio=root / AUDIO_DIR / f"{spec.id}.wav",
        image=root / IMAGE_DIR / f"{spec.id}.png",
        transcript=spec.transcript,
        speaker=spec.voice,
        labels={"content": content_label(spec.shape, spec.position), "shape": spec.shape,
                "position": spec.position, "mood": spec.mood},
    )


def _described_config(config: VoxShapesBuildConfig) -> dict[str, Any]:
    """What a build's settings are, as ``voxshapes.json`` records them (workers and overwrite
    change how a build runs, not what it contains)."""
    return config.model_dump(mode="json", exclude={"workers", "overwrite"})


def _describe(config: VoxShapesBuildConfig, plan: Plan, durations: Sequence[float],
              espeak_version: str) -> dict[str, Any]:
    """The contents of ``voxshapes.json``; nothing in it depends on the machine or time."""
    counts = Counter(spec.split for spec in plan.samples)
    return {
        "name": "voxshapes",
        "format_version": FORMAT_VERSION,
        "generator": {"voxcore-voxshapes": _plugin_version(), "espeak-ng": espeak_version},
        "config": _described_config(config),
        "counts": {split: counts.get(split, 0) for split in SPLITS},
        "manifests": {split: f"{split}.jsonl" for split in SPLITS},
        "heldout_pairs": [{"shape": shape, "mood": mood} for shape, mood in plan.heldout_pairs],
        "labels": {
            "content": [content_label(s, p) for s in SHAPES for p in POSITIONS],
            "shape": list(SHAPES),
            "position": list(POSITIONS),
            "mood": [mood.name for mood in MOODS],
        },
        "speakers": list(config.voices),
        "audio": {"sample_rate": config.sample_rate, "format": "wav pcm16 mono",
                  "seconds_total": round(sum(durations), 3),
                  "seconds_min": round(min(durations), 3),
                  "seconds_max": round(max(durations), 3)},
        "image": {"resolution": config.resolution, "format": "png rgb"},
        "transcript_templates": list(TEMPLATES),
        "moods": {mood.name: {"palette": asdict(mood.palette), "prosody": asdict(mood.prosody),
                              "prosody_jitter": asdict(mood.jitter),
                              "tremolo_hz": mood.tremolo_hz,
                              "tremolo_depth": mood.tremolo_depth} for mood in MOODS},
    }


def _make_shareable(root: Path) -> None:
    """Give the folder and the files written through temporary files the usual modes.

    ``mkdtemp`` and ``mkstemp`` create them private (0700 / 0600); a dataset is meant to be
    read by anyone the umask allows, like the wav and png files beside them.
    """
    umask = os.umask(0)
    os.umask(umask)
    root.chmod(0o777 & ~umask)
    for name in (*(f"{split}.jsonl" for split in SPLITS), METADATA_FILE):
        (root / name).chmod(0o666 & ~umask)


def _publish(staging: Path, out: Path) -> None:
    """Move the finished build to ``out``, replacing what is there only at the last moment."""
    if not out.exists():
        staging.rename(out)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    retired.rmdir()
    out.rename(retired)
    staging.rename(out)
    shutil.rmtree(retired, ignore_errors=True)


def _plugin_version() -> str:
    try:
        return metadata.version("voxcore-voxshapes")
    except metadata.PackageNotFoundError:
        return "unknown"
