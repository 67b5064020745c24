"""The ``voxcore`` command as a user runs it: a subprocess, its output and exit status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from support import MakePlugin, echo_plugin

REPO = Path(__file__).parent.parent


def voxcore(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "voxcore.cli", *args], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, cwd=REPO)


def test_help_and_plugins_do_not_import_torch() -> None:
    code = ("import sys; from voxcore.cli import main; "
            "main(['plugins']); main(['plugins', '--json']); "
            "assert 'torch' not in sys.modules, 'voxcore plugins imported torch'")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    result = voxcore("--help")
    assert result.returncode == 0 and "plugins" in result.stdout and "recipe" in result.stdout


def test_plugins_json_lists_first_party_components() -> None:
    result = voxcore("plugins", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    found = {(c["kind"], c["name"]): c for c in data["components"]}
    for kind, name, dist in [("encoder", "mel", "voxcore-mel"),
                             ("bottleneck", "sib", "voxcore-sib"),
                             ("bottleneck", "transformer", "voxcore-sib"),
                             ("generator", "tiny-unet", "voxcore-tiny-unet"),
                             ("dataset_builder", "voxemoset", "voxcore-voxemoset"),
                             ("voice_corpus", "crema-d", "voxcore-voxemoset"),
                             ("captioner", "llava-onevision", "voxcore-llava"),
                             ("synthesizer", "f5-tts", "voxcore-f5tts"),
                             ("emotion_recognizer", "emotion2vec", "voxcore-emotion2vec")]:
        assert found[(kind, name)]["distribution"] == dist
        assert found[(kind, name)]["version"] == metadata.version(dist)
    assert {p["distribution"] for p in data["plugins"]} >= {"voxcore-mel", "voxcore-sib"}


def test_third_party_and_broken_plugins_in_the_cli(make_plugin: MakePlugin, tmp_path: Path) -> None:
    site = make_plugin("acme-echo", "acme_echo", echo_plugin("echo"), version="3.1.4")
    make_plugin("acme-broken", "acme_broken", "import no_such_module_here")
    env = {"PYTHONPATH": str(site)}
    table = voxcore("plugins", env=env)
    assert table.returncode == 0, table.stderr
    assert "echo" in table.stdout and "acme-echo" in table.stdout and "3.1.4" in table.stdout
    assert "acme-broken 1.0.0): failed: ModuleNotFoundError" in table.stdout
    assert "warning: voxcore plugin 'acme-broken'" in table.stderr
    assert "Traceback" not in table.stderr

    recipe = tmp_path / "echo.yaml"
    recipe.write_text((REPO / "recipes" / "speech-sib-tiny.yaml").read_text()
                      .replace("name: mel", "name: echo").replace("n_mels: 80", "gain: 2.0")
                      .replace("normalize: utterance", ""))
    check = voxcore("recipe", "check", str(recipe), env=env)
    assert check.returncode == 0, check.stderr
    assert "encoder: echo (acme-echo 3.1.4)" in check.stdout

    strict = voxcore("plugins", env={**env, "VOXCORE_STRICT_PLUGINS": "1"})
    assert strict.returncode == 2
    assert "acme-broken" in strict.stderr and "Traceback" not in strict.stderr


def test_recipe_with_several_mistakes_exits_2_listing_each(tmp_path: Path) -> None:
    recipe = tmp_path / "bad.yaml"
    recipe.write_text("name: bad\nencoder: {name: mle}\n"
                      "bottleneck: {name: sib, config: {ratoi: 8}}\n"
                      "generator: {name: tiny-unet, config: {resolution: big}}\n")
    result = voxcore("recipe", "check", str(recipe))
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == f"error: recipe {recipe} has 3 problems:"
    assert lines[1].startswith("  - encoder.name: unknown encoder 'mle'; did you mean 'mel'?")
    assert lines[2].startswith("  - bottleneck.config.ratoi: unknown key; did you mean 'ratio'?")
    assert lines[3].startswith("  - generator.config.resolution: Input should be a valid integer")


def test_recipe_show_applies_overrides() -> None:
    result = voxcore("recipe", "show", "recipes/speech-sib-tiny.yaml", "train.lr=1e-5",
                     "bottleneck.config.ratio=4")
    assert result.returncode == 0, result.stderr
    assert "lr: 1.0e-05" in result.stdout and "ratio: 4" in result.stdout


def test_missing_recipe_file_is_a_user_error() -> None:
    result = voxcore("recipe", "check", "does/not/exist.yaml")
    assert result.returncode == 2
    assert "recipe file not found" in result.stderr and "Traceback" not in result.stderr


def test_usage_errors_exit_2() -> None:
    assert voxcore("recipe").returncode == 2
    assert voxcore("no-such-command").returncode == 2
