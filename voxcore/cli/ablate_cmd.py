"""``voxcore ablate ABLATION.yaml``: train and evaluate every variant of a recipe, one report."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(commands: Any) -> None:
    """Add the ``ablate`` subcommand."""
    parser = commands.add_parser(
        "ablate", help="train and evaluate the variants of an ablation file, write a report",
        description="Expand an ablation file (a base recipe, a grid of dotted overrides and/or "
                    "named variants) and validate every variant before anything runs, then "
                    "train and evaluate each one and write results.csv, results.json, "
                    "report.md, plots and an image grid into --out. Re-running skips finished "
                    "variants and resumes interrupted ones.")
    parser.add_argument("ablation", metavar="ABLATION", type=Path, help="ablation YAML file")
    parser.add_argument("--only", nargs="+", metavar="NAME", default=[],
                        help="run only these variants (names or shell wildcards)")
    seeds = parser.add_mutually_exclusive_group()
    seeds.add_argument("--seeds", type=int, metavar="N",
                       help="N seeds per variant (the file's first seed, +1, ...)")
    seeds.add_argument("--seed", type=int, action="append", metavar="S",
                       help="this seed (repeat for several); replaces the file's seeds")
    parser.add_argument("--out", type=Path,
                        help="output folder (default: runs/ablations/NAME)")
    parser.add_argument("--check", action="store_true",
                        help="only validate the variants and list them")
    parser.add_argument("--report-only", action="store_true",
                        help="train nothing; rewrite the report from the finished variants")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Plan, run, report."""
    import time

    from voxcore.ablation import plan_ablation, read_ablation
    from voxcore.cli.logs import configure_logging
    from voxcore.errors import UserError

    configure_logging()
    began = time.perf_counter()
    seeds: list[int] | None = None
    if args.seeds is not None:
        if args.seeds < 1:
            raise UserError(f"--seeds must be at least 1, got {args.seeds}")
        first = read_ablation(args.ablation).seeds[0]
        seeds = [first + i for i in range(args.seeds)]
    elif args.seed:
        seeds = list(dict.fromkeys(args.seed))
    plan = plan_ablation(args.ablation, args.out, only=args.only, seeds=seeds)
    print(f"ablation {plan.spec.name!r}: {len(plan.variants)} variant(s) x "
          f"{len(plan.seeds)} seed(s) -> {plan.out}")
    for variant in plan.variants:
        changed = ", ".join(f"{k}={v}" for k, v in variant.overrides.items()
                            if k not in plan.spec.overrides)
        if variant.recipe_path.name != Path(plan.spec.recipe).name:
            changed = ", ".join(filter(None, [f"recipe {variant.recipe_path}", changed]))
        changed = changed or "(the base recipe)"
        print(f"  {variant.name}: {changed}")
    if args.check:
        print("all variants are valid")
        return 0
    from voxcore.ablation.report import write_results
    from voxcore.ablation.runner import Outcome, run_ablation

    outcome = Outcome() if args.report_only else run_ablation(plan)
    # the report covers every finished variant of the file, not only those run now (--only)
    full = plan_ablation(args.ablation, args.out, seeds=seeds) if args.only else plan
    written = write_results(full, wall_seconds=time.perf_counter() - began)
    if "report.md" in written:
        print(f"report: {written['report.md']}")
    print(f"{len(outcome.trained)} run(s) trained, {len(outcome.skipped)} finished before, "
          f"{len(outcome.failed)} failed; {time.perf_counter() - began:.0f} s")
    if outcome.failed:
        raise UserError("some runs failed:\n" + "\n".join(
            f"  - {label}: {reason}" for label, reason in outcome.failed.items()))
    return 0
