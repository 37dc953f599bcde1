"""Retention fitting at scale: every family on aggregated data vs lifelines on raw rows.

Generates ``--customers`` customers in ``--segments`` segments with shifted-beta-geometric
lifetimes (different alpha, beta per segment), signups spread over a 60-month window and
observation at its end. Then, in one run:

1. collapses each segment to unique (tenure, churned) rows with counts;
2. fits every family per segment on the counts and ranks them (``fit_segment``,
   ``family="auto"`` with default settings: exponential, Weibull, log-normal,
   log-logistic, generalized gamma, piecewise exponential, Weibull cure, sBG, plus
   Kaplan-Meier; Akaike weights, and the bootstrap pool and conditioning check of every
   family with a weight);
3. side by side on a ``--subsample`` of one segment: lifelines' WeibullFitter
   (``fit_interval_censoring``, the monthly-grid likelihood) on raw rows (one per
   customer) against ``fit_family`` on the same rows (which aggregates first): time
   ratio, largest relative parameter difference, and the extrapolated S(120) of both;
4. extrapolation: each segment's chosen curve at 60 and 120 months against the true
   sBG curve that generated it (the window is 60 months, so month 120 is pure
   extrapolation).

Usage::

    python benchmarks/retention.py --customers 10000000 --segments 8

Prints a table, then one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np
from scipy import special

from simcore.errors import FitError
from simcore.retention import PARAMETRIC_FAMILIES, aggregate_survival, fit_family, fit_segment

WINDOW_MONTHS = 60


def segment_parameters(count: int) -> list[tuple[float, float]]:
    """(alpha, beta) per segment: mean monthly churn 3%..15%, varying heterogeneity."""
    rng = np.random.Generator(np.random.PCG64(2024))
    out = []
    for _ in range(count):
        mean_churn = rng.uniform(0.03, 0.15)
        concentration = rng.uniform(2.0, 30.0)  # alpha + beta: small = heterogeneous
        out.append((mean_churn * concentration, (1 - mean_churn) * concentration))
    return out


def generate(n: int, alpha: float, beta: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.Generator(np.random.PCG64(seed))
    lifetime = rng.geometric(rng.beta(alpha, beta, size=n))
    observed = rng.integers(1, WINDOW_MONTHS + 1, size=n)  # months from signup to the end
    churned = lifetime <= observed
    return np.where(churned, lifetime, observed).astype(np.int64), churned


def true_survival(alpha: float, beta: float, t) -> np.ndarray:
    t = np.asarray(t, dtype=float)
    return np.exp(special.betaln(alpha, beta + t) - special.betaln(alpha, beta))


def lifelines_raw_weibull(durations, events):
    import lifelines

    fitter = lifelines.WeibullFitter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lower = np.where(events, durations - 1, durations).astype(float)
        upper = np.where(events, durations, np.inf).astype(float)
        fitter.fit_interval_censoring(lower, upper)
    return fitter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000_000)
    parser.add_argument("--segments", type=int, default=8)
    parser.add_argument("--subsample", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    import lifelines  # noqa: F401  (import cost kept out of the timings)

    parameters = segment_parameters(args.segments)
    per_segment = args.customers // args.segments
    start = time.perf_counter()
    data = [generate(per_segment, a, b, args.seed + i) for i, (a, b) in enumerate(parameters)]
    generate_s = time.perf_counter() - start

    start = time.perf_counter()
    aggregated = [aggregate_survival(d, e) for d, e in data]
    aggregate_s = time.perf_counter() - start

    rows = []
    fit_s_total = 0.0
    for i, (counts, (alpha, beta)) in enumerate(zip(aggregated, parameters)):
        start = time.perf_counter()
        result = fit_segment(counts.durations, counts.events, counts.counts, segment=f"segment_{i}")
        elapsed = time.perf_counter() - start
        fit_s_total += elapsed
        fit = result.fit
        failed = result.ranking["rank"].isna().sum()
        rows.append({
            "segment": f"segment_{i}",
            "alpha": alpha, "beta": beta,
            "unique_rows": len(counts.counts),
            "chosen": fit.family,
            "families_fitted": int(len(result.fits)), "families_failed": int(failed),
            "fit_s": elapsed,
            "S60_fit": float(fit.survival([60])[0]), "S60_true": float(true_survival(alpha, beta, 60)),
            "S120_fit": float(fit.survival([120])[0]), "S120_true": float(true_survival(alpha, beta, 120)),
            "S120_weibull": float(result.fits["weibull"].survival([120])[0]) if "weibull" in result.fits else None,
        })

    # where the fitting time goes: every family once on segment 0's counts, and the
    # bootstrap pool (200 refits at once) each one gets when it is drawn from
    family_s, pool_s = {}, {}
    for family in PARAMETRIC_FAMILIES + ("kaplan_meier",):
        start = time.perf_counter()
        try:
            fit = fit_family(aggregated[0].durations, aggregated[0].events, aggregated[0].counts, family=family)
        except FitError:
            fit = None
        family_s[family] = time.perf_counter() - start
        if fit is not None and family != "kaplan_meier":
            start = time.perf_counter()
            fit.with_bootstrap()
            pool_s[family] = time.perf_counter() - start

    # side by side on a raw-row subsample of segment 0
    durations, events = data[0]
    rng = np.random.Generator(np.random.PCG64(args.seed))
    pick = rng.choice(len(durations), size=min(args.subsample, len(durations)), replace=False)
    sub_d, sub_e = durations[pick], events[pick]
    side_by_side = {}
    start = time.perf_counter()
    raw = lifelines_raw_weibull(sub_d, sub_e)
    raw_s = time.perf_counter() - start
    start = time.perf_counter()
    ours = fit_family(sub_d, sub_e, family="weibull")
    ours_s = time.perf_counter() - start
    side_by_side["interval"] = {
        "rows": int(len(sub_d)),
        "lifelines_raw_s": raw_s,
        "simcore_aggregated_s": ours_s,
        "speedup": raw_s / ours_s,
        "max_rel_param_diff": float(np.max(np.abs(ours.params / raw.params_.to_numpy() - 1))),
        "S120_lifelines_raw": float(raw.survival_function_at_times([120.0]).iloc[0]),
        "S120_simcore": float(ours.survival([120])[0]),
    }

    total_s = aggregate_s + fit_s_total
    print(f"customers: {per_segment * args.segments:,} in {args.segments} segments   "
          f"generate: {generate_s:.1f} s   aggregate: {aggregate_s:.2f} s   "
          f"fit all families: {fit_s_total:.1f} s   aggregate+fit: {total_s:.1f} s (target < 10 s)")
    print(f"{'segment':<11}{'rows':>5}{'chosen':>18}{'fit s':>7}{'S60 fit':>9}{'S60 true':>9}"
          f"{'S120 fit':>9}{'S120 true':>10}{'S120 weib':>10}")
    for r in rows:
        weibull = f"{r['S120_weibull']:.3f}" if r["S120_weibull"] is not None else "-"
        print(f"{r['segment']:<11}{r['unique_rows']:>5}{r['chosen']:>18}{r['fit_s']:>7.2f}"
              f"{r['S60_fit']:>9.3f}{r['S60_true']:>9.3f}{r['S120_fit']:>9.3f}{r['S120_true']:>10.3f}{weibull:>10}")
    print("\nseconds per family on segment_0 counts: "
          + ", ".join(f"{name} {seconds:.3f}" for name, seconds in family_s.items()))
    print("seconds per bootstrap pool (200 refits) on segment_0 counts: "
          + ", ".join(f"{name} {seconds:.3f}" for name, seconds in pool_s.items()))
    print(f"\nWeibull on {len(sub_d):,} raw rows of segment_0: lifelines raw rows vs simcore aggregated")
    print(f"{'likelihood':<12}{'lifelines s':>12}{'simcore s':>10}{'ratio':>8}{'max rel diff':>14}"
          f"{'S120 lifelines':>16}{'S120 simcore':>14}")
    for likelihood, r in side_by_side.items():
        print(f"{likelihood:<12}{r['lifelines_raw_s']:>12.2f}{r['simcore_aggregated_s']:>10.3f}{r['speedup']:>8.1f}"
              f"{r['max_rel_param_diff']:>14.2e}{r['S120_lifelines_raw']:>16.5f}{r['S120_simcore']:>14.5f}")
    print(json.dumps({
        "customers": per_segment * args.segments, "segments": args.segments,
        "generate_s": round(generate_s, 3), "aggregate_s": round(aggregate_s, 3),
        "fit_all_families_s": round(fit_s_total, 3), "aggregate_plus_fit_s": round(total_s, 3),
        "segments_detail": rows, "family_s_segment_0": family_s,
        "bootstrap_pool_s_segment_0": pool_s, "side_by_side_weibull": side_by_side,
    }))


if __name__ == "__main__":
    main()
