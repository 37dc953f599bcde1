"""How the retention package is put together: one family registry, modules by concern
without import cycles, cheap names, declared dependencies, lifelines only in tests."""

from __future__ import annotations

import ast
import importlib.metadata
import subprocess
import sys
import tomllib
import typing
from pathlib import Path

import pytest

from simcore.retention import names

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "simcore"
RETENTION = PACKAGE / "retention"
#: Longest module of the package, in lines.
MAX_MODULE_LINES = 600


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Modules ``path`` imports anywhere (functions included), except typing-only blocks."""
    tree = ast.parse(path.read_text())
    typing_only = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only.update(id(child) for child in ast.walk(node))
    out = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
    return out


def simcore_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {m for m in imported_modules(path) if m in modules and m != name}
            for name, path in modules.items()}


def test_no_import_cycles_through_the_retention_package():
    graph = simcore_graph()
    cycles = []

    def visit(node, stack, state):
        state[node] = "open"
        stack.append(node)
        for child in sorted(graph[node]):
            if state.get(child) == "open":
                cycles.append(stack[stack.index(child):] + [child])
            elif child not in state:
                visit(child, stack, state)
        stack.pop()
        state[node] = "done"

    state: dict = {}
    for node in sorted(graph):
        if node not in state:
            visit(node, [], state)
    assert not [c for c in cycles if any(m.startswith("simcore.retention") for m in c)]


def test_saved_fit_format_depends_on_the_records_never_the_reverse():
    graph = simcore_graph()
    for name in graph:
        if name.startswith("simcore.retention.") and name != "simcore.retention.saved":
            assert "simcore.retention.saved" not in graph[name], name


@pytest.mark.parametrize("path", sorted(RETENTION.glob("*.py")), ids=lambda p: p.name)
def test_modules_stay_short(path):
    assert len(path.read_text().splitlines()) <= MAX_MODULE_LINES


def test_names_module_is_pure_python():
    third_party = {m.split(".")[0] for m in imported_modules(RETENTION / "names.py")} - {"__future__"}
    assert third_party <= set(sys.stdlib_module_names)


def test_family_names_import_no_heavy_module():
    code = (
        "import sys\n"
        "import simcore.retention\n"
        "from simcore.retention.names import FAMILY_CHOICES\n"
        "from simcore.cli.main import main\n"
        "try:\n"
        "    main(['fit', '--help'])\n"
        "except SystemExit as done:\n"
        "    assert not done.code\n"
        "print('HEAVY', [m for m in ('numpy', 'pandas', 'scipy', 'numba', 'matplotlib') if m in sys.modules])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in result.stdout
    assert "cure_weibull" in result.stdout  # the --family choices


def test_lifelines_and_autograd_are_never_imported_by_simcore():
    for path in list(PACKAGE.rglob("*.py")) + list((REPO / "cli").rglob("*.py")):
        roots = {m.split(".")[0] for m in imported_modules(path)}
        assert not roots & {"lifelines", "autograd"}, path


def test_every_third_party_import_is_a_declared_dependency():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    # An optional feature's imports may come from its extra (dask for the Dask executor);
    # the test extra's may not: simcore never imports its test references.
    extras = [d for name, deps in project.get("optional-dependencies", {}).items() if name != "test" for d in deps]
    declared = {d.split(">")[0].split("<")[0].split("=")[0].split("[")[0].strip().lower()
                for d in project["dependencies"] + extras}
    distributions = importlib.metadata.packages_distributions()
    local = {"simcore", "__future__"} | set(sys.stdlib_module_names)
    for path in list(PACKAGE.rglob("*.py")) + list((REPO / "cli").rglob("*.py")):
        for root in {m.split(".")[0] for m in imported_modules(path)} - local:
            provided_by = {d.lower() for d in distributions.get(root, [root])}
            assert provided_by & declared, f"{path.relative_to(REPO)} imports {root}, not in pyproject dependencies"


def test_config_cli_and_auto_take_their_family_names_from_the_registry():
    from simcore.cli.fit import FAMILY_CHOICES
    from simcore.config import RetentionConfig, RetentionOverride

    def allowed(model, field):
        annotation = model.model_fields[field].annotation
        return {a for arg in typing.get_args(annotation) or (annotation,) for a in typing.get_args(arg) or (arg,)
                if isinstance(a, str)}

    assert allowed(RetentionConfig, "family") == set(names.FAMILY_CHOICES)
    assert allowed(RetentionOverride, "family") == set(names.FAMILY_CHOICES)
    assert allowed(RetentionConfig, "km_tail") == set(names.PARAMETRIC_FAMILIES)
    assert allowed(RetentionConfig, "uncertainty") == set(names.UNCERTAINTY_METHODS)
    assert allowed(RetentionConfig, "model_averaging") == set(names.MODEL_AVERAGING_CHOICES)
    assert set(names.MODEL_AVERAGING_CHOICES) == {"auto"} | set(names.MODEL_AVERAGING_METHODS)
    assert set(FAMILY_CHOICES) == set(names.FAMILY_CHOICES)
    # every family auto can pick can be named everywhere
    assert set(names.AUTO_FAMILIES) <= set(FAMILY_CHOICES) and "cure_weibull" in names.AUTO_FAMILIES
    assert RetentionConfig(family="cure_weibull", km_tail="cure_weibull").family == "cure_weibull"


def test_every_declared_family_is_implemented():
    from simcore.retention.families import family_spec

    for family in names.PARAMETRIC_FAMILIES:
        options = {"breakpoints": (3.0,)} if family == "piecewise_exponential" else {}
        spec = family_spec(family, options)
        assert spec.label == names.label(family)
        assert spec.param_names == names.parameter_names(family, 2 if options else None)
        assert spec.transforms == names.transforms(family, 2 if options else None)
