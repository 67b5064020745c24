"""Errors voxcore raises, split by who can fix them.

:class:`UserError` and its subclasses describe a mistake the user can correct (a typo in a
recipe, a missing file, an unknown component); the CLI prints their message and exits with
status 2, without a traceback. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class VoxcoreError(Exception):
    """Base class of every error voxcore raises on purpose."""


class UserError(VoxcoreError):
    """A problem in the user's input, with a message that says what to fix."""


class PluginError(VoxcoreError):
    """A plugin failed to load while ``VOXCORE_STRICT_PLUGINS=1`` makes that fatal."""


class PluginLoadWarning(UserWarning):
    """A plugin was not loaded; the other plugins still work."""


class UnknownComponentError(UserError, LookupError):
    """No installed plugin provides a component of this kind and name."""


class AmbiguousComponentError(UserError, LookupError):
    """Two distributions provide a component of the same kind and name."""


@dataclass(frozen=True)
class RecipeIssue:
    """One problem in a recipe: the dotted ``path`` of the key and what is wrong with it."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class RecipeError(UserError):
    """Every problem found in a recipe, reported together."""

    def __init__(self, source: str, issues: Sequence[RecipeIssue]) -> None:
        self.source = source
        self.issues = list(issues)
        count = len(self.issues)
        lines = [f"recipe {source} has {count} problem{'s' if count != 1 else ''}:"]
        lines += [f"  - {issue}" for issue in self.issues]
        super().__init__("\n".join(lines))


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A " did you mean 'x'?" suffix for the closest candidate, or ``""``."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" did you mean {matches[0]!r}?" if matches else ""
