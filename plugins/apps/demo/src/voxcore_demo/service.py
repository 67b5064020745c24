"""What the demo does, without the web page: runs loaded once, and answers to generate,
compare and edit requests with the CLI's checks and messages. The Gradio page
(:mod:`voxcore_demo.app`) only lays this out; the tests call it directly."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from voxcore.plugin_api import ListsSchedulers, LoadedRun, UserError, unique_names
from voxcore_demo.examples import Example, pick_examples

if TYPE_CHECKING:
    from PIL import Image

    from voxcore.plugin_api import Waveform

__all__ = ["Controls", "DemoRun", "DemoService", "Limits", "RunImages"]

logger = logging.getLogger(__name__)

Kind = Literal["speech", "text", "cascade"]
#: ``progress(done, total, what)`` is called before each image is drawn.
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Limits:
    """What one request may ask for (the server refuses more, saying which limit)."""

    max_upload_bytes: int = 20 * 2**20
    max_seconds: float = 30.0
    max_images: int = 8


@dataclass(frozen=True)
class Controls:
    """Sampling settings of one request; ``None`` takes each run's recipe value, and a
    ``seed`` of ``None`` draws one (reported back). Image ``i`` uses seed ``seed + i``, the
    same image ``voxcore generate --seed SEED+i`` makes of the same input."""

    count: int = 1
    seed: int | None = 0
    steps: int | None = None
    guidance: float | None = None
    scheduler: str | None = None


@dataclass
class DemoRun:
    """One loaded run, labelled for the page."""

    name: str
    loaded: LoadedRun
    load_seconds: float

    @property
    def components(self) -> str:
        """``encoder → bottleneck → generator`` as the recipe names them."""
        recipe = self.loaded.resolved.recipe
        return f"{recipe.encoder.name} → {recipe.bottleneck.name} → {recipe.generator.name}"

    @property
    def kind(self) -> Kind:
        """What the run listens to: speech, text, or speech it transcribes (a cascade)."""
        model = self.loaded.model
        if model.transcriber is not None:
            return "cascade"
        return "text" if model.modality == "text" else "speech"

    @property
    def can_edit(self) -> bool:
        """Whether its generator can redraw an image (the Edit tab)."""
        return bool(self.loaded.model.can_edit)

    @property
    def schedulers(self) -> list[str] | None:
        """The samplers its generator names, when it names them."""
        generator = self.loaded.model.generator
        return list(generator.schedulers) if isinstance(generator, ListsSchedulers) else None


@dataclass(frozen=True)
class Prompt:
    """What one run is conditioned on: an utterance, or a sentence (typed or heard)."""

    waveform: Waveform | None = None
    text: str | None = None


@dataclass
class RunImages:
    """One run's answer to a request: its images and the time each took, what it was
    conditioned on when that was text (typed, or what a cascade heard), or the error."""

    run: str
    components: str
    kind: Kind = "speech"
    images: list[Image.Image] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    heard: str | None = None
    error: str | None = None


class DemoService:
    """The loaded runs and what can be asked of them."""

    def __init__(self, runs: Sequence[DemoRun], limits: Limits | None = None,
                 examples: Sequence[Example] = ()) -> None:
        if not runs:
            raise UserError("give at least one run to serve")
        self.runs = list(runs)
        self.limits = limits or Limits()
        self.examples = list(examples)

    @classmethod
    def load(cls, folders: Sequence[Path], *, device: str = "cpu", use_ema: bool = True,
             limits: Limits | None = None, examples: int = 5) -> DemoService:
        """Load every run (each once, timed) and pick the example utterances from the first
        run that has evaluation data with audio."""
        from voxcore.plugin_api import load_run

        runs = []
        for folder, name in zip(folders, unique_names([f.name or str(f) for f in folders]),
                                strict=True):
            started = time.perf_counter()
            loaded = load_run(folder, use_ema=use_ema, device=device)
            loaded.model.eval()
            seconds = time.perf_counter() - started
            runs.append(DemoRun(name, loaded, seconds))
            logger.info("loaded %s (%s) from %s in %.1f s", name, runs[-1].components,
                        loaded.source, seconds)
        chosen: list[Example] = []
        for run in runs:
            chosen = pick_examples(run.loaded, examples)
            if chosen:
                break
        return cls(runs, limits, chosen)

    @property
    def editing_runs(self) -> list[DemoRun]:
        """The runs whose generator can edit."""
        return [run for run in self.runs if run.can_edit]

    def run_named(self, name: str) -> DemoRun:
        """The loaded run called ``name``."""
        for run in self.runs:
            if run.name == name:
                return run
        raise UserError(f"no run named {name!r} is loaded; loaded: "
                        f"{', '.join(run.name for run in self.runs)}")

    def read_audio(self, path: str | Path) -> Waveform:
        """An uploaded or recorded file, checked as the CLI checks it, within the limits."""
        from voxcore.plugin_api import load_audio

        file = Path(path)
        label = file.name
        if file.is_file() and file.stat().st_size > self.limits.max_upload_bytes:
            size = file.stat().st_size / 2**20
            raise UserError(f"{label} is {size:.1f} MB; this demo takes files up to "
                            f"{self.limits.max_upload_bytes / 2**20:.0f} MB (start it with "
                            "--max-upload-mb to allow more)")
        waveform = load_audio(file)
        seconds = waveform.samples.shape[-1] / waveform.sample_rate
        if seconds > self.limits.max_seconds:
            raise UserError(f"{label} is {seconds:.1f} s long; this demo takes utterances up "
                            f"to {self.limits.max_seconds:g} s (start it with --max-seconds "
                            "to allow longer ones)")
        return waveform

    def _checked(self, controls: Controls) -> Controls:
        if not 1 <= controls.count <= self.limits.max_images:
            raise UserError(f"ask for 1 to {self.limits.max_images} images, not "
                            f"{controls.count} (--max-images sets the limit)")
        if controls.steps is not None and controls.steps < 1:
            raise UserError(f"sampling steps must be at least 1, got {controls.steps}")
        if controls.guidance is not None and controls.guidance < 0:
            raise UserError(f"guidance scale must be 0 or more, got {controls.guidance}")
        if controls.seed is None:
            return Controls(controls.count, random.randrange(2**31), controls.steps,
                            controls.guidance, controls.scheduler)
        return controls

    def generate(self, audio: str | Path | None, text: str | None, controls: Controls,
                 progress: Progress | None = None) -> tuple[Controls, list[RunImages]]:
        """The same input to every run, side by side: speech runs take ``audio``, text runs
        ``text`` (or, when none is typed, what a loaded cascade heard). Returns the controls
        used (the drawn seed filled in) and one :class:`RunImages` per run; a run that
        cannot answer carries its error and the others still answer. Input the request
        cannot be read from at all (a silent file, nothing given) is a :class:`UserError`."""
        controls = self._checked(controls)
        text = (text or "").strip() or None
        if audio is None and text is None:
            raise UserError("record or upload an utterance (or, for a text run, type a "
                            "sentence) first")
        waveform = self.read_audio(audio) if audio is not None else None
        heard_by_cascade: str | None = None
        answers: list[RunImages] = []
        total = controls.count * len(self.runs)
        for index, run in enumerate(self.runs):
            answer = RunImages(run.name, run.components, run.kind)
            answers.append(answer)
            try:
                prompt = self._prompt_for(run, waveform, text, heard_by_cascade)
                if run.kind == "cascade":
                    heard_by_cascade = heard_by_cascade or prompt.text
                answer.heard = prompt.text
                self._draw(run, prompt, controls, answer, progress, index * controls.count,
                           total)
            except UserError as exc:
                answer.error = str(exc)
            except Exception as exc:  # the page must keep serving; the log has the details
                logger.exception("%s failed", run.name)
                answer.error = (f"{run.name} failed: {type(exc).__name__}: {exc} (the "
                                "server's log has the traceback)")
        return controls, answers

    def _prompt_for(self, run: DemoRun, waveform: Waveform | None, text: str | None,
                    heard: str | None) -> Prompt:
        if run.kind == "text":
            if text is None and heard is None:
                raise UserError("this is a text run: type the sentence in the text box (or "
                                "load a cascade run beside it to use what it hears)")
            return Prompt(text=text if text is not None else heard)
        if waveform is None:
            raise UserError("this run listens to speech: record or upload an utterance")
        if run.kind == "cascade":
            return Prompt(text=run.loaded.model.transcribe([waveform])[0])
        return Prompt(waveform=waveform)

    def _draw(self, run: DemoRun, prompt: Prompt, controls: Controls, answer: RunImages,
              progress: Progress | None, done: int, total: int) -> None:
        from voxcore.plugin_api import generate_images, settings_with, to_pil

        settings = settings_with(run.loaded.resolved.recipe.generate, controls.steps,
                                 controls.guidance, controls.scheduler)
        assert controls.seed is not None
        for number in range(controls.count):
            if progress is not None:
                progress(done + number, total, f"{run.name}: image {number + 1} of "
                                               f"{controls.count}")
            started = time.perf_counter()
            images = generate_images(run.loaded.model, settings, controls.seed + number,
                                     **_inputs(prompt))
            answer.seconds.append(time.perf_counter() - started)
            answer.images.append(to_pil(images[0]))

    def edit(self, run_name: str, image: str | Path | None, audio: str | Path | None,
             text: str | None, strength: float, controls: Controls,
             progress: Progress | None = None) -> tuple[Controls, RunImages]:
        """``image`` redrawn by one run under an utterance (or, for a text run, a sentence);
        ``strength`` in (0, 1] is how much it changes."""
        from voxcore.plugin_api import edit_images, load_image, settings_with, to_pil

        run = self.run_named(run_name)
        run.loaded.model.require_editing()
        if not 0.0 < strength <= 1.0:
            raise UserError(f"strength must be in (0, 1], got {strength}")
        if image is None:
            raise UserError("upload the image to edit first")
        controls = self._checked(controls)
        text = (text or "").strip() or None
        if audio is None and text is None:
            raise UserError("record or upload the utterance to edit the image with first")
        waveform = self.read_audio(audio) if audio is not None else None
        picture = load_image(image, run.loaded.model.generator_part.resolution)
        prompt = self._prompt_for(run, waveform, text, None)
        answer = RunImages(run.name, run.components, run.kind, heard=prompt.text)
        settings = settings_with(run.loaded.resolved.recipe.generate, controls.steps,
                                 controls.guidance, controls.scheduler)
        assert controls.seed is not None
        for number in range(controls.count):
            if progress is not None:
                progress(number, controls.count, f"{run.name}: edit {number + 1} of "
                                                 f"{controls.count}")
            started = time.perf_counter()
            edited = edit_images(run.loaded.model, settings, controls.seed + number,
                                 picture.unsqueeze(0), strength, **_inputs(prompt))
            answer.seconds.append(time.perf_counter() - started)
            answer.images.append(to_pil(edited[0]))
        return controls, answer


def _inputs(prompt: Prompt) -> dict[str, Any]:
    """``prompt`` as the keyword arguments of ``generate_images`` / ``edit_images``."""
    if prompt.waveform is not None:
        return {"waveforms": [prompt.waveform]}
    return {"texts": [prompt.text]}
