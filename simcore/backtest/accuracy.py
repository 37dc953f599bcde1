"""Forecast against what happened: monthly accuracy, error summaries and verdicts.

Per cutoff, segment (and every segment together), population and projection month, the
forecast distribution (every replication) is set against the actual value:

* ``mean``, ``p5``, ``p10``, ``p50``, ``p90``, ``p95`` of the forecast;
* ``error = mean - actual`` and ``relative_error = error / actual`` (positive: the
  forecast was too high);
* ``pit``: where the actual falls in the forecast distribution, the share of
  replications below it (ties count half) — 0.5 is the middle, near 0 or 1 the tails;
* ``in_80`` / ``in_90``: the actual inside the P10–P90 / P5–P95 interval.

Metrics: ``active_customers``; ``churned`` (customers of the cutoff's base lost before
paying in the month: the fall in their active count); ``mrr`` (money / month);
``contribution`` (money / month) and ``cumulative_contribution`` (money, summed from
the cutoff). MRR and contribution need an MRR history and are left out without one.

**Summary** per cutoff, segment, population and metric: MAPE (mean absolute relative
error over the months, where the actual is not 0), bias (mean relative error), coverage
of the two intervals (share of months inside — months of one path are correlated, so
this is not a count of independent trials), and the end of the window.

**Verdict rule.** A forecast is judged where it is most informative, at the end of the
window, on the customers active at the cutoff (new signups depend on an acquisition
volume that is a plan input, and their count is not drawn at random by the engine):

* **over-optimistic** when the actual is below the forecast's P5;
* **over-pessimistic** when it is above the forecast's P95;
* **calibrated** otherwise.

It is applied to three quantities of the cutoff's base: active customers (the
*retention* verdict), MRR (*revenue*) and contribution summed over the window
(*profit*). A segment's verdict is *calibrated* when every audited quantity is, the
common direction when the flagged ones agree, and *mixed* when they disagree. A
calibrated forecast lands outside its 90% interval one time in ten, so among many
segments and cutoffs an occasional flag is expected; the numbers beside each verdict say
how far out it landed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CALIBRATED = "calibrated"
OVER_OPTIMISTIC = "over-optimistic"
OVER_PESSIMISTIC = "over-pessimistic"
MIXED = "mixed"
NOT_AUDITED = "not audited"
#: Label of the rows that add up every segment.
TOTAL = "(all segments)"
#: The quantity behind each verdict, on the existing population.
VERDICT_METRICS = {"retention": "active_customers", "revenue": "mrr", "profit": "cumulative_contribution"}
QUANTILES = (0.05, 0.1, 0.5, 0.9, 0.95)
REVENUE_METRICS = ("mrr", "contribution", "cumulative_contribution")


def _derived(forecast: dict, actual: dict, base: float, population: str, with_revenue: bool):
    """Forecast (R, M) and actual (M,) per metric of one segment and population."""
    out = {"active_customers": (forecast["active_customers"], actual["active_customers"])}
    if population == "existing":
        def lost(active):
            before = np.concatenate([np.full(active.shape[:-1] + (1,), float(base)), active[..., :-1]], axis=-1)
            return before - active

        out["churned"] = (lost(forecast["active_customers"]), lost(actual["active_customers"]))
    if with_revenue:
        out["mrr"] = (forecast["mrr"], actual["mrr"])
        out["contribution"] = (forecast["contribution"], actual["contribution"])
        out["cumulative_contribution"] = (np.cumsum(forecast["contribution"], axis=-1),
                                          np.cumsum(actual["contribution"]))
    return out


def _rows(cutoff, segment: str, population: str, metric: str, forecast: np.ndarray, actual: np.ndarray,
          calendar: list[str]) -> pd.DataFrame:
    quantiles = np.quantile(forecast, QUANTILES, axis=0)
    mean = forecast.mean(axis=0)
    below = (forecast < actual[None, :]).mean(axis=0) + 0.5 * (forecast == actual[None, :]).mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(actual != 0, (mean - actual) / np.abs(actual), np.nan)
    return pd.DataFrame({
        "cutoff": cutoff.label, "segment": segment, "population": population, "metric": metric,
        "projection_month": np.arange(len(actual)), "month": calendar,
        "actual": actual, "mean": mean, "p5": quantiles[0], "p10": quantiles[1], "p50": quantiles[2],
        "p90": quantiles[3], "p95": quantiles[4], "error": mean - actual, "relative_error": relative,
        "pit": below, "in_80": (quantiles[1] <= actual) & (actual <= quantiles[3]),
        "in_90": (quantiles[0] <= actual) & (actual <= quantiles[4]),
    })


def _calendar(cutoff) -> list[str]:
    months = pd.period_range(cutoff.date.to_period("M") + 1, periods=cutoff.months, freq="M")
    return [str(m) for m in months]


def accuracy_table(forecast, actuals, *, with_revenue: bool) -> pd.DataFrame:
    """One row per (segment, population, metric, month) of one cutoff (module notes).

    Parameters
    ----------
    forecast : simcore.backtest.forecast.CutoffForecast
    actuals : simcore.backtest.actuals.Actuals
    with_revenue : bool
        Whether MRR and contribution are compared (the book has an MRR history).
    """
    cutoff = forecast.cutoff
    calendar = _calendar(cutoff)
    segments = sorted(forecast.series)
    frames = []
    total_forecast: dict = {}
    total_actual: dict = {}
    for segment in segments + ([TOTAL] if len(segments) > 1 else []):
        for population in ("existing", "new", "all"):
            if segment == TOTAL:
                predicted, happened = total_forecast[population], total_actual[population]
                base = sum(forecast.base.values())
            else:
                base = forecast.base[segment]
                if population == "all":
                    predicted = {m: forecast.series[segment]["existing"][m] + forecast.series[segment]["new"][m]
                                 for m in forecast.series[segment]["existing"]}
                    happened = {m: actuals.series[segment]["existing"][m] + actuals.series[segment]["new"][m]
                                for m in actuals.series[segment]["existing"]}
                else:
                    predicted = forecast.series[segment][population]
                    happened = actuals.series[segment][population]
                for store, values in ((total_forecast, predicted), (total_actual, happened)):
                    previous = store.get(population)
                    store[population] = dict(values) if previous is None else \
                        {m: previous[m] + values[m] for m in values}
            for metric, (f, a) in _derived(predicted, happened, base, population, with_revenue).items():
                frames.append(_rows(cutoff, segment, population, metric, f, np.asarray(a, dtype=float), calendar))
    return pd.concat(frames, ignore_index=True)


def verdict_of(actual: float, p5: float, p95: float) -> str:
    """The verdict rule for a quantity where more is better (module notes)."""
    if actual < p5:
        return OVER_OPTIMISTIC
    if actual > p95:
        return OVER_PESSIMISTIC
    return CALIBRATED


def summary_table(accuracy: pd.DataFrame) -> pd.DataFrame:
    """Per cutoff, segment, population and metric: MAPE, bias, interval coverage, the end
    of the window and — for the verdict quantities of the existing base — the verdict."""
    rows = []
    keys = ["cutoff", "segment", "population", "metric"]
    for key, group in accuracy.groupby(keys, sort=False):
        end = group.iloc[-1]
        relative = group["relative_error"].dropna()
        row = dict(zip(keys, key))
        row.update({
            "months": len(group), "mape": float(relative.abs().mean()) if len(relative) else np.nan,
            "bias": float(relative.mean()) if len(relative) else np.nan,
            "coverage_80": float(group["in_80"].mean()), "coverage_90": float(group["in_90"].mean()),
            "end_month": end["month"], "actual_end": end["actual"], "forecast_mean_end": end["mean"],
            "forecast_p5_end": end["p5"], "forecast_p95_end": end["p95"], "pit_end": end["pit"],
        })
        audited = row["population"] == "existing" and row["metric"] in VERDICT_METRICS.values()
        row["verdict"] = verdict_of(end["actual"], end["p5"], end["p95"]) if audited else ""
        rows.append(row)
    return pd.DataFrame(rows)


def _overall(verdicts: list[str]) -> str:
    flagged = {v for v in verdicts if v not in (CALIBRATED, NOT_AUDITED)}
    if not flagged:
        return CALIBRATED if CALIBRATED in verdicts else NOT_AUDITED
    return flagged.pop() if len(flagged) == 1 else MIXED


def _first_month_churn(accuracy: pd.DataFrame) -> pd.DataFrame:
    """Customers of the base lost in the first month, actual and forecast mean: the month
    where a book that dates churn between payments parts from the engine's renewal model
    (see the README's backtest section)."""
    first = accuracy[(accuracy["population"] == "existing") & (accuracy["metric"] == "churned")
                     & (accuracy["projection_month"] == 0)]
    return first.set_index(["cutoff", "segment"])[["actual", "mean"]].rename(
        columns={"actual": "first_month_churned_actual", "mean": "first_month_churned_forecast_mean"})


def verdict_table(summary: pd.DataFrame, families: pd.DataFrame | None = None,
                  accuracy: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per cutoff and segment: the retention, revenue and profit verdicts, the
    segment's verdict, and the numbers behind each (actual, forecast mean, P5, P95 at the
    end of the window, and the bias over the window); with ``accuracy``, the customers
    lost in the first month (actual and forecast); with ``families``, the family chosen
    at the cutoff and the best one in hindsight."""
    existing = summary[summary["population"] == "existing"].set_index(["cutoff", "segment", "metric"])
    rows = []
    for (cutoff, segment), _ in summary.groupby(["cutoff", "segment"], sort=False):
        row = {"cutoff": cutoff, "segment": segment}
        verdicts = []
        for name, metric in VERDICT_METRICS.items():
            key = (cutoff, segment, metric)
            if key not in existing.index:
                row[f"{name}_verdict"] = NOT_AUDITED
                verdicts.append(NOT_AUDITED)
                continue
            found = existing.loc[key]
            row[f"{name}_verdict"] = found["verdict"]
            verdicts.append(found["verdict"])
            for column in ("actual_end", "forecast_mean_end", "forecast_p5_end", "forecast_p95_end", "bias"):
                row[f"{name}_{column}"] = found[column]
        row["verdict"] = _overall(verdicts)
        rows.append(row)
    table = pd.DataFrame(rows)
    table = table.join(_first_month_churn(accuracy), on=["cutoff", "segment"]) if accuracy is not None else table
    if families is not None and len(families):
        chosen = families[families["chosen"]].set_index(["cutoff", "segment"])["family"].rename("family_chosen")
        best = families[families["hindsight_rank"] == 1].set_index(["cutoff", "segment"])["family"] \
            .rename("family_best_in_hindsight")
        table = table.join(chosen, on=["cutoff", "segment"]).join(best, on=["cutoff", "segment"])
    order = ["cutoff", "segment", "verdict", "retention_verdict", "revenue_verdict", "profit_verdict"]
    return table[order + [c for c in table.columns if c not in order]]


__all__ = ["CALIBRATED", "MIXED", "NOT_AUDITED", "OVER_OPTIMISTIC", "OVER_PESSIMISTIC", "TOTAL",
           "VERDICT_METRICS", "accuracy_table", "summary_table", "verdict_of", "verdict_table"]
