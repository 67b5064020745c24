"""``benchmarks/gpu_train.py`` runs (tiny configs on the CPU), so it is ready when a GPU is."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parent.parent


@pytest.mark.slow
def test_the_gpu_benchmark_measures_every_case_with_tiny_configs(tmp_path: Path) -> None:
    out = tmp_path / "gpu.json"
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "gpu_train.py"), "--tiny", "--device", "cpu",
         "--recipes", "sd15-lora", "sdxl-frozen", "--precisions", "bf16", "--steps", "2",
         "--warmup", "1", "--sampling-steps", "2", "--sampling-rounds", "1",
         "--channels-last", "--json", str(out)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["tiny"] and report["device"] == "cpu"
    cases = {(c["recipe"], c["checkpointing"], c["variant"]): c for c in report["training"]}
    assert set(cases) == {(recipe, checkpointing, variant)
                          for recipe in ("sd15-lora", "sdxl-frozen")
                          for checkpointing in (False, True)
                          for variant in ("plain", "channels-last")}
    for case in cases.values():
        assert case["error"] == "", case
        assert case["steps_per_second"] > 0 and len(case["step_seconds"]) == 2
        assert case["samples_per_second"] == pytest.approx(2 * case["steps_per_second"])
        assert case["attention"] == "AttnProcessor2_0"  # PyTorch's SDPA
        assert case["peak_memory_gib"] is None  # measured on a GPU only
    # LoRA trains adapters as well as the SIB; frozen SDXL trains the SIB (and null) only.
    assert (cases["sd15-lora", False, "plain"]["trainable_parameters"]
            > cases["sdxl-frozen", False, "plain"]["trainable_parameters"] > 0)
    sampling = {(s["generator"], s["precision"]): s for s in report["sampling"]}
    assert set(sampling) == {("sd15", "bf16"), ("sdxl", "bf16")}
    assert all(s["images_per_second"] > 0 and s["error"] == "" for s in sampling.values())
    for line in ("sd15-lora    bf16 on   channels-last", "sdxl         bf16     2     2"):
        assert line in result.stdout, result.stdout
