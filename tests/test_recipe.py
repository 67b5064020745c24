"""Recipe loading: extends, overrides, the rename rule, and reporting every error at once."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from voxcore.errors import RecipeError
from voxcore.recipe import load_recipe, read_recipe

BASE = """
name: base
seed: 3
encoder: {name: mel, config: {n_mels: 40}}
bottleneck: {name: sib, config: {ratio: 4, num_heads: 2}}
generator: {name: tiny-unet, config: {resolution: 16}}
train: {lr: 1.0e-4, batch_size: 4}
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def issues(error: pytest.ExceptionInfo[RecipeError]) -> dict[str, str]:
    return {issue.path: issue.message for issue in error.value.issues}


def test_valid_recipe_binds_every_component(tmp_path: Path) -> None:
    resolved = load_recipe(write(tmp_path, "r.yaml", BASE))
    assert resolved.recipe.seed == 3
    assert resolved.encoder.entry.distribution == "voxcore-mel"
    assert resolved.encoder.config.n_mels == 40  # type: ignore[attr-defined]
    assert resolved.bottleneck.config.ratio == 4  # type: ignore[attr-defined]
    assert resolved.recipe.train.batch_size == 4


def test_overrides_merge_in_dot_notation(tmp_path: Path) -> None:
    path = write(tmp_path, "r.yaml", BASE)
    resolved = load_recipe(path, ["train.lr=1e-5", "bottleneck.config.ratio=2", "seed=9"])
    assert resolved.recipe.train.lr == pytest.approx(1e-5)
    assert resolved.bottleneck.config.ratio == 2  # type: ignore[attr-defined]
    assert resolved.recipe.seed == 9


def test_extends_merges_and_a_renamed_component_starts_fresh(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", BASE)
    child = write(tmp_path, "child.yaml", """
        extends: base.yaml
        name: child
        train: {batch_size: 16}
        bottleneck: {name: transformer, config: {num_layers: 2, num_heads: 2}}
        """)
    resolved = load_recipe(child)
    assert resolved.recipe.name == "child"
    assert resolved.recipe.train.batch_size == 16
    assert resolved.recipe.train.lr == pytest.approx(1e-4)  # kept from the base
    assert resolved.bottleneck.entry.name == "transformer"  # sib's 'ratio' did not carry over
    assert resolved.encoder.config.n_mels == 40  # type: ignore[attr-defined]


def test_rename_rule_applies_to_overrides(tmp_path: Path) -> None:
    path = write(tmp_path, "r.yaml", BASE)
    resolved = load_recipe(path, ["bottleneck.name=transformer",
                                  "bottleneck.config.num_heads=2"])
    assert resolved.bottleneck.entry.name == "transformer"


def test_every_mistake_is_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", """
        name: bad
        encoder: {name: mle}
        bottleneck: {name: sib, config: {ratoi: 8}}
        generator: {name: tiny-unet, config: {resolution: big}}
        train: {lr: fast, batch_sise: 3}
        metrics: [{name: no-such-metric}]
        """)
    with pytest.raises(RecipeError) as info:
        load_recipe(path)
    found = issues(info)
    assert "did you mean 'mel'?" in found["encoder.name"]
    assert "installed encoders: asr, clip-text, ctc-words, mel" in found["encoder.name"]
    assert "did you mean 'ratio'?" in found["bottleneck.config.ratoi"]
    assert "resolution" in "".join(found) and "big" in found["generator.config.resolution"]
    assert "'fast'" in found["train.lr"]
    assert "did you mean 'batch_size'?" in found["train.batch_sise"]
    assert "unknown metric 'no-such-metric'" in found["metrics[0].name"]
    assert str(info.value).startswith(f"recipe {path} has 6 problems:")


def test_missing_sections_and_unknown_top_level_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "r.yaml", "name: x\nencoder: {name: mel}\ngenerater: {name: x}\n")
    with pytest.raises(RecipeError) as info:
        load_recipe(path)
    found = issues(info)
    assert found["bottleneck"] == "required key is missing"
    assert found["generator"] == "required key is missing"
    assert "did you mean 'generator'?" in found["generater"]


def test_bad_override_syntax(tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match="must look like KEY=VALUE"):
        load_recipe(write(tmp_path, "r.yaml", BASE), ["train.lr"])


def test_missing_file_bad_yaml_and_missing_base(tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match="recipe file not found"):
        read_recipe(tmp_path / "nope.yaml")
    with pytest.raises(RecipeError, match="cannot read"):
        read_recipe(write(tmp_path, "broken.yaml", "name: [unclosed\n"))
    with pytest.raises(RecipeError, match="base recipe 'gone.yaml' not found"):
        read_recipe(write(tmp_path, "child.yaml", "extends: gone.yaml\n"))
    with pytest.raises(RecipeError, match="must hold a mapping"):
        read_recipe(write(tmp_path, "list.yaml", "- a\n- b\n"))


def test_extends_cycle_is_reported(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "extends: b.yaml\nname: a\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\nname: b\n")
    with pytest.raises(RecipeError, match="extends cycle"):
        read_recipe(tmp_path / "a.yaml")


def test_interpolation_resolves(tmp_path: Path) -> None:
    path = write(tmp_path, "r.yaml", BASE + "generate: {batch_size: '${train.batch_size}'}\n")
    assert load_recipe(path).recipe.generate.batch_size == 4


def test_show_fills_defaults(tmp_path: Path) -> None:
    data = load_recipe(write(tmp_path, "r.yaml", BASE)).to_dict()
    assert data["encoder"]["config"]["hop_length"] == 160  # a mel default
    assert data["train"]["max_steps"] == 1000
    assert "extends" not in data


def test_recipes_cannot_name_import_paths(tmp_path: Path) -> None:
    path = write(tmp_path, "r.yaml", BASE.replace("name: mel", "name: os.path:join"))
    with pytest.raises(RecipeError, match="unknown encoder 'os.path:join'"):
        load_recipe(path)
    path = write(tmp_path, "t.yaml", BASE + "_target_: os.system\n")
    with pytest.raises(RecipeError, match="_target_: unknown key"):
        load_recipe(path)


#: Every shipped recipe (recipes/ablations/ holds ablation files, which name recipes, and
#: recipes/builds/ the options of dataset builders, checked by their plugins' tests).
RECIPES = sorted(path for path in (Path(__file__).parent.parent / "recipes").rglob("*.yaml")
                 if "ablations" not in path.parts and "builds" not in path.parts)


def test_there_are_recipes() -> None:
    assert len(RECIPES) >= 2


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.name)
def test_every_shipped_recipe_validates(path: Path) -> None:
    load_recipe(path)


def test_override_reaches_into_a_list_item(tmp_path: Path) -> None:
    path = write(tmp_path, "r.yaml", BASE + "metrics: [{name: a}, {name: b, config: {x: 1}}]\n")
    data = read_recipe(path, ["metrics.1.config.x=2", "metrics.0.name=c"])
    assert data["metrics"] == [{"name": "c"}, {"name": "b", "config": {"x": 2}}]
    data = read_recipe(path, ["metrics.5.name=z"])  # no such item: the override replaces
    assert data["metrics"] == {"5": {"name": "z"}}
