"""The two entry points: :func:`account_table` and :func:`plan_cs` (``Project.accounts()``,
``Project.plan_cs()``, ``simcore accounts``, ``simcore plan-cs``).

A plan, step by step:

1. check the config, the book and the ``cs_plan`` section (every problem at once);
2. fit (once per project) and compile every segment on the baseline, capturing the
   engine's survival draws (:mod:`simcore.cs.inputs`);
3. value every account and every review analytically (:mod:`simcore.cs.accounts`);
4. search the thresholds under the cap (:mod:`simcore.cs.optimise`);
5. simulate the covered accounts of the configured and the optimised assignment with
   the engine, for CSMs needed per path, and plan the hiring (:mod:`simcore.cs.headcount`);
6. tabulate (:mod:`simcore.cs.tables`).
"""

from __future__ import annotations

import platform
import time
from typing import Callable

import numpy as np
import pandas as pd

from simcore.cs.result import AccountsResult, CSPlanResult
from simcore.progress import Progress, Steps
from simcore.errors import ConfigError, Problem



def _settings(project, replications, seed) -> tuple[int, int]:
    config = project.config
    replications = config.simulation.replications if replications is None else replications
    seed = config.simulation.seed if seed is None else seed
    problems = []
    if isinstance(replications, bool) or not isinstance(replications, (int, np.integer)) or replications < 1:
        problems.append(Problem(f"replications must be a positive integer, got {replications!r}", "use e.g. 200",
                                field="simulation.replications"))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2 ** 64:
        problems.append(Problem(f"seed must be a non-negative integer, got {seed!r}", "use e.g. 42",
                                field="simulation.seed"))
    if problems:
        raise ConfigError(problems)
    return int(replications), int(seed)


def _cap(plan, budget, headcount):
    from simcore.cs.evaluate import Cap

    if budget is not None and headcount is not None:
        raise ConfigError(Problem("give either a budget or a headcount cap, not both",
                                  "drop --budget or --headcount", field="cs_plan.optimise"))
    problems = []
    if budget is not None and (isinstance(budget, bool) or not np.isfinite(budget) or budget < 0):
        problems.append(Problem(f"the budget must be a non-negative amount per year, got {budget!r}",
                                "give e.g. 2500000", field="cs_plan.optimise.budget_per_year"))
    if headcount is not None and (isinstance(headcount, bool) or not isinstance(headcount, (int, np.integer))
                                  or headcount < 0):
        problems.append(Problem(f"the headcount cap must be a whole number of CSMs >= 0, got {headcount!r}",
                                "give e.g. 40", field="cs_plan.optimise.headcount"))
    if problems:
        raise ConfigError(problems)
    if budget is not None:
        return Cap(budget_per_year=float(budget))
    if headcount is not None:
        return Cap(headcount=int(headcount))
    return Cap(plan.optimise.headcount, plan.optimise.budget_per_year)


def _manifest(project, command: str, replications: int, seed: int, timings: dict, **extra) -> dict:
    from simcore._version import __version__
    from simcore.config import config_hash

    config, book = project.config, project.book()
    as_of = book.book.as_of
    return {"command": command, "simcore_version": __version__, "name": config.name, "config_file": config.source,
            "config_sha256": config_hash(config), "data_sha256": book.book.data_hash,
            "as_of": None if as_of is None else pd.Timestamp(as_of).date().isoformat(), "seed": seed,
            "replications": replications, "horizon_months": config.horizon_months, "segments": book.segments,
            "customers": int(len(book.customers)), **extra,
            "timings_s": {k: round(v, 3) for k, v in timings.items()}, "python": platform.python_version()}


def _prepare(project, replications: int, seed: int, on_compile, *, kernels: bool = True):
    """Validate, fit and compile (and, for a plan, which simulates, load the kernels);
    returns the plan inputs."""
    from simcore.cs.inputs import plan_inputs

    project.validate([])
    project.fit()
    if kernels:
        from simcore.engine import warm_up

        warm_up(on_compile=on_compile)
    return plan_inputs(project, replications=replications, seed=seed)


