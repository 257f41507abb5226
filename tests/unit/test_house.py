"""The house rules that keep the code easy to change, read from the source with `ast`: imports only point down
(no circle), nothing in the library imports the CLI, pages ask a model's capabilities instead of its name, the CLI
documents every command, and the package list names every package."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from vae_core.cli import COMMANDS
from vae_core.registry import model_names

ROOT = Path(__file__).resolve().parents[2]
ENTRY_POINTS = {"vae_core.__main__"}  # may import the CLI (the console script names vae_core.cli:main itself)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(module: str, is_package: bool, node: ast.Import | ast.ImportFrom, known: set[str]) -> set[str]:
    """The modules of `known` that an import statement names: `import a.b`, `from .x import y` (y a module or a name
    inside x), at any level of the file, inside functions too (a lazy import still closes a circle)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = module.split(".") if is_package else module.split(".")[:-1]
        if node.level:
            base = base[: len(base) - (node.level - 1)]
            prefix = ".".join(base + ([node.module] if node.module else []))
        else:
            prefix = node.module or ""
        names = [prefix, *(f"{prefix}.{alias.name}" for alias in node.names)]
    return {name for name in names if name in known}


def import_graph(package: str) -> dict[str, set[str]]:
    """module -> the modules of the same package it imports (its own parent packages not counted as edges)."""
    files = {_module_name(p): p for p in (ROOT / package).rglob("*.py")}
    graph = {}
    for module, path in files.items():
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                edges |= _imported(module, path.name == "__init__.py", node, set(files))
        graph[module] = edges - {module}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle of imports as [a, b, ..., a], or None (depth-first search, colouring the modules on the path)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        path.pop()
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_find_cycle_finds_a_circle_and_only_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_import_graph_finds_lazy_and_relative_imports():
    graph = import_graph("vae_core")
    assert "vae_core.registry" in graph["vae_core.service"]  # from .registry import get_entry, at the top
    assert "vae_core.models" in graph["vae_core.registry"]  # from .models import MODEL_ENTRIES, inside a function
    assert "vae_core.metrics.likelihood" in graph["vae_core.metrics"]  # a package's own relative import


def test_vae_core_has_no_import_circle():
    cycle = find_cycle(import_graph("vae_core"))
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_only_the_entry_points_import_the_cli():
    importers = sorted(m for m, edges in import_graph("vae_core").items() if "vae_core.cli" in edges)
    assert set(importers) <= ENTRY_POINTS, importers


def _model_type_branches(path: Path, names: set[str]) -> list[str]:
    """Places in a file that ask a model its name: `.model_type` anywhere but inside an f-string (where it is only
    shown), and a comparison with a registered model type's name."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    shown = {id(n) for f in ast.walk(tree) if isinstance(f, ast.JoinedStr) for n in ast.walk(f)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "model_type" and id(node) not in shown:
            found.append(f"{path.name}:{node.lineno} reads .model_type")
        if isinstance(node, ast.Compare):
            for operand in [node.left, *node.comparators]:
                values = operand.elts if isinstance(operand, (ast.Tuple, ast.List, ast.Set)) else [operand]
                if any(isinstance(v, ast.Constant) and v.value in names for v in values):
                    found.append(f"{path.name}:{node.lineno} compares with a model type's name")
    return found


def test_the_rule_catches_a_page_that_asks_a_models_name(tmp_path):
    page = tmp_path / "page.py"
    page.write_text('if model.model_type == "vqvae": pass\nif kind in ("ae", "cvae"): pass\n'
                    'INTRO.get(model.model_type)\nst.caption(f"a {model.model_type}")\n')
    assert len(_model_type_branches(page, set(model_names()))) == 4  # the f-string is not a branch


@pytest.mark.parametrize("path", sorted((ROOT / "explorer").rglob("*.py")), ids=lambda p: p.name)
def test_no_page_branches_on_a_models_name(path):
    assert _model_type_branches(path, set(model_names())) == []


def test_the_cli_docstring_names_every_command():
    import vae_core.cli

    first_line = vae_core.cli.__doc__.splitlines()[0]
    assert all(f" {name}" in first_line for name in COMMANDS), first_line


def test_the_package_list_names_every_package_of_the_source():
    tomllib = pytest.importorskip("tomllib")
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    mapped = settings["package-dir"]
    # every folder of Python files: explorer/views holds page scripts without an __init__.py, and still ships
    folders = {p.parent for top in ("vae_core", "explorer") for p in (ROOT / top).rglob("*.py")}
    found = {".".join(folder.relative_to(ROOT).parts) for folder in folders}
    assert set(settings["packages"]) == found | set(mapped)
    for package in ("vae_core", "explorer"):  # every file a package reads at run time ships with it
        data = {p for pattern in settings["package-data"].get(package, []) for p in (ROOT / package).glob(pattern)}
        files = {p for p in (ROOT / package).rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")}
        assert files <= data, sorted(str(p.relative_to(ROOT)) for p in files - data)
    for package, folder in mapped.items():  # a mapped folder holds what its package data globs name
        patterns = settings["package-data"][package]
        assert all(any((ROOT / folder).glob(pattern)) for pattern in patterns), package
        shipped = {p for pattern in patterns for p in (ROOT / folder).glob(pattern)}
        tracked = {p for p in (ROOT / folder).rglob("*") if p.is_file() and p.name != "resume.pt"}
        assert tracked <= shipped, sorted(str(p) for p in tracked - shipped)[:3]
