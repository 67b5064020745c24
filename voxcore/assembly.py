"""Assembling a model from a recipe, and checking that its parts fit before anything runs.

:func:`build_model` builds encoder, generator and bottleneck (in that order, each from its
own random stream of the recipe's seed), filling in the bottleneck's widths: ``input_dim``
from the encoder's ``output_dim``, ``output_dim`` from the generator's
``cross_attention_dim`` and ``pooled_dim`` from the generator's ``pooled_dim``, so swapping
an encoder or a generator is a one-line change. A width that *is* written must agree.

:func:`check_assembly` does the same on the ``meta`` device (no weights read, nothing
downloaded or prepared; see :mod:`voxcore.check_mode`) and reports every way the parts do not
fit, each at a dotted recipe key: widths, the pooled input, a component's own checks of the
values filled in from the others (:class:`~voxcore.errors.ConfigProblem`), the abilities the
recipe asks for (gradient checkpointing, the sampling scheduler), and registered components
named inside a component's config (:class:`~voxcore.configs.ComponentRef`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, ValidationError

from voxcore.check_mode import check_mode
from voxcore.configs import BottleneckConfig, ComponentRef
from voxcore.errors import CannotCheck, ConfigProblem, RecipeError, RecipeIssue, UserError
from voxcore.interfaces import (
    ImageGenerator,
    ListsSchedulers,
    SpeechEncoder,
    SupportsGradientCheckpointing,
    TextEncoder,
)
from voxcore.model import VoxModel
from voxcore.preparation import prepared_folder
from voxcore.recipe import BoundComponent, ResolvedRecipe
from voxcore.recipe.validation import pydantic_issues

__all__ = ["AssemblyReport", "RecipeCheck", "build_model", "check_assembly", "check_recipe",
           "fits"]

#: Each part's random initialisation is drawn from its own stream of the recipe's seed.
_PART_STREAMS = {"encoder": 1, "generator": 2, "bottleneck": 3}

#: Bottleneck config keys filled in from the other parts: (part, attribute, what it is).
_FILLED = {
    "input_dim": ("encoder", "output_dim", "the encoder's output_dim"),
    "output_dim": ("generator", "cross_attention_dim", "the generator's cross_attention_dim"),
    "pooled_dim": ("generator", "pooled_dim", "the generator's pooled_dim"),
}


@dataclass
class AssemblyReport:
    """What :func:`check_assembly` found: problems (at dotted keys) and notes."""

    issues: list[RecipeIssue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@contextmanager
def _seeded(seed: int, part: str) -> Iterator[None]:
    """Build ``part`` with torch's generator set to the part's own stream of ``seed``; the
    generator's state is restored afterwards."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed((seed * 1_000_003 + _PART_STREAMS[part]) % 2**63)
        yield


class _Unknown(Exception):
    """A part could not be assembled in a check; the note says why."""


