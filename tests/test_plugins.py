"""Plugin discovery through real distributions on sys.path: isolation, strict mode, versions."""

from __future__ import annotations

import subprocess
import sys

import pytest
from support import MakePlugin, echo_plugin

import voxcore.plugins
from voxcore.errors import AmbiguousComponentError, PluginError, PluginLoadWarning
from voxcore.plugins import get_registry, plugin_records


def record(name: str) -> voxcore.plugins.PluginRecord:
    return next(r for r in plugin_records() if r.name == name)


def test_first_party_plugins_are_found() -> None:
    assert get_registry("encoder").get("mel").distribution == "voxcore-mel"
    assert get_registry("bottleneck").get("sib").distribution == "voxcore-sib"
    assert get_registry("bottleneck").get("transformer").distribution == "voxcore-sib"
    assert get_registry("generator").get("tiny-unet").distribution == "voxcore-tiny-unet"


def test_third_party_plugin_is_listed_and_buildable(make_plugin: MakePlugin) -> None:
    make_plugin("acme-echo", "acme_echo", echo_plugin("echo"), version="2.5.0")
    entry = get_registry("encoder").get("echo")
    assert (entry.distribution, entry.version, entry.description) == ("acme-echo", "2.5.0",
                                                                      "test encoder")
    assert entry.build({"gain": 2}).config.gain == 2.0
    assert record("acme-echo").components == [("encoder", "echo")]


def test_broken_plugin_is_reported_and_others_still_work(make_plugin: MakePlugin) -> None:
    make_plugin("acme-broken", "acme_broken", "raise ImportError('no libfoo.so here')",
                version="0.3.1")
    make_plugin("acme-echo", "acme_echo", echo_plugin())
    with pytest.warns(PluginLoadWarning, match=r"acme-broken 0\.3\.1.*no libfoo\.so here"):
        registry = get_registry("encoder")
    assert "echo" in registry and "mel" in registry
    broken = record("acme-broken")
    assert broken.status == "failed" and "ImportError: no libfoo.so here" in (broken.reason or "")


def test_strict_mode_makes_a_broken_plugin_fatal(
    make_plugin: MakePlugin, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_plugin("acme-broken", "acme_broken", "raise RuntimeError('boom')")
    monkeypatch.setenv("VOXCORE_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match="acme-broken 1.0.0.*boom"):
        get_registry("encoder")


def test_hook_that_raises_registers_nothing(make_plugin: MakePlugin) -> None:
    source = echo_plugin("half") + """
@hookimpl
def voxcore_register_metrics(register):
    raise ValueError("metric setup failed")
"""
    make_plugin("acme-half", "acme_half", source)
    with pytest.warns(PluginLoadWarning, match="metric setup failed"):
        assert "half" not in get_registry("encoder")
    assert record("acme-half").components == []


def test_invalid_registration_fails_the_plugin(make_plugin: MakePlugin) -> None:
    source = """
from pydantic import BaseModel
from voxcore import hookimpl

class Loose(BaseModel):
    x: int = 1

@hookimpl
def voxcore_register_encoders(register):
    register("loose", config=Loose, factory=dict)
"""
    make_plugin("acme-loose", "acme_loose", source)
    with pytest.warns(PluginLoadWarning, match="extra='forbid'"):
        assert "loose" not in get_registry("encoder")


def test_incompatible_voxcore_requirement_is_skipped(make_plugin: MakePlugin) -> None:
    make_plugin("acme-future", "acme_future", "raise AssertionError('must not be imported')",
                requires="voxcore>=9.0")
    assert "mel" in get_registry("encoder")
    skipped = record("acme-future")
    assert skipped.status == "skipped"
    assert "requires voxcore>=9.0" in (skipped.reason or "")


def test_load_only_selected_plugins(
    make_plugin: MakePlugin, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_plugin("acme-echo", "acme_echo", echo_plugin())
    monkeypatch.setenv("VOXCORE_LOAD_PLUGINS", "acme-echo, voxcore-sib")
    assert get_registry("encoder").names() == ["echo"]
    assert "sib" in get_registry("bottleneck")
    assert record("mel").status == "disabled"


def test_duplicate_names_across_distributions(make_plugin: MakePlugin) -> None:
    make_plugin("acme-mel", "acme_mel", echo_plugin("mel"))
    registry = get_registry("encoder")
    both = "acme-mel.*voxcore-mel|voxcore-mel.*acme-mel"
    with pytest.raises(AmbiguousComponentError, match=both):
        registry.get("mel")
    assert registry.get("acme-mel:mel").distribution == "acme-mel"
    assert registry.get("voxcore-mel:mel").distribution == "voxcore-mel"


def test_loading_is_cached_and_reset_reloads(make_plugin: MakePlugin) -> None:
    first = get_registry("encoder")
    assert get_registry("encoder") is first
    make_plugin("acme-echo", "acme_echo", echo_plugin())
    assert "echo" not in get_registry("encoder")
    voxcore.plugins.reset()
    assert "echo" in get_registry("encoder")


def test_import_voxcore_loads_no_plugin_and_no_torch() -> None:
    code = ("import sys, voxcore, voxcore.plugins, voxcore.recipe, voxcore.cli; "
            "assert voxcore.plugins._state is None; "
            "assert 'torch' not in sys.modules, 'torch imported'; "
            "assert 'voxcore_mel' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


COMMAND_PLUGIN = """
from voxcore import hookimpl

def _run(args):
    print(f"hello {args.who}")
    return 0

@hookimpl
def voxcore_add_commands(commands):
    parser = commands.add_parser("hello", help="say hello")
    parser.add_argument("who")
    parser.set_defaults(run=_run)
"""


def test_plugin_adds_a_cli_command(
    make_plugin: MakePlugin, capsys: pytest.CaptureFixture[str]
) -> None:
    from voxcore.cli import main

    make_plugin("acme-hello", "acme_hello", COMMAND_PLUGIN)
    assert main(["hello", "world"]) == 0
    assert "hello world" in capsys.readouterr().out


def test_plugin_command_that_clashes_is_reported_and_cli_still_works(
    make_plugin: MakePlugin, capsys: pytest.CaptureFixture[str]
) -> None:
    from voxcore.cli import main

    clash = """
from voxcore import hookimpl

@hookimpl
def voxcore_add_commands(commands):
    commands.add_parser("extra-one")
    commands.add_parser("train")
"""
    make_plugin("acme-clash", "acme_clash", clash)
    make_plugin("acme-hello", "acme_hello", COMMAND_PLUGIN)
    assert main(["hello", "you"]) == 0
    captured = capsys.readouterr()
    assert "hello you" in captured.out
    assert "acme-clash:acme-clash failed to add its commands (ArgumentError" in captured.err
    with pytest.raises(SystemExit):
        main(["extra-one"])
