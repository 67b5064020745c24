"""``voxcore recipe check`` assembles the model on the meta device and reports, at dotted keys,
every way its parts do not fit, together with config errors; nothing is read or trained."""

from __future__ import annotations

from pathlib import Path

import pytest

from voxcore.cli import main

REPO = Path(__file__).parent.parent
SPEECH = str(REPO / "recipes" / "quickstart" / "speech.yaml")
SIB_TINY = str(REPO / "recipes" / "speech-sib-tiny.yaml")


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    status = main(["recipe", "check", *args])
    captured = capsys.readouterr()
    return status, captured.out + captured.err


@pytest.mark.parametrize(("recipe", "overrides", "key", "words"), [
    # the example: words-prosody gives a pooled vector, the generator takes none
    (SPEECH, ["generator.config.pooled_dim=null"], "generator.config.pooled_dim",
     "always gives a pooled vector"),
    # a width written in the recipe that the encoder contradicts
    (SIB_TINY, ["bottleneck.config.input_dim=100"], "bottleneck.config.input_dim",
     "is 100 but the encoder's output_dim is 80"),
    # the bottleneck's own check of a width filled in from the encoder
    (SIB_TINY, ["bottleneck.config.num_heads=7"], "bottleneck.config",
     "num_heads=7 must divide"),
    # an ability the recipe asks for that the generator lacks
    (SIB_TINY, ["train.gradient_checkpointing=true"], "train.gradient_checkpointing",
     "does not support gradient checkpointing"),
    # a sampler the generator does not have
    (SIB_TINY, ["generate.scheduler=euler"], "generate.scheduler",
     "'euler' is not a sampler of generator 'tiny-unet'"),
    # a registered component named inside a component's config
    (SPEECH, ["encoder.config.train_data.name=voxshape"], "encoder.config.train_data.name",
     "did you mean 'voxshapes'"),
    # a bottleneck that reads another encoder's features
    (SIB_TINY, ["bottleneck.name=words-prosody", "generator.config.pooled_dim=128"], "encoder",
     "not wider than prosody_dim=80"),
])
def test_parts_that_do_not_fit_exit_2_at_the_key(
        capsys: pytest.CaptureFixture[str], recipe: str, overrides: list[str], key: str,
        words: str) -> None:
    status, output = check(capsys, recipe, *overrides)
    assert status == 2, output
    lines = [line for line in output.splitlines() if line.strip().startswith(f"- {key}:")]
    assert lines and words in lines[0], output
    assert "Traceback" not in output


def test_config_errors_and_fit_problems_come_back_together(
        capsys: pytest.CaptureFixture[str]) -> None:
    status, output = check(capsys, SIB_TINY, "train.lr=-1", "generate.scheduler=euler")
    assert status == 2
    assert "has 2 problems" in output
    assert "- train.lr: Input should be greater than 0" in output
    assert "- generate.scheduler: 'euler' is not a sampler" in output


def test_a_recipe_that_fits_is_valid(capsys: pytest.CaptureFixture[str],
                                     voxshapes_small: Path) -> None:
    status, output = check(capsys, SPEECH, f"data.train.0.config.root={voxshapes_small}")
    assert status == 0, output
    assert "is valid ('quickstart-speech') and its parts fit" in output


def test_missing_data_is_a_note_and_the_rest_is_still_checked(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, output = check(capsys, SPEECH, f"data.train.0.config.root={tmp_path / 'none'}")
    assert status == 0, output
    assert "note: encoder (ctc-words) was not assembled" in output


@pytest.mark.parametrize("name", ["sonar-sib-sd15-full", "sonar-sib-sdxl-frozen",
                                  "whisper-sib-sd15-full", "clip-text-sd15-full"])
def test_paper_recipes_assemble_offline_without_weights(capsys: pytest.CaptureFixture[str],
                                                        name: str) -> None:
    status, output = check(capsys, str(REPO / "recipes" / "paper" / f"{name}.yaml"))
    assert status == 0, output
    assert "its parts fit" in output and "note:" not in output
