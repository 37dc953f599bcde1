"""Tornado and grids: lever settings against a metric, paired with the base point.

Every number comes with its Monte Carlo error from the paired per-replication
differences: with common random numbers a point and the base share every random draw,
so ``Var(metric_point - metric_base)`` across replications is small and
``std(difference) / sqrt(R)`` is the standard error of the mean difference.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from simcore.sensitivity.levers import apply_lever, format_value


def paired(values: np.ndarray, base: np.ndarray) -> dict[str, float]:
    """Mean, Monte Carlo error (standard error of the mean), P5 and P95 across
    replications of the paired difference ``values - base``."""
    difference = np.asarray(values, float) - np.asarray(base, float)
    difference = difference[np.isfinite(difference)]
    if not difference.size:
        return {"mean": np.nan, "mc_error": np.nan, "p5": np.nan, "p95": np.nan}
    error = float(np.std(difference, ddof=1) / np.sqrt(difference.size)) if difference.size > 1 else np.nan
    low, high = np.quantile(difference, [0.05, 0.95])
    return {"mean": float(difference.mean()), "mc_error": error, "p5": float(low), "p95": float(high)}


def spread(values: np.ndarray) -> dict[str, float]:
    """Mean, its Monte Carlo error and the P5 / P95 across replications of one point."""
    values = np.asarray(values, float)
    values = values[np.isfinite(values)]
    if not values.size:
        return {"mean": np.nan, "mc_error": np.nan, "p5": np.nan, "p95": np.nan}
    low, high = np.quantile(values, [0.05, 0.95])
    error = float(np.std(values, ddof=1) / np.sqrt(values.size)) if values.size > 1 else np.nan
    return {"mean": float(values.mean()), "mc_error": error, "p5": float(low), "p95": float(high)}


def tornado(sweep, base, levers: dict, metrics: Sequence) -> pd.DataFrame:
    """Per metric and lever: the outcome with the lever at ``low`` and at ``high`` (on top
    of ``base``), the paired change from the base point and the swing ``high - low``,
    each with its Monte Carlo error; ranked by the size of the swing.

    Parameters
    ----------
    sweep : Sweep
    base : ScenarioConfig
        The effective base scenario.
    levers : dict of str -> SweepLever
        Each with ``low`` and ``high``.
    metrics : sequence of Metric
    """
    names = list(levers)
    points = [base]
    labels = ["tornado: base"]
    for name in names:
        for side in ("low", "high"):
            points.append(apply_lever(base, levers[name], getattr(levers[name], side)))
            labels.append(f"tornado: {name} {side}")
    sweep.points_total += len(points)
    values = sweep.metric_values(points, metrics, labels)
    rows = []
    for m, metric in enumerate(metrics):
        base_values = values[0][m]
        for i, name in enumerate(names):
            lever = levers[name]
            low, high = values[1 + 2 * i][m], values[2 + 2 * i][m]
            row = {"metric": metric.key, "metric_label": metric.label, "lever": name,
                   "lever_label": lever.label or name, "lever_kind": lever.lever, "low": lever.low,
                   "high": lever.high, "low_setting": format_value(lever, lever.low),
                   "high_setting": format_value(lever, lever.high), "base_mean": spread(base_values)["mean"]}
            for side, side_values in (("low", low), ("high", high)):
                outcome = spread(side_values)
                change = paired(side_values, base_values)
                row.update({f"{side}_mean": outcome["mean"], f"{side}_p5": outcome["p5"],
                            f"{side}_p95": outcome["p95"], f"{side}_delta_mean": change["mean"],
                            f"{side}_delta_mc_error": change["mc_error"]})
            swing = paired(high, low)
            row.update({"swing_mean": swing["mean"], "swing_mc_error": swing["mc_error"],
                        "swing_p5": swing["p5"], "swing_p95": swing["p95"]})
            rows.append(row)
    table = pd.DataFrame(rows)
    table["swing_abs"] = table["swing_mean"].abs()
    table["rank"] = table.groupby("metric")["swing_abs"].rank(ascending=False, method="first").astype(int)
    return table.sort_values(["metric", "rank"], kind="stable").reset_index(drop=True)


def grid_values(lever, points: int) -> list[float]:
    """The lever's ``values``, else ``points`` values evenly from ``low`` to ``high``."""
    if lever.values:
        return [float(v) for v in lever.values]
    return [float(v) for v in np.linspace(lever.low, lever.high, points)]


def grid(sweep, base, name: str, x_name: str, x, y_name: str | None, y, points: int, metric) -> pd.DataFrame:
    """A 1-D (``y`` None) or 2-D grid of lever values on top of ``base``: per point the
    metric (mean, its Monte Carlo error, P5 and P95 across replications) and its paired
    change from the base point."""
    x_values = grid_values(x, points)
    y_values = grid_values(y, points) if y is not None else [None]
    scenarios, labels, settings = [base], [f"grid {name}: base"], []
    for y_value in y_values:
        for x_value in x_values:
            point = apply_lever(base, x, x_value)
            if y is not None:
                point = apply_lever(point, y, y_value)
            scenarios.append(point)
            labels.append(f"grid {name}: {x_name}={format_value(x, x_value)}"
                          + (f", {y_name}={format_value(y, y_value)}" if y is not None else ""))
            settings.append((x_value, y_value))
    sweep.points_total += len(scenarios)
    values = sweep.metric_values(scenarios, [metric], labels)
    base_values = values[0][0]
    rows = []
    for (x_value, y_value), point in zip(settings, values[1:]):
        outcome, change = spread(point[0]), paired(point[0], base_values)
        rows.append({"grid": name, "metric": metric.key, "metric_label": metric.label, "x_lever": x_name,
                     "x_value": x_value, "x_setting": format_value(x, x_value), "y_lever": y_name or "",
                     "y_value": np.nan if y_value is None else y_value,
                     "y_setting": "" if y_value is None else format_value(y, y_value),
                     "mean": outcome["mean"], "mc_error": outcome["mc_error"], "p5": outcome["p5"],
                     "p95": outcome["p95"], "base_mean": float(np.nanmean(base_values)),
                     "delta_mean": change["mean"], "delta_mc_error": change["mc_error"],
                     "delta_p5": change["p5"], "delta_p95": change["p95"]})
    return pd.DataFrame(rows)
