"""The package's shape: stages as subpackages, each used only through what it exports.

Read from the source (every import, those inside functions and under
``TYPE_CHECKING`` included), so a cycle or a reach into another stage's
module fails here before it can surprise anyone at run time.
"""

from __future__ import annotations

import ast
import importlib
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "monitor"
STAGES = ("fetch", "parse", "dedup", "store", "digest", "send", "service", "cli")
"""The subpackages in pipeline order, then what drives them and the command line."""
SHARED_PACKAGES = ("config",)
"""Packages every stage may import from, through their exports too."""


@dataclass(frozen=True)
class Import:
    importer: str
    line: int
    module: str
    """The absolute module named after ``from`` (or after ``import``)."""
    names: tuple[str, ...]
    """The names imported from it; empty for ``import module``."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str, path: Path) -> list[Import]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = tuple(alias.name for alias in node.names)
            found.append(Import(name, node.lineno, target, names))
        elif isinstance(node, ast.Import):
            found += [Import(name, node.lineno, alias.name, ()) for alias in node.names]
    return [i for i in found if i.module == "monitor" or i.module.startswith("monitor.")]


def targets(found: Import, known: dict[str, Path]) -> list[str]:
    """The modules an import loads: a name that is a submodule counts as that module."""
    submodules = [f"{found.module}.{n}" for n in found.names if f"{found.module}.{n}" in known]
    return submodules or [found.module]


def lazy_modules(package: str, path: Path) -> list[str]:
    """The modules a lazily exporting package imports when asked (`monitor.lazy`)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "lazy_exports":
            table = ast.literal_eval(node.args[1])
            return [f"{package}.{module}" for module in table]
    return []


def graph() -> dict[str, set[str]]:
    known = modules()
    edges: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        for found in imports_of(name, path):
            edges[name].update(t for t in targets(found, known) if t != name)
        if path.name == "__init__.py":
            edges[name].update(lazy_modules(name, path))
    return edges


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of `edges`, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def unit_of(module: str) -> str:
    """The stage or shared module a module belongs to: ``monitor.store.items`` → store."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "monitor"


def exports(package: str) -> list[str]:
    tree = ast.parse((PACKAGE / package / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "__all__":
            return list(ast.literal_eval(node.value))
    raise AssertionError(f"monitor/{package}/__init__.py has no __all__")


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_module_imports_itself_back_through_others() -> None:
    assert cycle(graph()) is None


def test_no_stage_imports_itself_back_through_others() -> None:
    stages: dict[str, set[str]] = {}
    for module, imported in graph().items():
        unit = unit_of(module)
        stages.setdefault(unit, set()).update(
            unit_of(other) for other in imported if unit_of(other) != unit
        )
    stages.pop("monitor", None)  # the package's own __init__ and __main__ start the CLI
    assert cycle(stages) is None


def test_every_stage_is_a_subpackage_that_says_what_it_does() -> None:
    folders = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert folders == set(STAGES) | set(SHARED_PACKAGES)
    for package in folders:
        module = importlib.import_module(f"monitor.{package}")
        assert module.__doc__ and len(module.__doc__.split()) >= 20, package
        assert exports(package), package


@pytest.mark.parametrize("package", STAGES + SHARED_PACKAGES)
def test_a_stage_exports_what_it_lists_and_no_name_hides_a_module(package: str) -> None:
    module = importlib.import_module(f"monitor.{package}")
    listed = exports(package)
    assert listed == sorted(set(listed), key=listed.index), "listed twice"
    submodules = {p.stem for p in (PACKAGE / package).glob("*.py")}
    submodules |= {p.parent.name for p in (PACKAGE / package).glob("*/__init__.py")}
    for name in listed:
        # An export named like a submodule would be replaced by the module once
        # the submodule is imported.
        assert name not in submodules, f"monitor.{package}.{name} is also a module"
        assert getattr(module, name) is not None


@pytest.mark.parametrize("package", ["digest", "service"])
def test_a_lazy_stage_lists_each_export_three_times_alike(package: str) -> None:
    """`__all__`, the imports for type checkers and the table `lazy_exports` reads."""
    path = PACKAGE / package / "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typed: dict[str, str] = {}
    table: dict[str, tuple[str, ...]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for imported in node.body:
                assert isinstance(imported, ast.ImportFrom) and imported.module
                typed.update({alias.name: imported.module for alias in imported.names})
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "lazy_exports":
            table = ast.literal_eval(node.args[1])
    lazy = {name: module for module, names in table.items() for name in names}
    assert sorted(exports(package)) == sorted(typed) == sorted(lazy)
    assert typed == lazy


def test_a_lazy_stage_imports_a_module_only_when_one_of_its_names_is_used() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from monitor.digest import match_topics; "
        "print(sorted(m for m in sys.modules if m.startswith('monitor.digest.')), "
        "'jinja2' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        "['monitor.digest.summary',",
        "'monitor.digest.topics']",
        "False",
    ]


def test_a_stage_takes_from_another_only_what_that_one_exports() -> None:
    known = modules()
    problems = []
    for name, path in known.items():
        unit = unit_of(name)
        for found in imports_of(name, path):
            other = unit_of(found.module)
            if other == unit or other == "monitor" and found.module == "monitor":
                continue
            where = f"{path.relative_to(ROOT)}:{found.line}"
            if other in STAGES + SHARED_PACKAGES:
                if found.module != f"monitor.{other}":
                    problems.append(f"{where}: imports {found.module}, not monitor.{other}")
                    continue
                hidden = sorted(set(found.names) - set(exports(other)))
                if hidden:
                    problems.append(f"{where}: monitor.{other} does not export {hidden}")
            else:  # a module every stage shares (errors, models, urls, …)
                private = [n for n in found.names if n.startswith("_")]
                if private:
                    problems.append(f"{where}: private {private} of {found.module}")
    assert problems == []


def test_within_a_stage_modules_import_each_other_not_their_package() -> None:
    """Importing the stage's own ``__init__`` from inside it would be a cycle in waiting."""
    for name, path in modules().items():
        if path.name == "__init__.py":
            continue
        package = name.rpartition(".")[0]
        for found in imports_of(name, path):
            assert found.module != package or all(
                f"{package}.{n}" in modules() for n in found.names
            ), f"{path.relative_to(ROOT)}:{found.line}"


def test_the_readme_package_map_matches_the_folders() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## How it works", 1)[1].split("\n## ", 1)[0]
    mapped = re.findall(r"^monitor/(\w+)/", section, re.MULTILINE)
    assert mapped == [*STAGES[:6], "service", "cli", *SHARED_PACKAGES]
