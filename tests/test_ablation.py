"""``voxcore ablate``: expanding and validating ablation files (fast, nothing trains)."""

from __future__ import annotations

from pathlib import Path

import pytest

from voxcore.ablation import AblationError, expand_variants, plan_ablation, read_ablation
from voxcore.ablation.report import direction, pick_samples, train_seconds
from voxcore.cli import main

REPO = Path(__file__).parent.parent

BASE = """
name: tiny
encoder: {name: mel, config: {n_mels: 16}}
bottleneck: {name: sib, config: {num_heads: 2}}
generator: {name: tiny-unet, config: {resolution: 16, block_out_channels: [16, 32],
                                      cross_attention_dim: 16}}
train: {max_steps: 5}
"""


def write(folder: Path, ablation: str, name: str = "ablation.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "base.yaml").write_text(BASE)
    path = folder / name
    path.write_text(ablation)
    return path


def test_grid_is_a_cartesian_product(tmp_path: Path) -> None:
    path = write(tmp_path, """
name: g
recipe: base.yaml
overrides: {train.max_steps: 3}
grid:
  bottleneck.config.ratio: [2, 4]
  train.lr: [0.001, 0.0001]
""")
    plan = plan_ablation(path, tmp_path / "out")
    names = [v.name for v in plan.variants]
    assert names == ["ratio=2,lr=0.001", "ratio=2,lr=0.0001", "ratio=4,lr=0.001",
                     "ratio=4,lr=0.0001"]
    run = plan.runs[3]
    assert run.resolved.bottleneck.config.ratio == 4
    assert run.resolved.recipe.train.lr == 0.0001
    assert run.resolved.recipe.train.max_steps == 3  # common overrides reach every variant
    assert run.run_dir == tmp_path / "out" / "runs" / "ratio=4,lr=0.0001" / "seed-0"
    assert plan.axis is None  # two grid keys: no single numeric axis
    # every variant shares one feature cache
    assert {r.resolved.recipe.data.cache_dir for r in plan.runs} == {str(tmp_path / "out/cache")}


def test_named_variants_cross_the_grid_and_may_switch_the_recipe(tmp_path: Path) -> None:
    path = write(tmp_path, """
name: n
recipe: base.yaml
grid: {bottleneck.config.ratio: [2, 4]}
variants:
  sib: {}
  transformer:
    overrides: {bottleneck: {name: transformer, config: {num_layers: 1, num_heads: 2}}}
  text: {recipe: text.yaml}
seeds: [0, 1]
""")
    (tmp_path / "text.yaml").write_text("extends: base.yaml\nname: tiny-text\n"
                                        "encoder: {name: text, config: {width: 16, num_layers: 1,"
                                        " num_heads: 2}}\n")
    spec = read_ablation(path)
    variants = expand_variants(spec, path)
    assert [v.name for v in variants] == ["sib,ratio=2", "sib,ratio=4", "transformer,ratio=2",
                                          "transformer,ratio=4", "text,ratio=2", "text,ratio=4"]
    assert variants[2].settings == {"series": "transformer", "bottleneck.config.ratio": 2}
    with pytest.raises(AblationError) as caught:  # 'ratio' is no transformer option
        plan_ablation(path, tmp_path / "out")
    assert "variant 'transformer,ratio=2': bottleneck.config.ratio: unknown key" in str(
        caught.value)
    plan = plan_ablation(path, tmp_path / "out", only=["sib,*", "text,ratio=4"])
    assert [v.name for v in plan.variants] == ["sib,ratio=2", "sib,ratio=4", "text,ratio=4"]
    assert len(plan.runs) == 6 and {r.seed for r in plan.runs} == {0, 1}
    text = plan.runs_of(plan.variants[2])[0].resolved
    assert text.encoder.entry.name == "text" and text.bottleneck.config.ratio == 4
    assert plan.axis == "bottleneck.config.ratio"  # one numeric grid key


def test_every_problem_of_every_variant_is_reported_before_anything_runs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, """
name: bad
recipe: base.yaml
variants:
  good: {}
  typo-key: {overrides: {bottleneck.config.ratoi: 4}}
  typo-more: {overrides: {train.max_step: 10, encoder.name: mle, generator.config.resolution: big}}
""")
    out = tmp_path / "out"
    status = main(["ablate", str(path), "--out", str(out)])
    err = capsys.readouterr().err
    assert status == 2
    assert "has 4 problems (nothing was run)" in err
    assert "variant 'typo-key': bottleneck.config.ratoi: unknown key; did you mean 'ratio'?" in err
    assert "variant 'typo-more': encoder.name: unknown encoder 'mle'; did you mean 'mel'?" in err
    assert "variant 'typo-more': train.max_step: unknown key; did you mean 'max_steps'?" in err
    assert ("variant 'typo-more': generator.config.resolution: Input should be a valid "
            "integer") in err
    assert "Traceback" not in err
    assert not out.exists()  # nothing was built, trained or written


def test_the_ablation_file_itself_is_validated(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "name: x\nrecipe: base.yaml\ngrdi: {train.lr: [1]}\nseeds: []\n")
    assert main(["ablate", str(path), "--check"]) == 2
    err = capsys.readouterr().err
    assert "grdi: unknown key; did you mean 'grid'?" in err
    assert "seeds: List should have at least 1 item" in err
    path = write(tmp_path, "name: x\nrecipe: missing.yaml\n", "missing.yaml.ablation")
    assert main(["ablate", str(path), "--check"]) == 2
    assert "recipe file not found" in capsys.readouterr().err


