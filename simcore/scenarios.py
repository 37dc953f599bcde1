"""Scenarios: from the YAML levers to per-segment :class:`ScenarioLevers`.

Scenario levers act on the compiled arrays only, never on the fitted model. This module
resolves ``extends`` chains and turns each effective scenario into one
:class:`simcore.engine.levers.ScenarioLevers` per segment.

Semantics (the README's lever reference says the same with worked examples)
-------------------------------------------------------------------------------
* ``extends: other`` starts from ``other``'s levers; every lever the scenario sets
  replaces the inherited one of the same name (it does not add to it).
* Calendar months count from the projection start: month 0 is the first month after
  ``as_of``. Windows ``months: [6, 18]`` include both ends; a lever without ``months``
  acts in every month. A calendar factor of month ``c`` acts on the renewal decision
  into month ``c`` (for existing and new customers alike).
* ``price_change`` multiplies the list price by ``1 + pct`` from ``from_month`` on (or
  within ``months`` only), for the customers it ``applies_to``. Several changes compound.
* ``price_elasticity_of_churn: e`` (per segment; the last entry naming a segment wins):
  customers who experienced a price step of factor ``f`` at month ``s`` — every
  existing customer, and new customers acquired *before* ``s`` — have their churn
  hazard multiplied by ``f ** e`` from ``s`` on (constant elasticity: never 0, never
  infinite); with ``shock_months: N`` by ``f ** (e * max(0, 1 - (c - s) / N))``, a
  renewal shock that fades over ``N`` months. Customers who signed up at the new price
  do not respond to it.
* ``price_elasticity_of_acquisition: e``: new customers per month x ``P_new(c) ** -e``,
  ``P_new(c)`` the new-customer list price factor in month ``c``.
* ``discount`` gives ``pct`` off to ``eligible_share`` of customers for
  ``duration_months`` (new customers: their first months; existing customers: the
  calendar months from ``from_month``, or ``months``). Revenue is blended exactly
  (price x ``1 - share * pct``); takers' churn is multiplied by ``churn_multiplier``
  while discounted, blended into the segment hazard as ``1 - share * (1 - k)``.
  Per-customer eligibility is not drawn, so the blend is a first-order approximation
  of the mixture; with ``eligible_share: 100%`` it is exact.
* ``churn_multiplier``, ``acquisition_multiplier``, ``expansion_multiplier`` and
  ``contraction_multiplier`` are factors in calendar windows; overlapping windows
  multiply. Expansion and contraction factors multiply the monthly probability of an
  event (the event sizes are unchanged).
* ``cac_change``, ``cost_to_serve_change`` are relative changes (``10%`` = x1.1) in
  windows; a CAC window applies to customers *acquired* in it. ``gross_margin_change``
  is additive in points (``-2%`` = two points lower); overlapping windows add.
* ``cs_coverage`` assigns customer-success managers to segments (in ``months``): each
  covered account costs ``cost_per_csm_per_year / 12 / accounts_per_csm`` more per
  month, and covered accounts churn ``churn_multiplier`` times as often and expand
  ``expansion_multiplier`` times as often.
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

    def window(self, start: int, end: int | None) -> np.ndarray:
        """Months ``start..end`` (both included; ``end=None``: to the end)."""
        mask = np.zeros(self.horizon, dtype=bool)
        stop = self.horizon if end is None else min(end + 1, self.horizon)
        mask[min(start, self.horizon): stop] = True
        return mask

    def months(self, months) -> np.ndarray:
        """A lever's ``months: [a, b]``, or every month when it has none."""
        return self.window(0, None) if months is None else self.window(months[0], months[1])


def _as_tuple(values: np.ndarray, neutral: float = 1.0) -> tuple[float, ...]:
    """Neutral schedules become empty tuples, so an untouched lever stays visibly neutral."""
    return () if np.all(values == neutral) else tuple(float(v) for v in values)


def _elasticity(entries, segment: str):
    """The last entry that applies to ``segment`` (a later entry overrides an earlier one,
    so a scenario that extends another, or a sweep, can change one segment's value)."""
    found = None
    for entry in entries:
        if _applies(entry.segments, segment):
            found = entry
    return found


