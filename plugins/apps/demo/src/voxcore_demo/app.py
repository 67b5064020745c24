"""The demo's web page (Gradio Blocks): speak or upload, see each run's images side by side;
an Edit tab for generators that can edit. Every answer comes from
:class:`voxcore_demo.service.DemoService`; this module only lays it out."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, cast

import gradio as gr

from voxcore.plugin_api import UserError
from voxcore_demo.service import Controls, DemoService, RunImages

__all__ = ["build_app"]

logger = logging.getLogger(__name__)

# System fonts: the default theme's web fonts would be fetched from the internet.
_FONTS = ["ui-sans-serif", "system-ui", "sans-serif"]
_MONO = ["ui-monospace", "monospace"]
# The quickstart's images are 16 px: keep their pixels sharp when shown larger.
_CSS = ".vx-gallery img { image-rendering: pixelated; }"
_KIND = {"speech": "speech", "text": "text baseline", "cascade": "speech recognised, then text"}


def build_app(service: DemoService) -> gr.Blocks:
    """The page for ``service``'s runs."""
    first = service.runs[0]
    defaults = first.loaded.resolved.recipe.generate
    takes_text = any(run.kind == "text" for run in service.runs)
    theme = gr.themes.Default(font=_FONTS, font_mono=_MONO)
    with gr.Blocks(title="voxcore demo", theme=theme, css=_CSS, analytics_enabled=False,
                   delete_cache=(300, 900)) as app:
        gr.Markdown("# voxcore demo\n" + "\n".join(
            f"- **{run.name}**: {run.components} ({_KIND[run.kind]}; step {run.loaded.step}, "
            f"loaded in {run.load_seconds:.1f} s)" for run in service.runs))
        with gr.Accordion("Sampling", open=True):
            with gr.Row():
                count = gr.Slider(1, service.limits.max_images, value=1, step=1,
                                  label="Images per run")
                seed = gr.Number(value=0, precision=0, label="Seed", elem_id="vx-seed")
                random_seed = gr.Checkbox(value=False, label="Random seed")
            with gr.Row():
                steps = gr.Slider(1, max(100, 2 * defaults.steps), value=defaults.steps, step=1,
                                  label="Sampling steps")
                guidance = gr.Slider(0.0, max(15.0, 2 * defaults.guidance_scale),
                                     value=defaults.guidance_scale, step=0.5,
                                     label="Guidance scale")
                scheduler = gr.Dropdown(_scheduler_choices(service), value=defaults.scheduler,
                                        label="Scheduler")
            gr.Markdown(f"Defaults are {first.name}'s recipe. Image *i* uses seed + *i*, the "
                        "image `voxcore generate --seed` gives.")
        controls = [count, seed, random_seed, steps, guidance, scheduler]
        with gr.Tabs():
            with gr.Tab("Generate"):
                _generate_tab(service, controls, takes_text)
            if service.editing_runs:
                with gr.Tab("Edit"):
                    _edit_tab(service, controls)
    return cast(gr.Blocks, app)


def _scheduler_choices(service: DemoService) -> list[str]:
    listed = [run.schedulers for run in service.runs]
    names = [run.loaded.resolved.recipe.generate.scheduler for run in service.runs]
    common = set.intersection(*(set(s) for s in listed if s is not None)) if any(
        s is not None for s in listed) else set()
    return sorted(common | set(names))


