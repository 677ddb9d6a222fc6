"""The shape of `src/` (docs/architecture.md): no import cycle between modules, and no import from a layer to
one above it. Every import counts: module-level, function-level and type-checking-only ones."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from retail_lakehouse.catalogue import LAYER_PACKAGES
from tests.conftest import REPO_ROOT

PACKAGE = "retail_lakehouse"
SOURCE = REPO_ROOT / "src" / PACKAGE

# Lowest first. A module may import its own package and the layers below its own; packages of one layer
# do not import each other (bronze, silver and the generator know nothing of one another).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("core",),
    ("config",),
    ("runtime",),
    ("io",),
    ("ops",),
    ("quality",),
    ("bronze", "silver", "generator", "replay", "summary", "serve"),
    ("gold", "inventory", "sql"),
    ("forecast",),
    ("runner",),
    ("catalogue",),
    ("commands", "explore"),
    ("cli",),
    ("__main__",),
    ("jvm_archive",),
)
# Imports the core may make besides the standard library: the contracts hold to pyspark and pydantic.
CORE_THIRD_PARTY = {"pyspark", "pydantic", "pydantic_core"}


def module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(SOURCE.rglob("*.py"))}


def imported(path: Path, known: set[str]) -> Iterator[str]:
    """Every module of the package `path` imports, anywhere in it (`from a import b` names module a.b when
    there is one, else a)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name.split(".")[0] == PACKAGE)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] != PACKAGE:
                continue
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                yield submodule if submodule in known else node.module


def third_party(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def import_graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: {m for m in imported(path, known) if m != name} for name, path in found.items()}


def layer_of(module: str) -> int:
    top = module.split(".")[1] if "." in module else ""
    if not top:  # the package's own __init__: its version, nothing else
        return 0
    for rank, packages in enumerate(LAYERS):
        if top in packages:
            return rank
    raise AssertionError(f"{module} is in no layer: add its package to LAYERS and to docs/architecture.md")


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        if node in visiting:
            return [*visiting[visiting.index(node) :], node]
        if node in done:
            return None
        visiting.append(node)
        for target in sorted(graph.get(node, ())):
            cycle = visit(target)
            if cycle:
                return cycle
        visiting.pop()
        done.add(node)
        return None

    for start in sorted(graph):
        cycle = visit(start)
        if cycle:
            return cycle
    return None


def test_no_import_cycle_between_modules() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_no_module_imports_a_layer_above_its_own_or_beside_it() -> None:
    wrong = []
    for module, targets in import_graph().items():
        package = module.split(".")[:2]
        for target in targets:
            if target.split(".")[:2] == package:
                continue
            if layer_of(target) >= layer_of(module):
                wrong.append(f"{module} imports {target}")
    assert wrong == []


def test_the_core_imports_only_pyspark_pydantic_and_the_standard_library() -> None:
    allowed = CORE_THIRD_PARTY | {PACKAGE} | set(__import__("sys").stdlib_module_names)
    for path in (SOURCE / "core").glob("*.py"):
        assert third_party(path) <= allowed, path.name
    core_imports = {t for m, ts in import_graph().items() if m.startswith(f"{PACKAGE}.core") for t in ts}
    assert {t for t in core_imports if not t.startswith(f"{PACKAGE}.core")} == set()


def test_only_the_catalogue_reaches_the_transforms() -> None:
    """No module outside the transform layers imports them; the catalogue imports their modules by name."""
    layers = ("bronze", "silver", "gold", "sql", "inventory", "forecast")
    importers = {
        module.split(".")[1]
        for module, targets in import_graph().items()
        if any(target.split(".")[1:2] and target.split(".")[1] in layers for target in targets)
    }
    assert importers - set(layers) == set()
    assert tuple(f"{PACKAGE}.{layer}" for layer in layers) == LAYER_PACKAGES


def test_the_checker_finds_a_cycle_and_an_upward_import() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    assert layer_of(f"{PACKAGE}.config.loader") < layer_of(f"{PACKAGE}.gold.sales")
