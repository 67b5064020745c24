"""``voxcore data voxemoset``: the whole build, checked first, split among processes.

1. **Check everything before any work** (each problem a clear error, exit status 2): every
   stage names a registered component with a valid config; the images hold labelled images of
   the classes built; every image split has reference voices of every class; references that
   need a transcript have one or can get one; the emotion recognizer scores every class; every
   component's weights are there (a component fails when built without them).
2. **Captions** for this process's share of the images (``accelerate launch`` starts several
   processes; each takes every N-th image), then **speech** for their captions, then the
   DNSMOS sample. Every finished item is recorded at once (``OUT/.build``), so a killed build
   run again goes on where it stopped.
3. The main process waits for the others and writes the manifests, ``details.jsonl``,
   ``failures.json``, ``stats.json`` and the report.
"""

from __future__ import annotations

import gc
import json
import logging
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voxcore.plugin_api import (
    BuiltComponent,
    LabelledImage,
    PartLabel,
    Processes,
    ReferenceVoice,
    UserError,
    blame,
    build_component,
    check_references,
    current_processes,
    write_text_atomic,
)
from voxcore_voxemoset.captions import CaptionStage
from voxcore_voxemoset.config import VoxEmosetBuildConfig
from voxcore_voxemoset.images import ImageCollection, read_images, trial_subset
from voxcore_voxemoset.outputs import place_image, write_details, write_manifests
from voxcore_voxemoset.plan import ReferencePool, Utterance, utterance_id
from voxcore_voxemoset.quality import QualityStage, check_dnsmos_installed, quality_sample
from voxcore_voxemoset.report import build_stats, write_report
from voxcore_voxemoset.speech import SpeechStage
from voxcore_voxemoset.store import BuildStore
from voxcore_voxemoset.transcripts import ReferenceTranscripts

__all__ = ["BuildSummary", "VoxEmosetBuilder"]

log = logging.getLogger(__name__)

SOURCE = "voxcore data voxemoset"


@dataclass(frozen=True)
class BuildSummary:
    """What a finished build holds (written by the main process)."""

    utterances: dict[str, int]
    stats: dict[str, Any]


@dataclass
class _Stages:
    """Everything checked and built before any work."""

    collection: ImageCollection
    images: list[LabelledImage]
    pool: ReferencePool
    captioner: BuiltComponent | None
    captioner_label: PartLabel
    synthesizer: BuiltComponent
    recognizer: BuiltComponent
    transcriber: BuiltComponent | None