def _generate_tab(service: DemoService, controls: list[Any], takes_text: bool) -> None:
    with gr.Row():
        with gr.Column():
            audio = gr.Audio(sources=["microphone", "upload"], type="filepath",
                             label="Speak or upload (wav, flac, ogg)", elem_id="vx-audio")
            text = gr.Textbox(label="Sentence for text runs (typed, or filled by an example)",
                              visible=takes_text, elem_id="vx-text")
            run_button = gr.Button("Generate", variant="primary", elem_id="vx-generate")
        if service.examples:
            with gr.Column():
                gr.Examples([[str(e.audio), e.transcript] for e in service.examples],
                            inputs=[audio, text], example_labels=[e.caption
                                                                  for e in service.examples],
                            label="Examples from the evaluation data")
    status = gr.Markdown(elem_id="vx-status")
    outputs: list[Any] = [status]
    with gr.Row():
        for index, run in enumerate(service.runs):
            with gr.Column():
                gr.Markdown(f"### {run.name}\n{run.components}")
                outputs.append(gr.Gallery(label=run.name, columns=4, height=280,
                                          preview=False, format="png", object_fit="contain",
                                          elem_classes=["vx-gallery"],
                                          elem_id=f"vx-gallery-{index}"))
                outputs.append(gr.Markdown(elem_id=f"vx-info-{index}"))
    # A new recording or upload is a new sentence: a stale transcript would mislead text runs.
    audio.upload(lambda: "", outputs=[text])
    audio.stop_recording(lambda: "", outputs=[text])

    def generate(audio_path: str | None, sentence: str, *values: Any,
                 progress: gr.Progress = gr.Progress()) -> list[Any]:  # noqa: B008
        empty = [None, ""] * len(service.runs)
        try:
            used, answers = service.generate(audio_path, sentence, _controls(*values),
                                             _reporter(progress))
        except UserError as exc:
            return [f"**Error:** {exc}", *empty]
        return [f"seed {used.seed}", *[part for answer in answers
                                       for part in _shown(answer)]]

    run_button.click(generate, inputs=[audio, text, *controls], outputs=outputs,
                     api_name="generate", concurrency_id="sampling")


def _edit_tab(service: DemoService, controls: list[Any]) -> None:
    runs = service.editing_runs
    with gr.Row():
        image = gr.Image(type="filepath", label="Image to edit", elem_id="vx-edit-image")
        with gr.Column():
            audio = gr.Audio(sources=["microphone", "upload"], type="filepath",
                             label="Speak or upload the edit", elem_id="vx-edit-audio")
            text = gr.Textbox(label="Sentence (text runs)",
                              visible=any(run.kind == "text" for run in runs))
            run = gr.Dropdown([r.name for r in runs], value=runs[0].name, label="Run")
            strength = gr.Slider(0.05, 1.0, value=0.6, step=0.05,
                                 label="Strength (how much the image changes)")
            button = gr.Button("Edit", variant="primary", elem_id="vx-edit")
    status = gr.Markdown(elem_id="vx-edit-status")
    gallery = gr.Gallery(label="Edited", columns=4, height=280, preview=False, format="png",
                         object_fit="contain", elem_classes=["vx-gallery"],
                         elem_id="vx-edit-gallery")
    info = gr.Markdown()

    def edit(name: str, image_path: str | None, audio_path: str | None, sentence: str,
             amount: float, *values: Any,
             progress: gr.Progress = gr.Progress()) -> list[Any]:  # noqa: B008
        try:
            used, answer = service.edit(name, image_path, audio_path, sentence, amount,
                                        _controls(*values), _reporter(progress))
        except UserError as exc:
            return [f"**Error:** {exc}", None, ""]
        return [f"seed {used.seed}", *_shown(answer)]

    button.click(edit, inputs=[run, image, audio, text, strength, *controls],
                 outputs=[status, gallery, info], api_name="edit", concurrency_id="sampling")


def _controls(count: float, seed: float | None, random_seed: bool, steps: float,
              guidance: float, scheduler: str | None) -> Controls:
    if not random_seed and seed is None:
        raise UserError("give a seed or tick 'Random seed'")
    return Controls(int(count), None if random_seed else int(seed or 0), int(steps),
                    float(guidance), scheduler or None)


def _reporter(progress: gr.Progress) -> Callable[[int, int, str], None]:
    def report(done: int, total: int, what: str) -> None:
        progress((done, total), desc=what)
    return report


def _shown(answer: RunImages) -> list[Any]:
    """A run's gallery and the line under it."""
    if answer.error is not None:
        return [None, f"**Error:** {answer.error}"]
    pictures = [(image, f"{seconds:.2f} s") for image, seconds in zip(answer.images,
                                                                       answer.seconds,
                                                                       strict=True)]
    size = answer.images[0].size if answer.images else (0, 0)
    times = ", ".join(f"{seconds:.2f} s" for seconds in answer.seconds)
    line = f"{len(answer.images)} image(s) of {size[0]}×{size[1]} px; each took {times}"
    if answer.heard is not None:
        said = "heard" if answer.kind == "cascade" else "conditioned on the text"
        line += f"  \n{said}: “{answer.heard}”"
    return [pictures, line]
