"""Config validation: located, complete, suggestive error messages."""

from __future__ import annotations

import pytest

from simcore.config import config_from_text, load_config, parse_fraction
from simcore.errors import ConfigError


def _errors(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        config_from_text(text, source="c.yaml")
    return caught.value.lines()


def test_minimal_tenure_config_is_valid():
    config = config_from_text(
        "data:\n  customers: book.csv\n  columns: {tenure: t, churned: c}\nsegments: {by: Contract}\n"
    )
    assert config.data.columns.shape == "tenure"
    assert config.segments.by == ["Contract"]
    assert config.segments.min_customers == 100


def test_all_problems_reported_at_once_with_lines_and_paths():
    lines = _errors(
        "data:\n"
        "  customers: x.csv\n"
        "  colums: {id: a}\n"             # line 3: typo
        "  columns: {signup: s}\n"
        "  as_of: 2025-13-01\n"            # line 5: bad date
        "segments:\n"
        "  by:\n"
        "    - {column: employees, edges: [100, 10], labels: [a, b, c]}\n"  # line 8
        "  min_customer: 5\n"              # line 9: typo
    )
    assert len(lines) == 4
    assert lines[0] == "c.yaml, line 3, 'data.colums': unknown key 'colums'; did you mean 'columns'?"
    assert "line 5" in lines[1] and "data.as_of" in lines[1] and "YYYY-MM-DD" in lines[1]
    assert "line 8" in lines[2] and "segments.by.0" in lines[2] and "ascending" in lines[2]
    assert "line 9" in lines[3] and "did you mean 'min_customers'" in lines[3]


def test_unknown_key_in_union_member_lists_that_members_keys():
    lines = _errors(
        "data:\n  customers: x.csv\n  columns: {tenure: t, churned: c}\n"
        "segments:\n  by:\n    - {column: tickets, quantiles: 3, bins: 2}\n"
    )
    assert lines == ["c.yaml, line 6, 'segments.by.0.bins': unknown key 'bins'; valid keys here: column, quantiles, labels"]


@pytest.mark.parametrize(
    "columns, fragment",
    [
        ("{signup: s, tenure: t, churned: c}", "not both"),
        ("{tenure: t}", "'churned' is missing"),
        ("{churn: c}", "needs 'signup'"),
        ("{mrr: m}", "map either"),
    ],
)
def test_column_shape_rules(columns, fragment):
    lines = _errors(f"data:\n  customers: x.csv\n  columns: {columns}\n")
    assert len(lines) == 1 and "data.columns" in lines[0] and fragment in lines[0]


def test_band_labels_must_match_edges():
    lines = _errors(
        "data:\n  customers: x.csv\n  columns: {tenure: t, churned: c}\n"
        "segments: {by: [{column: e, edges: [1, 2], labels: [a, b]}]}\n"
    )
    assert "give 3 labels (got 2)" in lines[0]


def test_duplicate_key_and_syntax_errors_are_located(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("data:\n  customers: a.csv\n  customers: b.csv\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "line 3" in caught.value.lines()[0] and "appears twice" in caught.value.lines()[0]
    path.write_text("data:\n  customers: [a.csv\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "not valid YAML" in caught.value.lines()[0]
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "missing.yaml")
    assert "file not found" in caught.value.lines()[0]


def test_empty_and_non_mapping_files(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing\n")
    with pytest.raises(ConfigError, match="empty"):
        load_config(path)
    path.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(path)


def test_paths_resolve_relative_to_config_file(tmp_path):
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "c.yaml"
    path.write_text("data:\n  customers: book.csv\n  columns: {tenure: t, churned: c}\n")
    config = load_config(path)
    assert config.resolve(config.data.customers) == tmp_path / "sub" / "book.csv"


@pytest.mark.parametrize("text, value", [("10%", 0.10), ("7.5 %", 0.075), (0.2, 0.2), ("0.3", 0.3), ("-5%", -0.05)])
def test_percentages(text, value):
    assert parse_fraction(text) == pytest.approx(value)


def test_bad_percentage_message():
    with pytest.raises(ValueError, match="not a percentage"):
        parse_fraction("ten percent")


def test_quick_form_states_flag_problems_in_the_flags_words(tmp_path):
    from pathlib import Path

    from simcore.cli.common import build_project

    path = tmp_path / "x.csv"
    path.write_text("t,c,Contract\n1,No,a\n")
    with pytest.raises(ConfigError) as caught:
        build_project(Path(path), tenure_col="tenure")
    assert caught.value.lines() == ["--event-col is missing; the tenure shape needs --tenure-col and --event-col"]
    with pytest.raises(ConfigError, match="shape is not given"):
        build_project(Path(path))
    config = build_project(Path(path), tenure_col="t", event_col="c", segment_by=["Contract"], min_customers=5).config
    assert config.segments.min_customers == 5 and config.data.columns.churned == "c"
    with pytest.raises(ConfigError) as caught:
        build_project(Path(path), tenure_col="t", event_col="c", min_customers=-1)
    assert caught.value.problems[0].field == "--min-customers"


BASE = "data:\n  customers: x.csv\n  columns: {tenure: t, churned: c}\n"


def test_scenarios_extends_and_levers_parse():
    config = config_from_text(
        BASE
        + "scenarios:\n"
        "  - name: price_up\n"
        "    price_change: {pct: 10%, from_month: 3}\n"
        "    price_elasticity_of_churn: 0.8\n"
        "  - name: downturn\n"
        "    extends: price_up\n"
        "    churn_multiplier: [{months: [6, 18], factor: 1.5}]\n"
        "    acquisition_multiplier: 0.6\n"
    )
    price_up, downturn = config.scenarios
    assert price_up.price_change[0].pct == pytest.approx(0.10) and price_up.price_change[0].from_month == 3
    assert downturn.extends == "price_up"
    assert downturn.churn_multiplier[0].months == (6, 18)
    assert downturn.acquisition_multiplier[0].factor == 0.6
    assert config.scenario_origins["downturn"][1] == 8  # the list item starts on its name line


def test_circular_unknown_and_duplicate_scenarios():
    lines = _errors(
        BASE
        + "scenarios:\n"
        "  - {name: a, extends: b}\n"
        "  - {name: b, extends: a}\n"
        "  - {name: c, extends: prise_up}\n"
        "  - {name: a}\n"
        "  - {name: baseline}\n"
    )
    assert any("used twice" in line and "line 8" in line for line in lines)
    assert any("cannot be redefined" in line for line in lines)
    assert any("circular extends: a -> b -> a" in line and "line 5" in line for line in lines)
    assert any("unknown scenario 'prise_up'" in line for line in lines)


def test_included_scenario_files_are_validated_with_their_own_lines(tmp_path):
    (tmp_path / "more.yaml").write_text("scenarios:\n  - name: extra\n    churn_multiplier: {months: [1, 2], facter: 2}\n")
    (tmp_path / "main.yaml").write_text(BASE + "include: [more.yaml, gone.yaml]\n")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "main.yaml")
    lines = caught.value.lines()
    assert any(line.startswith("more.yaml, line 3") and "did you mean 'factor'" in line for line in lines)
    assert any("main.yaml, line 4" in line and "'gone.yaml' not found" in line for line in lines)
    (tmp_path / "more.yaml").write_text("scenarios:\n  - name: extra\n    churn_multiplier: 2\n")
    (tmp_path / "main.yaml").write_text(BASE + "include: more.yaml\nscenarios: [{name: own}]\n")
    config = load_config(tmp_path / "main.yaml")
    assert [s.name for s in config.scenarios] == ["own", "extra"]
    assert config.scenario_origins["extra"] == ("more.yaml", 2)


def test_internal_fields_cannot_be_set_from_yaml():
    lines = _errors(BASE + "base_dir: /elsewhere\n")
    assert lines == ["c.yaml, line 4, 'base_dir': unknown key 'base_dir'; remove it"]