def account_table(project, *, replications: int | None = None, seed: int | None = None,
                  on_compile: Callable[[], None] | None = None) -> AccountsResult:
    """Every active account's expected profit with its 90% interval, expected remaining
    lifetime, class and (with a ``cs_plan``) its tier at the start.

    Parameters
    ----------
    project : simcore.Project
    replications, seed : int, optional
        Override ``simulation.replications`` / ``simulation.seed``.
    on_compile : callable, optional
        Called once before the simulation kernels compile (first run on a machine).
    """
    from simcore.cs.accounts import account_values
    from simcore.cs.classify import ClassRule
    from simcore.cs.tiers import configured_policy, review_tiers, tier_label, tier_specs

    replications, seed = _settings(project, replications, seed)
    config = project.config
    plan = config.cs_plan
    if plan is not None:
        from simcore.cs.checks import check_plan

        revenue = project.revenue()
        check_plan(config, project.book().segments, None if revenue is None else revenue.dynamics)
    timings: dict[str, float] = {}
    mark = time.perf_counter()
    inputs = _prepare(project, replications, seed, on_compile, kernels=False)
    timings["fit_and_compile_s"] = time.perf_counter() - mark
    mark = time.perf_counter()
    rule = ClassRule.from_config(None if plan is None else plan.classification)
    values = account_values(inputs, rule)
    table = values.table
    currency = config.economics.currency
    rules = [{"item": "classification", "text": rule.text(currency)},
             {"item": "expected profit", "text": "expected discounted contribution over the next "
              f"{config.horizon_months} months on the account's tenure-conditional retention curve, with its segment's "
              "margin, cost to serve and expected expansion and contraction, without customer success; the interval "
              "is P5 to P95 across replications (parameter and model uncertainty)"}]
    if plan is not None:
        specs = tier_specs(plan)
        tiers = review_tiers(specs, values.state, configured_policy(specs, values.state))
        table = table.assign(tier=[tier_label(int(code), specs) for code in tiers[:, 0]])
        rules += [{"item": f"tier {s.name}", "text": f"rule: {s.rule_text()}; {s.effect_text()} (assumptions)"}
                  for s in specs]
    timings["accounts_s"] = time.perf_counter() - mark
    keys = ["segment", "account_class"] + (["tier"] if plan is not None else [])
    summary = table.groupby(keys, sort=True).agg(
        accounts=("customer_id", "size"), mrr=("mrr", "sum"), expected_profit=("expected_profit", "sum"),
        expected_profit_per_account=("expected_profit", "mean"),
        expected_remaining_lifetime_months=("expected_remaining_lifetime_months", "mean")).reset_index()
    tables = {"accounts": table, "accounts_summary": summary, "rules": pd.DataFrame(rules)}
    manifest = _manifest(project, "accounts", replications, seed, timings, classification_rule=rule.text(currency),
                         tables=sorted(tables))
    from simcore.cs.build import model_warnings

    return AccountsResult(tables, manifest, model_warnings(project), rule.text(currency))


def plan_cs(project, *, replications: int | None = None, seed: int | None = None, budget: float | None = None,
            headcount: int | None = None, progress: Progress | None = None,
            on_compile: Callable[[], None] | None = None, executor=None) -> CSPlanResult:
    """Plan customer success: assignments, headcount by month and quarter (P50, P90),
    hiring, ROI, and the thresholds that maximise expected profit net of CS cost.

    Parameters
    ----------
    project : simcore.Project
        Its config must have a ``cs_plan`` section.
    replications, seed : int, optional
        Override ``simulation.replications`` / ``simulation.seed``.
    budget : float, optional
        Cap on CSM cost per plan year (money), overriding ``cs_plan.optimise``.
    headcount : int, optional
        Cap on CSMs of all tiers in any month, overriding ``cs_plan.optimise``.
    progress : callable, optional
        Called as ``progress(step, done, total)``.
    on_compile : callable, optional
        Called once before the simulation kernels compile (first run on a machine).
    executor : simcore.executors.Executor, optional
        Where the covered accounts' simulations run (default: the config's
        ``executor:`` section); never changes the results.

    Returns
    -------
    CSPlanResult
    """
    from simcore.cs.checks import check_plan, require_plan

    config = project.config
    plan = require_plan(config)
    replications, seed = _settings(project, replications, seed)
    cap = _cap(plan, budget, headcount)
    revenue = project.revenue()
    check_plan(config, project.book().segments, None if revenue is None else revenue.dynamics)
    steps = Steps(progress, 5)
    timings: dict[str, float] = {}
    mark = time.perf_counter()
    inputs = _prepare(project, replications, seed, on_compile)
    timings["fit_and_compile_s"] = time.perf_counter() - mark
    steps.advance("fitted retention and compiled the baseline")
    from simcore.cs.build import build_plan

    return build_plan(project, inputs, plan, cap, steps, timings,
                      manifest=lambda extra, t: _manifest(project, "plan-cs", replications, seed, t, **extra),
                      executor=executor)
