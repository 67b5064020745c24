"""The recipes that ship with voxcore (``recipes/`` of the repository, ``voxcore/_recipes`` of
an installed wheel), found by their path relative to that folder."""

from __future__ import annotations

from pathlib import Path

from voxcore.errors import UserError

__all__ = ["find_recipe", "shipped_recipe_folders"]


def shipped_recipe_folders() -> list[Path]:
    """Where shipped recipes may be: inside the installed package, then the source tree."""
    package = Path(__file__).resolve().parent.parent
    return [package / "_recipes", package.parent / "recipes"]


def find_recipe(relative: str) -> Path:
    """The shipped recipe ``relative`` (for example ``"quickstart/speech.yaml"``)."""
    for folder in shipped_recipe_folders():
        if (folder / relative).is_file():
            return folder / relative
    raise UserError(f"voxcore's recipe {relative!r} is missing from this installation; "
                    "reinstall voxcore or run from a clone of its repository")
