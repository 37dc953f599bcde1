"""Stress templates: named downturns simulated against the base, with fan charts.

A template is a scenario's levers (windows of churn, acquisition, expansion,
contraction and margin shocks). Built in:

``mild``
    For twelve months from month 3: churn hazard x1.25, new customers x0.8, contraction
    events x1.25, gross margin one point lower.
``severe``
    For eighteen months from month 3: churn hazard x2, new customers x0.5, contraction
    events x2, expansion events x0.5, gross margin three points lower.

A config adds its own under ``sensitivity.stress.library`` (scenario syntax) and may
name any of its ``scenarios`` as a template. A template is stacked on the base scenario:
its windows are added to the base's own, its other levers replace the base's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simcore.config.scenarios import ScenarioConfig
from simcore.sensitivity.analyses import paired, spread
from simcore.sensitivity.metrics import monthly_paths

BUILT_IN = {
    "mild": {"description": "Mild downturn: for 12 months from month 3, churn x1.25, new customers -20%, "
                            "contraction events x1.25, gross margin -1 point.",
             "churn_multiplier": [{"months": [3, 14], "factor": 1.25}],
             "acquisition_multiplier": [{"months": [3, 14], "factor": 0.8}],
             "contraction_multiplier": [{"months": [3, 14], "factor": 1.25}],
             "gross_margin_change": [{"months": [3, 14], "pct": -0.01}]},
    "severe": {"description": "Severe downturn: for 18 months from month 3, churn x2, new customers -50%, "
                              "contraction events x2, expansion events halved, gross margin -3 points.",
               "churn_multiplier": [{"months": [3, 20], "factor": 2.0}],
               "acquisition_multiplier": [{"months": [3, 20], "factor": 0.5}],
               "contraction_multiplier": [{"months": [3, 20], "factor": 2.0}],
               "expansion_multiplier": [{"months": [3, 20], "factor": 0.5}],
               "gross_margin_change": [{"months": [3, 20], "pct": -0.03}]},
}
FAN_METRICS = ("mrr", "active_customers", "cumulative_cash")
FAN_QUANTILES = (0.05, 0.5, 0.95)
DEFAULT_FAN_MONTHS = 60


def built_in(name: str) -> ScenarioConfig:
    return ScenarioConfig.model_validate({"name": name, **BUILT_IN[name]})


def stack(base: ScenarioConfig, template: ScenarioConfig) -> ScenarioConfig:
    """``template`` on top of ``base``: list levers (windows, changes) added, others replaced."""
    data = base.model_dump(exclude_unset=True)
    for field in template.model_fields_set - {"name", "description", "extends"}:
        value = getattr(template, field)
        if isinstance(value, list):
            data[field] = [*(item.model_dump(exclude_unset=True) for item in getattr(base, field)),
                           *(item.model_dump(exclude_unset=True) for item in value)]
        else:
            data[field] = template.model_dump(exclude_unset=True)[field]
    data["name"] = template.name
    return ScenarioConfig.model_validate(data)


def stress(sweep, base: ScenarioConfig, templates: dict, metric, fan_months: int | None):
    """Simulate the base and every template.

    Returns
    -------
    (summary, fans)
        ``summary``: per template the metric (mean, P5, P95), its paired change from the
        base (mean, Monte Carlo error, P5, P95), the lowest point of cumulative cash on
        the median path and P(cumulative cash below 0 in some month of the fan window).
        ``fans``: per template (and ``base``), metric and month: mean, P5, P50, P95.
    """
    months = min(fan_months or DEFAULT_FAN_MONTHS, sweep.project.config.horizon_months)
    names = ["base", *templates]
    scenarios = [base, *(stack(base, t) for t in templates.values())]
    sweep.points_total += len(scenarios)

    def reduce(book, accumulators):
        paths = monthly_paths(book, accumulators)
        quantiles = {key: np.quantile(value[:, :months], FAN_QUANTILES, axis=0) for key, value in paths.items()}
        means = {key: value[:, :months].mean(axis=0) for key, value in paths.items()}
        below = float((paths["cumulative_cash"][:, :months] < 0).any(axis=1).mean())
        return metric.values(book, accumulators), quantiles, means, below

    results = sweep.run(scenarios, reduce, [f"stress: {n}" for n in names])
    base_values = results[0][0]
    rows, fans = [], []
    for name, scenario, (values, quantiles, means, below) in zip(names, scenarios, results):
        outcome, change = spread(values), paired(values, base_values)
        cash = quantiles["cumulative_cash"][1]
        description = "the base of the sweeps" if name == "base" else (templates[name].description or "")
        rows.append({"template": name, "description": description, "metric": metric.key,
                     "metric_label": metric.label, "mean": outcome["mean"], "p5": outcome["p5"],
                     "p95": outcome["p95"], "delta_mean": change["mean"], "delta_mc_error": change["mc_error"],
                     "delta_p5": change["p5"], "delta_p95": change["p95"],
                     "cumulative_cash_low_p50": float(cash.min()), "cumulative_cash_low_month": int(cash.argmin()),
                     "p_cumulative_cash_negative": below, "fan_months": months})
        for key in FAN_METRICS:
            fans.append(pd.DataFrame({"template": name, "metric": key, "month": np.arange(months),
                                      "mean": means[key], "p5": quantiles[key][0], "p50": quantiles[key][1],
                                      "p95": quantiles[key][2]}))
    return pd.DataFrame(rows), pd.concat(fans, ignore_index=True)
