"""``voxcore data NAME``'s options: a YAML file, --FIELD VALUE flags, KEY=VALUE overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from voxcore.cli import main
from voxcore.cli.data_cmd import _merge, split_flags
from voxcore.errors import RecipeError


def test_flags_take_one_value_or_a_list_and_yaml_types() -> None:
    options, overrides = split_flags(
        ["--images", "data/EmoSet", "--voices", "crema-d=data/C", "ravdess=data/R",
         "--limit", "20", "--progress=false"], "test", fields={"images", "voices", "limit"})
    assert options == {"images": "data/EmoSet", "voices": ["crema-d=data/C", "ravdess=data/R"],
                       "limit": 20, "progress": False}
    assert overrides == []


def test_a_key_value_after_a_flag_is_an_override_when_it_names_a_field() -> None:
    options, overrides = split_flags(
        ["size=3", "--voices", "crema-d=data/C", "captioner.config.path=c.jsonl"], "test",
        fields={"voices", "captioner", "size"})
    assert options == {"voices": "crema-d=data/C"}
    assert overrides == ["size=3", "captioner.config.path=c.jsonl"]


def test_a_flag_without_a_value_or_a_stray_word_is_reported() -> None:
    with pytest.raises(RecipeError) as caught:
        split_flags(["stray", "--limit"], "voxcore data x", fields={"limit"})
    message = str(caught.value)
    assert "unexpected argument 'stray'" in message and "--limit needs a value" in message


def test_overrides_reach_into_list_items_by_index() -> None:
    merged = _merge({"voices": [{"name": "crema-d", "config": {"root": "C"}}]},
                    {"voices": {"0": {"config": {"emotions": ["anger"]}}}})
    assert merged == {"voices": [{"name": "crema-d", "config": {"root": "C",
                                                                 "emotions": ["anger"]}}]}


def test_options_file_flags_and_overrides_build_a_dataset(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]
                                                            ) -> None:
    options = tmp_path / "build.yaml"
    options.write_text("size: 40\nresolution: 16\n")
    out = tmp_path / "shapes"
    status = main(["data", "voxshapes", "--out", str(out), "--config", str(options),
                   "--test-fraction", "0.5", "size=12"])
    assert status == 0, capsys.readouterr().err
    described = (out / "voxshapes.json").read_text()
    assert '"size": 12' in described and '"resolution": 16' in described
    assert '"test_fraction": 0.5' in described


def test_a_missing_options_file_is_a_clear_error(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["data", "voxshapes", "--out", str(tmp_path / "x"), "--config",
                   str(tmp_path / "nope.yaml")])
    assert status == 2
    assert "no such file" in capsys.readouterr().err
