"""Scenarios: from the YAML levers to per-segment :class:`ScenarioLevers`.

Scenario levers act on the compiled arrays only, never on the fitted model. This module
resolves ``extends`` chains and turns each effective scenario into one
:class:`simcore.engine.levers.ScenarioLevers` per segment.

Semantics (the README's lever reference says the same with examples)
--------------------------------------------------------------------
* ``extends: other`` starts from ``other``'s levers; every lever the scenario sets
  replaces the inherited one of the same name (it does not add to it).
* Calendar months count from the projection start: month 0 is the first month after
  ``as_of``. Windows ``months: [6, 18]`` include both ends.
* ``price_change`` multiplies the price by ``1 + pct`` from ``from_month`` on, for the
  customers it ``applies_to`` (``existing``, ``new`` or ``all``). Several changes compound.
* ``price_elasticity_of_churn: e`` multiplies the churn hazard of customers paying a
  changed price by ``max(0, 1 + e * pct)`` for as long as the change holds (a linear
  elasticity of the monthly churn hazard to price).
* ``discount`` gives ``pct`` off to ``eligible_share`` of customers for
  ``duration_months`` (new customers: their first months; existing customers: the
  calendar months from ``from_month``). Revenue is blended exactly
  (price x ``1 - share * pct``); takers' churn is multiplied by ``churn_multiplier``
  while discounted, blended into the segment hazard as ``1 - share * (1 - k)``.
  Per-customer eligibility is not drawn, so the blend is a first-order approximation
  of the mixture; with ``eligible_share: 100%`` it is exact.
* ``churn_multiplier`` and ``acquisition_multiplier`` are factors in calendar windows
  (a plain number means every month); overlapping windows multiply.
* ``cac_change``, ``cost_to_serve_change`` are relative changes (``10%`` = x1.1);
  ``gross_margin_change`` is additive in points (``-2%`` = two points lower).
* ``cs_coverage`` assigns customer-success managers to segments: each covered account
  costs ``cost_per_csm_per_year / 12 / accounts_per_csm`` more per month, and covered
  accounts churn ``churn_multiplier`` times as often and expand ``expansion_multiplier``
  times as often.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import numpy as np

from simcore.config import BASELINE, Config, ScenarioConfig
from simcore.errors import ConfigError, Problem

_LEVER_FIELDS = tuple(name for name in ScenarioConfig.model_fields if name not in ("name", "description", "extends"))


def effective_scenario(config: Config, name: str) -> ScenarioConfig:
    """The scenario ``name`` with its ``extends`` chain applied (config checks already
    ruled out unknown names and cycles). ``"baseline"`` is the scenario with no levers."""
    if name == BASELINE:
        return ScenarioConfig(name=BASELINE)
    by_name = {scenario.name: scenario for scenario in config.scenarios}
    chain: list[ScenarioConfig] = []
    current: str | None = name
    while current is not None and current != BASELINE:
        chain.append(by_name[current])
        current = by_name[current].extends
    values: dict = {}
    for scenario in reversed(chain):
        for field_name in scenario.model_fields_set & set(_LEVER_FIELDS):
            values[field_name] = getattr(scenario, field_name)
    head = by_name[name]
    return ScenarioConfig(name=name, description=head.description, extends=head.extends, **values)


def check_scenario_segments(config: Config, segments: list[str]) -> None:
    """Every segment named by a lever must exist after segmentation; all problems at once."""
    problems: list[Problem] = []
    known = set(segments)
    for scenario in config.scenarios:
        source, line = config.scenario_origins.get(scenario.name, (config.source, None))
        for field_name in _LEVER_FIELDS:
            value = getattr(scenario, field_name)
            items = value if isinstance(value, list) else [value]
            for item in items:
                named = getattr(item, "segments", None) if item is not None else None
                if field_name == "new_customers_per_month" and isinstance(value, dict):
                    named = list(value)
                for segment in named or ():
                    if segment not in known:
                        close = difflib.get_close_matches(segment, list(known), n=1)
                        problems.append(Problem(
                            f"scenario '{scenario.name}' names segment '{segment}', which the data does not have",
                            f"did you mean '{close[0]}'?" if close else f"segments are: {', '.join(sorted(known))}",
                            source=source, line=line, field=f"{field_name}.segments",
                        ))
                if field_name == "new_customers_per_month":
                    break
    for where, mapping in (("economics.segments", config.economics.segments),
                           ("retention.segments", config.retention.segments),
                           ("acquisition.new_customers_per_month", config.acquisition.new_customers_per_month or {})):
        for segment in mapping:
            if segment not in known:
                close = difflib.get_close_matches(segment, list(known), n=1)
                problems.append(Problem(
                    f"'{segment}' is not a segment of the data",
                    f"did you mean '{close[0]}'?" if close else f"segments are: {', '.join(sorted(known))}",
                    source=config.source, line=config.line_of(*where.split("."), segment), field=f"{where}.{segment}",
                ))
    if problems:
        raise ConfigError(problems)


def _applies(segments: list[str] | None, segment: str) -> bool:
    return segments is None or segment in segments


@dataclass(frozen=True)
class _Schedules:
    horizon: int

    def ones(self) -> np.ndarray:
        return np.ones(self.horizon)

    def from_month(self, start: int) -> np.ndarray:
        mask = np.zeros(self.horizon, dtype=bool)
        mask[min(start, self.horizon):] = True
        return mask

    def window(self, start: int, end: int) -> np.ndarray:
        mask = np.zeros(self.horizon, dtype=bool)
        mask[min(start, self.horizon): min(end + 1, self.horizon)] = True
        return mask


def _as_tuple(values: np.ndarray) -> tuple[float, ...]:
    """Neutral schedules become empty tuples, so an untouched lever stays visibly neutral."""
    return () if np.all(values == 1.0) else tuple(float(v) for v in values)


def levers_for_segment(scenario: ScenarioConfig, segment: str, horizon_months: int):
    """The :class:`ScenarioLevers` of one segment under an effective scenario."""
    from simcore.engine.levers import ScenarioLevers

    # Schedules cover two horizons: a customer acquired in the last projection month is
    # still valued over a full horizon after it, so calendar windows must be explicit
    # there too (the compile step would otherwise repeat the last month's value).
    grid = _Schedules(2 * horizon_months)
    churn_all = grid.ones()
    churn_existing = grid.ones()
    churn_new = grid.ones()
    price_existing = grid.ones()
    price_new = grid.ones()
    new_price_by_tenure = grid.ones()
    new_churn_by_tenure = grid.ones()
    acquisition = grid.ones()
    cost_to_serve = grid.ones()
    elasticity = scenario.price_elasticity_of_churn

    for change in scenario.price_change:
        if not _applies(change.segments, segment):
            continue
        months = grid.from_month(change.from_month)
        churn_factor = max(0.0, 1.0 + elasticity * change.pct)
        if change.applies_to in ("all", "existing"):
            price_existing[months] *= 1.0 + change.pct
            churn_existing[months] *= churn_factor
        if change.applies_to in ("all", "new"):
            price_new[months] *= 1.0 + change.pct
            churn_new[months] *= churn_factor

    for discount in scenario.discount:
        if not _applies(discount.segments, segment):
            continue
        price_factor = 1.0 - discount.eligible_share * discount.pct
        churn_factor = 1.0 - discount.eligible_share * (1.0 - discount.churn_multiplier)
        if discount.applies_to in ("all", "new"):
            first = slice(0, min(discount.duration_months, grid.horizon))
            new_price_by_tenure[first] *= price_factor
            new_churn_by_tenure[first] *= churn_factor
        if discount.applies_to in ("all", "existing"):
            months = grid.window(discount.from_month, discount.from_month + discount.duration_months - 1)
            price_existing[months] *= price_factor
            churn_existing[months] *= churn_factor

    for window in scenario.churn_multiplier:
        if _applies(window.segments, segment):
            churn_all[grid.window(*window.months)] *= window.factor
    for window in scenario.acquisition_multiplier:
        if _applies(window.segments, segment):
            acquisition[grid.window(*window.months)] *= window.factor

    expansion = contraction = 1.0
    if scenario.expansion_multiplier and _applies(scenario.expansion_multiplier.segments, segment):
        expansion = scenario.expansion_multiplier.factor
    if scenario.contraction_multiplier and _applies(scenario.contraction_multiplier.segments, segment):
        contraction = scenario.contraction_multiplier.factor
    cac = 1.0
    if scenario.cac_change and _applies(scenario.cac_change.segments, segment):
        cac = 1.0 + scenario.cac_change.pct
    if scenario.cost_to_serve_change and _applies(scenario.cost_to_serve_change.segments, segment):
        cost_to_serve *= 1.0 + scenario.cost_to_serve_change.pct
    margin_change: tuple[float, ...] = ()
    if scenario.gross_margin_change and _applies(scenario.gross_margin_change.segments, segment):
        margin_change = (scenario.gross_margin_change.pct,)
    extra_cost = 0.0
    coverage = scenario.cs_coverage
    if coverage is not None and _applies(coverage.segments, segment):
        extra_cost = coverage.cost_per_csm_per_year / 12.0 / coverage.accounts_per_csm
        churn_all *= coverage.churn_multiplier
        expansion *= coverage.expansion_multiplier
    acquisition_volume = None
    if scenario.new_customers_per_month and segment in scenario.new_customers_per_month:
        acquisition_volume = (float(scenario.new_customers_per_month[segment]),)

    return ScenarioLevers(
        churn_hazard_multiplier_by_month=_as_tuple(churn_all),
        churn_hazard_multiplier_existing_by_month=_as_tuple(churn_existing),
        churn_hazard_multiplier_new_by_month=_as_tuple(churn_new),
        new_customer_churn_multiplier_by_tenure_month=_as_tuple(new_churn_by_tenure),
        price_multiplier_existing_by_month=_as_tuple(price_existing),
        price_multiplier_new_by_month=_as_tuple(price_new),
        new_customer_price_multiplier_by_tenure_month=_as_tuple(new_price_by_tenure),
        expansion_multiplier=expansion,
        contraction_multiplier=contraction,
        cac_multiplier=cac,
        acquisition_per_month=acquisition_volume,
        acquisition_multiplier_by_month=_as_tuple(acquisition),
        cost_to_serve_multiplier_by_month=_as_tuple(cost_to_serve),
        extra_cost_to_serve_per_month=extra_cost,
        gross_margin_change_by_month=margin_change,
        discount_rate_annual=scenario.discount_rate_annual,
    )


def scenario_levers(config: Config, name: str, segments: list[str], economics=None) -> dict:
    """Per-segment levers of scenario ``name`` (``"baseline"`` gives neutral levers).

    ``economics`` (a :class:`~simcore.economics.SegmentEconomics`) supplies the baseline's
    acquisition volume and new customers' starting MRR wherever the scenario sets neither
    (:mod:`simcore.economics.segments` is where those numbers come from)."""
    from dataclasses import replace

    scenario = effective_scenario(config, name)
    out = {}
    for segment in segments:
        levers = levers_for_segment(scenario, segment, config.horizon_months)
        if economics is not None:
            changes = {}
            if levers.new_customer_mrr is None:
                changes["new_customer_mrr"] = economics.new_customer_mrr[segment]
            if levers.acquisition_per_month is None:
                changes["acquisition_per_month"] = (float(economics.acquisition_per_month[segment]),)
            levers = replace(levers, **changes) if changes else levers
        out[segment] = levers
    return out


def check_scenario_levers(config: Config, segments: list[str], economics: dict, dynamics: dict | None) -> None:
    """Every scenario must leave every segment's numbers meaningful: gross margin within
    [0, 1] and expansion plus contraction probabilities at most 1 a month. Checked for
    all scenarios and segments before anything is simulated; all problems at once."""
    from simcore.economics.rules import fraction_problem, revenue_event_problem

    problems: list[Problem] = []
    for scenario in config.scenarios:
        source, line = config.scenario_origins.get(scenario.name, (config.source, None))
        effective = effective_scenario(config, scenario.name)
        for segment in segments:
            levers = levers_for_segment(effective, segment, config.horizon_months)
            margin = economics[segment].gross_margin
            for change in sorted(set(levers.gross_margin_change_by_month)):
                message = fraction_problem("the gross margin", margin + change)
                if message:
                    problems.append(Problem(
                        f"scenario '{scenario.name}' takes the gross margin of '{segment}' from "
                        f"{margin:.0%} to {margin + change:.0%}: {message}",
                        "make gross_margin_change smaller",
                        source=source, line=line, field=f"scenarios.{scenario.name}.gross_margin_change",
                    ))
            revenue = (dynamics or {}).get(segment)
            if revenue is not None:
                message = revenue_event_problem(revenue.p_expansion * levers.expansion_multiplier,
                                                revenue.p_contraction * levers.contraction_multiplier)
                if message:
                    problems.append(Problem(
                        f"scenario '{scenario.name}' in '{segment}': {message}",
                        "make expansion_multiplier / contraction_multiplier smaller",
                        source=source, line=line, field=f"scenarios.{scenario.name}.expansion_multiplier",
                    ))
    if problems:
        raise ConfigError(problems)
