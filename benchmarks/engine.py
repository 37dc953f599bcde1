"""Throughput of the Monte Carlo engine, side by side in one run.

Workload (the same for every measure): one segment, 120-month horizon, existing
customers with tenures 0-59 on a decreasing-hazard curve with a parameter draw per
replication, constant MRR, no new customers. Measures, side by side in one process:

(a) raw counter-RNG throughput: uniforms per second, one per customer and replication,
    with the engine's key derivation (stream key per replication, customer key, draw),
    on the same number of numba threads as the engine;
(b) engine customer-lifetimes per second: the kernels plus the reduction into the
    accumulators (``run_segment``), compile step excluded;
(c) the NumPy reference engine (one vector step per customer-month, its own PCG64
    numbers), on a smaller sample of the same workload, reported per lifetime;
(d) a pure-Python loop (one step per customer-month), on a tiny sample, per lifetime.

Each time is the best of ``--repeats`` runs. ``engine_vs_rng`` is the share of the raw
RNG rate the engine reaches (1.0 would mean the engine costs no more than drawing its
uniforms); ``engine_vs_reference`` is how many times faster than the reference it is.
Prints a table, then as its last line one JSON object with the throughputs and ratios.
Usage::

    python benchmarks/engine.py [--customers 200000] [--replications 50]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time

import numpy as np
import pandas as pd

import simcore.engine as engine
from simcore.economics import Economics
from simcore.engine.compile import compile_segment

HORIZON = 120


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


def best_of(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


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
    parser.add_argument("--reference-customers", type=int, default=5_000)
    parser.add_argument("--reference-replications", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import numba

    from simcore.engine.kernels import uniform_sums
    from simcore.engine.reference import reference_segment
    from simcore.engine.run import run_segment

    engine.warm_up()
    segment = workload(args.customers, args.replications)
    lifetimes = args.customers * args.replications
    seed = np.uint64(1)
    sums = np.zeros(args.replications)
    rng_time = best_of(lambda: uniform_sums(seed, np.uint64(segment.segment_key),
                                            args.replications, args.customers, sums),
                       args.repeats)
    engine_time = best_of(lambda: run_segment(segment, seed), args.repeats)

    small = workload(args.reference_customers, args.reference_replications)
    reference_time = best_of(lambda: reference_segment(small, 1), args.repeats)
    tiny = workload(200, 2)
    python_time = best_of(lambda: python_loop(tiny, 2, 200), 1)

    rows = [
        ("counter RNG uniforms", lifetimes, rng_time),
        ("engine lifetimes", lifetimes, engine_time),
        ("NumPy reference lifetimes", args.reference_customers * args.reference_replications,
         reference_time),
        ("pure Python lifetimes", 200 * 2, python_time),
    ]
    print(f"workload: one segment, horizon {HORIZON} months, existing customers only, "
          f"constant MRR; numba threads: {numba.get_num_threads()} (RNG and engine alike)")
    print(f"engine and RNG: {args.customers:,} customers x {args.replications} replications; "
          f"reference: {args.reference_customers:,} x {args.reference_replications}; "
          f"Python: 200 x 2; rates are per customer-lifetime (per uniform for the RNG), "
          f"best of {args.repeats}")
    print(f"{'measure':<28}{'items':>14}{'seconds':>10}{'items/s':>16}")
    rates = {}
    for name, items, seconds in rows:
        rates[name] = items / seconds
        print(f"{name:<28}{items:>14,}{seconds:>10.3f}{items / seconds:>16,.0f}")
    result = {
        "rng_uniforms_per_s": rates["counter RNG uniforms"],
        "engine_lifetimes_per_s": rates["engine lifetimes"],
        "reference_lifetimes_per_s": rates["NumPy reference lifetimes"],
        "python_lifetimes_per_s": rates["pure Python lifetimes"],
        "engine_vs_rng": rates["engine lifetimes"] / rates["counter RNG uniforms"],
        "engine_vs_reference": rates["engine lifetimes"] / rates["NumPy reference lifetimes"],
        "engine_vs_python": rates["engine lifetimes"] / rates["pure Python lifetimes"],
        "threads": numba.get_num_threads(),
        "checksum": float(sums.sum()) if math.isfinite(sums.sum()) else None,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
