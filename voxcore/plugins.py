"""Finding and loading plugins.

Plugins are modules named by entry points in the group ``voxcore.plugins``. They are loaded
lazily, the first time a registry is asked for, and once per process (call :func:`reset` to
load again). Each plugin is loaded in its own ``try``: one that fails to import, whose hooks
raise, or that registers something invalid is reported with its distribution and version and
the others still work. Environment variables:

- ``VOXCORE_STRICT_PLUGINS=1``: any plugin failure raises :class:`voxcore.errors.PluginError`.
- ``VOXCORE_LOAD_PLUGINS=a,b``: load only these plugins (entry point or distribution names).

A plugin whose distribution declares a ``voxcore`` requirement that excludes the running
version is skipped, with that reason, before its code is imported.
"""

from __future__ import annotations

import importlib.metadata as metadata
import os
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import pluggy
from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import Version

from voxcore import hookspecs
from voxcore.errors import PluginError, PluginLoadWarning
from voxcore.registry import (
    HOOK_FOR_KIND,
    KINDS,
    ComponentEntry,
    Kind,
    Registry,
    check_registration,
    normalize_distribution,
)

ENTRY_POINT_GROUP = "voxcore.plugins"
STRICT_ENV = "VOXCORE_STRICT_PLUGINS"
ONLY_ENV = "VOXCORE_LOAD_PLUGINS"

Status = Literal["loaded", "failed", "skipped", "disabled"]


