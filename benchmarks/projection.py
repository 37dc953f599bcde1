"""End-to-end projection: 1,000,000 customers in 8 segments, 1,000 replications, 120 months.

Every segment has revenue dynamics (expansion and contraction at the rates the demo
book's MRR history gives, rounded), and the scenario has a churn window, a price
window for existing customers, an introductory price for new ones and an expansion
multiplier, so the run exercises the pooled MRR paths and the piecewise price
schedules as a real book does. ``--constant-mrr`` drops the dynamics for comparison.

Reports wall time of compile + simulate + summaries, peak resident memory of the
process (``resource.getrusage``; target under 2 GB), and numba cold-compile versus
warm-start time, each measured in a fresh subprocess: cold with an empty
``NUMBA_CACHE_DIR``, warm with the same directory afterwards. Usage::

    python benchmarks/projection.py [--customers 1000000] [--replications 1000]
                                    [--constant-mrr]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

_WARM_UP = ("import time; t = time.perf_counter(); import simcore.engine as e; "
            "s = e.warm_up(); print(s, time.perf_counter() - t)")


def compile_times() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        times = {}
        for label in ("cold", "warm"):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", _WARM_UP], env=env, check=True,
                           capture_output=True, text=True)
            times[label] = time.perf_counter() - start
    return times


def projection(customers: int, replications: int, horizon: int,
               constant_mrr: bool = False) -> dict[str, float]:
    import numpy as np
    import pandas as pd

    import simcore.engine as engine
    from simcore.economics import Economics
    from simcore.engine.api import simulate
    from simcore.engine.levers import ScenarioLevers
    from simcore.retention import RevenueDynamics

    class DecreasingHazardFit:
        def __init__(self, scale):
            self.scale = scale

        def survival_draws(self, n_draws, n_months, seed, method="asymptotic"):
            rng = np.random.default_rng(seed)
            h0 = self.scale * np.exp(0.1 * rng.standard_normal(n_draws))
            t = np.arange(n_months)
            hazard = np.minimum(1.0, h0[:, None] * (t[None, :] + 1.0) ** -0.3)
            return np.concatenate([np.ones((n_draws, 1)), np.cumprod(1 - hazard, axis=1)],
                                  axis=1)

    engine.warm_up()
    rng = np.random.default_rng(0)
    names = [f"segment_{k}" for k in range(8)]
    book = pd.DataFrame({
        "customer_id": np.arange(customers).astype(str),
        "tenure_months": rng.integers(0, 96, customers), "churned": False,
        "mrr": rng.gamma(2.0, 60.0, customers), "segment": rng.choice(names, customers),
    })
    fits = {name: DecreasingHazardFit(0.03 + 0.01 * k) for k, name in enumerate(names)}
    economics = {name: Economics(gross_margin=0.75, support_cost_per_month=5.0 + 5 * k,
                                 cac=500.0 * (k + 1), onboarding_cost=100.0)
                 for k, name in enumerate(names)}
    # The demo book's fitted dynamics span these rates: 1-8% of months expand (by
    # 10-20%), 1-2% contract.
    dynamics = None if constant_mrr else {
        name: RevenueDynamics(p_expansion=0.015 + 0.009 * k, expansion_log_mean=0.10 + 0.01 * k,
                              expansion_log_sd=0.05, p_contraction=0.01 + 0.001 * k,
                              contraction_log_mean=-0.10, contraction_log_sd=0.05)
        for k, name in enumerate(names)}
    levers = ScenarioLevers(acquisition_per_month=(customers / 8 / 60,),
                            churn_hazard_multiplier_by_month=(1.0,) * 6 + (1.5,) * 12 + (1.0,),
                            price_multiplier_existing_by_month=(1.0,) * 3 + (1.1,) * 12 + (1.05,),
                            new_customer_price_multiplier_by_tenure_month=(0.8,) * 3 + (1.0,),
                            expansion_multiplier=1.2)
    start = time.perf_counter()
    result = simulate(fits, book, economics, dynamics, levers=levers, replications=replications,
                      seed=42, horizon_months=horizon)
    wall = time.perf_counter() - start
    new_per_replication = float(result.segment_summary.query("population == 'new'")
                                ["customers"].sum())
    return {"wall_s": wall, "existing_customers": customers,
            "new_customers_per_replication": new_per_replication,
            "lifetimes": (customers + new_per_replication) * replications}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--replications", type=int, default=1000)
    parser.add_argument("--horizon-months", type=int, default=120)
    parser.add_argument("--constant-mrr", action="store_true",
                        help="no expansion or contraction (the workload before dynamics)")
    parser.add_argument("--skip-compile", action="store_true",
                        help="do not measure cold compile and warm start")
    args = parser.parse_args()
    times = {"cold": None, "warm": None} if args.skip_compile else compile_times()
    numbers = projection(args.customers, args.replications, args.horizon_months,
                         args.constant_mrr)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux
    print(f"{'measure':<36}{'value':>16}")
    print(f"{'revenue dynamics':<36}{'no' if args.constant_mrr else 'yes':>16}")
    print(f"{'customers (existing)':<36}{numbers['existing_customers']:>16,}")
    print(f"{'new customers per replication':<36}{numbers['new_customers_per_replication']:>16,.0f}")
    print(f"{'replications':<36}{args.replications:>16,}")
    print(f"{'simulate wall time (s)':<36}{numbers['wall_s']:>16.1f}")
    print(f"{'customer-lifetimes per second':<36}{numbers['lifetimes'] / numbers['wall_s']:>16,.0f}")
    print(f"{'peak RSS (MB)':<36}{peak_rss_mb:>16,.0f}")
    for label, key in (("cold compile, fresh process (s)", "cold"),
                       ("warm start, fresh process (s)", "warm")):
        value = "skipped" if times[key] is None else f"{times[key]:.1f}"
        print(f"{label:<36}{value:>16}")
    print(json.dumps({"wall_s": numbers["wall_s"], "peak_rss_mb": peak_rss_mb,
                      "dynamics": not args.constant_mrr,
                      "cold_compile_s": times["cold"], "warm_start_s": times["warm"],
                      "lifetimes_per_s": numbers["lifetimes"] / numbers["wall_s"]}))


if __name__ == "__main__":
    main()
