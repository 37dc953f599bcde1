"""The plotting pieces on synthetic data: the generic fan chart, tornado and heatmap that
later analyses draw with, the retention figure's uncertainty band, and how numbers and
columns read."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from simcore.outputs import charts
from simcore.outputs.columns import PAYBACK_NEVER, header, with_payback_flag
from simcore.outputs.numbers import better_in, count, flag, money, months, share

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_fan_chart_draws_a_band_and_a_median_per_series():
    rng = np.random.Generator(np.random.PCG64(1))
    months_ = np.arange(24)
    paths = np.cumsum(rng.normal(10, 3, size=(200, 24)), axis=1)
    low, centre, high = np.quantile(paths, [0.1, 0.5, 0.9], axis=0)
    series = [charts.FanSeries("CSMs needed", centre, low, high),
              charts.FanSeries("with the downturn", centre * 0.8, low * 0.8, high * 0.8, colour=charts.VERMILLION)]
    figure, ax = charts.new_figure()
    charts.fan_chart(ax, months_, series, ylabel="Headcount", xlabel="Month", title="Headcount plan")
    assert len(ax.collections) == 2 and len(ax.get_lines()) == 2
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "CSMs needed, P10\u2013P90", "CSMs needed, median", "with the downturn, P10\u2013P90", "with the downturn, median"]
    assert ax.get_ylabel() == "Headcount" and ax.yaxis.get_major_formatter()(24000, 0) == "24,000"
    assert charts.png_bytes(figure).startswith(PNG_MAGIC)


def test_fan_chart_puts_the_currency_on_a_money_axis():
    figure, ax = charts.new_figure()
    band = charts.FanSeries("baseline", np.full(3, 2e6), np.full(3, 1e6), np.full(3, 3e6))
    charts.fan_chart(ax, np.arange(3), [band], ylabel="MRR per month", money_unit=True, currency="EUR")
    assert ax.get_ylabel() == "MRR per month (EUR)"
    assert ax.yaxis.get_major_formatter()(1_500_000, 0) == "1.5M"
    assert ax.yaxis.get_major_formatter()(150_000_000, 0) == "150M"


def test_tornado_puts_the_widest_swing_on_top_around_the_base():
    levers = ["price", "churn", "CAC", "margin"]
    low = [90.0, 60.0, 95.0, 80.0]
    high = [115.0, 130.0, 104.0, 112.0]
    figure, ax = charts.new_figure()
    charts.tornado(ax, levers, low, high, base=100.0, xlabel="Total value", currency="USD",
                   low_intervals=[(v - 2, v + 2) for v in low], high_intervals=[(v - 2, v + 2) for v in high])
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[-1] == "churn" and labels[0] == "CAC"  # barh draws bottom-up: widest swing last
    bars = [p for p in ax.patches]
    assert len(bars) == 8 and all(math.isclose(b.get_x(), 100.0) for b in bars)
    assert ax.get_xlabel() == "Total value (USD)"
    assert charts.png_bytes(figure).startswith(PNG_MAGIC)


def test_heatmap_diverges_at_zero_and_writes_every_finite_cell():
    values = np.array([[-50.0, 10.0, 40.0], [-20.0, np.nan, 80.0]])
    figure, ax = charts.new_figure()
    charts.heatmap(ax, values, row_labels=["-10%", "+10%"], column_labels=[0.8, 1.0, 1.2], row_title="price",
                   column_title="churn multiplier", colour_label="Change in value", currency="USD")
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 5 and "\u221250" in texts and "80" in texts
    image = ax.get_images()[0]
    assert image.cmap.name == "PuOr" and image.norm.vcenter == 0.0
    assert figure.axes[-1].get_ylabel() == "Change in value (USD)"
    assert charts.png_bytes(figure).startswith(PNG_MAGIC)


def test_heatmap_of_one_sign_uses_a_sequential_map():
    figure, ax = charts.new_figure()
    charts.heatmap(ax, [[1.0, 2.0], [3.0, 4.0]], ["a", "b"], ["c", "d"], money_unit=False)
    assert ax.get_images()[0].cmap.name == "cividis"


def test_retention_figure_shows_the_band_of_the_simulated_curves_and_a_human_family_name():
    from books import book, generalized_gamma

    from simcore.outputs.plots import plot_segment_fit
    from simcore.retention import fit_segment

    durations, events, _ = book(generalized_gamma(), 3000, 36, seed=4)
    result = fit_segment(durations, events, segment="month-to-month", family="generalized_gamma",
                         model_averaging="none")
    ax = plot_segment_fit(result, horizon_months=120, seed=1)
    assert ax.get_title() == "Retention of month-to-month: generalized gamma"
    bands = [c for c in ax.collections if "simulation draws" in str(c.get_label())]
    assert len(bands) == 1
    # The band is drawn from the curves the engine would draw: wide where they disagree.
    vertices = bands[0].get_paths()[0].vertices
    at_120 = vertices[np.isclose(vertices[:, 0], 120.0), 1]
    assert at_120.max() - at_120.min() > 0.01
    assert "--" in {line.get_linestyle() for line in ax.get_lines()}
    assert any("extrapolated" in t.get_text() for t in ax.texts)


def test_an_averaged_model_is_drawn_as_the_curve_the_simulation_uses():
    from books import book, two_class_geometric

    from simcore.outputs.plots import plot_segment_fit
    from simcore.retention import fit_segment

    durations, events, _ = book(two_class_geometric(), 2000, 36, seed=3)
    result = fit_segment(durations, events, segment="smb", model_averaging="akaike")
    model = result.survival_model()
    assert len(model.fits) > 1
    ax = plot_segment_fit(result, horizon_months=120, seed=1)
    assert ax.get_title().replace("\n", " ").startswith(f"Retention of smb: {len(model.fits)} families averaged")
    (used,) = [line for line in ax.get_lines() if str(line.get_label()).startswith("model used")]
    x, y = used.get_data()
    np.testing.assert_allclose(y, model.survival(np.asarray(x)))
    assert any(str(line.get_label()).endswith("ranked first") for line in ax.get_lines())


def test_a_fit_without_draws_says_so_instead_of_showing_no_band():
    from dataclasses import replace

    from books import book, sbg

    from simcore.outputs.plots import plot_segment_fit
    from simcore.retention import fit_segment

    durations, events, _ = book(sbg(), 2000, 36, seed=2)
    result = fit_segment(durations, events, segment="smb", family="sbg", model_averaging="none")
    broken = replace(result.fit, covariance=np.full_like(result.fit.covariance, np.nan))
    result = replace(result, fit=broken, fits={**result.fits, "sbg": broken}, uncertainty="asymptotic")
    ax = plot_segment_fit(result, horizon_months=60)
    assert not [c for c in ax.collections if "simulation draws" in str(c.get_label())]
    assert any(t.get_text().startswith("No uncertainty band: the sbg fit has no usable covariance")
               for t in ax.texts)


def test_money_share_and_payback_read_the_same_everywhere():
    assert money(88_800.3) == "88.8k" and money(-1942.4) == "\u22121,942" and money(463_240_467) == "463.2M"
    assert money(1_081_844_620) == "1.08B" and money(-0.2) == "0" and money(5.2e6, signed=True) == "+5.2M"
    assert money(float("nan")) == "" and money(12, "EUR") == "12 EUR"
    assert share(0.999) == ">99%" and share(0.001) == "<1%" and share(0.0) == "0%" and share(1.0) == "100%"
    assert months(float("inf")) == "never" and months(float("nan"), never=True) == "never"
    assert months(18.0) == "18" and months(float("nan")) == ""
    assert count(12074.4) == "12,074"
    assert better_in(0.0, 0.0, 0.0) == "unchanged" and better_in(0.0, -5.0, -1.0) == "0%"
    assert flag(True) and flag(np.bool_(True)) and flag("True")
    assert not flag(pd.NA) and not flag(float("nan")) and not flag(None) and not flag(False)


def test_never_is_a_flag_beside_a_blank_payback():
    table = pd.DataFrame({"segment": ["a", "b", "c"], "payback_months_p50": [np.inf, 7.0, np.nan]})
    out = with_payback_flag(table)
    assert list(out.columns) == ["segment", "payback_months_p50", PAYBACK_NEVER]
    assert out[PAYBACK_NEVER].tolist()[:2] == [True, False] and out[PAYBACK_NEVER].isna().tolist()[2]
    assert np.isnan(out.loc[0, "payback_months_p50"]) and out.loc[1, "payback_months_p50"] == 7.0
    assert np.isinf(table.loc[0, "payback_months_p50"])  # the caller's table is left as it was


@pytest.mark.parametrize(("column", "expected"), [
    ("p_unit_profit_negative", "Share of customers losing money (%)"),
    ("unit_profit_mean_lower_90", "Unit profit per customer, 90% interval low (USD)"),
    ("ltv_customer_p95", "LTV per customer, P95 across customers (USD)"),
    ("payback_months_p50", "Payback, median (months)"),
    ("cac_from", "CAC per new customer: from"),
    ("S_12", "Still active after 12 months, S(12) (%)"),
    ("csm_headcount_p90", "CSM headcount P90"),
])
def test_headers_are_human_and_carry_their_unit(column, expected):
    assert header(column, "USD") == expected


def test_scenario_levers_read_as_set_in_words():
    from simcore.config import ScenarioConfig
    from simcore.outputs.assumptions import scenario_levers

    scenarios = [
        ScenarioConfig(name="price_up", price_change=[{"pct": 0.1, "from_month": 3}], price_elasticity_of_churn=0.8),
        ScenarioConfig(name="prepay", description="Prepay a year at 15% off.",
                       discount=[{"pct": 0.15, "duration_months": 12, "eligible_share": 0.4}]),
        ScenarioConfig(name="downturn", extends="price_up", churn_multiplier=[{"months": [6, 18], "factor": 1.5}]),
    ]
    rows = {r["scenario"]: r for r in scenario_levers({"scenarios": [s.model_dump(mode="json") for s in scenarios]})}
    assert rows["price_up"]["levers"] == ("price change: {pct +10%, from month 3, applies to all}; "
                                          "price elasticity of churn: {elasticity 0.8}")
    assert rows["prepay"]["levers"].startswith("discount: {pct 15%, duration months 12, eligible share 40%")
    assert rows["prepay"]["description"] == "Prepay a year at 15% off."
    # Only what the scenario sets: no "price elasticity of churn: 0" from the defaults.
    assert rows["downturn"]["levers"] == "churn multiplier: {months 6\u201318, factor 1.5}"
    assert rows["downturn"]["extends"] == "price_up"
