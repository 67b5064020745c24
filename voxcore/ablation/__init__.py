"""Ablations: one base recipe, many variants, trained and evaluated alike, one report.

``voxcore ablate ABLATION.yaml`` reads an ablation file (:mod:`voxcore.ablation.spec`),
validates every variant before anything runs (all problems of all variants in one error),
trains and evaluates each (variant, seed) in a child process (:mod:`voxcore.ablation.runner`;
finished runs are skipped, interrupted ones resume), and writes ``results.csv``,
``results.json``, ``report.md``, plots and an image grid (:mod:`voxcore.ablation.report`).
"""

from __future__ import annotations

from voxcore.ablation.spec import (
    AblationError,
    AblationFile,
    AblationPlan,
    PlannedRun,
    Variant,
    expand_variants,
    plan_ablation,
    read_ablation,
)

__all__ = [
    "AblationError",
    "AblationFile",
    "AblationPlan",
    "PlannedRun",
    "Variant",
    "expand_variants",
    "plan_ablation",
    "read_ablation",
]
