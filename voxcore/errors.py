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


class AudioError(UserError, ValueError):
    """An audio file or waveform that cannot be used; the message says what to fix.

    It is also a :class:`ValueError`, so code that validates inputs generically catches it.
    """


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

    def __init__(self, source: str, issues: Sequence[RecipeIssue],
                 notes: Sequence[str] = ()) -> None:
        self.source = source
        self.issues = list(issues)
        self.notes = list(notes)
        count = len(self.issues)
        lines = [f"recipe {source} has {count} problem{'s' if count != 1 else ''}:"]
        lines += [f"  - {issue}" for issue in self.issues]
        lines += [f"note: {note}" for note in self.notes]
        super().__init__("\n".join(lines))


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A " did you mean 'x'?" suffix for the closest candidate, or ``""``."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" did you mean {matches[0]!r}?" if matches else ""


class ConfigProblem(UserError, ValueError):
    """A component's config cannot work, with the key of the component's own config at fault.

    Raise it from a component's constructor (or its preparation) when a value, often one the
    recipe filled in from another part, does not fit:
    ``ConfigProblem("pooled_dim", "pooled_dim is not set; ...")`` (the message is shown on its
    own too, so it names the key). voxcore reports it at the recipe key
    (``bottleneck.config.pooled_dim``), or at the key of the part the value came from. It is
    also a :class:`ValueError`, as a plain constructor check would be.
    """

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        self.message = message
        super().__init__(message)


class PluginFailure(UserError):
    """A plugin raised an exception while voxcore used one of its components.

    The message names the component, its distribution and the recipe section; the original
    exception is the ``__cause__`` (``voxcore --debug`` prints its traceback).
    """


class PreparationMissing(UserError):
    """A component's prepared artefact (a trained recogniser, a judge) is not there yet."""


class CannotCheck(VoxcoreError):
    """A component cannot be assembled on the ``meta`` device without data that is not here.

    Raised while ``voxcore recipe check`` assembles a recipe (see
    :func:`voxcore.assembly.checking`), for example by a generator whose architecture is only
    known from checkpoint files that are not on this machine. The check then says so and goes
    on with the other parts.
    """
