"""What building VoxEmoset costs: the offline build's speed here, each stage's cost per item,
and an estimate for the paper's build (VoxStudio Sec. 4, Appendix A: 82k EmoSet images, 247k
utterances of 4.25 s on average).

    uv run python benchmarks/voxemoset_build.py [--images-per-class N] [--processes 1 2]
                                                [--json out.json]

1. **Offline build, end to end.** A fixture is written to a temporary folder as the builder's
   end-to-end test makes it (``plugins/datasets/voxemoset/tests/test_build.py``): an EmoSet
   tree with N images per class and split, three captions per image, CREMA-D and RAVDESS
   fixture voices, and a small VoxShapes build whose speech trains the emotion checker. The
   checker is trained first, in this process, into the cache the builds share (so its
   training is timed once, not in every run); then ``voxcore data voxemoset`` runs through
   the CLI in a fresh process with one process and, for ``--processes 1 2``, under
   ``accelerate launch --multi_gpu --num_processes 2`` on the CPU (``OMP_NUM_THREADS=1`` in
   both, as the test runs them), each into a fresh output folder. Utterances written per
   second are given over the wall time of the command and over the stages alone (the build's
   ``timings.json``: per process, seconds of captions and speech; the slowest process
   counts), i.e. without start-up, checks and the final manifests, and the ratio of the
   two-process rate to the one-process rate.
2. **Stage latency per item**, in this process, one torch thread as in the build, median of
   ``--repetitions``: the ``captions-file`` caption stage per image, ``espeak`` per utterance
   (one worker: each utterance is spoken in its own forked process, see
   ``voxcore_voxemoset.espeak``), the ``speech-emotion`` check, mono/resampling from F5-TTS's
   24 kHz and writing per utterance (the speech stage's own code), and DNSMOS (``speechmos``,
   as ``voxcore_voxemoset.quality`` calls it). The scored and written clips are 4.25 s of
   espeak speech, the paper's mean length. CPU time counts this process's threads and the
   forked children.
3. **Paper-size stages**: parameters and multiply-accumulates (MAC; 1 MAC = 2 FLOPs) per item
   of the paper's models with random or fake weights (no download), counted by
   ``torch.utils.flop_counter.FlopCounterMode`` with attention on PyTorch's math kernel
   (F5-TTS's ``measure_cost.macs``): LLaVA-OneVision-7B per 640x480 image (image tokens as
   transformers' processor counts them, ~80 prompt tokens, 60 generated), F5-TTS v1 Base per
   4.25 s utterance at ``nfe_step`` 32 with a 3 s reference (the plugin's own
   ``full_size_costs``), emotion2vec+ large per 4.25 s utterance, Whisper large-v3 per MEAD
   reference transcribed (the 30 s window the transcriber pads every utterance to, and ~20
   decoder positions). Then the paper's build: FLOPs and A100-hours at a stated utilisation,
   and the CPU-hours of the offline build at the rate measured in part 1.

``--quick`` runs the smallest useful configuration (one image per class and split, a
checker trained on less speech for fewer epochs, one repetition); the paper-size counting
stays (about 15 s: fake tensors cost no arithmetic, the imports do).
``tests/test_benchmarks_voxemoset.py`` runs it so it cannot rot; its build and latency
figures say nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib.util
import io
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).parents[1]
F5TTS_COST_SCRIPT = REPO / "plugins/synthesizers/f5tts/benchmarks/measure_cost.py"

#: The paper's VoxEmoset (Table 1): images captioned, utterances kept, their mean length.
PAPER_IMAGES, PAPER_UTTERANCES, PAPER_SECONDS = 82_000, 247_000, 4.25
#: Utterances whose NMOS the paper measures (10k random per dataset).
PAPER_DNSMOS_SAMPLES = 10_000
#: MEAD references of the five emotions, each transcribed once (the build caches transcripts):
#: 48 speakers x 5 emotions x 3 levels x 30 sentences. An upper bound: only references drawn
#: are transcribed, though with ~8 draws per reference nearly all are.
MEAD_REFERENCES = 48 * 5 * 3 * 30
#: A100 dense float16/bfloat16 peak (tensor cores), FLOP/s.
A100_PEAK_FLOPS = 312e12
#: A100 (40 GB) memory bandwidth, bytes/s: what bounds LLaVA's decoding.
A100_BANDWIDTH = 1.555e12
#: Assumed fraction of the peak. Every paper-size stage is a batched float16 forward of large
#: matrix products (LLaVA's prefill of ~3,000 tokens, F5-TTS's DiT over ~11k frames at batch
#: 16, emotion2vec and Whisper over batches of utterances), where 30-50 % of peak is typical;
#: the F5-TTS plugin assumes 35 % and the LLaVA plugin 40 %.
UTILISATION = 0.35
#: F5-TTS's own README measures about 13 % of peak at batch 1 (RTF 0.1467 on an L20): the
#: pessimistic column.
PESSIMISTIC_UTILISATION = 0.13
#: Extra synthesis + check attempts per kept utterance assumed for the paper's build.
RETRY_RATE = 0.10
#: LLaVA prompt (the paper's instruction and the chat template) and answer (three captions).
LLAVA_PROMPT_TOKENS, LLAVA_NEW_TOKENS, LLAVA_IMAGE = 80, 60, (480, 640)
#: Whisper decoder positions per MEAD sentence: 4 prompt tokens (start, language, task,
#: no-timestamps) and ~16 generated (a ~10-word sentence and the end token).
WHISPER_PROMPT_TOKENS, WHISPER_NEW_TOKENS = 4, 16
F5_REFERENCE_SECONDS, F5_NFE = 3.0, 32
BUILT_CLASSES = 6  # EmoSet's categories built: amusement and excitement become enjoyment
SPLITS = ("train", "val", "test")


# -- shared helpers ------------------------------------------------------------------------

def quiet_imports() -> contextlib.ExitStack:
    """Silence what model libraries print and warn while importing (FunASR's ffmpeg notice)."""
    stack = contextlib.ExitStack()
    stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
    stack.enter_context(warnings.catch_warnings())
    warnings.simplefilter("ignore")
    return stack


def load_script(path: Path) -> ModuleType:
    """A plugin's benchmark script, imported from its path (benchmarks are not packages)."""
    spec = importlib.util.spec_from_file_location(path.stem + "_" + path.parent.parent.name,
                                                  path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cpu_seconds() -> float:
    """CPU seconds of this process's threads and its waited-for children (espeak's forks)."""
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def timed(run: Callable[[], object], repetitions: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of each of ``repetitions`` calls of ``run``."""
    walls, cpus = [], []
    for _ in range(repetitions):
        wall, cpu = time.perf_counter(), cpu_seconds()
        run()
        walls.append(time.perf_counter() - wall)
        cpus.append(cpu_seconds() - cpu)
    return walls, cpus


_NUMBER = re.compile(r"^-?[\d,]*\.?\d+%?$")


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain-text table: columns of numbers right-aligned, others left-aligned."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(str(h)), *(len(row[i]) for row in cells))
              for i, h in enumerate(headers)]
    numeric = [all(_NUMBER.match(row[i]) or not row[i] for row in cells)
               for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(text.rjust(width) if right else text.ljust(width)
                         for text, width, right in zip(row, widths, numeric, strict=True))

    print(f"\n{title}")
    print(line([str(h) for h in headers]).rstrip())
    print("  ".join("-" * width for width in widths))
    for row in cells:
        print(line(row).rstrip())


def number(value: float, digits: int = 2) -> str:
    """``value`` with thousands separators and ``digits`` decimals."""
    return f"{value:,.{digits}f}"


# -- 1. the offline build through the CLI ---------------------------------------------------

@dataclass(frozen=True)
class Fixture:
    """The inputs of a build, as the builder's end-to-end test makes them."""

    root: Path
    emoset: Path
    captions: Path
    crema: Path
    ravdess: Path
    voxshapes: Path
    cache: Path
    images: int
    seconds: float


def make_fixture(root: Path, images_per_class: int, voxshapes_size: int) -> Fixture:
    """Write the EmoSet tree, captions, voices and the checker's VoxShapes speech."""
    from voxcore_voxemoset.testing import write_captions, write_emoset
    from voxcore_voxemoset.voices.testing import write_crema_d, write_ravdess

    began = time.perf_counter()
    ids = write_emoset(root / "EmoSet", per_split=dict.fromkeys(SPLITS, images_per_class))
    write_captions(root / "captions.jsonl", [i for found in ids.values() for i in found])
    write_crema_d(root / "CREMA-D")
    write_ravdess(root / "RAVDESS")
    voxcore(["data", "voxshapes", "--out", str(root / "voxshapes"), "--size",
             str(voxshapes_size)], cwd=root)
    return Fixture(root, root / "EmoSet", root / "captions.jsonl", root / "CREMA-D",
                   root / "RAVDESS", root / "voxshapes", root / "emotion-cache",
                   images=BUILT_CLASSES * len(SPLITS) * images_per_class,
                   seconds=time.perf_counter() - began)


def checker_settings(fixture: Fixture, epochs: int | None) -> dict[str, Any]:
    """The emotion checker's config: trained on the VoxShapes speech's moods, cached."""
    settings: dict[str, Any] = {
        "train_data": {"name": "voxshapes", "config": {"root": str(fixture.voxshapes)}},
        "label": "mood", "cache_dir": str(fixture.cache)}
    if epochs is not None:
        settings["epochs"] = epochs
    return settings


def build_args(fixture: Fixture, out: Path, checker: dict[str, Any]) -> list[str]:
    """The offline command line of the builder's README (as the end-to-end test gives it)."""
    overrides = [f"emotion_check.recognizer.config.{key}={json.dumps(value)}"
                 for key, value in checker.items()]
    return ["data", "voxemoset", "--out", str(out), "--images", str(fixture.emoset),
            "--voices", f"crema-d={fixture.crema}", f"ravdess={fixture.ravdess}",
            "--captioner", "captions-file", f"captioner.config.path={fixture.captions}",
            *overrides, "--progress", "false"]


def build_config(fixture: Fixture, checker: dict[str, Any]) -> Any:
    """The same build as :func:`build_args`, as the builder's validated config."""
    from voxcore_voxemoset import VoxEmosetBuildConfig

    return VoxEmosetBuildConfig.model_validate({
        "images": str(fixture.emoset),
        "voices": [f"crema-d={fixture.crema}", f"ravdess={fixture.ravdess}"],
        "captioner": {"name": "captions-file", "config": {"path": str(fixture.captions)}},
        "emotion_check": {"recognizer": {"name": "speech-emotion", "config": checker}},
        "progress": False})


def environment() -> dict[str, str]:
    """The builds' environment: one thread per process, as the test runs them; offline."""
    return {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}


def voxcore(args: Sequence[str], *, cwd: Path, processes: int = 1) -> float:
    """Run ``voxcore ARGS`` as a user does (a fresh process, or ``accelerate launch`` of
    ``processes``); its wall seconds."""
    command = [sys.executable, "-m", "voxcore.cli", *args]
    if processes > 1:
        command = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu",
                   "--num_processes", str(processes), "--num_machines", "1",
                   "--mixed_precision", "no", "--dynamo_backend", "no",
                   "-m", "voxcore.cli", *args]
    began = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True,
                            env=environment(), timeout=1800)
    wall = time.perf_counter() - began
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:6])} ... failed ({result.returncode}):\n"
                           f"{result.stderr[-4000:]}")
    return wall