def _price_steps(changes, segment: str, population: str):
    """``(month, price factor)`` steps of the list price a population pays: a lasting
    change is one step, a change within ``months: [a, b]`` a step at ``a`` and its
    reversal at ``b + 1``."""
    steps = []
    for change in changes:
        if not _applies(change.segments, segment) or change.applies_to not in ("all", population):
            continue
        first, last = change.window
        steps.append((first, 1.0 + change.pct))
        if last is not None:
            steps.append((last + 1, 1.0 / (1.0 + change.pct)))
    return steps


def _churn_steps(price_steps, elasticity) -> tuple:
    """Constant-elasticity churn responses to price steps: hazard x factor ** e."""
    if elasticity is None or elasticity.elasticity == 0.0:
        return ()
    fade = int(getattr(elasticity, "shock_months", None) or 0)
    return tuple((int(month), float(factor ** elasticity.elasticity), fade) for month, factor in price_steps)


def levers_for_segment(scenario: ScenarioConfig, segment: str, horizon_months: int):
    """The :class:`ScenarioLevers` of one segment under an effective scenario (the
    formulas are in this module's notes and the README's lever reference)."""
    from simcore.engine.levers import ScenarioLevers

    # Schedules cover two horizons: a customer acquired in the last projection month is
    # still valued over a full horizon after it, so calendar windows must be explicit
    # there too (the compile step would otherwise repeat the last month's value).
    grid = _Schedules(2 * horizon_months)
    churn_all, churn_existing = grid.ones(), grid.ones()
    price_existing, price_new = grid.ones(), grid.ones()
    new_price_by_tenure, new_churn_by_tenure = grid.ones(), grid.ones()
    acquisition, cost_to_serve, cac = grid.ones(), grid.ones(), grid.ones()
    expansion, contraction = grid.ones(), grid.ones()
    margin_change, extra_cost = np.zeros(grid.horizon), np.zeros(grid.horizon)

    existing_steps = _price_steps(scenario.price_change, segment, "existing")
    new_steps = _price_steps(scenario.price_change, segment, "new")
    for steps, price in ((existing_steps, price_existing), (new_steps, price_new)):
        for month, factor in steps:
            price[grid.window(month, None)] *= factor
    churn = _elasticity(scenario.price_elasticity_of_churn, segment)
    buying = _elasticity(scenario.price_elasticity_of_acquisition, segment)
    if buying is not None and buying.elasticity:
        # Demand responds to the list price a prospect is quoted: the new-customer price.
        acquisition *= price_new ** (-buying.elasticity)

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
            months = grid.window(*discount.existing_window)
            price_existing[months] *= price_factor
            churn_existing[months] *= churn_factor

    for windows, schedule in ((scenario.churn_multiplier, churn_all), (scenario.acquisition_multiplier, acquisition),
                              (scenario.expansion_multiplier, expansion),
                              (scenario.contraction_multiplier, contraction)):
        for window in windows:
            if _applies(window.segments, segment):
                schedule[grid.months(window.months)] *= window.factor
    for changes, schedule in ((scenario.cac_change, cac), (scenario.cost_to_serve_change, cost_to_serve)):
        for change in changes:
            if _applies(change.segments, segment):
                schedule[grid.months(change.months)] *= 1.0 + change.pct
    for change in scenario.gross_margin_change:
        if _applies(change.segments, segment):
            margin_change[grid.months(change.months)] += change.pct
    coverage = scenario.cs_coverage
    if coverage is not None and _applies(coverage.segments, segment):
        covered = grid.months(coverage.months)
        extra_cost[covered] += coverage.cost_per_csm_per_year / 12.0 / coverage.accounts_per_csm
        churn_all[covered] *= coverage.churn_multiplier
        expansion[covered] *= coverage.expansion_multiplier
    acquisition_volume = None
    if scenario.new_customers_per_month and segment in scenario.new_customers_per_month:
        acquisition_volume = (float(scenario.new_customers_per_month[segment]),)

    return ScenarioLevers(
        churn_hazard_multiplier_by_month=_as_tuple(churn_all),
        churn_hazard_multiplier_existing_by_month=_as_tuple(churn_existing),
        new_customer_churn_multiplier_by_tenure_month=_as_tuple(new_churn_by_tenure),
        price_multiplier_existing_by_month=_as_tuple(price_existing),
        price_multiplier_new_by_month=_as_tuple(price_new),
        new_customer_price_multiplier_by_tenure_month=_as_tuple(new_price_by_tenure),
        expansion_multiplier_by_month=_as_tuple(expansion),
        contraction_multiplier_by_month=_as_tuple(contraction),
        cac_multiplier_by_month=_as_tuple(cac),
        acquisition_per_month=acquisition_volume,
        acquisition_multiplier_by_month=_as_tuple(acquisition),
        cost_to_serve_multiplier_by_month=_as_tuple(cost_to_serve),
        extra_cost_to_serve_by_month=_as_tuple(extra_cost, 0.0),
        gross_margin_change_by_month=_as_tuple(margin_change, 0.0),
        churn_steps_existing=_churn_steps(existing_steps, churn),
        churn_steps_new=_churn_steps(new_steps, churn),
        discount_rate_annual=scenario.discount_rate_annual,
    )


