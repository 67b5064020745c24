"""The shape of the code: no import cycles in the core, plugins import only the plugin API.

Imports are read from the source (every ``import`` statement, at module level or inside a
function), so an import that only runs later still counts.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORE = REPO / "voxcore"
PLUGINS = sorted(path.parent for path in REPO.glob("plugins/*/*/pyproject.toml"))

#: What a plugin may import from voxcore (tests also :mod:`voxcore.testing` and the CLI).
PUBLIC = {"voxcore", "voxcore.plugin_api"}
PUBLIC_FOR_TESTS = PUBLIC | {"voxcore.testing", "voxcore.cli"}


def imported_modules(path: Path, package: str) -> Iterator[tuple[int, str, list[str]]]:
    """``(line, module, names)`` of every import in ``path`` (relative ones resolved)."""
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            yield node.lineno, module, [alias.name for alias in node.names]


def core_modules() -> dict[str, Path]:
    found = {}
    for path in CORE.rglob("*.py"):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def core_import_graph() -> dict[str, set[str]]:
    modules = core_modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for _, module, names in imported_modules(path, package):
            if module not in modules:
                continue
            targets = [f"{module}.{n}" for n in names if f"{module}.{n}" in modules]
            for target in targets or [module]:
                if target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_core_has_no_import_cycles() -> None:
    found = cycles(core_import_graph())
    assert not found, "import cycles in voxcore/ (every import counts, also inside functions):" \
        + "".join(f"\n  {' <-> '.join(c)}" for c in found)


def test_the_cycle_check_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def _plugin_packages() -> dict[str, tuple[str, Path]]:
    """Top-level package -> (distribution, plugin folder) of every first-party plugin."""
    packages = {}
    for folder in PLUGINS:
        project = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
        for package in (folder / "src").iterdir():
            if package.is_dir() and (package / "__init__.py").is_file():
                packages[package.name] = (project["name"], folder)
    return packages


def _dependencies(folder: Path) -> set[str]:
    project = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
    names = [re.split(r"[<>=!~ \[;]", requirement, maxsplit=1)[0]
             for requirement in project.get("dependencies", [])]
    return {name.strip().lower().replace("_", "-") for name in names}


@pytest.mark.parametrize("folder", PLUGINS, ids=[p.name for p in PLUGINS])
def test_plugins_import_only_the_plugin_api_and_public_names(folder: Path) -> None:
    packages = _plugin_packages()
    own = {name for name, (_, where) in packages.items() if where == folder}
    declared = _dependencies(folder)
    problems = []
    for path in sorted(folder.rglob("*.py")):
        relative = path.relative_to(folder)
        in_tests = relative.parts[0] in {"tests", "benchmarks"}
        allowed = PUBLIC_FOR_TESTS if in_tests else PUBLIC
        package = ".".join(path.relative_to(folder / "src").with_suffix("").parts[:-1]) \
            if relative.parts[0] == "src" else ""
        for line, module, names in imported_modules(path, package):
            top = module.split(".")[0]
            where = f"{relative}:{line}: {module}"
            if top == "voxcore":
                base = ".".join(module.split(".")[:2]) if module != "voxcore" else "voxcore"
                if module not in allowed and base not in allowed:
                    problems.append(f"{where} is not the plugin API (voxcore.plugin_api)")
                elif module == "voxcore" and not in_tests and set(names) - {
                        "hookimpl", "__version__"}:
                    problems.append(f"{where}: import these from voxcore.plugin_api")
            elif top in packages and top not in own:
                distribution, _ = packages[top]
                if module != top:
                    problems.append(f"{where} reaches into {distribution}'s internals; import "
                                    f"its public names from {top}")
                if not in_tests and distribution not in declared:
                    problems.append(f"{where}: {distribution} is not a declared dependency")
    assert not problems, "\n".join(problems)


def test_the_import_boundary_check_catches_an_internal_import(tmp_path: Path) -> None:
    source = tmp_path / "bad.py"
    source.write_text("from voxcore.training.trainer import train\nimport voxcore_sib.sib\n")
    assert [m for _, m, _ in imported_modules(source, "")] == ["voxcore.training.trainer",
                                                              "voxcore_sib.sib"]


def test_cli_imports_no_torch() -> None:
    code = "import sys, voxcore.cli; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