def train_checker(fixture: Fixture, checker: dict[str, Any]) -> float:
    """Prepare (train) the build's emotion checker as the build does, one torch thread;
    seconds taken. The builds then find it in the cache."""
    import torch

    from voxcore.plugin_api import build_component

    torch.set_num_threads(1)  # as the builds run (OMP_NUM_THREADS=1)
    began = time.perf_counter()
    build_component(build_config(fixture, checker).emotion_check.recognizer,
                    "emotion_check.recognizer")
    return time.perf_counter() - began


@dataclass
class BuildRun:
    """One build through the CLI and what its outputs say."""

    processes: int
    images: int
    utterances_written: int
    utterances_dropped: int
    attempts: int
    retry_rate: float
    mean_seconds: float
    wall_seconds: float
    stage_seconds: float
    per_process: dict[str, dict[str, float]]
    utterances_per_second_wall: float
    utterances_per_second_stages: float


def run_build(fixture: Fixture, out: Path, checker: dict[str, Any], processes: int) -> BuildRun:
    """Build into ``out`` (fresh) and read ``stats.json`` and ``timings.json``."""
    wall = voxcore(build_args(fixture, out, checker), cwd=fixture.root, processes=processes)
    stats = json.loads((out / "stats.json").read_text(encoding="utf-8"))
    timings = json.loads((out / "timings.json").read_text(encoding="utf-8"))
    per_process = {name: {stage: round(float(s), 3) for stage, s in found["seconds"].items()}
                   for name, found in timings["processes"].items()}
    # The processes run side by side: the stages last as long as the slowest one.
    stages = max(sum(seconds.values()) for seconds in per_process.values())
    histogram = {int(k): int(v) for k, v in stats["build"]["attempts"].items()}
    records = sum(histogram.values())
    attempts = sum(k * v for k, v in histogram.items())
    written = int(stats["total"]["utterances"])
    return BuildRun(processes=processes, images=int(stats["build"]["images_planned"]),
                    utterances_written=written,
                    utterances_dropped=int(stats["total"]["dropped"]), attempts=attempts,
                    retry_rate=(attempts - records) / max(records, 1),
                    mean_seconds=float(stats["total"]["length_s"]), wall_seconds=wall,
                    stage_seconds=stages, per_process=per_process,
                    utterances_per_second_wall=written / wall,
                    utterances_per_second_stages=written / stages)