class _Assembler:
    """One assembly of a recipe, collecting problems instead of stopping at the first."""

    def __init__(self, resolved: ResolvedRecipe, *, check: bool,
                 prepared: Mapping[str, Path] | None, source: str) -> None:
        self.resolved = resolved
        self.check = check
        self.prepared = dict(prepared or {})
        self.source = source
        self.report = AssemblyReport()

    def issue(self, path: str, message: str) -> None:
        self.report.issues.append(RecipeIssue(path, message))

    def part(self, bound: BoundComponent, config: BaseModel | None = None) -> Any:
        """Build one part; a problem becomes an issue at its keys and :class:`_Unknown`."""
        section = bound.path.split(".")[0]
        folder = None if self.check else prepared_folder(bound, self.prepared,
                                                          source=self.source)
        try:
            with _seeded(self.resolved.recipe.seed, section):
                return bound.build(config, prepared=folder)
        except ConfigProblem as problem:
            self.issue(self.key_of(bound, problem.key), problem.message)
        except CannotCheck as reason:
            self.report.notes.append(f"{bound.path} ({bound.entry.name}) was not assembled: "
                                     f"{reason}; the parts that depend on it were not checked")
        except UserError as error:
            if not self.check:
                raise
            self.issue(bound.path, str(error))
        raise _Unknown

    def key_of(self, bound: BoundComponent, key: str) -> str:
        """The recipe key of ``key`` in ``bound``'s config."""
        if not key:
            return f"{bound.path}.config"
        return f"{bound.path}.config.{key}"

    def assemble(self) -> VoxModel | None:
        resolved = self.resolved
        encoder = generator = None
        with suppress(_Unknown):
            encoder = self.part(resolved.encoder)
        with suppress(_Unknown):
            generator = self.part(resolved.generator)
        if generator is not None and not isinstance(generator, ImageGenerator):
            self.issue("generator.name", f"{resolved.generator.label} does not provide the "
                       "ImageGenerator interface (voxcore/interfaces.py)")
            generator = None
        if encoder is not None and not isinstance(encoder, SpeechEncoder | TextEncoder):
            self.issue("encoder.name", f"{resolved.encoder.label} provides neither the "
                       "SpeechEncoder nor the TextEncoder interface (voxcore/interfaces.py)")
            encoder = None
        parts = {"encoder": encoder, "generator": generator}
        if generator is not None:
            self.recipe_abilities(generator)
        bottleneck = self.bottleneck(parts)
        if self.check:
            self.nested_references()
        if self.report.issues:
            raise RecipeError(self.source, self.report.issues)
        if encoder is None or generator is None or bottleneck is None:
            return None
        labels = {bound.path: bound.label for bound in resolved.model_parts}
        return VoxModel(encoder, bottleneck, generator, labels)

    def declared_pooling(self, generator: Any) -> bool:
        """Whether the bottleneck's declared pooled output fits the generator (an issue at the
        generator's key when it does not)."""
        model = self.resolved.bottleneck.entry.config_model
        declared = model.pooled_output if issubclass(model, BottleneckConfig) else "optional"
        taken = _port(generator, "pooled_dim")
        name = self.resolved.bottleneck.entry.name
        key = self.pooled_key()
        if declared == "required" and taken is None:
            self.issue(key, f"bottleneck {name} always gives a pooled vector, but the generator "
                            f"takes none; give the generator a pooled input (set {key})")
            return False
        if declared == "never" and taken is not None:
            self.issue(key, f"the generator takes a pooled vector of {taken}, but bottleneck "
                            f"{name} never gives one; use a generator without a pooled input")
            return False
        return True

    def pooled_key(self) -> str:
        fields = self.resolved.generator.entry.config_model.model_fields
        return "generator.config.pooled_dim" if "pooled_dim" in fields else "generator"

    def bottleneck(self, parts: Mapping[str, Any]) -> Any:
        bound = self.resolved.bottleneck
        if parts["generator"] is not None and not self.declared_pooling(parts["generator"]):
            return None
        given = bound.config.model_dump()
        filled: dict[str, Any] = {}
        unknown = contradicted = False
        for key, (part, attribute, what) in _FILLED.items():
            built = parts[part]
            if built is None:
                unknown = unknown or given.get(key) is None
                continue
            value = _port(built, attribute)
            if given.get(key) is None:
                filled[key] = value
            elif given[key] != value:
                contradicted = True
                self.issue(f"bottleneck.config.{key}", f"is {given[key]} but {what} is {value}; "
                                                       "remove the key to have it filled in")
        if unknown or contradicted:
            return None
        try:
            config = bound.entry.validate_config({**given, **filled})
        except ValidationError as exc:
            for issue in pydantic_issues(exc, bound.entry.config_model, prefix="bottleneck.config"):
                self.issue(issue.path, issue.message + self.filled_note(filled))
            return None
        try:
            bottleneck = self.part(bound, config)
        except _Unknown:
            self.move_filled_issues(filled)
            return None
        self.check_ports(bottleneck, parts["generator"])
        return bottleneck

    def filled_note(self, filled: Mapping[str, Any]) -> str:
        if not filled:
            return ""
        values = ", ".join(f"{key}={value}" for key, value in filled.items())
        return f" (filled in from the encoder and generator: {values})"

    def move_filled_issues(self, filled: Mapping[str, Any]) -> None:
        """An issue the bottleneck raised about a filled-in width belongs to the part the
        width came from: report it at that part's key."""
        moved = []
        for issue in self.report.issues:
            key = issue.path.removeprefix("bottleneck.config.")
            if key in filled and issue.path.startswith("bottleneck.config."):
                part, attribute, what = _FILLED[key]
                target = self.resolved.generator if part == "generator" else self.resolved.encoder
                if attribute in target.entry.config_model.model_fields:
                    path = f"{part}.config.{attribute}"
                else:
                    path = part
                name = self.resolved.bottleneck.entry.name
                issue = RecipeIssue(path, f"{name}: {issue.message} ({what} is "
                                          f"{filled[key]!r}, filled into bottleneck.config.{key})")
            moved.append(issue)
        self.report.issues = moved

    def check_ports(self, bottleneck: Any, generator: Any) -> None:
        name = self.resolved.bottleneck.entry.name
        given = _port(bottleneck, "pooled_dim")
        taken = _port(generator, "pooled_dim")
        pooled_key = self.pooled_key()
        if given != taken:
            if taken is None:
                self.issue(pooled_key, f"{name} gives a pooled vector of {given}, but the "
                                       f"generator takes none; set {pooled_key}: {given}")
            elif given is None:
                self.issue(pooled_key, f"the generator takes a pooled vector of {taken}, but "
                                       f"bottleneck {name} gives none; use a bottleneck with a "
                                       "pooled output or a generator without a pooled input")
            else:
                self.issue(pooled_key, f"{name} gives a pooled vector of {given} but the "
                                       f"generator takes {taken}")
        width, attention = _port(bottleneck, "output_dim"), _port(generator,
                                                                  "cross_attention_dim")
        if width != attention:
            self.issue("bottleneck.config.output_dim", f"{name} gives tokens of width {width} "
                       f"but the generator's cross-attention takes {attention}")

    def recipe_abilities(self, generator: Any) -> None:
        recipe = self.resolved.recipe
        label = self.resolved.generator.label
        if recipe.train.gradient_checkpointing and not isinstance(
                generator, SupportsGradientCheckpointing):
            self.issue("train.gradient_checkpointing", f"is on, but {label} does not support "
                       "gradient checkpointing (it has no enable_gradient_checkpointing); "
                       "set it to false")
        if isinstance(generator, ListsSchedulers):
            known = [str(name) for name in generator.schedulers]
            if recipe.generate.scheduler not in known:
                self.issue("generate.scheduler", f"{recipe.generate.scheduler!r} is not a "
                           f"sampler of {label}; it has {', '.join(known)}")

    def nested_references(self) -> None:
        """Registered components named inside component configs must exist and be valid."""
        from voxcore.plugins import get_registry

        for bound in self.resolved.parts:
            for path, ref in _references(bound.config, f"{bound.path}.config"):
                try:
                    entry = get_registry(ref.kind).get(ref.name)  # type: ignore[arg-type]
                except UserError as exc:
                    self.issue(f"{path}.name", str(exc))
                    continue
                try:
                    entry.validate_config(ref.config)
                except ValidationError as exc:
                    self.report.issues += pydantic_issues(exc, entry.config_model,
                                                          prefix=f"{path}.config")


