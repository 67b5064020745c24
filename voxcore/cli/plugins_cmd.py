"""``voxcore plugins``: what is installed, where it comes from, and what failed to load."""

from __future__ import annotations

import argparse
import json
from typing import Any

from voxcore import __version__


def add_parser(commands: Any) -> None:
    """Add the ``plugins`` subcommand."""
    parser = commands.add_parser(
        "plugins", help="list installed components and plugins",
        description="List every registered component by kind, with its distribution and "
                    "version, and every plugin that failed to load or was skipped, with why.")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(run=run)


def collect() -> dict[str, Any]:
    """Everything ``voxcore plugins`` shows, as plain data."""
    from voxcore.plugins import get_registry, plugin_records
    from voxcore.registry import KINDS

    components = []
    for kind in KINDS:
        registry = get_registry(kind)
        for entry in registry:
            shared = [e.distribution for e in registry if e.name == entry.name]
            components.append({
                "kind": kind,
                "name": entry.name,
                "qualified_name": entry.qualified_name,
                "distribution": entry.distribution,
                "version": entry.version,
                "description": entry.description,
                "status": "ambiguous" if len(shared) > 1 else "ok",
            })
    return {
        "voxcore": __version__,
        "components": components,
        "plugins": [record.as_dict() for record in plugin_records()],
    }


def run(args: argparse.Namespace) -> int:
    """Print the table (or JSON)."""
    data = collect()
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    print(f"voxcore {data['voxcore']}")
    rows = [("KIND", "NAME", "DISTRIBUTION", "VERSION", "DESCRIPTION")]
    rows += [(c["kind"], c["name"] if c["status"] == "ok" else c["qualified_name"],
              c["distribution"], c["version"], c["description"]) for c in data["components"]]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
              + "  " + row[4])
    if not data["components"]:
        print("(no components: install a plugin package, e.g. voxcore-mel)")
    ambiguous = sorted({(c["kind"], c["name"]) for c in data["components"]
                        if c["status"] == "ambiguous"})
    for kind, name in ambiguous:
        print(f"note: {kind} {name!r} is provided by several distributions; recipes must name "
              f"it as 'distribution:{name}'")
    not_loaded = [p for p in data["plugins"] if p["status"] != "loaded"]
    if not_loaded:
        print("\nplugins not loaded:")
        for p in not_loaded:
            print(f"  {p['name']} ({p['distribution']} {p['version']}): {p['status']}: "
                  f"{p['reason']}")
    return 0
