"""Property-based tests: malformed configs and customer books give a located simcore error
or a clean result, never an unhandled exception, a non-finite value in a table, or an
output directory after a failure.

Inputs are generated with hypothesis: configs with a value swapped for junk (wrong types,
absurd or non-finite numbers, unicode, markup, paths, percentages), truncated or salted
with bytes; books with missing and extra columns, junk cells, NaN/inf text, unicode,
truncation, binary noise and other encodings. The default run is derandomized and small
(CI budget); ``-m slow`` runs the same properties with many more examples.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simcore
from simcore.errors import SimcoreError

from test_extremes import assert_clean

FEW, MANY = 12, 300


def fuzz_settings(examples: int):
    return settings(max_examples=examples, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


# ------------------------------------------------------------------ ingredients

JUNK_TEXT = st.sampled_from([
    "", " ", "NaN", "nan", "inf", "-inf", ".inf", "1e308", "-1e308", "1e400", "-1", "0", "1.5", "10%", "-5%",
    "150%", "abc", "ünïcødé", "日本", "=1+1", "+cmd", "@x", "[/bold]", ":smile:", "../../x", "/dev/zero",
    "/proc/self/environ", "Yes", "No", "on", "off", "2025-13-45", "9999-12-31", "1816-03-29", "20251231",
    "postgresql://bob:hunter2@h/db", "a,b", '"', "\t", "x" * 300,
])
JUNK = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
              st.floats(allow_nan=True, allow_infinity=True), JUNK_TEXT, st.text(max_size=12)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=6,
)

BASE_CONFIG = {
    "name": "fuzz",
    "data": {"customers": "customers.csv",
             "columns": {"id": "id", "tenure": "tenure", "churned": "churned", "mrr": "mrr"}},
    "segments": {"by": ["plan"], "min_customers": 1},
    "retention": {"family": "exponential"},
    "economics": {"default": {"gross_margin": "80%", "cac": 100, "support_cost_per_month": 2},
                  "segments": {"a": {"cac": 50}}},
    "acquisition": {"new_customers_per_month": {"a": 3, "b": 2}},
    "discount_rate_annual": "10%",
    "horizon_months": 6,
    "simulation": {"replications": 3, "seed": 1},
    "scenarios": [{"name": "up", "price_change": {"pct": "5%"}, "price_elasticity_of_churn": 0.5},
                  {"name": "down", "extends": "up", "churn_multiplier": [{"months": [1, 3], "factor": 1.5}]}],
}


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


PATHS = [p for p in _paths(BASE_CONFIG) if p]


def _replace(document, path, value):
    import copy

    document = copy.deepcopy(document)
    target = document
    try:
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value
    except (KeyError, IndexError, TypeError):  # an earlier replacement removed the path
        pass
    return document


def _valid_book(shape: str = "tenure") -> list[list[str]]:
    if shape == "date":
        rows = [["id", "signup", "churn", "plan", "mrr"]]
        rows += [[f"c{i}", f"2023-{1 + i % 12:02d}-{1 + i % 28:02d}", f"2024-{1 + i % 12:02d}-15" if i % 3 == 0 else "",
                  "ab"[i % 2], f"{20 + i % 9}.5"] for i in range(40)]
        return rows
    rows = [["id", "tenure", "churned", "plan", "mrr"]]
    rows += [[f"c{i}", str(1 + (i * 7) % 23), "yes" if i % 3 == 0 else "no", "ab"[i % 2], f"{20 + i % 9}.5"]
             for i in range(40)]
    return rows


#: The base config for a date-shaped book.
DATE_CONFIG = {**BASE_CONFIG, "data": {"customers": "customers.csv", "as_of": "2025-12-31",
                                       "columns": {"id": "id", "signup": "signup", "churn": "churn", "mrr": "mrr"}}}


def _csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


@st.composite
def configs(draw) -> bytes:
    """A config in YAML bytes: the base with one value replaced, an extra key, or damaged text."""
    document = BASE_CONFIG
    for _ in range(draw(st.integers(1, 2))):
        document = _replace(document, draw(st.sampled_from(PATHS)), draw(JUNK))
    if draw(st.booleans()):
        document = {**document, draw(st.text(min_size=1, max_size=8)): draw(JUNK)}
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False).encode("utf-8")
    damage = draw(st.sampled_from(["none", "none", "truncate", "bytes"]))
    if damage == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
    elif damage == "bytes":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.binary(min_size=1, max_size=8)) + text[at:]
    return text


@st.composite
def books(draw, shape: str = "tenure") -> bytes:
    """A customer book in bytes: junk cells, columns dropped, added or renamed, NaN/inf
    and unicode text, truncated, salted with bytes or in another encoding."""
    rows = _valid_book(shape)
    for _ in range(draw(st.integers(0, 6))):
        row = draw(st.integers(0, len(rows) - 1))
        column = draw(st.integers(0, len(rows[0]) - 1))
        rows[row][column] = draw(st.one_of(JUNK_TEXT, st.text(max_size=10)))
    change = draw(st.sampled_from(["none", "none", "drop", "extra", "rename"]))
    if change == "drop":
        column = draw(st.integers(0, 4))
        rows = [r[:column] + r[column + 1:] for r in rows]
    elif change == "extra":
        rows = [r + [draw(JUNK_TEXT) if i else draw(st.text(min_size=1, max_size=6))] for i, r in enumerate(rows)]
    elif change == "rename":
        rows[0][draw(st.integers(0, 4))] = draw(st.text(max_size=6))
    if draw(st.booleans()):
        rows = rows[: draw(st.integers(1, len(rows)))]
    data = _csv_bytes(rows)
    damage = draw(st.sampled_from(["none", "none", "none", "truncate", "bytes", "utf-16", "cp1252"]))
    if damage == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    elif damage == "bytes":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=16)) + data[at:]
    elif damage == "utf-16":
        data = data.decode("utf-8").encode("utf-16")
    elif damage == "cp1252":
        data = data.decode("utf-8").encode("cp1252", errors="replace")
    return data


def _write(folder: Path, config: bytes, book: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "customers.csv").write_bytes(book)
    (folder / "config.yaml").write_bytes(config)
    return folder / "config.yaml"


def _assert_located(error: SimcoreError) -> None:
    assert error.problems, "an error without problems"
    for problem in error.problems:
        line = problem.format()
        assert "\n" not in line and "\r" not in line, line
        assert problem.source or problem.field, f"unlocated: {line}"


_counter = iter(range(10**9))


def _folder(base: Path) -> Path:
    return base / f"case{next(_counter)}"


# ------------------------------------------------------------------- properties


def check_config(base: Path, config: bytes) -> None:
    """Validating a damaged config: a located error or a clean pass."""
    path = _write(_folder(base), config, _csv_bytes(_valid_book()))
    try:
        simcore.Project.from_config(path).validate()
    except SimcoreError as error:
        _assert_located(error)


def check_book(base: Path, book: bytes, config: dict = BASE_CONFIG) -> None:
    """Validating a damaged book: a located error or a clean pass."""
    path = _write(_folder(base), yaml.safe_dump(config).encode(), book)
    try:
        simcore.Project.from_config(path).validate()
    except SimcoreError as error:
        _assert_located(error)


def check_run(base: Path, config: bytes, book: bytes) -> None:
    """A whole run of damaged inputs: clean tables written, or a located error and no
    output directory."""
    folder = _folder(base)
    path = _write(folder, config, book)
    out = folder / "out"
    try:
        result = simcore.Project.from_config(path).simulate(replications=3)
        result.write(out, formats=["csv", "xlsx"])
    except SimcoreError as error:
        _assert_located(error)
        assert not out.exists(), "an output directory after a failure"
        return
    assert_clean(result)
    assert (out / "manifest.json").is_file()


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@fuzz_settings(FEW * 4)
@given(config=configs())
def test_damaged_configs_fail_located(scratch, config):
    check_config(scratch, config)


@fuzz_settings(FEW * 4)
@given(book=books())
def test_damaged_books_fail_located(scratch, book):
    check_book(scratch, book)


@fuzz_settings(FEW * 2)
@given(book=books("date"))
def test_damaged_dated_books_fail_located(scratch, book):
    check_book(scratch, book, DATE_CONFIG)


@fuzz_settings(FEW)
@given(config=configs(), book=books())
def test_damaged_runs_fail_located_or_write_clean_tables(scratch, config, book):
    check_run(scratch, config, book)


@fuzz_settings(FEW)
@given(book=books())
def test_damaged_books_run_clean_or_fail_located(scratch, book):
    check_run(scratch, yaml.safe_dump(BASE_CONFIG).encode(), book)


@pytest.mark.slow
@fuzz_settings(MANY * 3)
@given(config=configs())
def test_damaged_configs_fail_located_many(scratch, config):
    check_config(scratch, config)


@pytest.mark.slow
@fuzz_settings(MANY * 3)
@given(book=books())
def test_damaged_books_fail_located_many(scratch, book):
    check_book(scratch, book)


@pytest.mark.slow
@fuzz_settings(MANY * 2)
@given(book=books("date"))
def test_damaged_dated_books_fail_located_many(scratch, book):
    check_book(scratch, book, DATE_CONFIG)


@pytest.mark.slow
@fuzz_settings(MANY)
@given(book=books("date"))
def test_damaged_dated_books_run_many(scratch, book):
    check_run(scratch, yaml.safe_dump(DATE_CONFIG).encode(), book)


@pytest.mark.slow
@fuzz_settings(MANY)
@given(config=configs(), book=books())
def test_damaged_runs_many(scratch, config, book):
    check_run(scratch, config, book)


@pytest.mark.slow
@fuzz_settings(MANY)
@given(book=books())
def test_damaged_books_run_many(scratch, book):
    check_run(scratch, yaml.safe_dump(BASE_CONFIG).encode(), book)