def scenario_levers(config: Config, name: str, segments: list[str], economics=None) -> dict:
    """Per-segment levers of scenario ``name`` (``"baseline"`` gives neutral levers).

    ``economics`` (a :class:`~simcore.economics.SegmentEconomics`) supplies the baseline's
    acquisition volume and new customers' starting MRR wherever the scenario sets neither
    (:mod:`simcore.economics.segments` is where those numbers come from)."""
    return levers_of(effective_scenario(config, name), segments, config.horizon_months, economics)


def levers_of(scenario: ScenarioConfig, segments: list[str], horizon_months: int, economics=None) -> dict:
    """Per-segment levers of an effective scenario (one already built, e.g. a sweep point);
    ``economics`` as for :func:`scenario_levers`."""
    from dataclasses import replace

    out = {}
    for segment in segments:
        levers = levers_for_segment(scenario, segment, horizon_months)
        if economics is not None:
            changes = {}
            if levers.new_customer_mrr is None:
                changes["new_customer_mrr"] = economics.new_customer_mrr[segment]
            if levers.acquisition_per_month is None:
                changes["acquisition_per_month"] = (float(economics.acquisition_per_month[segment]),)
            levers = replace(levers, **changes) if changes else levers
        out[segment] = levers
    return out


def lever_problems(scenario: ScenarioConfig, segments: list[str], horizon_months: int, economics: dict,
                   dynamics: dict | None) -> list[tuple[str, str, str]]:
    """What an effective scenario would make meaningless: ``(message, hint, lever)`` for a
    gross margin outside [0, 1] or expansion plus contraction probabilities above 1 in
    some month, per segment."""
    from simcore.economics.rules import fraction_problem, revenue_event_problem
    from simcore.engine.levers import schedule

    found = []
    calendar = 2 * horizon_months
    for segment in segments:
        levers = levers_for_segment(scenario, segment, horizon_months)
        margin = economics[segment].gross_margin
        for change in sorted(set(levers.gross_margin_change_by_month)):
            message = fraction_problem("the gross margin", margin + change)
            if message:
                found.append((f"takes the gross margin of '{segment}' from {margin:.0%} to {margin + change:.0%}: "
                              f"{message}", "make gross_margin_change smaller", "gross_margin_change"))
        revenue = (dynamics or {}).get(segment)
        if revenue is not None:
            up = revenue.p_expansion * levers.expansion_multiplier * schedule(
                levers.expansion_multiplier_by_month, calendar, 1.0)
            down = revenue.p_contraction * levers.contraction_multiplier * schedule(
                levers.contraction_multiplier_by_month, calendar, 1.0)
            worst = int(np.argmax(up + down))
            message = revenue_event_problem(float(up[worst]), float(down[worst]))
            if message:
                found.append((f"in '{segment}' (month {worst}): {message}",
                              "make expansion_multiplier / contraction_multiplier smaller", "expansion_multiplier"))
    return found


def check_scenario_levers(config: Config, segments: list[str], economics: dict, dynamics: dict | None) -> None:
    """Every scenario must leave every segment's numbers meaningful: gross margin within
    [0, 1] and expansion plus contraction probabilities at most 1 a month. Checked for
    all scenarios and segments before anything is simulated; all problems at once."""
    problems: list[Problem] = []
    for scenario in config.scenarios:
        source, line = config.scenario_origins.get(scenario.name, (config.source, None))
        effective = effective_scenario(config, scenario.name)
        for message, hint, lever in lever_problems(effective, segments, config.horizon_months, economics, dynamics):
            problems.append(Problem(f"scenario '{scenario.name}' {message}", hint, source=source, line=line,
                                    field=f"scenarios.{scenario.name}.{lever}"))
    if problems:
        raise ConfigError(problems)
