"""One call from a project to its sensitivity tables: :func:`run_sensitivity`."""

from __future__ import annotations

import platform
import time
from typing import Callable

import pandas as pd

from simcore._version import __version__
from simcore.config import config_hash
from simcore.config.sensitivity import MetricSpec
from simcore.errors import ConfigError, Problem
from simcore.executors import chunk_replications_of, describe, executor_for
from simcore.progress import Progress
from simcore.sensitivity.checks import base_scenario, check_sensitivity, ranged
from simcore.sensitivity.metrics import Metric
from simcore.sensitivity.result import ANALYSES, SensitivityResult


def run_sensitivity(project, *, only: str | None = None, replications: int | None = None, seed: int | None = None,
                    executor=None, chunk_replications: int | None = None, progress: Progress | None = None,
                    on_compile: Callable[[], None] | None = None) -> SensitivityResult:
    """Run the analyses of ``project.config.sensitivity``: tornado, grids, solves,
    Sobol indices, stress templates and reverse stress tests.

    Parameters
    ----------
    project : simcore.Project
    only : {"tornado", "grid", "solve", "sobol", "stress"}, optional
        Run one analysis (default: every analysis the section configures).
    replications, seed : int, optional
        Default ``sensitivity.replications`` (else ``simulation.replications``) and
        ``simulation.seed``. Every point of every analysis uses them: common random
        numbers across points.
    executor, chunk_replications
        Where the work units run (:mod:`simcore.executors`) and their size; neither
        changes any number.
    progress : callable, optional
        ``progress(label, done, total)`` after each sweep point.
    on_compile : callable, optional
        Called once before the simulation kernels compile (first run on a machine).

    Returns
    -------
    SensitivityResult

    Raises
    ------
    ConfigError
        Every problem of the section (located), found before any fit.
    """
    from simcore.engine import compile_status, warm_up
    from simcore.scenarios import effective_scenario
    from simcore.sensitivity.sweep import Sweep

    config = project.config
    if only is not None and only not in ANALYSES:
        raise ConfigError(Problem(f"unknown analysis '{only}'", f"choose one of {', '.join(ANALYSES)}",
                                  field="only"))
    started = time.perf_counter()
    validation = project.validate()
    section = config.sensitivity
    dynamics = project.revenue().dynamics if project.revenue() is not None else None
    check_sensitivity(config, validation.book.segments, validation.economics.economics, dynamics, only)
    replications = int(replications or section.replications or config.simulation.replications)
    seed = int(config.simulation.seed if seed is None else seed)
    if replications < 2:
        raise ConfigError(Problem("sensitivity needs at least 2 replications (errors come from their spread)",
                                  "use e.g. 200", field="sensitivity.replications"))
    project._preflight([], replications)
    fit_started = time.perf_counter()
    project.fit()
    timings = {"fit_s": time.perf_counter() - fit_started}
    if on_compile is not None and compile_status() == "needs_compile":
        on_compile()
    warm_up()
    with executor_for(config, executor) as used:
        where = describe(used)
        sweep = Sweep.of(project, replications=replications, seed=seed, executor=used,
                         chunk_replications=chunk_replications_of(config, chunk_replications),
                         batch_points=section.batch_points, progress=progress)
        base = base_scenario(config)
        default_metric = Metric.of(section.metric)

        def metric_of(spec: MetricSpec | None) -> Metric:
            return default_metric if spec is None else Metric.of(spec)

        wanted = [a for a in ANALYSES if only in (None, a)]
        tables: dict[str, pd.DataFrame] = {}
        levers = section.levers
        if "tornado" in wanted and section.tornado is not None:
            from simcore.sensitivity.analyses import tornado

            mark = time.perf_counter()
            names = section.tornado.levers or ranged(section)
            metrics = [metric_of(m) for m in (section.tornado.metrics or [None])]
            tables["sensitivity_tornado"] = tornado(sweep, base, {n: levers[n] for n in names}, metrics)
            timings["tornado_s"] = time.perf_counter() - mark
        if "grid" in wanted and section.grids:
            from simcore.sensitivity.analyses import grid

            mark = time.perf_counter()
            tables["sensitivity_grid"] = pd.concat(
                [grid(sweep, base, g.name, g.x, levers[g.x], g.y, levers[g.y] if g.y else None, g.points,
                      metric_of(g.metric)).assign(target=g.target) for g in section.grids], ignore_index=True)
            timings["grid_s"] = time.perf_counter() - mark
        solves = []
        if "solve" in wanted:
            solves += [("solve", s) for s in section.solve]
        if "stress" in wanted and section.stress is not None:
            solves += [("reverse_stress", s) for s in section.stress.reverse]
        if solves:
            tables.update(_solves(sweep, base, solves, levers, metric_of, seed, project, timings))
        if "sobol" in wanted and section.sobol is not None:
            tables.update(_sobol(sweep, base, section, levers, metric_of, seed, timings))
        if "stress" in wanted and section.stress is not None:
            from simcore.sensitivity.stress import BUILT_IN, built_in, stress

            mark = time.perf_counter()
            library = {t.name: t for t in section.stress.library}
            templates = {}
            for name in section.stress.templates:
                templates[name] = library.get(name) or (built_in(name) if name in BUILT_IN
                                                        else effective_scenario(config, name))
            summary, fans = stress(sweep, base, templates, default_metric, section.stress.fan_months)
            tables["sensitivity_stress"] = summary
            tables["sensitivity_stress_fans"] = fans
            timings["stress_s"] = time.perf_counter() - mark
        if not tables:
            raise ConfigError(Problem(f"the sensitivity section configures no {only or 'analysis'}",
                                      "add tornado:, grids:, solve:, sobol: or stress: under sensitivity:",
                                      source=config.source, line=config.line_of("sensitivity"), field="sensitivity"))
    timings["total_s"] = time.perf_counter() - started
    book = project.book()
    manifest = {
        "simcore_version": __version__, "command": "sensitivity", "name": config.name,
        "config_file": config.source, "config_sha256": config_hash(config), "data_sha256": book.book.data_hash,
        "as_of": None if book.book.as_of is None else pd.Timestamp(book.book.as_of).date().isoformat(),
        "seed": seed, "replications": replications, "executor": where, "horizon_months": config.horizon_months,
        "base": base.name, "analyses": sorted({name.split("_")[1] for name in tables}),
        "points_simulated": sweep.points_done, "customers": int(len(book.customers)), "segments": book.segments,
        "currency": config.economics.currency,
        "timings_s": {k: round(v, 3) for k, v in timings.items()}, "python": platform.python_version(),
    }
    return SensitivityResult(tables, manifest, tuple(validation.warnings))