_PORTS = {
    "output_dim": lambda part: part.output_dim,
    "cross_attention_dim": lambda part: part.cross_attention_dim,
    "pooled_dim": lambda part: part.pooled_dim,
}


def _port(part: Any, attribute: str) -> int | None:
    """A width the interfaces make every part declare (``output_dim`` of encoders and
    bottlenecks, ``cross_attention_dim`` and ``pooled_dim`` of generators and bottlenecks)."""
    value = _PORTS[attribute](part)
    return None if value is None else int(value)


def _references(config: Any, path: str) -> Iterator[tuple[str, ComponentRef]]:
    """Every :class:`ComponentRef` inside a validated config, with its dotted path."""
    if isinstance(config, ComponentRef):
        yield path, config
        return
    if isinstance(config, BaseModel):
        for name in type(config).model_fields:
            yield from _references(config.__dict__.get(name), f"{path}.{name}")
    elif isinstance(config, list | tuple):
        for index, item in enumerate(config):
            yield from _references(item, f"{path}[{index}]")


def build_model(resolved: ResolvedRecipe, *, prepared: Mapping[str, Path] | None = None,
                source: str | None = None) -> VoxModel:
    """Build every part of a validated recipe, filling in the bottleneck's widths.

    Each part draws its initial weights from its own random stream of ``recipe.seed``, so a
    part's initialisation does not depend on the others: two recipes that differ only in the
    encoder start from the same generator weights. Parts with a preparation step are built
    with their artefact: from ``prepared`` (by recipe section, as a run keeps them), else from
    their preparation's cache; a missing one is a :class:`~voxcore.errors.PreparationMissing`
    error. Parts that do not fit raise one :class:`~voxcore.errors.RecipeError`.
    """
    assembler = _Assembler(resolved, check=False, prepared=prepared,
                           source=source or resolved.source)
    model = assembler.assemble()
    assert model is not None
    return model


