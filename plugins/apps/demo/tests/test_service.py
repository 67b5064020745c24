"""The demo's answers without a browser: generation, comparison, edit, limits and errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile
from PIL import Image
from voxcore_demo.examples import Example, _one_per_manner, pick_examples
from voxcore_demo.service import Controls, DemoService, Limits

from voxcore.plugin_api import Sample, UserError


@pytest.fixture(scope="module")
def service(quickstart_runs: Path) -> DemoService:
    runs = quickstart_runs / "runs"
    return DemoService.load([runs / "speech", runs / "text"])


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.int16)


def test_runs_are_loaded_once_and_labelled(service: DemoService) -> None:
    assert [run.name for run in service.runs] == ["speech", "text"]
    assert [run.kind for run in service.runs] == ["speech", "text"]
    assert service.runs[0].components == "ctc-words → words-prosody → tiny-unet"
    assert service.runs[1].components == "text → identity → tiny-unet"
    assert all(run.load_seconds > 0 and run.can_edit for run in service.runs)
    manners = [example.manner for example in service.examples]
    assert len(manners) >= 4 and len(set(manners)) == len(manners)  # one per mood
    assert all(example.audio.is_file() and example.transcript for example in service.examples)


def test_the_same_input_goes_to_each_run_side_by_side(service: DemoService) -> None:
    example = service.examples[0]
    used, answers = service.generate(example.audio, example.transcript,
                                     Controls(count=2, seed=3))
    assert used.seed == 3
    speech, text = answers
    assert (speech.run, text.run) == ("speech", "text")
    for answer in answers:
        assert answer.error is None
        assert [image.size for image in answer.images] == [(16, 16), (16, 16)]
        assert len(answer.seconds) == 2 and all(s > 0 for s in answer.seconds)
        assert not np.array_equal(pixels(answer.images[0]), pixels(answer.images[1]))
    assert speech.heard is None
    assert text.heard == example.transcript


def test_image_i_is_what_voxcore_generate_gives_with_seed_plus_i(
        service: DemoService, quickstart_runs: Path, tmp_path: Path) -> None:
    audio = service.examples[1].audio
    _, answers = service.generate(audio, None, Controls(count=2, seed=5))
    speech, text = answers
    assert text.error is not None and "type the sentence" in text.error  # speech only
    result = subprocess.run(
        [sys.executable, "-m", "voxcore.cli", "generate", str(quickstart_runs / "runs/speech"),
         "--audio", str(audio), "--seed", "6", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    with Image.open(tmp_path / f"{audio.stem}.png") as written:
        assert np.array_equal(pixels(written.convert("RGB")), pixels(speech.images[1]))


def test_a_random_seed_is_drawn_and_reported(service: DemoService) -> None:
    audio = service.examples[0].audio
    used, answers = service.generate(audio, None, Controls(seed=None))
    assert used.seed is not None
    _, again = service.generate(audio, None, Controls(seed=used.seed))
    assert np.array_equal(pixels(answers[0].images[0]), pixels(again[0].images[0]))


def test_settings_reach_the_sampler(service: DemoService) -> None:
    audio = service.examples[0].audio
    _, default = service.generate(audio, None, Controls())
    _, fewer = service.generate(audio, None, Controls(steps=2, guidance=0.0, scheduler="ddim"))
    assert not np.array_equal(pixels(default[0].images[0]), pixels(fewer[0].images[0]))
    _, wrong = service.generate(audio, None, Controls(scheduler="no-such-sampler"))
    assert wrong[0].error is not None and "no-such-sampler" in wrong[0].error


def write_noise(path: Path, seconds: float) -> Path:
    noise = np.random.default_rng(0).uniform(-0.3, 0.3, int(16000 * seconds))
    soundfile.write(path, noise.astype("float32"), 16000)
    return path


@pytest.mark.parametrize(("make", "controls", "message"), [
    (lambda folder, silent: silent, Controls(), "is silent"),
    (lambda folder, silent: None, Controls(), "record or upload an utterance"),
    (lambda folder, silent: write_noise(folder / "long.wav", 31), Controls(),
     "up to 30 s (start it with --max-seconds"),
    (lambda folder, silent: (folder / "bad.wav").write_bytes(b"RIFF not audio") and
     folder / "bad.wav", Controls(), "could not be read as audio"),
    (lambda folder, silent: write_noise(folder / "ok.wav", 1), Controls(count=9),
     "ask for 1 to 8 images"),
    (lambda folder, silent: write_noise(folder / "ok.wav", 1), Controls(steps=0),
     "at least 1"),
])
def test_bad_input_is_refused_with_a_clear_message_and_the_next_request_works(
        service: DemoService, silent_wav: Path, tmp_path: Path, make: object,
        controls: Controls, message: str) -> None:
    audio = make(tmp_path, silent_wav)  # type: ignore[operator]
    with pytest.raises(UserError, match=message.replace("(", r"\(")):
        service.generate(audio, None, controls)
    _, answers = service.generate(service.examples[0].audio, "one circle", Controls())
    assert all(answer.error is None and answer.images for answer in answers)


def test_uploads_past_the_size_limit_are_refused(service: DemoService, tmp_path: Path) -> None:
    small = DemoService(service.runs, Limits(max_upload_bytes=10_000))
    with pytest.raises(UserError, match=r"up to 0 MB \(start it with --max-upload-mb"):
        small.generate(write_noise(tmp_path / "a.wav", 1), None, Controls())


def test_a_failing_run_reports_its_error_and_the_others_still_answer(
        service: DemoService, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("sampler exploded")

    monkeypatch.setattr(service.runs[1].loaded.model, "sample", broken)
    example = service.examples[0]
    _, answers = service.generate(example.audio, example.transcript, Controls())
    assert answers[0].error is None and answers[0].images
    assert answers[1].error == ("text failed: RuntimeError: sampler exploded (the server's log "
                                "has the traceback)")
    monkeypatch.undo()
    _, answers = service.generate(example.audio, example.transcript, Controls())
    assert answers[1].error is None


def test_edit_redraws_an_image_under_an_utterance(service: DemoService,
                                                  quickstart_runs: Path) -> None:
    image = quickstart_runs / "mood_grid.png"
    audio = service.examples[2].audio
    _, edited = service.edit("speech", image, audio, None, 0.5, Controls(count=2, seed=1))
    assert edited.error is None and [i.size for i in edited.images] == [(16, 16)] * 2
    _, by_text = service.edit("text", image, None, "one circle", 0.5, Controls())
    assert by_text.heard == "one circle" and by_text.images
    for args, message in [(("speech", image, audio, None, 0.0), "strength must be in"),
                          (("speech", None, audio, None, 0.5), "upload the image"),
                          (("nope", image, audio, None, 0.5), "no run named 'nope'"),
                          (("speech", image, None, None, 0.5), "record or upload")]:
        with pytest.raises(UserError, match=message):
            service.edit(*args, Controls())  # type: ignore[arg-type]


def sample(index: int, mood: str, sentence: str) -> Sample:
    return Sample(f"s{index}", Path(f"{index}.wav"), None, sentence, None, {"mood": mood})


def test_examples_take_one_mood_each_preferring_the_same_sentence() -> None:
    samples = [sample(0, "anger", "a ring"), sample(1, "fear", "a bar"),
               sample(2, "anger", "a bar"), sample(3, "sadness", "a bar"),
               sample(4, "enjoyment", "a dot"), sample(5, "fear", "a ring")]
    chosen = _one_per_manner(samples, 5)
    assert [(s.labels["mood"], s.transcript) for s in chosen] == [
        ("anger", "a bar"), ("enjoyment", "a dot"), ("fear", "a bar"), ("sadness", "a bar")]
    assert len(_one_per_manner(samples, 2)) == 2
    assert _one_per_manner([Sample("x", Path("x.wav"), None, "hi")], 5) == []
    assert Example(Path("x.wav"), "hi", "fear").caption == "fear: “hi”"


def test_a_run_whose_dataset_is_gone_has_no_examples() -> None:
    def gone() -> None:
        raise FileNotFoundError("data/voxshapes/test.jsonl")

    spec = SimpleNamespace(label="dataset 'voxshapes' (data.eval[0])", build=gone)
    run = SimpleNamespace(resolved=SimpleNamespace(eval_data=[spec], train_data=[]))
    assert pick_examples(run, 5) == []  # type: ignore[arg-type]


def tab_labels(app: object) -> list[str]:
    import gradio as gr

    return [block.label for block in app.blocks.values()  # type: ignore[attr-defined]
            if isinstance(block, gr.Tab)]


def test_the_edit_tab_is_shown_only_when_a_generator_can_edit(
        service: DemoService, monkeypatch: pytest.MonkeyPatch) -> None:
    from voxcore_demo.app import build_app
    from voxcore_demo.service import DemoRun

    assert tab_labels(build_app(service)) == ["Generate", "Edit"]
    monkeypatch.setattr(DemoRun, "can_edit", property(lambda run: False))
    assert tab_labels(build_app(service)) == ["Generate"]


def test_each_answer_says_what_it_was_conditioned_on() -> None:
    from voxcore_demo.app import _shown
    from voxcore_demo.service import RunImages

    picture = Image.new("RGB", (16, 16))
    heard = _shown(RunImages("asr", "parts", "cascade", [picture], [0.5], heard="a ring"))
    assert heard[1] == "1 image(s) of 16×16 px; each took 0.50 s  \nheard: “a ring”"
    typed = _shown(RunImages("text", "parts", "text", [picture], [0.5], heard="a ring"))
    assert typed[1].endswith("conditioned on the text: “a ring”")
    failed = _shown(RunImages("speech", "parts", error="is silent"))
    assert failed == [None, "**Error:** is silent"]
