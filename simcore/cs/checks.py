"""Checks of a ``cs_plan:`` section against the book, before any fitting or simulation.

The config model (:mod:`simcore.config.cs_plan`) checks each field's own bounds when the
YAML is read; what needs the data is checked here, every problem at once, each located
at its config line: the segments a rule names, the planning window against the horizon,
and expansion multipliers that would push a segment's monthly expansion and contraction
probabilities above 1 together.
"""

from __future__ import annotations

import difflib

from simcore.config import Config
from simcore.economics.rules import revenue_event_problem
from simcore.errors import ConfigError, Problem


def require_plan(config: Config):
    """The ``cs_plan`` section, or a located error saying how to add one."""
    if config.cs_plan is None:
        raise ConfigError(Problem(
            "the config has no cs_plan: section, so there are no customer-success tiers to plan",
            "add cs_plan: with a list of tiers (name, rule, accounts_per_csm, cost_per_csm_per_year, "
            "churn_multiplier, expansion_multiplier); the README's cs_plan reference has an example",
            source=config.source, field="cs_plan"))
    return config.cs_plan


def check_plan(config: Config, segments: list[str], dynamics: dict | None) -> None:
    """Every data-dependent problem of ``config.cs_plan`` at once (see the module notes)."""
    plan = require_plan(config)
    problems: list[Problem] = []

    def where(*path) -> dict:
        return {"source": config.source, "line": config.line_of("cs_plan", *path),
                "field": ".".join(["cs_plan", *map(str, path)])}

    if plan.planning_months > config.horizon_months:
        problems.append(Problem(
            f"planning_months ({plan.planning_months}) is longer than horizon_months ({config.horizon_months})",
            f"plan at most {config.horizon_months} months, or lengthen horizon_months", **where("planning_months")))
    known = set(segments)
    for index, tier in enumerate(plan.tiers):
        for segment in tier.rule.segments or ():
            if segment not in known:
                close = difflib.get_close_matches(segment, sorted(known), n=1)
                problems.append(Problem(
                    f"tier '{tier.name}' names segment '{segment}', which the data does not have",
                    f"did you mean '{close[0]}'?" if close else f"segments are: {', '.join(sorted(known))}",
                    **where("tiers", index, "rule", "segments")))
        for segment, revenue in sorted((dynamics or {}).items()):
            if tier.rule.segments is not None and segment not in tier.rule.segments:
                continue
            message = revenue_event_problem(revenue.p_expansion * tier.expansion_multiplier, revenue.p_contraction)
            if message:
                problems.append(Problem(
                    f"tier '{tier.name}' in segment '{segment}': {message}",
                    f"use an expansion_multiplier of at most {(1 - revenue.p_contraction) / revenue.p_expansion:.3g}",
                    **where("tiers", index, "expansion_multiplier")))
    if problems:
        raise ConfigError(problems)