def _solves(sweep, base, solves, levers, metric_of, seed, project, timings) -> dict:
    from simcore.sensitivity.solve import solve

    mark = time.perf_counter()
    rows, curves = [], []
    economics = project.economics().economics
    for kind, spec in solves:
        lever = levers[spec.lever]
        low, high = spec.range if spec.range is not None else (lever.low, lever.high)
        metric = metric_of(spec.metric)
        row, curve = solve(sweep, base, spec.name, spec.lever, lever, metric, target=spec.target,
                           maximise=spec.maximise, low=low, high=high, points=spec.points,
                           refinements=spec.refinements, seed=seed)
        row["kind"] = kind
        if lever.lever == "cac_change" and metric.segment in economics and not base.cac_change:
            # The CAC this change gives the segment, in money (finance asks for an amount).
            row["implied_cac"] = economics[metric.segment].cac * (1.0 + row["value"])
        rows.append(row)
        curves.append(curve.assign(kind=kind))
    timings["solve_s"] = time.perf_counter() - mark
    return {"sensitivity_solve": pd.DataFrame(rows), "sensitivity_solve_curves": pd.concat(curves, ignore_index=True)}


def _sobol(sweep, base, section, levers, metric_of, seed, timings) -> dict:
    import numpy as np

    from simcore.sensitivity.levers import apply_lever
    from simcore.sensitivity.sobol import sobol_table

    mark = time.perf_counter()
    names = section.sobol.levers or ranged(section)
    metric = metric_of(section.sobol.metric)
    replications = section.sobol.replications

    def model(points: np.ndarray) -> np.ndarray:
        scenarios, labels = [], []
        for i, row in enumerate(points):
            scenario = base
            for name, value in zip(names, row):
                scenario = apply_lever(scenario, levers[name], float(value))
            scenarios.append(scenario)
            labels.append(f"sobol: point {i + 1} of {len(points)}")
        sweep.points_total += len(scenarios)
        runner = sweep if replications is None else _with_replications(sweep, replications)
        values = runner.metric_values(scenarios, [metric], labels)
        if runner is not sweep:
            sweep.points_done = runner.points_done
        return np.array([float(np.nanmean(v[0])) for v in values])

    table, points = sobol_table(model, names, [(levers[n].low, levers[n].high) for n in names],
                                section.sobol.samples, seed)
    table.insert(1, "metric", metric.key)
    table["samples"] = section.sobol.samples
    table["points"] = len(points)
    table["replications"] = replications or sweep.replications
    timings["sobol_s"] = time.perf_counter() - mark
    return {"sensitivity_sobol": table, "sensitivity_sobol_points": points}


def _with_replications(sweep, replications: int):
    from dataclasses import replace

    return replace(sweep, replications=int(replications))
