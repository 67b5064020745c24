"""The ``voxcore`` command.

Each subcommand lives in its own module and adds itself to the parser with ``add_parser``;
this module only assembles them and turns :class:`voxcore.errors.UserError` into a message
and exit status 2. Nothing here imports torch: subcommands that need it import it when run.
"""

from __future__ import annotations

import argparse
import sys
import traceback
import warnings
from collections.abc import Sequence
from typing import TextIO

from voxcore import __version__
from voxcore.cli import (
    ablate_cmd,
    data_cmd,
    edit_cmd,
    evaluate_cmd,
    export_cmd,
    generate_cmd,
    new_cmd,
    plugins_cmd,
    prepare_cmd,
    recipe_cmd,
    train_cmd,
)
from voxcore.errors import PluginError, UserError

EXIT_USER_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="voxcore",
        description="Generate images from speech: a small core plus plugins, driven by recipes.",
    )
    parser.add_argument("--version", action="version", version=f"voxcore {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="print the traceback of an error, not only its message")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    plugins_cmd.add_parser(commands)
    recipe_cmd.add_parser(commands)
    data_cmd.add_parser(commands)
    prepare_cmd.add_parser(commands)
    train_cmd.add_parser(commands)
    generate_cmd.add_parser(commands)
    edit_cmd.add_parser(commands)
    evaluate_cmd.add_parser(commands)
    export_cmd.add_parser(commands)
    ablate_cmd.add_parser(commands)
    new_cmd.add_parser(commands)
    _add_plugin_commands(commands)
    return parser


def _add_plugin_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from voxcore.plugins import add_plugin_commands

    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        add_plugin_commands(commands)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    try:
        parser = build_parser()
    except PluginError as exc:  # a plugin's commands under VOXCORE_STRICT_PLUGINS=1
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    args, extra = parser.parse_known_args(argv)
    # argparse stops filling a positional list at the first option; KEY=VALUE overrides
    # given after an option ('train RECIPE --resume train.lr=1e-5') land here instead.
    if extra:
        if hasattr(args, "option_flags"):
            # Commands whose options come from a plugin's config model ('voxcore data NAME
            # --images DIR') take the flags argparse does not know.
            args.option_flags = extra
        elif hasattr(args, "overrides") and all("=" in e and not e.startswith("-")
                                                for e in extra):
            args.overrides = [*args.overrides, *extra]
        else:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    previous = warnings.showwarning
    warnings.showwarning = _show_warning
    try:
        status: int = args.run(args)
        return status
    except (UserError, PluginError) as exc:
        if args.debug:
            traceback.print_exception(exc, file=sys.stderr)
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.showwarning = previous


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    print(f"warning: {message}", file=file or sys.stderr)



if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
