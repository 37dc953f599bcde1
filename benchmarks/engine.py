"""Throughput of the Monte Carlo engine, side by side in one run.

Two workloads, timed in one process:

*constant MRR* — one segment, 120-month horizon, existing customers with tenures 0-59
on a decreasing-hazard curve with a parameter draw per replication, constant MRR, no
new customers: the engine's fastest path, and the one to compare with the raw RNG.

*realistic* — the demo book (``scenarios/demo/config.yaml``) as ``simcore run`` sees
it: its four segments fitted by the library (retention fits and revenue dynamics from
the MRR history), existing customers at their tenures and new cohorts, the baseline and
every scenario of the config, 120 months.

Measures:

(a) raw counter-RNG throughput: uniforms per second, one per customer and replication,
    with the engine's key derivation (stream key per replication, customer key, draw);
(b) engine customer-lifetimes per second on the constant-MRR workload: the kernels plus
    the reduction into the accumulators (``run_segment``), compile step excluded;
(c) engine customer-lifetimes per second on the realistic workload (every segment of
    every scenario; lifetimes = (existing + new customers) x replications);
(d) the NumPy reference engine (one vector step per customer-month, its own PCG64
    numbers), on a smaller sample of the constant-MRR workload, per lifetime;
(e) a pure-Python loop (one step per customer-month), on a tiny sample, per lifetime.

(a)-(c) run with 1 and with 2 numba threads (``numba.set_num_threads``), so the thread
scaling of each is measured side by side, in ``--repeats`` rounds of (a), (b), (c)
back to back; every timing repeats its measure for at least ``--min-seconds``, so all
measures are equally exposed to the machine's noise. Rates use the best round of each
measure; the ratios of every round are printed too, and ratios on CPU time (all
threads), which do not count time spent waiting for a busy machine. ``engine_vs_rng`` and ``realistic_vs_rng`` are the share of the raw RNG rate (same
thread count) that each workload reaches (1.0 would mean simulating a customer costs no
more than drawing one uniform); ``engine_vs_reference`` is how many times faster than
the reference the engine is. Prints a table, then as its last line one JSON object.
Usage::

    python benchmarks/engine.py [--customers 200000] [--replications 50]
                                [--realistic-replications 1000] [--repeats 3]
                                [--min-seconds 2]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from pathlib import Path

import numpy as np
import pandas as pd

import simcore.engine as engine
from simcore.economics import Economics
from simcore.engine.compile import compile_segment

HORIZON = 120
DEMO_CONFIG = Path(__file__).resolve().parents[1] / "scenarios" / "demo" / "config.yaml"


class DecreasingHazardFit:
    """Survival with hazard h0 (t + 1)^-0.3, h0 varying across parameter draws."""

    def survival_draws(self, n_draws, n_months, seed, method="asymptotic"):
        rng = np.random.default_rng(seed)
        h0 = 0.06 * np.exp(0.1 * rng.standard_normal(n_draws))
        hazard = np.minimum(1.0, h0[:, None] * (np.arange(n_months)[None, :] + 1.0) ** -0.3)
        return np.concatenate([np.ones((n_draws, 1)), np.cumprod(1 - hazard, axis=1)], axis=1)


def workload(customers: int, replications: int):
    rng = np.random.default_rng(1)
    book = pd.DataFrame({"customer_id": np.arange(customers).astype(str),
                         "tenure_months": rng.integers(0, 60, customers), "churned": False,
                         "mrr": rng.gamma(2.0, 50.0, customers)})
    return compile_segment("bench", DecreasingHazardFit(),
                           Economics(gross_margin=0.8, support_cost_per_month=10.0), book,
                           replications=replications, seed=1, horizon_months=HORIZON,
                           include_new=False)


def demo_workload(replications: int):
    """The demo book's compiled segments, baseline and every scenario, as ``simcore run``
    compiles them (``Project.simulate``: fits, revenue dynamics, economics and new
    cohorts' starting MRR)."""
    import simcore
    from simcore.config import BASELINE
    from simcore.engine.compile import compile_book
    from simcore.scenarios import scenario_levers

    project = simcore.Project.from_config(DEMO_CONFIG)
    config = project.config
    book = project.book()
    economics = project.economics()
    fit = project.fit()
    fits = {name: result.survival_model() for name, result in fit.fits.results.items()}
    segments = []
    for scenario in [BASELINE, *(s.name for s in config.scenarios)]:
        compiled = compile_book(fits, book.customers, economics.economics, dynamics=fit.dynamics,
                                levers=scenario_levers(config, scenario, book.segments, economics),
                                replications=replications, seed=config.simulation.seed,
                                horizon_months=config.horizon_months, as_of=book.book.as_of,
                                draw_method=None)
        segments.extend(compiled.segments)
    return segments


def best_of(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def timing(function, min_seconds: float) -> tuple[float, float]:
    """Wall and CPU (all threads) seconds of one call, repeating the call until
    ``min_seconds`` have passed, so a measure of a few milliseconds is as exposed to the
    noise of a shared machine as one of several seconds (a short measure's best-of
    would otherwise land in a quiet moment more often, biasing every ratio)."""
    calls = 0
    wall, cpu = time.perf_counter(), time.process_time()
    while True:
        function()
        calls += 1
        elapsed = time.perf_counter() - wall
        if elapsed >= min_seconds:
            break
    return elapsed / calls, (time.process_time() - cpu) / calls


def python_loop(segment, replications: int, customers: int) -> None:
    """The model in plain Python: one step per customer-month."""
    random.seed(0)
    for r in range(replications):
        hazard = segment.hazard[r].tolist()
        for i in range(customers):
            tenure = int(segment.group_tenure[segment.customer_group[i]])
            mrr = float(segment.customer_mrr[i])
            cost = float(segment.customer_cost_per_month[i])
            value = 0.0
            for c in range(HORIZON):
                value += segment.discount[c] * (mrr * segment.contribution_margin[c] - cost)
                if random.random() < hazard[tenure + c]:
                    break


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--replications", type=int, default=50)
    parser.add_argument("--realistic-replications", type=int, default=1000)
    parser.add_argument("--reference-customers", type=int, default=5_000)
    parser.add_argument("--reference-replications", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--min-seconds", type=float, default=2.0,
                        help="each timing repeats its measure for at least this long")
    args = parser.parse_args()

    import numba

    from simcore.engine.kernels import uniform_sums
    from simcore.engine.reference import reference_segment
    from simcore.engine.run import run_segment

    engine.warm_up()
    segment = workload(args.customers, args.replications)
    lifetimes = args.customers * args.replications
    realistic = demo_workload(args.realistic_replications)
    realistic_lifetimes = sum((s.n_existing + s.n_new) * s.replications for s in realistic)
    seed = np.uint64(1)
    sums = np.zeros(args.replications)

    def run_realistic():
        for item in realistic:
            run_segment(item, np.uint64(42))

    threads = sorted({1, numba.get_num_threads()})
    measures = {
        "rng": lambda: uniform_sums(seed, np.uint64(segment.segment_key), args.replications,
                                    args.customers, sums),
        "engine": lambda: run_segment(segment, seed),
        "realistic": run_realistic,
    }
    work = {"rng": lifetimes, "engine": lifetimes, "realistic": realistic_lifetimes}
    # Rounds of (RNG, constant MRR, realistic) back to back: each round's ratios come
    # from measures taken within seconds of each other.
    rounds = {}
    for count in threads:
        numba.set_num_threads(count)
        rounds[count] = [{kind: timing(function, args.min_seconds)
                          for kind, function in measures.items()}
                         for _ in range(args.repeats)]
    timed = {count: {kind: min(r[kind][0] for r in rounds[count]) for kind in measures}
             for count in threads}
    cpu = {count: {kind: min(r[kind][1] for r in rounds[count]) for kind in measures}
           for count in threads}
    most = threads[-1]
    numba.set_num_threads(most)

    small = workload(args.reference_customers, args.reference_replications)
    reference_time = best_of(lambda: reference_segment(small, 1), args.repeats)
    tiny = workload(200, 2)
    python_time = best_of(lambda: python_loop(tiny, 2, 200), 1)

    rows = []
    for count in threads:
        rows += [(f"counter RNG uniforms, {count} thr", lifetimes, timed[count]["rng"]),
                 (f"engine constant MRR, {count} thr", lifetimes, timed[count]["engine"]),
                 (f"engine realistic, {count} thr", realistic_lifetimes,
                  timed[count]["realistic"])]
    rows += [("NumPy reference lifetimes", args.reference_customers * args.reference_replications,
              reference_time),
             ("pure Python lifetimes", 200 * 2, python_time)]
    print(f"constant MRR: one segment, horizon {HORIZON} months, existing customers only, "
          f"{args.customers:,} customers x {args.replications} replications")
    print(f"realistic: demo book, {len(realistic)} compiled segments (segments x scenarios), "
          f"{args.realistic_replications} replications, existing and new customers, fitted "
          f"revenue dynamics")
    print(f"reference: {args.reference_customers:,} x {args.reference_replications}; Python: "
          f"200 x 2; rates per customer-lifetime (per uniform for the RNG), best of "
          f"{args.repeats} rounds, each timing at least {args.min_seconds} s")
    print(f"{'measure':<36}{'items':>14}{'seconds':>10}{'items/s':>16}")
    rates = {}
    for name, items, seconds in rows:
        rates[name] = items / seconds
        print(f"{name:<36}{items:>14,}{seconds:>10.3f}{items / seconds:>16,.0f}")

    def rate(kind, count):
        return work[kind] / timed[count][kind]

    def round_ratios(kind, count):
        return [round((r["rng"][0] / r[kind][0]) * work[kind] / lifetimes, 4)
                for r in rounds[count]]

    for count in threads:
        print(f"{count} thr, per round: engine_vs_rng {round_ratios('engine', count)}, "
              f"realistic_vs_rng {round_ratios('realistic', count)}")

    result = {
        "rng_uniforms_per_s": rate("rng", most),
        "engine_lifetimes_per_s": rate("engine", most),
        "realistic_lifetimes_per_s": rate("realistic", most),
        "reference_lifetimes_per_s": rates["NumPy reference lifetimes"],
        "python_lifetimes_per_s": rates["pure Python lifetimes"],
        "engine_vs_rng": rate("engine", most) / rate("rng", most),
        "realistic_vs_rng": rate("realistic", most) / rate("rng", most),
        "realistic_vs_engine": rate("realistic", most) / rate("engine", most),
        "engine_vs_reference": rate("engine", most) / rates["NumPy reference lifetimes"],
        "engine_vs_python": rate("engine", most) / rates["pure Python lifetimes"],
        "threads": most,
        "thread_speedup": {kind: rate(kind, most) / rate(kind, 1)
                           for kind in ("rng", "engine", "realistic")},
        # Per round (measures seconds apart), at the largest thread count and at 1 thread.
        "engine_vs_rng_rounds": round_ratios("engine", most),
        "realistic_vs_rng_rounds": round_ratios("realistic", most),
        "engine_vs_rng_rounds_1_thread": round_ratios("engine", 1),
        "realistic_vs_rng_rounds_1_thread": round_ratios("realistic", 1),
        # On CPU time (all threads): insensitive to waiting for a busy machine's cores.
        "cpu_engine_vs_rng": cpu[most]["rng"] / cpu[most]["engine"],
        "cpu_realistic_vs_rng": (cpu[most]["rng"] / cpu[most]["realistic"]
                                 * realistic_lifetimes / lifetimes),
        "checksum": float(sums.sum()) if math.isfinite(sums.sum()) else None,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
