"""The shape of the code: no import cycles, modules of a readable size, a cheap package
import and a public API that is importable from ``simcore``."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "simcore"
#: Lines above which a module should be split along its seams (the numba kernels, one
#: loop nest per function, are exempt).
MAX_MODULE_LINES = 600


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(path: Path, modules: set[str]) -> set[str]:
    """simcore modules imported anywhere in ``path`` (function-level imports included:
    a lazy import is still a dependency), except under ``if TYPE_CHECKING``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and _is_type_checking(node)
               for n in ast.walk(node)}
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in modules else base)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m in modules and m != name}


def _strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for other in edges[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return cycles


def test_no_import_cycles_among_simcore_modules():
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {_module_name(p) for p in paths}
    edges = {_module_name(p): _imports(p, modules) for p in paths}
    assert _strongly_connected(edges) == []


@pytest.mark.parametrize("path", sorted([*PACKAGE.rglob("*.py"), *(REPO / "cli").rglob("*.py")]),
                         ids=lambda p: str(p.relative_to(REPO)))
def test_modules_stay_readable(path):
    if path.name == "kernels.py":
        pytest.skip("numba kernels are exempt")
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.name} has {lines} lines; split it along its seams"


def test_public_api_is_importable_and_cheap():
    # The package itself loads nothing heavy; the API's classes load pandas (their
    # results are DataFrames) but no numba, scipy, matplotlib or lifelines until a step runs.
    bare = subprocess.run([sys.executable, "-c", "import sys, simcore; assert 'pandas' not in sys.modules, 'pandas'; "
                           "assert 'Project' in dir(simcore)"], capture_output=True, text=True)
    assert bare.returncode == 0, bare.stderr
    code = ("import sys; from simcore import Project, RunResult, FitResult, SegmentsResult, ValidationResult, "
            "SimcoreError; heavy = [m for m in ('numba', 'scipy', 'matplotlib', 'lifelines') if m in sys.modules]; "
            "assert not heavy, heavy")
    full = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert full.returncode == 0, full.stderr