def offline_build(fixture: Fixture, checker: dict[str, Any],
                  process_counts: Sequence[int]) -> dict[str, Any]:
    """Train the checker into its cache, then one build per process count; the figures of
    each."""
    warm = train_checker(fixture, checker)
    runs = [run_build(fixture, fixture.root / f"build-{n}", checker, n) for n in process_counts]
    result: dict[str, Any] = {"fixture_seconds": fixture.seconds, "checker_seconds": warm,
                              "runs": [asdict(run) for run in runs]}
    by_count = {run.processes: run for run in runs}
    if 1 in by_count and 2 in by_count:
        one, two = by_count[1], by_count[2]
        result["ratio_2_to_1"] = {
            "wall": two.utterances_per_second_wall / one.utterances_per_second_wall,
            "stages": two.utterances_per_second_stages / one.utterances_per_second_stages}
    return result


def print_offline(found: dict[str, Any], images_per_class: int) -> None:
    """Part 1's table."""
    rows = [[run["processes"], run["images"], run["utterances_written"],
             run["utterances_dropped"], f"{run['retry_rate']:.1%}",
             number(run["mean_seconds"]), number(run["wall_seconds"], 1),
             number(run["stage_seconds"], 1),
             number(run["wall_seconds"] - run["stage_seconds"], 1),
             number(run["utterances_per_second_wall"]),
             number(run["utterances_per_second_stages"])] for run in found["runs"]]
    print_table(f"1. Offline build through the CLI ({images_per_class} images per class and "
                "split; captions-file, espeak, speech-emotion; OMP_NUM_THREADS=1)",
                ["processes", "images", "utterances", "dropped", "retry rate", "mean s",
                 "wall s", "stages s", "start-up+finish s", "utt/s (wall)",
                 "utt/s (stages)"], rows)
    for run in found["runs"]:
        stages = "; ".join(f"{name}: " + ", ".join(f"{stage} {seconds:.2f} s"
                                                   for stage, seconds in seconds_of.items())
                           for name, seconds_of in run["per_process"].items())
        print(f"   {run['processes']} process(es), timings.json: {stages}")
    print("   retry rate: extra synthesis + check attempts per utterance planned; mean s: "
          "mean length of the speech written")
    print(f"   espeak forks up to {machine()['cores']} speakers at a time in each process (one "
          "per core), so one process already synthesises on every core; more processes add "
          "the rest (emotion check, writing) in parallel")
    print(f"   fixture written in {found['fixture_seconds']:.1f} s; the checker trained into "
          f"the builds' cache beforehand in {found['checker_seconds']:.1f} s, not timed above")
    if "ratio_2_to_1" in found:
        ratio = found["ratio_2_to_1"]
        print(f"   2 processes / 1 process: {ratio['wall']:.2f}x over the wall time, "
              f"{ratio['stages']:.2f}x over the stages")