def test_only_names_an_existing_variant(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\nrecipe: base.yaml\ngrid: {train.lr: [0.1, 0.2]}\n")
    with pytest.raises(Exception, match=r"--only names no variant: lr=0.3; the variants are: "
                                        r"lr=0.1, lr=0.2"):
        plan_ablation(path, tmp_path / "out", only=["lr=0.3"])


def test_seeds_from_the_command_line(tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "name: x\nrecipe: base.yaml\nseeds: [5]\n")
    assert main(["ablate", str(path), "--check", "--seeds", "3"]) == 0
    assert "1 variant(s) x 3 seed(s)" in capsys.readouterr().out
    plan = plan_ablation(path, tmp_path / "o", seeds=[7, 9])
    assert [r.resolved.recipe.seed for r in plan.runs] == [7, 9]


def test_shipped_ablations_are_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    shipped = [*(REPO / "recipes" / "ablations").glob("*.yaml"),
               *(REPO / "recipes" / "paper" / "ablations").glob("*.yaml")]
    assert len(shipped) >= 12
    for path in sorted(shipped):
        plan = plan_ablation(path.relative_to(REPO), Path("/nonexistent/out"))
        assert plan.runs, path
    plan = plan_ablation(Path("recipes/ablations/pooling-ratio.yaml"), Path("/nonexistent"))
    ratios = [r.resolved.bottleneck.config.ratio for r in plan.runs]
    assert ratios == [1, 2, 4, 8, 16]
    assert {len(r.resolved.bottleneck.config.stage_strides) for r in plan.runs} == {3}
    cascade = plan_ablation(Path("recipes/ablations/speech-vs-text-vs-cascade.yaml"),
                            Path("/nonexistent"))
    assert [r.resolved.encoder.entry.name for r in cascade.runs] == ["ctc-words", "text", "asr"]
    table5 = plan_ablation(Path("recipes/paper/ablations/training-strategy.yaml"),
                           Path("/nonexistent"))
    assert [r.resolved.generator.config.train_mode for r in table5.runs] == [
        "frozen", "lora", "full", "full"]


def test_metric_directions() -> None:
    assert direction("fid", {}) == "lower"
    assert direction("judge.fid", {}) == "lower"
    assert direction("mood_accuracy", {}) == "higher"
    assert direction("clipscore", {}) == "higher"
    assert direction("samples_per_second", {}) == "higher"
    assert direction("train_seconds", {}) == "lower"
    assert direction("brightness", {"brightness": "lower"}) == "lower"


def test_train_time_sums_resumed_sessions(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "loss.csv").write_text("step,loss,lr,seconds\n1,1,1,1.0\n2,1,1,2.0\n"
                                   "3,1,1,0.5\n4,1,1,1.5\n")
    assert train_seconds(tmp_path) == (3.5, 4)


def test_grid_samples_cover_distinct_labels() -> None:
    from voxcore.interfaces import Sample

    samples = [Sample(f"s{i}", Path(f"{i}.wav"), None, labels={"mood": m, "shape": s})
               for i, (m, s) in enumerate([("a", "x"), ("a", "y"), ("b", "x"), ("b", "y"),
                                           ("c", "z")])]
    chosen = pick_samples(samples, 3)
    assert [s.id for s in chosen] == ["s0", "s3", "s4"]
    assert len(pick_samples(samples, 10)) == 5


def test_a_run_folder_of_another_recipe_is_refused_before_anything_runs(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\nrecipe: base.yaml\ngrid: {train.lr: [0.1, 0.2]}\n")
    plan = plan_ablation(path, tmp_path / "out")
    first, second = plan.runs
    second.run_dir.mkdir(parents=True)
    (second.run_dir / "recipe.yaml").write_text(first.resolved.to_yaml())
    with pytest.raises(AblationError, match=r"variant 'lr=0.2': .* holds a run of another "
                                            r"recipe \(.*train.lr \(0.1 -> 0.2\)\)"):
        plan_ablation(path, tmp_path / "out")
    # max_steps may change: a finished ablation can be extended
    (second.run_dir / "recipe.yaml").write_text(second.resolved.to_yaml())
    path.write_text(path.read_text() + "overrides: {train.max_steps: 9}\n")
    assert len(plan_ablation(path, tmp_path / "out").runs) == 2


@pytest.mark.slow
def test_evaluate_processes_runs_the_child_command_under_accelerate_launch(
        tmp_path: Path) -> None:
    from voxcore.ablation.runner import _voxcore

    log = tmp_path / "launch.log"
    # Both copies of the command run, through the launcher.
    seconds = _voxcore(["plugins", "--help"], log, threads=1, processes=2)
    text = log.read_text()
    assert seconds > 0 and text.count("usage: voxcore plugins") == 2, text[-2000:]
    path = write(tmp_path, """
name: p
recipe: base.yaml
evaluate: {split: test, processes: 0}
""")
    with pytest.raises(AblationError, match="evaluate.processes"):
        read_ablation(path)


def test_two_ablations_started_together_build_a_shared_dataset_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    import time

    from voxcore.ablation.runner import build_datasets
    from voxcore.plugins import get_registry

    path = write(tmp_path, f"""
name: shared
recipe: base.yaml
build: [{{builder: voxshapes, out: {tmp_path / 'data'}, config: {{size: 20}}}}]
""")
    plan = plan_ablation(path, tmp_path / "out")
    built: list[Path] = []

    class SlowBuilder:
        def build(self, out: Path) -> None:
            built.append(out)
            time.sleep(0.5)  # long enough for the other caller to reach the dataset
            out.mkdir(parents=True)
            (out / "done.txt").write_text("built")

    entry = get_registry("dataset_builder").get("voxshapes")
    monkeypatch.setattr(type(entry), "build", lambda self, config: SlowBuilder())
    callers = [threading.Thread(target=build_datasets, args=(plan,)) for _ in range(2)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(timeout=60)
    assert built == [tmp_path / "data"]