@dataclass
class PluginRecord:
    """What happened to one plugin (one entry point)."""

    name: str
    distribution: str
    version: str
    module: str
    status: Status
    reason: str | None = None
    components: list[tuple[Kind, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form, as printed by ``voxcore plugins --json``."""
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "module": self.module,
            "status": self.status,
            "reason": self.reason,
            "components": [{"kind": k, "name": n} for k, n in self.components],
        }


@dataclass
class PluginState:
    """Every registry plus the record of every plugin seen, from one loading pass."""

    registries: dict[Kind, Registry]
    records: list[PluginRecord]
    modules: dict[str, Any] = field(default_factory=dict)
    manager: pluggy.PluginManager | None = None


_lock = threading.Lock()
_state: PluginState | None = None


def core_version() -> str:
    """The installed version of the voxcore distribution."""
    from voxcore import __version__

    return __version__


def get_registry(kind: Kind) -> Registry:
    """The registry of ``kind``, loading the plugins first if nothing has loaded them yet."""
    if kind not in KINDS:
        raise ValueError(f"unknown component kind {kind!r}; kinds are {', '.join(KINDS)}")
    return load_plugins().registries[kind]


def plugin_records() -> list[PluginRecord]:
    """One record per plugin entry point found, in load order."""
    return load_plugins().records


def load_plugins() -> PluginState:
    """Load every plugin once per process and return the result (cached)."""
    global _state
    with _lock:
        if _state is None:
            _state = _load(metadata.entry_points(group=ENTRY_POINT_GROUP))
        return _state


def reset() -> None:
    """Forget the loaded plugins so that the next registry use discovers them again."""
    global _state
    with _lock:
        _state = None


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _only() -> set[str] | None:
    raw = os.environ.get(ONLY_ENV, "").strip()
    if not raw:
        return None
    return {normalize_distribution(part.strip()) for part in raw.split(",") if part.strip()}


def _version_conflict(dist: metadata.Distribution | None) -> str | None:
    """Why this distribution cannot run with the installed voxcore, or ``None`` if it can."""
    if dist is None:
        return None
    running = Version(core_version())
    for line in dist.requires or []:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if normalize_distribution(requirement.name) != "voxcore":
            continue
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        if not requirement.specifier.contains(running, prereleases=True):
            return (f"requires voxcore{requirement.specifier} but voxcore {running} is installed; "
                    "upgrade one of them")
    return None


def _load(entry_points: metadata.EntryPoints) -> PluginState:
    strict = _flag(STRICT_ENV)
    only = _only()
    registries: dict[Kind, Registry] = {kind: Registry(kind) for kind in KINDS}
    records: list[PluginRecord] = []
    modules: dict[str, Any] = {}
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)

    for entry_point in entry_points:
        dist = entry_point.dist
        dist_name = normalize_distribution(dist.name) if dist is not None else "<unknown>"
        version = dist.version if dist is not None else "?"
        record = PluginRecord(entry_point.name, dist_name, version, entry_point.value, "loaded")
        records.append(record)
        if only is not None and not ({normalize_distribution(entry_point.name), dist_name} & only):
            record.status, record.reason = "disabled", f"not listed in {ONLY_ENV}"
            continue
        conflict = _version_conflict(dist)
        if conflict is not None:
            record.status, record.reason = "skipped", conflict
            continue
        try:
            staged, module = _load_one(manager, entry_point, record)
        except Exception as exc:  # one broken plugin must not take the others down
            record.status, record.reason = "failed", f"{type(exc).__name__}: {exc}"
            message = (f"voxcore plugin {entry_point.name!r} from {dist_name} {version} failed to "
                       f"load ({record.reason}); the other plugins still work. Set "
                       f"{STRICT_ENV}=1 to make this fatal.")
            if strict:
                raise PluginError(message) from exc
            warnings.warn(message, PluginLoadWarning, stacklevel=2)
            continue
        for entry in staged:
            registries[entry.kind].add(entry)
            record.components.append((entry.kind, entry.name))
        modules[f"{dist_name}:{entry_point.name}"] = module
    return PluginState(registries, records, modules, manager)


def add_plugin_commands(commands: Any) -> list[str]:
    """Let every loaded plugin add its ``voxcore`` subcommands; returns the names added.

    A plugin whose ``voxcore_add_commands`` hook raises (for example by adding a name that is
    already taken) gets a warning naming it, and the CLI goes on without its commands, unless
    ``VOXCORE_STRICT_PLUGINS=1``.
    """
    added: list[str] = []
    state = load_plugins()
    manager = state.manager
    if manager is None:
        return added
    implementers = {impl.plugin_name for impl in manager.hook.voxcore_add_commands.get_hookimpls()}
    for plugin_name, module in state.modules.items():
        if plugin_name not in implementers:
            continue
        others = [p for p in manager.get_plugins() if p is not module]
        before = set(commands.choices)
        try:
            manager.subset_hook_caller("voxcore_add_commands", remove_plugins=others)(
                commands=commands)
        except Exception as exc:
            for name in set(commands.choices) - before:
                del commands.choices[name]
            message = (f"voxcore plugin {plugin_name} failed to add its commands "
                       f"({type(exc).__name__}: {exc}); the other commands still work")
            if _flag(STRICT_ENV):
                raise PluginError(message) from exc
            warnings.warn(message, PluginLoadWarning, stacklevel=2)
            continue
        added += sorted(set(commands.choices) - before)
    return added


def _load_one(
    manager: pluggy.PluginManager, entry_point: metadata.EntryPoint, record: PluginRecord
) -> tuple[list[ComponentEntry], Any]:
    """Import one plugin and collect what it registers (all or nothing); also its module."""
    module = entry_point.load()
    plugin_name = f"{record.distribution}:{entry_point.name}"
    manager.register(module, name=plugin_name)
    staged: list[ComponentEntry] = []
    try:
        others = [p for p in manager.get_plugins() if p is not module]
        for kind, hook_name in HOOK_FOR_KIND.items():
            caller = manager.subset_hook_caller(hook_name, remove_plugins=others)
            caller(register=_register_into(staged, kind, record))
    except BaseException:
        manager.unregister(module)
        raise
    return staged, module


def _register_into(
    staged: list[ComponentEntry], kind: Kind, record: PluginRecord
) -> Callable[..., None]:
    def register(name: str, *, config: Any, factory: Any, description: str = "",
                 prepare: Any = None) -> None:
        check_registration(kind, name, config, factory, prepare)
        if any(e.kind == kind and e.name == name for e in staged):
            raise ValueError(f"{kind} {name!r} is registered twice by the same plugin")
        staged.append(ComponentEntry(kind=kind, name=name, config_model=config, factory=factory,
                                     distribution=record.distribution, version=record.version,
                                     plugin=record.name, description=description,
                                     preparer=prepare))

    return register
