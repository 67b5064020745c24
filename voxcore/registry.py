"""Registries of components: one per kind, filled by plugins through hooks.

An entry is a name, a pydantic config model and a factory that is imported only when the
component is built. Names are unique per kind *per distribution*: when two distributions
register the same name, asking for it plainly is an error naming both, and
``"distribution:name"`` picks one.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast, get_args

from pydantic import BaseModel

from voxcore.errors import AmbiguousComponentError, UnknownComponentError, did_you_mean

if TYPE_CHECKING:
    from voxcore.interfaces import Preparation

Kind = Literal["encoder", "bottleneck", "generator", "metric", "dataset", "dataset_builder",
               "voice_corpus", "captioner", "synthesizer", "emotion_recognizer"]
KINDS: tuple[Kind, ...] = get_args(Kind)

#: The hook each kind is registered through.
HOOK_FOR_KIND: dict[Kind, str] = {
    "encoder": "voxcore_register_encoders",
    "bottleneck": "voxcore_register_bottlenecks",
    "generator": "voxcore_register_generators",
    "metric": "voxcore_register_metrics",
    "dataset": "voxcore_register_datasets",
    "dataset_builder": "voxcore_register_dataset_builders",
    "voice_corpus": "voxcore_register_voice_corpora",
    "captioner": "voxcore_register_captioners",
    "synthesizer": "voxcore_register_synthesizers",
    "emotion_recognizer": "voxcore_register_emotion_recognizers",
}

#: Fields every bottleneck config declares; ``None`` means "take it from the recipe".
BOTTLENECK_DIM_FIELDS = ("input_dim", "output_dim", "pooled_dim")

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

Factory = Callable[..., Any]


def normalize_distribution(name: str) -> str:
    """PEP 503 normalized form of a distribution name (``Voxcore_Mel`` -> ``voxcore-mel``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class ComponentEntry:
    """One registered component."""

    kind: Kind
    name: str
    config_model: type[BaseModel]
    factory: Factory | str
    distribution: str
    version: str
    plugin: str
    description: str = ""
    #: ``config -> Preparation | None`` (or ``"module:attribute"``): what the component must
    #: learn from data before it is built; ``None`` when it never needs anything prepared.
    preparer: Factory | str | None = None

    @property
    def qualified_name(self) -> str:
        """``distribution:name``, unambiguous even when two plugins share ``name``."""
        return f"{self.distribution}:{self.name}"

    def validate_config(self, config: Mapping[str, Any] | BaseModel | None) -> BaseModel:
        """Validate a recipe's ``config`` mapping against this component's model.

        Raises :class:`pydantic.ValidationError` with every problem found.
        """
        if isinstance(config, self.config_model):
            return config
        if isinstance(config, BaseModel):
            config = config.model_dump()
        return self.config_model.model_validate(dict(config or {}))

    def resolve_factory(self) -> Factory:
        """The factory callable, importing its module now if it was given as a string."""
        return _resolve(self.factory)

    @property
    def needs_preparation(self) -> bool:
        """Whether the component was registered with a preparation step."""
        return self.preparer is not None

    def preparation(self, config: Mapping[str, Any] | BaseModel | None = None
                    ) -> Preparation | None:
        """What ``config`` needs prepared before the component is built (``None``: nothing)."""
        if self.preparer is None:
            return None
        prepared: Preparation | None = _resolve(self.preparer)(self.validate_config(config))
        return prepared

    def build(self, config: Mapping[str, Any] | BaseModel | None = None, *,
              prepared: Path | None = None) -> Any:
        """Validate ``config`` and call the factory with it.

        A component registered with a preparation step gets ``prepared=`` too: the folder of
        its prepared artefact, or ``None`` (see :mod:`voxcore.preparation`, which finds it).
        """
        factory = self.resolve_factory()
        validated = self.validate_config(config)
        if self.preparer is None:
            if prepared is not None:
                raise ValueError(f"{self.kind} {self.name!r} has no preparation step, but a "
                                 f"prepared folder was given ({prepared})")
            return factory(validated)
        return factory(validated, prepared=prepared)


def _resolve(factory: Factory | str) -> Factory:
    if not isinstance(factory, str):
        return factory
    module_name, _, attribute = factory.partition(":")
    module = importlib.import_module(module_name)
    return cast(Factory, getattr(module, attribute))


def check_registration(kind: Kind, name: str, config: Any, factory: Any,
                       prepare: Any = None) -> None:
    """Raise ``ValueError`` if a plugin's ``register(...)`` call is not well formed."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"{kind} name {name!r} must be lowercase letters, digits, '-' or '_'")
    if not (isinstance(config, type) and issubclass(config, BaseModel)):
        raise ValueError(f"{kind} {name!r}: config must be a pydantic model class, got {config!r}")
    if config.model_config.get("extra") != "forbid":
        raise ValueError(f"{kind} {name!r}: config model {config.__name__} must set "
                         "model_config = ConfigDict(extra='forbid') so typos in recipes are caught")
    if kind == "bottleneck":
        missing = [f for f in BOTTLENECK_DIM_FIELDS if f not in config.model_fields]
        if missing:
            raise ValueError(f"bottleneck {name!r}: config model {config.__name__} lacks the "
                             f"field(s) {', '.join(missing)}")
    for what, value in (("factory", factory), ("prepare", prepare)):
        if value is None and what == "prepare":
            continue
        if isinstance(value, str):
            if not re.match(r"^[\w.]+:[\w.]+$", value):
                raise ValueError(f"{kind} {name!r}: {what} string {value!r} must look like "
                                 "'package.module:attribute'")
        elif not callable(value):
            raise ValueError(f"{kind} {name!r}: {what} must be callable or 'module:attribute'")


class Registry:
    """The components of one kind, by name."""

    def __init__(self, kind: Kind) -> None:
        self.kind: Kind = kind
        self._by_name: dict[str, list[ComponentEntry]] = {}

    def add(self, entry: ComponentEntry) -> None:
        """Add an entry (called by the plugin loader)."""
        same = self._by_name.setdefault(entry.name, [])
        if any(e.distribution == entry.distribution for e in same):
            raise ValueError(f"{entry.distribution} registers {self.kind} {entry.name!r} twice")
        same.append(entry)

    def __iter__(self) -> Iterator[ComponentEntry]:
        for name in sorted(self._by_name):
            yield from self._by_name[name]

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        try:
            self.get(name)
        except LookupError:
            return False
        return True

    def names(self) -> list[str]:
        """Sorted names of everything registered (each once, even if provided twice)."""
        return sorted(self._by_name)

    def get(self, name: str) -> ComponentEntry:
        """The entry called ``name`` (or ``"distribution:name"``).

        Raises :class:`UnknownComponentError` (with a did-you-mean and the installed names)
        or :class:`AmbiguousComponentError` (naming every distribution that provides it).
        """
        distribution, _, plain = name.rpartition(":")
        candidates = self._by_name.get(plain, [])
        if distribution:
            wanted = normalize_distribution(distribution)
            candidates = [e for e in candidates if e.distribution == wanted]
        if not candidates:
            raise UnknownComponentError(self._unknown_message(name))
        if len(candidates) > 1:
            sources = ", ".join(f"{e.distribution} {e.version}" for e in candidates)
            choices = " or ".join(repr(e.qualified_name) for e in candidates)
            raise AmbiguousComponentError(
                f"{self.kind} {plain!r} is provided by several distributions ({sources}); "
                f"name one explicitly: {choices}")
        return candidates[0]

    def build(self, name: str, config: Mapping[str, Any] | BaseModel | None = None, *,
              prepared: Path | None = None) -> Any:
        """Look up ``name`` and build it from ``config`` (see :meth:`ComponentEntry.build`)."""
        return self.get(name).build(config, prepared=prepared)

    def _unknown_message(self, name: str) -> str:
        installed = ", ".join(self.names()) or "none"
        hint = did_you_mean(name.rpartition(":")[2], self.names())
        return (f"unknown {self.kind} {name!r};{hint} installed {self.kind}s: {installed}. "
                "Run 'voxcore plugins' to see every plugin and why one may not have loaded.")
