"""``voxcore new plugin KIND NAME [--out DIR]``: start a plugin distribution from the template."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

# voxcore.scaffold.KINDS, spelled out so that building the parser reads no templates.
_KINDS = ("encoder", "bottleneck", "generator", "metric", "dataset", "dataset-builder",
          "voice-corpus", "captioner", "synthesizer", "emotion-recognizer")


def add_parser(commands: Any) -> None:
    """Add the ``new`` subcommand and its ``plugin`` action."""
    parser = commands.add_parser("new", help="start a new plugin from voxcore's template",
                                 description="Write a new plugin distribution from voxcore's "
                                             "template.")
    actions = parser.add_subparsers(dest="what", metavar="WHAT", required=True)
    plugin = actions.add_parser(
        "plugin", help="a plugin package with one working component of KIND",
        description="Write a plugin distribution (pyproject.toml with the entry point and a "
                    "voxcore version range, a config model, a small working component of KIND, "
                    "tests that subclass voxcore's conformance suite, an example and a README) "
                    "into --out (default: ./voxcore-NAME). The example is a recipe.yaml, or "
                    "for the components of dataset builders (voice-corpus, captioner, "
                    "synthesizer, emotion-recognizer) a build.yaml for 'voxcore data voxemoset "
                    "--config build.yaml'. Install it with 'pip install -e DIR' and it is in "
                    "'voxcore plugins'.")
    plugin.add_argument("kind", metavar="KIND", choices=_KINDS,
                        help=f"one of {', '.join(_KINDS)}")
    plugin.add_argument("name", metavar="NAME",
                        help="the component's name in recipes and build configs, "
                             "e.g. acme-energy")
    plugin.add_argument("--out", type=Path, help="folder to write (default: ./voxcore-NAME)")
    plugin.add_argument("--description", default="", help="one line for 'voxcore plugins'")
    plugin.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Render the template and say what to do next."""
    from voxcore.scaffold import PluginNames, render_plugin

    names = PluginNames(args.kind, args.name)
    out = args.out or Path(names.distribution)
    render_plugin(args.kind, args.name, out, description=args.description)
    print(f"wrote {names.distribution} ({args.kind} {args.name!r}) to {out}")
    print(f"next: pip install -e {out} && (cd {out} && pytest)   # uv: uv pip install -e {out}")
    return 0
