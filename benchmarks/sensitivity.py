"""A 10-lever tornado on the demo book: wall time and the common-random-numbers gain.

Runs the demo config's tornado (``scenarios/demo/config.yaml``, ten levers, total value)
at ``--replications`` through ``Project.sensitivity`` and times it. Then, for the CRN
gain, simulates each lever's high point again with an *independent* seed (seed + 1 + i)
and compares the Monte Carlo error of its change from the base: paired (same seed,
``std(high - base) / sqrt(R)``) against independent (``sqrt(var(high) / R + var(base) / R)``).
Prints a table, then one JSON object. Usage::

    python benchmarks/sensitivity.py [--replications 1000]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import simcore
from simcore.sensitivity.levers import apply_lever
from simcore.sensitivity.metrics import Metric
from simcore.sensitivity.sweep import Sweep

DEMO_CONFIG = Path(__file__).resolve().parents[1] / "scenarios" / "demo" / "config.yaml"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replications", type=int, default=1000)
    args = parser.parse_args()
    project = simcore.Project.from_config(DEMO_CONFIG)
    project.fit()
    project.sensitivity(only="tornado", replications=8)          # compile kernels, warm caches
    started = time.perf_counter()
    result = project.sensitivity(only="tornado", replications=args.replications)
    wall = time.perf_counter() - started
    table = result.sensitivity_tornado
    section = project.config.sensitivity
    from simcore.sensitivity.checks import base_scenario

    base = base_scenario(project.config)
    metric = Metric.of(section.metric)
    seed = project.config.simulation.seed
    sweep = Sweep.of(project, replications=args.replications, seed=seed)
    base_run = sweep.metric_values([base], [metric], ["base"])[0][0]
    rows = []
    for i, name in enumerate(section.tornado.levers):
        lever = section.levers[name]
        point = apply_lever(base, lever, lever.high)
        paired = sweep.metric_values([point], [metric], [name])[0][0]
        other = Sweep.of(project, replications=args.replications, seed=seed + 1 + i)
        independent = other.metric_values([point], [metric], [name])[0][0]
        R = args.replications
        paired_error = float(np.std(paired - base_run, ddof=1) / np.sqrt(R))
        independent_error = float(np.sqrt(np.var(independent, ddof=1) / R + np.var(base_run, ddof=1) / R))
        delta = float(np.mean(paired - base_run))
        # A lever that changes no random quantity (CAC is paid once, known) leaves a paired
        # difference that is the same in every replication: its error is rounding, the gain unbounded.
        exact = paired_error <= 1e-9 * max(abs(delta), 1.0)
        rows.append({"lever": name, "high_delta": delta, "paired_error": 0.0 if exact else paired_error,
                     "independent_error": independent_error,
                     "gain": None if exact else independent_error / paired_error})
    print(f"10-lever tornado, {args.replications} replications, {len(table) * 2 + 1} points: {wall:.1f} s wall")
    print(f"{'lever':<16}{'change at high':>16}{'MC error, CRN':>16}{'independent':>16}{'gain':>10}")
    for row in rows:
        gain = "exact" if row["gain"] is None else f"{row['gain']:.1f}"
        print(f"{row['lever']:<16}{row['high_delta']:>16,.0f}{row['paired_error']:>16,.0f}"
              f"{row['independent_error']:>16,.0f}{gain:>10}")
    print(json.dumps({"replications": args.replications, "tornado_wall_s": wall, "points": len(table) * 2 + 1,
                      "levers": rows}))


if __name__ == "__main__":
    main()
