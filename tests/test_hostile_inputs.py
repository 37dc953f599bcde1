"""Hostile and careless inputs fail with located one-line messages (exit 1), never with an
internal error (exit 70), a hang or memory exhaustion.

Each test names the input it guards against. Configs and data are small and written to
``tmp_path``; nothing here fits or simulates.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from cli_runner import run_cli
from simcore.config import config_from_text, load_config
from simcore.errors import ConfigError

BOOK = "customer_id,signup_date,churn_date,plan,mrr\n" + "".join(
    f"c{i},2023-0{1 + i % 9}-1{i % 9},{'' if i % 3 else f'2024-0{1 + i % 9}-2{i % 9}'},{'ab'[i % 2]},{10 + i}\n"
    for i in range(40)
)

CONFIG = """\
name: hostile
data:
  customers: customers.csv
  columns: {id: customer_id, signup: signup_date, churn: churn_date, mrr: mrr}
  as_of: 2025-12-31
segments: {by: [plan], min_customers: 1}
economics:
  default: {gross_margin: 80%, cac: 100}
"""


def workspace(tmp_path: Path, config: str = CONFIG, book: str = BOOK) -> Path:
    (tmp_path / "customers.csv").write_text(book)
    path = tmp_path / "config.yaml"
    path.write_text(config)
    return path


def refused(capsys, *args, expect: str) -> list[str]:
    """Run the CLI; assert exit 1, no traceback, every line a located error, and one of
    them containing ``expect``. Returns the error lines."""
    code, out, err = run_cli(capsys, *args)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 1, err
    assert "Traceback" not in err and "internal error" not in err, err
    assert lines and all(line.startswith(("error: ", "warning: ")) for line in lines), lines
    errors = [line for line in lines if line.startswith("error: ")]
    assert any(expect in line for line in errors), (expect, errors)
    return errors


def located(line: str, name: str) -> bool:
    """The line names ``name`` followed by a line or row number."""
    return re.search(rf"{re.escape(name)}, (line|row) \d+", line) is not None


# ------------------------------------------------------------------------- YAML


def test_nul_byte_in_the_config_is_located(tmp_path, capsys):
    path = workspace(tmp_path, CONFIG.replace("name: hostile", "name: hos\x00tile"))
    errors = refused(capsys, "validate", path, expect="NUL byte")
    assert located(errors[0], "config.yaml") and ", line 1:" in errors[0]


def test_alias_bomb_is_refused_quickly_and_located(tmp_path, capsys):
    lines = ["x-a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"x-a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    bomb = "\n".join(lines) + "\n" + CONFIG
    assert len(bomb.encode()) < 1200  # a few hundred bytes would expand to 10 billion values
    path = workspace(tmp_path, bomb)
    errors = refused(capsys, "validate", path, expect="expands to more than")
    assert located(errors[0], "config.yaml")


def test_recursive_alias_is_refused(tmp_path, capsys):
    path = workspace(tmp_path, "x-loop: &loop [*loop]\n" + CONFIG)
    refused(capsys, "validate", path, expect="contains it")


def test_deep_nesting_is_refused(tmp_path, capsys):
    path = workspace(tmp_path, "x-deep: " + "[" * 5000 + "]" * 5000 + "\n" + CONFIG)
    errors = refused(capsys, "validate", path, expect="nests deeper than")
    assert located(errors[0], "config.yaml")


def test_merge_keys_are_supported_and_located():
    text = CONFIG.replace("economics:\n  default: {gross_margin: 80%, cac: 100}\n", textwrap.dedent("""\
        x-defaults: &defaults {gross_margin: 80%, cac: 100}
        economics:
          default: {<<: *defaults, cac: 250}
          segments:
            a: {<<: *defaults}
        """))
    config = config_from_text(text)
    assert config.economics.default.cac == 250 and config.economics.default.gross_margin == 0.8
    assert config.economics.segments["a"].cac == 100
    broken = text.replace("x-defaults: &defaults {gross_margin: 80%", "x-defaults: &defaults {gross_margin: 180%")
    with pytest.raises(ConfigError) as error:
        config_from_text(broken, source="c.yaml")
    lines = {p.line for p in error.value.problems}
    defaults_line = broken.splitlines().index(next(l for l in broken.splitlines() if l.startswith("x-defaults"))) + 1
    assert lines == {defaults_line}, error.value.render()


def test_merge_of_a_scalar_is_a_located_error():
    with pytest.raises(ConfigError, match="merges mappings") as error:
        config_from_text(CONFIG + "status: {<<: 3}\n")
    assert error.value.problems[0].line == CONFIG.count("\n") + 1


def test_unreadable_encoding_is_located(tmp_path, capsys):
    path = workspace(tmp_path)
    path.write_bytes(CONFIG.replace("name: hostile", "name: caf\xe9").encode("cp1252"))
    errors = refused(capsys, "validate", path, expect="is not UTF-8 text")
    assert located(errors[0], "config.yaml") and "line 1:" in errors[0]


def test_utf16_config_with_bom_is_read(tmp_path):
    path = workspace(tmp_path)
    path.write_bytes(CONFIG.encode("utf-16"))
    assert load_config(path).name == "hostile"


def test_binary_config_is_refused(tmp_path, capsys):
    path = workspace(tmp_path)
    path.write_bytes(bytes(range(256)) * 4)
    refused(capsys, "validate", path, expect="config.yaml")


def test_huge_config_is_refused_without_reading_it_all(tmp_path, capsys):
    path = workspace(tmp_path, CONFIG + "#" * (2 << 20) + "\n")
    refused(capsys, "validate", path, expect="larger than")


# ----------------------------------------------------------------------- include


@pytest.mark.parametrize("target", ["/dev/zero", "/proc/self/environ", "../outside.yaml"])
def test_include_outside_the_config_folder_is_refused_at_its_line(tmp_path, capsys, target):
    inner = tmp_path / "inner"
    inner.mkdir()
    (tmp_path / "outside.yaml").write_text("scenarios: []\n")
    path = workspace(inner, CONFIG + f"include: [{target}]\n")
    errors = refused(capsys, "validate", path, expect="outside the config's folder")
    assert located(errors[0], "config.yaml") and "'include.0'" in errors[0]


def test_include_of_a_symlink_to_a_device_is_refused(tmp_path, capsys):
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    path = workspace(tmp_path, CONFIG + "include: [zero.yaml]\n")
    refused(capsys, "validate", path, expect="outside the config's folder")


def test_include_of_itself_is_one_located_line(tmp_path, capsys):
    path = workspace(tmp_path, CONFIG + "include: [config.yaml]\n")
    errors = refused(capsys, "validate", path, expect="includes itself")
    assert len(errors) == 1 and located(errors[0], "config.yaml")


def test_include_of_a_folder_is_located(tmp_path, capsys):
    (tmp_path / "more").mkdir()
    path = workspace(tmp_path, CONFIG + "include: [more]\n")
    errors = refused(capsys, "validate", path, expect="is a folder")
    assert located(errors[0], "config.yaml")


def test_include_of_a_pipe_is_refused(tmp_path, capsys):
    import os

    os.mkfifo(tmp_path / "pipe.yaml")
    path = workspace(tmp_path, CONFIG + "include: [pipe.yaml]\n")
    refused(capsys, "validate", path, expect="not a regular file")


def test_included_file_problems_keep_their_own_lines(tmp_path, capsys):
    (tmp_path / "more.yaml").write_text("scenarios:\n  - name: s\n    churn_multiplyer: 2\n")
    path = workspace(tmp_path, CONFIG + "include: [more.yaml]\n")
    errors = refused(capsys, "validate", path, expect="unknown key 'churn_multiplyer'")
    assert located(errors[0], "more.yaml") and "line 3" in errors[0]


def test_extension_keys_hold_anchors_and_are_ignored():
    config = config_from_text("x-notes: {anything: [1, 2]}\n" + CONFIG)
    assert config.name == "hostile"


# --------------------------------------------------------------------------- data


def test_binary_csv_is_located(tmp_path, capsys):
    path = workspace(tmp_path)
    import random

    generator = random.Random(3)
    (tmp_path / "customers.csv").write_bytes(bytes(generator.randrange(256) for _ in range(4000)))
    errors = refused(capsys, "validate", path, expect="customers.csv")
    assert located(errors[0], "customers.csv")


def test_undecodable_csv_is_located(tmp_path, capsys):
    path = workspace(tmp_path)
    (tmp_path / "customers.csv").write_bytes(BOOK.encode() + b"c99,2023-01-01,,a,\x8f\x90\n")
    errors = refused(capsys, "validate", path, expect="neither UTF-8 nor Windows-1252")
    assert located(errors[0], "customers.csv")


def test_utf16_csv_is_read(tmp_path, capsys):
    path = workspace(tmp_path)
    (tmp_path / "customers.csv").write_bytes(BOOK.replace(",", "\t").encode("utf-16"))
    code, out, err = run_cli(capsys, "validate", path)
    assert code == 0 and "40 customers" in out, err


def test_multi_character_delimiter_is_a_located_error(tmp_path, capsys):
    path = workspace(tmp_path, CONFIG.replace("  as_of:", "  delimiter: ';;'\n  as_of:"))
    errors = refused(capsys, "validate", path, expect="single character")
    assert located(errors[0], "config.yaml")
    code, out, err = run_cli(capsys, "segments", tmp_path / "customers.csv", "--signup-col", "signup_date",
                         "--delimiter", ";;")
    assert code == 1 and "'--delimiter'" in err and "Traceback" not in err


def test_bad_date_format_directive_is_a_located_error(tmp_path, capsys):
    path = workspace(tmp_path, CONFIG.replace("  as_of:", "  date_format: '%Y-%m-%Q'\n  as_of:"))
    errors = refused(capsys, "validate", path, expect="bad directive")
    assert located(errors[0], "config.yaml") and "'data.date_format'" in errors[0]


def test_missing_data_file_names_the_config_line(tmp_path, capsys):
    path = workspace(tmp_path, CONFIG.replace("customers: customers.csv", "customers: nowhere.csv"))
    errors = refused(capsys, "validate", path, expect="nowhere.csv")
    assert located(errors[0], "config.yaml") and "'data.customers'" in errors[0]


def test_empty_table_names_the_config_line(tmp_path, capsys):
    path = workspace(tmp_path, book="customer_id,signup_date,churn_date,plan,mrr\n")
    errors = refused(capsys, "validate", path, expect="no customer rows")
    assert located(errors[0], "config.yaml")


def test_data_file_that_is_a_folder_names_the_config_line(tmp_path, capsys):
    path = workspace(tmp_path, CONFIG.replace("customers: customers.csv", "customers: folder.csv"))
    (tmp_path / "folder.csv").mkdir()
    errors = refused(capsys, "validate", path, expect="is a folder")
    assert located(errors[0], "config.yaml")


def test_data_file_that_is_a_pipe_is_refused(tmp_path, capsys):
    import os

    path = workspace(tmp_path, CONFIG.replace("customers: customers.csv", "customers: pipe.csv"))
    os.mkfifo(tmp_path / "pipe.csv")
    refused(capsys, "validate", path, expect="not a regular file")


def test_churn_date_of_year_9999_is_refused_not_wrapped(tmp_path, capsys):
    book = BOOK.replace("c3,2023-04-13,2024-04-23", "c3,2023-04-13,9999-12-31")
    assert "9999-12-31" in book
    path = workspace(tmp_path, book=book)
    errors = refused(capsys, "validate", path, expect="'9999-12-31' is outside the years")
    assert located(errors[0], "customers.csv") and "1816" not in "\n".join(errors)


def test_number_as_a_date_is_not_epoch_seconds(tmp_path, capsys):
    for value in ("20251231", "86400"):
        path = workspace(tmp_path, CONFIG.replace("as_of: 2025-12-31", f"as_of: {value}"))
        errors = refused(capsys, "validate", path, expect="is a number, not a date")
        assert located(errors[0], "config.yaml")


def test_huge_tenure_is_refused_before_any_fit(tmp_path, capsys):
    book = "id,t,c\n1,100000,no\n2,5,yes\n3,7,yes\n"
    (tmp_path / "book.csv").write_text(book)
    errors = refused(capsys, "fit", tmp_path / "book.csv", "--tenure-col", "t", "--event-col", "c",
                     expect="more than 1,200 months")
    assert located(errors[0], "book.csv")


def test_small_demo_workspace_validates(tmp_path, capsys):
    code, _, err = run_cli(capsys, "demo", tmp_path / "small", "--customers", "600")
    assert code == 0, err
    code, out, err = run_cli(capsys, "validate", tmp_path / "small" / "config.yaml")
    assert code == 0 and "600 customers in 4 segments" in out, err


def test_usage_errors_never_print_a_password(capsys):
    code, out, err = run_cli(capsys, "run", "postgresql://bob:hunter2@db/x.yaml", "--replications", "zero")
    assert code == 2 and "hunter2" not in err


def test_missing_cost_table_names_the_config_line(tmp_path, capsys):
    config = CONFIG + "  cac_from_spend: {path: spend.csv, customer_column: plan}\n"
    path = workspace(tmp_path, config)
    errors = refused(capsys, "validate", path, expect="spend.csv")
    assert located(errors[0], "config.yaml") and "'economics.cac_from_spend.path'" in errors[0]