# -- 2. stage latency in this process -------------------------------------------------------

@dataclass
class StageLatency:
    """One stage's cost per item here."""

    stage: str
    item: str
    items_per_repetition: int
    repetitions: int
    wall_ms: float
    cpu_ms: float
    note: str = ""
    wall_ms_each: list[float] = field(default_factory=list)


def _latency(stage: str, item: str, items: int, run: Callable[[], object], repetitions: int,
             note: str = "") -> StageLatency:
    walls, cpus = timed(run, repetitions)
    return StageLatency(stage, item, items, repetitions,
                        wall_ms=1000 * statistics.median(walls) / items,
                        cpu_ms=1000 * statistics.median(cpus) / items, note=note,
                        wall_ms_each=[round(1000 * w / items, 3) for w in walls])


def stage_latency(fixture: Fixture, checker: dict[str, Any], repetitions: int,
                  utterances: int) -> dict[str, Any]:
    """Part 2: each offline stage per item, with the build's own components and code."""
    import numpy as np
    import torch
    from voxcore_voxemoset.captions import CaptionStage
    from voxcore_voxemoset.images import read_images
    from voxcore_voxemoset.plan import ReferencePool, Utterance, utterance_id
    from voxcore_voxemoset.speech import SpeechStage, to_mono_rate
    from voxcore_voxemoset.store import BuildStore

    from voxcore.plugin_api import SynthesisRequest, Waveform, build_component

    torch.set_num_threads(1)  # as the build runs (OMP_NUM_THREADS=1)
    config = build_config(fixture, checker)
    images = read_images(config.images, config.emotions).images
    work = fixture.root / "latency"
    rows: list[StageLatency] = []

    captioner = build_component(config.captioner, "captioner")
    stores = iter(BuildStore(work / f"captions-{n}") for n in range(repetitions))
    rows.append(_latency(
        "captions (captions-file)", "image", len(images),
        lambda: CaptionStage(captioner, next(stores), config.captions_per_image,
                             config.caption_retries, config.caption_batch_size,
                             progress=False).run(images), repetitions,
        "opens and decodes the image (48 px fixtures), looks its captions up, records "
        "them"))

    captions = CaptionStage(captioner, BuildStore(work / "captions-0"),
                            config.captions_per_image, config.caption_retries,
                            config.caption_batch_size, progress=False)
    planned = []
    for image in images[:utterances]:
        record = captions.captions_of(image)
        assert record is not None and record["captions"], image.id
        planned.append(Utterance(utterance_id(image, 0), image, 0, record["captions"][0]))
    voices = [voice for index, ref in enumerate(config.voices)
              for voice in build_component(ref, f"voices[{index}]").component.voices()]
    pool = ReferencePool(voices, config.emotions, config.reference_splits, config.seed)
    requests = [SynthesisRequest(u.id, u.text, pool.choose(u, 0), pool.synthesis_seed(u, 0))
                for u in planned]
    # One worker: the cost of one utterance (the build runs one per core at a time).
    espeak = build_component(config.synthesizer.model_copy(
        update={"config": {**config.synthesizer.config, "workers": 1}}), "synthesizer")
    made: list[Any] = []
    rows.append(_latency("speech synthesis (espeak)", "utterance", len(requests),
                         lambda: made.append(espeak.component.synthesize(requests)),
                         repetitions, "one forked espeak-ng process per utterance"))
    spoken = [w.samples.float().mean(dim=0) for w in made[0]]
    spoken_seconds = statistics.fmean(s.numel() / w.sample_rate
                                      for s, w in zip(spoken, made[0], strict=True))
    rows[-1].note += (f"; {spoken_seconds:.2f} s of speech each, real-time factor "
                      f"{rows[-1].wall_ms / 1000 / spoken_seconds:.3f}")

    rate = config.sample_rate
    length = round(PAPER_SECONDS * rate)
    speech = torch.cat(spoken).repeat(1 + length // max(1, sum(s.numel() for s in spoken)))
    clip = speech[:length].contiguous()  # 4.25 s of real espeak speech
    waves = [Waveform(clip.unsqueeze(0), rate) for _ in range(len(requests))]
    recognizer = build_component(config.emotion_check.recognizer, "emotion_check.recognizer")
    rows.append(_latency("emotion check (speech-emotion)", "4.25 s utterance", len(waves),
                         lambda: recognizer.component.emotion_probabilities(waves),
                         repetitions, "log-mel + 3 convolutions, one utterance at a time"))

    import torchaudio.functional as audio_functional

    at_24k = Waveform(audio_functional.resample(clip, rate, 24_000).unsqueeze(0), 24_000)
    rows.append(_latency("mono + resample 24 -> 16 kHz", "4.25 s utterance", len(waves),
                         lambda: [to_mono_rate(at_24k, rate) for _ in waves], repetitions,
                         "F5-TTS speaks at 24 kHz; espeak's 16 kHz needs none"))
    stage = SpeechStage(espeak, recognizer, pool, BuildStore(work / "speech"),
                        config.emotion_check.threshold, config.emotion_check.retries,
                        config.synthesis_batch_size, config.emotion_check.batch_size, rate,
                        progress=False)
    attempt = {"attempt": 0, "reference": "r", "seed": 0, "confidence": 0.9, "error": None,
               "reference_speaker": "s", "reference_corpus": "c"}
    # The speech stage's own writer: 16-bit wav (atomically) and the utterance's record.
    rows.append(_latency("write wav + record", "4.25 s utterance", len(planned),
                         lambda: [stage._accept(u, clip, [attempt]) for u in planned],
                         repetitions, "SpeechStage._accept"))

    from speechmos import dnsmos

    samples = clip.numpy()
    # The first call loads the ONNX sessions and librosa; one 9.01 s window keeps it short.
    first, _ = timed(lambda: dnsmos.run(np.resize(samples, round(9.5 * rate)), rate), 1)
    rows.append(_latency(
        "DNSMOS (speechmos)", "4.25 s utterance", 1, lambda: dnsmos.run(samples, rate),
        repetitions, f"first call {first[0]:.1f} s (loads ONNX, librosa); a clip is "
                     "repeated to >= 9.01 s, windows 1 s apart (4.25 s: 17 s, 8 windows)"))
    return {"rows": [asdict(row) for row in rows], "torch_threads": torch.get_num_threads(),
            "espeak_speech_seconds": spoken_seconds, "dnsmos_first_call_seconds": first[0]}


def print_latency(found: dict[str, Any]) -> None:
    """Part 2's table."""
    rows = [[row["stage"], row["item"], row["items_per_repetition"] * row["repetitions"],
             number(row["wall_ms"]), number(row["cpu_ms"]), row["note"]]
            for row in found["rows"]]
    print_table("2. Offline stages per item, in-process (median of repetitions, torch on "
                f"{found['torch_threads']} thread)",
                ["stage", "item", "items timed", "wall ms/item", "CPU ms/item", "note"], rows)


# -- 3. the paper's models at full size -----------------------------------------------------

@functools.cache
def _f5_script() -> ModuleType:
    return load_script(F5TTS_COST_SCRIPT)


def count_macs(run: Callable[[], object]) -> float:
    """MACs of ``run()``: F5-TTS's ``measure_cost.macs`` (FlopCounterMode, attention on the
    math kernel so that its matrix products are counted)."""
    return float(_f5_script().macs(run))


def llava_cost(vision: dict[str, Any] | None = None, text: dict[str, Any] | None = None,
               image: tuple[int, int] = LLAVA_IMAGE, prompt_tokens: int = LLAVA_PROMPT_TOKENS,
               new_tokens: int = LLAVA_NEW_TOKENS) -> dict[str, Any]:
    """LLaVA-OneVision (default: llava-onevision-qwen2-7b-ov) captioning one ``(height,
    width)`` image: the vision tower and projector over its crops, the prefill of the image
    and prompt tokens, ``new_tokens`` decoding steps with the KV cache. Built on fake tensors
    (no memory). Image tokens and crops are the processor's (transformers' default
    LLaVA-OneVision image processor: 384 px crops, ``anyres_max_9``), whatever the model."""
    import torch
    from PIL import Image
    from torch._subclasses.fake_tensor import FakeTensorMode
    from transformers import (
        DynamicCache,
        LlavaOnevisionForConditionalGeneration,
        LlavaOnevisionImageProcessor,
        LlavaOnevisionProcessor,
    )
    from voxcore_llava.architectures import IMAGE_TOKENS_PER_CROP, llava_onevision_config

    class TokenArithmetic(LlavaOnevisionProcessor):
        """The processor's image-token count, which needs no tokenizer."""

        def __init__(self, image_processor: Any) -> None:
            self.image_processor = image_processor
            self.num_image_tokens = IMAGE_TOKENS_PER_CROP
            self.vision_aspect_ratio = "anyres_max_9"
            self.vision_feature_select_strategy = "full"

    height, width = image
    processor = LlavaOnevisionImageProcessor()
    crops = int(processor(images=[Image.new("RGB", (width, height))],
                          return_tensors="pt")["pixel_values"].shape[1])
    image_tokens = int(TokenArithmetic(processor)._get_num_multimodal_tokens(
        image_sizes=[[height, width]]).num_image_tokens[0])
    tokens = image_tokens + prompt_tokens
    config = llava_onevision_config(vision, text)
    crop = int(config.vision_config.image_size)
    width_text = int(config.text_config.hidden_size)
    with FakeTensorMode(allow_non_fake_inputs=True):
        model = LlavaOnevisionForConditionalGeneration(config).eval()
        parameters = sum(p.numel() for p in model.parameters())
        pixels = torch.zeros(crops, 3, crop, crop)
        language = model.model.language_model

        def see() -> None:
            states = model.model.vision_tower(pixels, output_hidden_states=True)
            model.model.multi_modal_projector(states.hidden_states[-1])

        cache: list[Any] = []

        def prefill() -> None:
            found = language(inputs_embeds=torch.zeros(1, tokens, width_text),
                             past_key_values=DynamicCache(), use_cache=True)
            model.lm_head(found.last_hidden_state[:, -1:])
            cache.append(found.past_key_values)

        def step() -> None:
            found = language(inputs_embeds=torch.zeros(1, 1, width_text),
                             past_key_values=cache[0], use_cache=True)
            model.lm_head(found.last_hidden_state)

        vision_macs, prefill_macs = count_macs(see), count_macs(prefill)
        # Per token at the prompt's length: 60 more positions change attention by < 0.1 %.
        step_macs = count_macs(step)
    return {"parameters": parameters, "image": [height, width], "crops": crops,
            "image_tokens": image_tokens, "prompt_tokens": prompt_tokens,
            "new_tokens": new_tokens, "vision_macs": vision_macs, "prefill_macs": prefill_macs,
            "decode_macs_per_token": step_macs,
            "macs": vision_macs + prefill_macs + new_tokens * step_macs}


def f5tts_cost(reference_seconds: float = F5_REFERENCE_SECONDS,
               speech_seconds: float = PAPER_SECONDS, nfe: int = F5_NFE) -> dict[str, Any]:
    """F5-TTS v1 Base + Vocos per utterance: the plugin's own ``full_size_costs``."""
    with quiet_imports():
        found = dict(_f5_script().full_size_costs(reference_seconds, speech_seconds, nfe))
    return {**found, "parameters": int(found["dit_parameters"] + found["vocos_parameters"]),
            "macs": float(found["utterance_macs"]), "reference_seconds": reference_seconds,
            "speech_seconds": speech_seconds, "nfe_step": nfe}


def emotion2vec_cost(seconds: float = PAPER_SECONDS,
                     architecture: dict[str, Any] | None = None) -> dict[str, Any]:
    """emotion2vec (default: plus large) scoring one utterance of ``seconds``, on ``meta``,
    as the plugin's ``benchmarks/measure_cost.py`` counts it (its ``label_logits``)."""
    import torch

    with quiet_imports():
        from voxcore_emotion2vec.architecture import PLUS_LARGE
        from voxcore_emotion2vec.inference import label_logits
        from voxcore_emotion2vec.loading import build_emotion2vec

    with torch.device("meta"):
        model = build_emotion2vec(architecture or PLUS_LARGE, vocab_size=9)
    wave = torch.zeros(1, round(seconds * 16_000), device="meta")
    macs = count_macs(lambda: label_logits(model, wave, torch.tensor([wave.shape[1]])))
    return {"parameters": sum(p.numel() for p in model.parameters()), "seconds": seconds,
            "macs": macs}


def whisper_cost(values: dict[str, Any] | None = None,
                 prompt_tokens: int = WHISPER_PROMPT_TOKENS,
                 new_tokens: int = WHISPER_NEW_TOKENS) -> dict[str, Any]:
    """Whisper (default: large-v3) transcribing one reference: the encoder over the 30 s
    window every utterance is padded to, the decoder over the prompt and answer in one pass
    (with a KV cache, generation computes the same products: the cross-attention keys and
    values once, each position once), on ``meta``."""
    import torch
    from transformers import WhisperForConditionalGeneration
    from voxcore_whisper.architectures import whisper_config

    config = whisper_config(values)
    with torch.device("meta"):
        model = WhisperForConditionalGeneration(config).eval()
    frames = 2 * int(config.max_source_positions)  # 30 s of 10 ms mel frames
    features = torch.zeros(1, int(config.num_mel_bins), frames, device="meta")
    encoded: list[torch.Tensor] = []
    encoder_macs = count_macs(
        lambda: encoded.append(model.model.encoder(features).last_hidden_state))
    positions = torch.zeros(1, prompt_tokens + new_tokens, dtype=torch.long, device="meta")
    decoder_macs = count_macs(lambda: model(encoder_outputs=(encoded[0],),
                                            decoder_input_ids=positions))
    return {"parameters": sum(p.numel() for p in model.parameters()),
            "encoder_macs": encoder_macs, "decoder_macs": decoder_macs,
            "decoder_positions": prompt_tokens + new_tokens,
            "macs": encoder_macs + decoder_macs}


def paper_costs() -> dict[str, dict[str, Any]]:
    """Every paper-size stage at full size."""
    return {"llava": llava_cost(), "f5tts": f5tts_cost(), "emotion2vec": emotion2vec_cost(),
            "whisper": whisper_cost()}


def a100_hours(flops: float, utilisation: float) -> float:
    """``flops / (312e12 FLOP/s x utilisation) / 3600``."""
    return flops / (A100_PEAK_FLOPS * utilisation) / 3600


def paper_estimate(costs: dict[str, dict[str, Any]], *, retry_rate: float,
                   utilisation: float, offline: dict[str, Any] | None,
                   latency: dict[str, Any] | None) -> dict[str, Any]:
    """The paper's build from the per-item costs: items, FLOPs, A100-hours; CPU-hours of the
    offline build at the measured rate."""
    attempts = PAPER_UTTERANCES * (1 + retry_rate)
    stages = [
        ("captions", "LLaVA-OneVision-7B", "image", PAPER_IMAGES, costs["llava"]),
        ("speech", "F5-TTS v1 Base + Vocos", "utterance attempt", attempts, costs["f5tts"]),
        ("emotion check", "emotion2vec+ large", "utterance attempt", attempts,
         costs["emotion2vec"]),
        ("reference transcripts", "Whisper large-v3", "MEAD reference", MEAD_REFERENCES,
         costs["whisper"]),
    ]
    rows = []
    for stage, model, item, items, cost in stages:
        flops = 2 * cost["macs"] * items
        rows.append({"stage": stage, "model": model, "item": item, "items": items,
                     "parameters": cost["parameters"], "macs_per_item": cost["macs"],
                     "flops": flops, "a100_hours": a100_hours(flops, utilisation),
                     "a100_hours_pessimistic": a100_hours(flops, PESSIMISTIC_UTILISATION)})
    llava = costs["llava"]
    # Decoding reads every weight once per step, shared by the batch: bandwidth, not FLOPs.
    decode_hours = (PAPER_IMAGES / 8 * llava["new_tokens"] * 2 * llava["parameters"]
                    / A100_BANDWIDTH / 3600)
    result: dict[str, Any] = {
        "retry_rate": retry_rate, "utilisation": utilisation,
        "pessimistic_utilisation": PESSIMISTIC_UTILISATION,
        "a100_peak_flops": A100_PEAK_FLOPS, "stages": rows,
        "total_flops": sum(r["flops"] for r in rows),
        "total_a100_hours": sum(r["a100_hours"] for r in rows),
        "total_a100_hours_pessimistic": sum(r["a100_hours_pessimistic"] for r in rows),
        "llava_decode_bandwidth_a100_hours_batch_8": decode_hours,
        "formula": "A100-hours = 2 x MACs/item x items / (312e12 FLOP/s x utilisation) / 3600",
    }
    if offline is not None and offline["runs"]:
        best = max(offline["runs"], key=lambda r: r["utterances_per_second_stages"])
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
            (os.cpu_count() or 1)
        # The measured rate already pays for the offline build's own retries.
        hours = PAPER_UTTERANCES / best["utterances_per_second_stages"] / 3600
        scale = PAPER_SECONDS / best["mean_seconds"]
        result["offline_retry_rate"] = best["retry_rate"]
        result["offline_cpu"] = {
            "rate_utterances_per_second": best["utterances_per_second_stages"],
            "processes": best["processes"], "cores": cores,
            "wall_hours_here": hours, "core_hours": hours * cores,
            "length_scale": scale, "core_hours_at_paper_length": hours * cores * scale,
            "formula": "hours = 247k utterances / measured utterances per second / 3600; "
                       "core-hours = hours x cores"}
    if latency is not None:
        dnsmos = next(r for r in latency["rows"] if r["stage"].startswith("DNSMOS"))
        result["dnsmos_cpu_hours"] = PAPER_DNSMOS_SAMPLES * dnsmos["cpu_ms"] / 1000 / 3600
    return result


def print_paper(costs: dict[str, dict[str, Any]], estimate: dict[str, Any]) -> None:
    """Part 3's tables."""
    llava, f5, whisper = costs["llava"], costs["f5tts"], costs["whisper"]
    details = {
        "captions": f"{llava['crops']} crops, {llava['image_tokens']:,} image + "
                    f"{llava['prompt_tokens']} prompt tokens, {llava['new_tokens']} generated",
        "speech": f"{f5['frames']} frames ({f5['reference_seconds']:g} s reference + "
                  f"{f5['speech_seconds']:g} s), nfe_step {f5['nfe_step']}",
        "emotion check": f"{costs['emotion2vec']['seconds']:g} s at 16 kHz",
        "reference transcripts": f"30 s window, {whisper['decoder_positions']} decoder "
                                 "positions",
    }
    utilisation = estimate["utilisation"]
    rows = [[r["stage"], r["model"], r["item"], number(r["parameters"] / 1e6, 1),
             number(r["macs_per_item"] / 1e9, 1),
             number(3600 * 1000 * a100_hours(2 * r["macs_per_item"], utilisation), 1),
             details[r["stage"]]] for r in estimate["stages"]]
    print_table("3a. Paper-size stages per item (fake/meta tensors, no weights; MAC = "
                "multiply-add = 2 FLOPs)",
                ["stage", "model", "item", "parameters M", "GMAC/item",
                 f"A100 ms/item @{utilisation:.0%}", "shape"], rows)
    print(f"   LLaVA: vision + projector {llava['vision_macs'] / 1e12:.2f} TMAC, prefill "
          f"{llava['prefill_macs'] / 1e12:.2f} TMAC (attention counted over the full square;"
          f" a causal kernel does half of it), {llava['decode_macs_per_token'] / 1e9:.2f} "
          "GMAC per generated token")
    print(f"   Whisper: encoder {whisper['encoder_macs'] / 1e9:.0f} GMAC, decoder "
          f"{whisper['decoder_macs'] / 1e9:.0f} GMAC (mostly the cross-attention keys and "
          "values of 1,500 encoder states)")
    rows = [[r["stage"], number(r["items"], 0), number(r["flops"] / 1e15, 1),
             number(r["a100_hours"], 1), number(r["a100_hours_pessimistic"], 1)]
            for r in estimate["stages"]]
    rows.append(["total", "", number(estimate["total_flops"] / 1e15, 1),
                 number(estimate["total_a100_hours"], 1),
                 number(estimate["total_a100_hours_pessimistic"], 1)])
    print_table(f"3b. The paper's build: {PAPER_IMAGES:,} images, {PAPER_UTTERANCES:,} "
                f"utterances x (1 + {estimate['retry_rate']:.0%} retries), "
                f"{MEAD_REFERENCES:,} MEAD references",
                ["stage", "items", "PFLOP", f"A100-h @{utilisation:.0%}",
                 f"A100-h @{estimate['pessimistic_utilisation']:.0%}"], rows)
    print(f"   {estimate['formula']}; A100 dense fp16 peak 312 TFLOP/s. {utilisation:.0%}: "
          "batched float16 forwards of large matrix products (the F5-TTS and LLaVA plugins "
          f"assume 35-40 %); {estimate['pessimistic_utilisation']:.0%}: F5-TTS's published "
          "batch-1 efficiency.")
    measured = estimate.get("offline_retry_rate")
    print(f"   Retries: {estimate['retry_rate']:.0%} extra synthesis + check attempts per kept "
          "utterance, assumed"
          + ("" if measured is None else f" (the offline build's {measured:.1%}, part 1, comes "
             "from espeak and a small checker, not F5-TTS and emotion2vec)")
          + "; captions: none (greedy captions are checked, retried only when unusable).")
    print("   LLaVA's decoding is bound by reading its weights, not by FLOPs: 60 steps x "
          f"{2 * llava['parameters'] / 1e9:.1f} GB / 1.555 TB/s per batch of 8 adds about "
          f"{estimate['llava_decode_bandwidth_a100_hours_batch_8']:.1f} A100-h.")
    cpu = estimate.get("offline_cpu")
    if cpu is not None:
        rate = cpu["rate_utterances_per_second"]
        print(f"   Offline build (espeak + speech-emotion) at {rate:.2f} utterances/s "
              f"({cpu['processes']} process(es), stages only): "
              f"{PAPER_UTTERANCES:,} utterances take {cpu['wall_hours_here']:.1f} h on this "
              f"{cpu['cores']}-core machine = {cpu['core_hours']:.1f} core-hours "
              f"({cpu['core_hours_at_paper_length']:.1f} scaled to 4.25 s utterances, "
              f"x{cpu['length_scale']:.2f}).")
    if "dnsmos_cpu_hours" in estimate:
        print(f"   DNSMOS of the paper's {PAPER_DNSMOS_SAMPLES:,}-utterance sample: "
              f"{estimate['dnsmos_cpu_hours']:.1f} CPU-hours at the CPU time of part 2.")


# -- main -----------------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
        (os.cpu_count() or 1)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"cpu": model or platform.processor(), "cores": cores, "load_average": load,
            "python": platform.python_version()}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; the report (also written with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images-per-class", type=int, default=None,
                        help="images of each EmoSet category in each split (default 4; "
                             "--quick 1)")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2],
                        help="process counts to build with (default: 1 2)")
    parser.add_argument("--repetitions", type=int, default=None,
                        help="repetitions of each in-process measurement (default 3; --quick 1)")
    parser.add_argument("--utterances", type=int, default=None,
                        help="utterances per repetition of part 2 (default 8; --quick 2)")
    parser.add_argument("--retry-rate", type=float, default=RETRY_RATE,
                        help="extra attempts per utterance assumed for the paper's build")
    parser.add_argument("--utilisation", type=float, default=UTILISATION,
                        help="assumed fraction of the A100's dense fp16 peak")
    parser.add_argument("--quick", action="store_true",
                        help="smallest configuration, for the test (figures say nothing)")
    parser.add_argument("--paper-size", action=argparse.BooleanOptionalAction, default=True,
                        help="count the paper-size models and estimate the paper's build")
    parser.add_argument("--keep", type=Path, default=None,
                        help="write the fixture and builds here and keep them")
    parser.add_argument("--json", type=Path, default=None, help="write every figure here")
    args = parser.parse_args(argv)
    quick = bool(args.quick)
    images_per_class = args.images_per_class or (1 if quick else 4)
    repetitions = args.repetitions or (1 if quick else 3)
    utterances = args.utterances or (2 if quick else 8)
    paper = bool(args.paper_size)
    if min(args.processes) < 1:
        parser.error("--processes: give counts of 1 or more")

    report: dict[str, Any] = {
        "machine": machine(),
        "settings": {"images_per_class": images_per_class, "processes": args.processes,
                     "repetitions": repetitions, "utterances": utterances, "quick": quick,
                     "paper_size": paper}}
    with contextlib.ExitStack() as stack:
        if args.keep is not None:
            root = args.keep.resolve()
            root.mkdir(parents=True, exist_ok=True)
        else:
            root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="voxemoset-")))
        m = report["machine"]
        load = "" if m["load_average"] is None else \
            f", load average {m['load_average']:.1f} at start"
        print(f"VoxEmoset build cost on {m['cpu']} ({m['cores']} cores{load}), "
              f"Python {m['python']}")
        fixture = make_fixture(root / "inputs", images_per_class, 200 if quick else 300)
        checker = checker_settings(fixture, epochs=10 if quick else None)
        report["offline_build"] = offline_build(fixture, checker, args.processes)
        print_offline(report["offline_build"], images_per_class)
        report["stage_latency"] = stage_latency(fixture, checker, repetitions, utterances)
        print_latency(report["stage_latency"])
    if paper:
        began = time.perf_counter()
        costs = paper_costs()
        report["paper_size"] = {
            "costs": costs, "counting_seconds": time.perf_counter() - began,
            "estimate": paper_estimate(costs, retry_rate=args.retry_rate,
                                       utilisation=args.utilisation,
                                       offline=report["offline_build"],
                                       latency=report["stage_latency"])}
        print_paper(costs, report["paper_size"]["estimate"])
    else:
        report["paper_size"] = None
        print("\n3. Paper-size counting left out (--no-paper-size).")
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"\nwritten {args.json}")
    return report


if __name__ == "__main__":
    main()
