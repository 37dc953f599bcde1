"""Solves: the lever value at which a metric reaches a target, or is largest.

Method
------
1. The metric is simulated at ``points`` lever values evenly over the range (every
   point with the same seed: common random numbers, so each replication's values form a
   smooth curve in the lever).
2. ``refinements`` times, three more points are simulated inside the bracket where the
   mean curve crosses the target (or two beside its largest point), narrowing it
   fourfold each time.
3. The **estimate** is the crossing of the mean curve, linearly interpolated between
   the two points around it (for a maximum: the vertex of the parabola through the
   best point and its neighbours).
4. Its **Monte Carlo error** is the standard deviation of the same solve on 200
   bootstrap resamples of the replications (seeded from the run seed: no new
   simulation).
5. The **90% interval** (``lower_90``, ``upper_90``) is the P5 and P95 of the solve
   repeated on each replication's own curve: where the crossing (or the best value)
   lies under the parameter and model uncertainty each replication draws. Replications
   whose curve does not cross within the range are counted in
   ``replications_outside``; with more than 5% of them a bound is open (shown as the
   range's end and flagged).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simcore.sensitivity.levers import apply_lever, format_value

BOOTSTRAP = 200


def crossing(x: np.ndarray, y: np.ndarray, target: float) -> float:
    """First ``x`` where the piecewise-linear curve ``y(x)`` reaches ``target`` (NaN if none)."""
    gap = np.asarray(y, float) - target
    if gap.size and gap[0] == 0.0:
        return float(x[0])
    sign = np.sign(gap)
    change = np.flatnonzero(sign[:-1] * sign[1:] <= 0)
    for i in change:
        if np.isfinite(gap[i]) and np.isfinite(gap[i + 1]) and gap[i] != gap[i + 1]:
            return float(x[i] + (x[i + 1] - x[i]) * gap[i] / (gap[i] - gap[i + 1]))
    return float("nan")


def maximiser(x: np.ndarray, y: np.ndarray) -> float:
    """The ``x`` of the largest ``y``: the vertex of the parabola through the best point
    and its neighbours (the best point itself at an end of the range)."""
    y = np.asarray(y, float)
    if not np.isfinite(y).any():
        return float("nan")
    i = int(np.nanargmax(y))
    if i == 0 or i == len(x) - 1:
        return float(x[i])
    x0, x1, x2 = x[i - 1], x[i], x[i + 1]
    y0, y1, y2 = y[i - 1], y[i], y[i + 1]
    denominator = (x0 - x1) * (x0 - x2) * (x1 - x2)
    a = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / denominator
    b = (x2 * x2 * (y0 - y1) + x1 * x1 * (y2 - y0) + x0 * x0 * (y1 - y2)) / denominator
    if a >= 0 or not np.isfinite(a):
        return float(x1)
    return float(np.clip(-b / (2 * a), x0, x2))


def _solve_curve(x, y, target, maximise):
    return maximiser(x, y) if maximise else crossing(x, y, target)


def solve(sweep, base, name: str, lever_name: str, lever, metric, *, target: float | None, maximise: bool,
          low: float, high: float, points: int, refinements: int, seed: int):
    """Solve one lever against one metric (see the module notes).

    Returns
    -------
    (dict, DataFrame)
        The result row and the curve (every lever value simulated: mean, Monte Carlo
        error, P5, P95 of the metric across replications).
    """
    evaluated: dict[float, np.ndarray] = {}

    def evaluate(xs) -> None:
        new = [float(v) for v in xs if float(v) not in evaluated]
        if not new:
            return
        sweep.points_total += len(new)
        scenarios = [apply_lever(base, lever, v) for v in new]
        labels = [f"solve {name}: {lever_name}={format_value(lever, v)}" for v in new]
        for v, values in zip(new, sweep.metric_values(scenarios, [metric], labels)):
            evaluated[v] = values[0]

    def curve():
        xs = np.array(sorted(evaluated))
        return xs, np.stack([evaluated[v] for v in xs], axis=1)      # (R, n)

    evaluate(np.linspace(low, high, points))
    for _ in range(refinements):
        xs, values = curve()
        mean = np.nanmean(values, axis=0)
        if maximise:
            i = int(np.nanargmax(mean))
            extra = [0.5 * (xs[j] + xs[j + 1]) for j in (i - 1, i) if 0 <= j < len(xs) - 1]
        else:
            gap = mean - target
            change = np.flatnonzero(np.sign(gap[:-1]) * np.sign(gap[1:]) <= 0)
            if not change.size:
                break
            a, b = xs[change[0]], xs[change[0] + 1]
            extra = [a + (b - a) * q for q in (0.25, 0.5, 0.75)]
        evaluate(extra)
    xs, values = curve()
    mean = np.nanmean(values, axis=0)
    estimate = _solve_curve(xs, mean, target, maximise)
    per_replication = np.array([_solve_curve(xs, row, target, maximise) for row in values])
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, 0x501FE])
    R = values.shape[0]
    resampled = [_solve_curve(xs, np.nanmean(values[rng.integers(0, R, R)], axis=0), target, maximise)
                 for _ in range(BOOTSTRAP)]
    resampled = np.asarray(resampled)
    outside = int(np.isnan(per_replication).sum())
    inside = per_replication[np.isfinite(per_replication)]
    open_bounds = outside > 0.05 * R
    lower, upper = (np.quantile(inside, [0.05, 0.95]) if inside.size else (np.nan, np.nan))
    if open_bounds and inside.size:
        # Replications without a crossing lie beyond one end of the range: say so.
        beyond_high = np.nanmean(values[np.isnan(per_replication), -1]) - (target or 0.0)
        side_high = np.sign(beyond_high) == np.sign(np.nanmean(values[:, 0]) - (target or 0.0))
        lower, upper = (lower, high) if side_high else (low, upper)
    row = {"solve": name, "lever": lever_name, "lever_kind": lever.lever, "metric": metric.key,
           "metric_label": metric.label, "goal": "maximise" if maximise else "target",
           "target": np.nan if maximise else float(target), "found": bool(np.isfinite(estimate)),
           "value": estimate, "setting": format_value(lever, estimate) if np.isfinite(estimate) else "",
           "mc_error": float(np.nanstd(resampled, ddof=1)) if np.isfinite(resampled).sum() > 1 else np.nan,
           "lower_90": float(lower), "upper_90": float(upper),
           # In brackets: a text starting with + or - would be guarded as a formula in files.
           "interval_90_setting": (f"[{format_value(lever, lower)} .. {format_value(lever, upper)}]"
                                   if np.isfinite(lower) and np.isfinite(upper) else ""),
           "interval_open": bool(open_bounds),
           "replications_outside": outside, "replications": R, "range_low": float(low),
           "range_high": float(high), "points_simulated": len(xs),
           "metric_at_value": float(np.interp(estimate, xs, mean)) if np.isfinite(estimate) else np.nan,
           "metric_at_low": float(mean[0]), "metric_at_high": float(mean[-1]),
           "at_range_end": bool(maximise and np.isfinite(estimate) and estimate in (xs[0], xs[-1]))}
    spreads = [(float(np.nanmean(values[:, i])),
                float(np.nanstd(values[:, i], ddof=1) / np.sqrt(R)) if R > 1 else np.nan,
                *np.nanquantile(values[:, i], [0.05, 0.95])) for i in range(len(xs))]
    table = pd.DataFrame({"solve": name, "lever": lever_name, "metric": metric.key, "lever_value": xs,
                          "setting": [format_value(lever, v) for v in xs],
                          "mean": [s[0] for s in spreads], "mc_error": [s[1] for s in spreads],
                          "p5": [s[2] for s in spreads], "p95": [s[3] for s in spreads]})
    return row, table