class VoxEmosetBuilder:
    """Builds VoxEmoset (or a dataset like it) from ``config``; see the module docstring."""

    def __init__(self, config: VoxEmosetBuildConfig) -> None:
        self.config = config

    def build(self, out_dir: Path) -> None:
        """Build into ``out_dir`` (created if missing), continuing a killed build there."""
        self.run(Path(out_dir))

    def run(self, out: Path) -> BuildSummary | None:
        """Build into ``out``; the summary in the main process (``None`` in the others)."""
        config = self.config
        check_references(config, SOURCE)
        processes = current_processes(config.device)
        stages = self._check(processes)
        store = BuildStore(out)
        if processes.main:
            out.mkdir(parents=True, exist_ok=True)
            store.claim({"builder": "voxemoset", "config": config.model_dump(mode="json")})
            shutil.rmtree(store.root / "timings", ignore_errors=True)  # only this run's
            if store.remove_leftovers():
                log.info("removed the temporary files of a build killed in %s", out)
        processes.barrier()
        share = stages.images[processes.index::processes.count]
        if processes.count > 1:
            log.info("process %d of %d: %d of %d images", processes.index + 1, processes.count,
                     len(share), len(stages.images))
        for component in (stages.captioner, stages.synthesizer, stages.recognizer,
                          stages.transcriber):
            if component is not None and hasattr(component.component, "to"):
                component.component.to(processes.device)
        assert stages.captioner is not None
        captions = CaptionStage(stages.captioner, store, config.captions_per_image,
                                config.caption_retries, config.caption_batch_size,
                                config.progress)
        timings: dict[str, float] = {}
        began = time.perf_counter()
        captions.run(share)
        timings["captions"] = time.perf_counter() - began
        utterances = self._utterances(share, captions)
        captions.release()
        stages.captioner = None
        gc.collect()  # the captioner's memory goes before the synthesizer needs it
        speech = SpeechStage(
            stages.synthesizer, stages.recognizer, stages.pool, store,
            config.emotion_check.threshold, config.emotion_check.retries,
            config.synthesis_batch_size, config.emotion_check.batch_size, config.sample_rate,
            transcripts=ReferenceTranscripts(stages.transcriber, store)
            if stages.transcriber is not None else None, progress=config.progress)
        began = time.perf_counter()
        speech.run(utterances)
        timings["speech"] = time.perf_counter() - began
        for image in self._images_spoken(store, utterances):
            place_image(out, image, config.link_images)
        if config.dnsmos_samples:
            sampled = quality_sample(self._planned(stages.images), config.dnsmos_samples,
                                     config.seed)
            began = time.perf_counter()
            QualityStage(store, config.progress).run([u for u in utterances if u.id in sampled])
            timings["dnsmos"] = time.perf_counter() - began
        store.write(store.root / "timings" / f"process-{processes.index}.json",
                    {"seconds": timings, "images": len(share), "utterances": len(utterances)})
        processes.barrier()
        if not processes.main:
            return None
        return self._finish(out, store, stages, captions)

    # -- checks ----------------------------------------------------------------------------

    def _check(self, processes: Processes) -> _Stages:
        config = self.config
        collection = read_images(config.images, config.emotions)
        images = collection.images
        if config.limit is not None:
            images = trial_subset(images, config.limit)
        voices = self._voices()
        pool = ReferencePool(voices, config.emotions, config.reference_splits, config.seed)
        gaps = pool.missing(config.images.splits)
        if gaps:
            corpora = ", ".join(ref.name for ref in config.voices)
            raise UserError(
                f"voices: the reference voices ({corpora}) have no utterance of "
                f"{', '.join(gaps)} (reference split/emotion); every image split needs "
                f"references of every class built ({', '.join(config.emotions)}). Add a corpus "
                "that has them (--voices NAME=FOLDER), or check the corpora's emotion and "
                f"split settings. Found: {json.dumps(pool.counts())}")
        synthesizer = build_component(config.synthesizer, "synthesizer")
        transcriber = self._transcriber(synthesizer, voices)
        recognizer = self._recognizer(processes)
        unknown = [e for e in config.emotions if e not in list(recognizer.component.emotions)]
        if unknown:
            raise UserError(f"emotion_check.recognizer: {recognizer.label} scores "
                            f"{', '.join(map(str, recognizer.component.emotions))}, not "
                            f"{', '.join(unknown)}; choose a recognizer of every class built")
        captioner = build_component(config.captioner, "captioner")
        if config.dnsmos_samples:
            check_dnsmos_installed()
        if processes.main:
            log.info("%d images to describe (%s), %d reference voices: %s", len(images),
                     collection.source, len(voices), json.dumps(pool.counts()))
        return _Stages(collection, images, pool, captioner, captioner.label, synthesizer,
                       recognizer, transcriber)

    def _voices(self) -> list[ReferenceVoice]:
        voices: list[ReferenceVoice] = []
        for index, ref in enumerate(self.config.voices):
            corpus = build_component(ref, f"voices[{index}]")
            with blame(corpus.label, "listing its voices"):
                voices += list(corpus.component.voices())
        return voices

    def _transcriber(self, synthesizer: BuiltComponent,
                     voices: Sequence[ReferenceVoice]) -> BuiltComponent | None:
        config = self.config
        if not bool(synthesizer.component.needs_reference_transcripts):
            return None
        used = {config.reference_splits[s] for s in config.images.splits}
        lacking = sorted({v.corpus for v in voices if v.transcript is None and v.split in used
                          and v.emotion in config.emotions})
        if not lacking:
            return None
        if config.asr is None:
            raise UserError(
                f"synthesizer: {synthesizer.label} imitates a reference with its transcript, "
                f"and references of {', '.join(lacking)} come without one; set asr: {{name: "
                "asr}} (Whisper) to transcribe them, or give the corpus its sentences")
        transcriber = build_component(config.asr, "asr")
        if not hasattr(transcriber.component, "transcribe"):
            raise UserError(f"asr: {transcriber.label} cannot transcribe (it has no "
                            "'transcribe'); name a transcriber such as 'asr'")
        return transcriber

    def _recognizer(self, processes: Processes) -> BuiltComponent:
        ref = self.config.emotion_check.recognizer
        from voxcore.plugin_api import get_registry

        entry = get_registry("emotion_recognizer").get(ref.name)
        if "train_voices" in entry.config_model.model_fields \
                and ref.config.get("train_voices") is None:
            # Filled in from the build, as a recipe fills in a bottleneck's widths, unless
            # the config learns from something else (then filling it in makes it invalid).
            voices = [v.model_dump(mode="json") for v in self.config.voices]
            filled = {**ref.config, "train_voices": voices}
            try:
                entry.validate_config(filled)
                ref = ref.model_copy(update={"config": filled})
            except ValueError:
                pass
        section = "emotion_check.recognizer"
        if processes.main:
            built = build_component(ref, section)
            processes.barrier()
            return built
        processes.barrier()
        return build_component(ref, section, prepare=False)

    # -- plan ------------------------------------------------------------------------------

    def _planned(self, images: Sequence[LabelledImage]) -> list[Utterance]:
        """Every utterance the build could make (text unknown before captioning)."""
        return [Utterance(utterance_id(image, k), image, k, "")
                for image in images for k in range(self.config.captions_per_image)]

    def _utterances(self, images: Sequence[LabelledImage],
                    captions: CaptionStage) -> list[Utterance]:
        found = []
        for image in images:
            record = captions.captions_of(image)
            if record is None or not record.get("captions"):
                continue
            found += [Utterance(utterance_id(image, k), image, k, text)
                      for k, text in enumerate(record["captions"])]
        return found

    @staticmethod
    def _images_spoken(store: BuildStore, utterances: Sequence[Utterance]
                       ) -> list[LabelledImage]:
        """The images at least one of whose utterances was written (each record read once)."""
        spoken: dict[str, LabelledImage] = {}
        for utterance in utterances:
            if utterance.image.id in spoken:
                continue
            record = store.read(store.utterance_path(utterance.image.split, utterance.id))
            if record is not None and record.get("status") == "ok":
                spoken[utterance.image.id] = utterance.image
        return list(spoken.values())

    # -- output ----------------------------------------------------------------------------

    @staticmethod
    def _seconds(store: BuildStore) -> dict[str, Any]:
        """What ``timings.json`` says: each process's seconds per stage in this run (a
        resumed run times only what it had left to do) and their sum."""
        processes = {}
        total: dict[str, float] = {}
        for path in sorted((store.root / "timings").glob("process-*.json")):
            found = store.read(path) or {}
            processes[path.stem] = found
            for stage, seconds in dict(found.get("seconds", {})).items():
                total[stage] = round(total.get(stage, 0.0) + float(seconds), 2)
        return {"stages_summed_over_processes": total, "processes": processes}

    def _finish(self, out: Path, store: BuildStore, stages: _Stages,
                captions: CaptionStage) -> BuildSummary:
        config = self.config
        images = {image.id: image for image in stages.images}
        records: list[dict[str, Any]] = []
        caption_failures: list[str] = []
        for image in stages.images:
            found = captions.captions_of(image)
            if found is None or not found.get("captions"):
                why = found.get("failure") if found else "not captioned"
                caption_failures.append(f"{image.id} ({image.path}): {why}")
                continue
            for k in range(len(found["captions"])):
                record = store.read(store.utterance_path(image.split, utterance_id(image, k)))
                if record is None:
                    raise UserError(f"utterance {utterance_id(image, k)} has no record after "
                                    "every process finished; run the build again to make it")
                records.append(record)
        records.sort(key=lambda r: (config.images.splits.index(r["split"]), r["id"]))
        counts = write_manifests(out, config.images.splits, records, images)
        write_details(out, records)
        utterance_failures = [
            f"{r['id']} ({r['status']}): " + (r.get("error") or "scores " + ", ".join(
                f"{a['confidence']:.2f}" for a in r["attempts"] if a["confidence"] is not None))
            for r in records if r["status"] != "ok"]
        skipped = [f"{s.where}: {s.reason}" for s in stages.collection.skipped]
        failures = {"skipped_images": skipped, "caption_failures": caption_failures,
                    "utterance_failures": utterance_failures}
        write_text_atomic(out / "failures.json", json.dumps(failures, indent=2) + "\n")
        attempts: dict[str, int] = {}
        for record in records:
            key = str(len(record["attempts"]))
            attempts[key] = attempts.get(key, 0) + 1
        build = {
            **failures, "left_out": dict(stages.collection.left_out),
            "images_source": stages.collection.source,
            "images_planned": len(stages.images), "utterances_planned": len(records),
            "attempts": attempts, "references": stages.pool.counts(),
            "captioner": str(stages.captioner_label), "synthesizer": str(stages.synthesizer.label),
            "recognizer": str(stages.recognizer.label),
            "threshold": config.emotion_check.threshold, "retries": config.emotion_check.retries,
        }
        # Apart from stats.json: seconds differ from run to run, the dataset does not.
        write_text_atomic(out / "timings.json", json.dumps(self._seconds(store), indent=2) + "\n")
        stats = build_stats(records, config.images.splits, config.emotions, build)
        write_report(out, stats, records, images, config.examples_per_class)
        log.info("VoxEmoset written to %s: %s utterances (%s); report %s", out,
                 sum(counts.values()), ", ".join(f"{k} {v}" for k, v in counts.items()),
                 out / "report.md")
        return BuildSummary(counts, stats)