def check_assembly(resolved: ResolvedRecipe) -> AssemblyReport:
    """Assemble ``resolved`` on the meta device and report every way its parts do not fit
    (``issues``, at dotted keys) and what could not be checked (``notes``)."""
    assembler = _Assembler(resolved, check=True, prepared=None, source=resolved.source)
    with check_mode(), suppress(RecipeError):
        assembler.assemble()
    return assembler.report


def fits(resolved: ResolvedRecipe) -> None:
    """Raise one :class:`RecipeError` listing every problem :func:`check_assembly` finds."""
    report = check_assembly(resolved)
    if report.issues:
        raise RecipeError(resolved.source, report.issues)



@dataclass(frozen=True)
class RecipeCheck:
    """A recipe that is valid and whose parts fit, with what could not be checked."""

    resolved: ResolvedRecipe
    notes: list[str]


def check_recipe(path: str | Path, overrides: Sequence[str] = ()) -> RecipeCheck:
    """Validate a recipe file and assemble its model on the meta device; raise one
    :class:`RecipeError` with every config problem and every way its parts do not fit.

    When only sections other than the three parts have config problems (a typo under
    ``train``), the parts are still assembled (with those sections at their defaults), so both
    kinds of problem come back together.
    """
    from voxcore.recipe import read_recipe, validate_recipe

    source = str(path)
    data = read_recipe(path, overrides)
    config_issues: list[RecipeIssue] = []
    try:
        resolved = validate_recipe(data, source=source)
    except RecipeError as exc:
        config_issues = list(exc.issues)
        heads = {issue.path.split(".")[0].split("[")[0] for issue in config_issues}
        if heads & {"", "encoder", "bottleneck", "generator"}:
            raise
        # Assemble the parts anyway, with the sections that have problems at their defaults.
        kept = {key: value for key, value in data.items() if key not in heads}
        try:
            resolved = validate_recipe(kept, source=source)
        except RecipeError:
            raise exc from None
    report = check_assembly(resolved)
    issues = [*config_issues, *report.issues]
    if issues:
        raise RecipeError(source, issues, report.notes)
    return RecipeCheck(resolved, report.notes)
