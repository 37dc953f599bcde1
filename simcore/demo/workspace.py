"""Writing the demo workspace: data files, config, scenarios and the JSON Schema."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from simcore.demo.assumptions import DEFAULT_CUSTOMERS, DEFAULT_SEED, DEMO_AS_OF, DEMO_ECONOMICS
from simcore.demo.generate import generate_demo
from simcore.errors import OutputError, Problem

@dataclass(frozen=True)
class DemoFiles:
    """The files :func:`write_demo` wrote."""

    directory: Path
    customers: Path
    mrr_history: Path
    acquisition_spend: Path
    support_costs: Path
    config: Path
    scenarios: Path
    schema: Path

    @property
    def paths(self) -> tuple[Path, ...]:
        """Every file written, data files first, then the config, its scenarios and the
        JSON Schema editors use to check them."""
        return (self.customers, self.mrr_history, self.acquisition_spend, self.support_costs, self.config,
                self.scenarios, self.schema)




# --------------------------------------------------------------------------- config


#: Segments smaller than this merge into "other" in the demo config.
DEMO_MIN_CUSTOMERS = 100


def demo_config_text(min_customers: int = DEMO_MIN_CUSTOMERS) -> str:
    """The commented YAML config of the demo book.

    ``min_customers`` is lowered for a small book (``simcore demo --customers 600``) so
    that every plan stays a segment of its own: the config names each plan's economics
    and scenario levers, which would otherwise point at a segment merged into "other".
    """
    economics = DEMO_ECONOMICS
    segment_lines = "\n".join(
        f"    {plan}: {{gross_margin: {values['gross_margin']:.0%}, cac: {values['cac']:.0f}, "
        f"onboarding_cost: {values['onboarding_cost']:.0f}}}"
        for plan, values in economics.items() if plan != "default"
    )
    return f"""\
# yaml-language-server: $schema=simcore.schema.json
# simcore configuration for the demo book written by `simcore demo`.
# Paths are relative to this file's folder. Run it with:  simcore run config.yaml
name: demo

# Where the customer book comes from and which column holds what.
data:
  # One row per customer; CSV, Parquet or XLSX (or a SQL query, see the docs).
  customers: customers.csv
  # Map simcore's fields onto this file's headers. This book has signup and churn
  # dates (blank churn date = still active); a book can instead give a tenure in
  # whole months and a churned flag (tenure: ..., churned: ...).
  columns:
    id: customer_id
    signup: signup_date
    churn: churn_date
    mrr: mrr              # current monthly recurring revenue (last paid if churned)
  # Valuation date: tenure of active customers is counted up to this day.
  as_of: {DEMO_AS_OF.isoformat()}
  # Every other column (plan, channel, region, employees, tickets_per_month) is kept
  # as an attribute that segments can be built from.
  # MRR history as a change log: a row gives a customer's MRR from that month on,
  # until their next row. simcore learns expansion and contraction from it.
  history:
    path: mrr_history.csv
    columns:
      id: customer_id
      month: month        # YYYY-MM
      mrr: mrr

# How customers are grouped. Each segment gets its own retention curve, revenue
# dynamics and economics.
segments:
  by: [plan]
  # Other ways to cut the same book (parts are joined with "/", e.g. mid_market/partner):
  #   by: [plan, channel]
  #   by:
  #     - {{column: employees, edges: [100, 1000], labels: [small, mid, large]}}
  #     - {{column: tickets_per_month, labels: [light, typical, heavy]}}   # tertiles
  # Segments with fewer customers than this are merged into one called "other".
  min_customers: {min_customers}

# Retention curves per segment: "auto" ranks every family by AIC and keeps the best.
retention:
  family: auto
  criterion: aic
  uncertainty: auto            # parameter draws: asymptotic normal when the fit is well conditioned, else bootstrap
  holdout_months: auto         # 6 months scored after a refit (books with signup dates, 24+ months)
  model_averaging: auto        # tail_stacking (Akaike weights, stacked tail) with 200+ holdout churns, else Akaike

# Unit economics. Money is per month for recurring items, per customer for one-off items.
# Precedence per segment: economics.segments > derived from data > economics.default.
economics:
  default:
    gross_margin: {economics['default']['gross_margin']:.0%}
    infrastructure_cost_share: 0%
  segments:
{segment_lines}
  # Support cost per account-month derived from the support-cost table (cost per plan per
  # month / active accounts of that plan), over the 12 months before as_of.
  support_cost_from:
    path: support_costs.csv
    columns: {{month: month, key: plan, cost: support_cost}}
    customer_column: plan
  # Acquisition spend per channel: CAC per channel and the blended CAC are reported beside
  # the per-segment CAC above (which wins, being explicit) -- the blended number is the one
  # that hides how much dearer an enterprise customer is to win.
  cac_from_spend:
    path: acquisition_spend.csv
    columns: {{month: month, key: channel, spend: spend}}
    customer_column: channel

discount_rate_annual: 10%
horizon_months: 120
simulation: {{replications: 1000, seed: 42}}
status: {{marginal_loss_probability: 25%}}

# Named scenarios, each compared with the baseline (the run without levers).
include: [scenarios.yaml]

# Customer-success planning: `simcore accounts` values every active account and classes it
# core / growth / cautionary; `simcore plan-cs` assigns accounts to these tiers, counts
# the CSMs each tier needs (P50 and P90 of the simulated paths), plans the hiring and
# finds the thresholds that earn most under the cap. Each tier's effect on churn and
# expansion is an assumption you state, not something simcore measures.
cs_plan:
  review_every_months: 3       # each quarter accounts move tier on their then-current expected profit
  planning_months: 24          # the headcount plan covers eight quarters
  staff_to: p90                # hire for the P90 path of CSMs needed
  classification:              # cautionary / growth / core (see the README)
    cautionary_below_profit: 0
    cautionary_below_profit_to_cost: 1
    growth_min_expansion_share: 15%
  tiers:                       # an account goes to the first tier whose rule holds
    - name: dedicated
      rule: {{min_expected_profit: 150000, segments: [enterprise, mid_market]}}
      accounts_per_csm: 25
      cost_per_csm_per_year: 150000
      ramp_up_months: 3
      starting_headcount: 36
      churn_multiplier: 0.7        # assumed: covered accounts churn 30% less
      expansion_multiplier: 1.3    # assumed: and expand 30% more often
    - name: pooled
      rule: {{min_expected_profit: 20000, classes: [core, growth]}}
      accounts_per_csm: 150
      cost_per_csm_per_year: 110000
      ramp_up_months: 2
      starting_headcount: 28
      churn_multiplier: 0.85
      expansion_multiplier: 1.15
    - name: digital
      rule: {{classes: [core, growth]}}
      accounts_per_csm: 2500
      cost_per_csm_per_year: 90000
      ramp_up_months: 1
      starting_headcount: 3
      churn_multiplier: 0.95
      expansion_multiplier: 1.05
  optimise:
    headcount: 70              # most CSMs (all tiers) the plan may need in any month; or budget_per_year
""" + DEMO_SENSITIVITY


#: The demo's sensitivity section (`simcore sensitivity config.yaml`).
DEMO_SENSITIVITY = """
# Sensitivity tables and stress tests: `simcore sensitivity config.yaml`. Every sweep
# point is simulated with the same seed (common random numbers), so each change is a
# paired difference with a small Monte Carlo error. The sweeps start from the baseline
# plus the assumed responses of churn and of new sales to price (which do nothing until
# a price lever moves): churn hazard x (price ratio)^e for customers who saw the change,
# new sales x (price ratio)^-1.
sensitivity:
  base:
    name: price_response
    price_elasticity_of_churn:
      - {elasticity: 1.5, segments: [self_serve, power_user]}
      - {elasticity: 0.6, segments: [enterprise, mid_market]}
    price_elasticity_of_acquisition: 1.0
  replications: 200
  metric: total_value          # existing customers' remaining value + new customers' profit, all segments
  levers:                      # each lever is a scenario lever with its value left open
    price: {lever: price_change, low: -10%, high: 10%, from_month: 3}
    churn_elasticity: {lever: price_elasticity_of_churn, low: 0.4, high: 2.4, values: [0.4, 0.8, 1.2, 1.6, 2.0, 2.4]}
    churn: {lever: churn_multiplier, low: 0.8, high: 1.25}
    churn_next_year: {lever: churn_multiplier, months: [0, 11], low: 0.8, high: 1.5}
    acquisition: {lever: acquisition_multiplier, low: 0.8, high: 1.2}
    expansion: {lever: expansion_multiplier, low: 0.7, high: 1.3}
    contraction: {lever: contraction_multiplier, low: 0.7, high: 1.3}
    cac: {lever: cac_change, low: -20%, high: 20%}
    cost_to_serve: {lever: cost_to_serve_change, low: -20%, high: 20%}
    margin: {lever: gross_margin_change, low: -3%, high: 3%}
    discount_rate: {lever: discount_rate_annual, low: 6%, high: 14%}
    price_rise: {lever: price_change, low: 0%, high: 60%, from_month: 3, values: [0%, 10%, 20%, 30%, 40%, 50%]}
    enterprise_cac: {lever: cac_change, segments: [enterprise], low: -50%, high: 200%}
    self_serve_churn: {lever: churn_multiplier, segments: [self_serve], low: 1, high: 4}
    churn_first_year: {lever: churn_multiplier, months: [0, 11], low: 1, high: 20}
  tornado:
    levers: [price, churn, churn_next_year, acquisition, expansion, contraction, cac, cost_to_serve, margin, discount_rate]
  grids:
    - {name: price_vs_churn_elasticity, x: price_rise, y: churn_elasticity}
  solve:
    - {name: best_price_rise, lever: price_rise, maximise: true}
    - {name: self_serve_break_even_churn, lever: self_serve_churn, metric: {metric: total_value, segment: self_serve, population: new}, target: 0}
    - {name: enterprise_cac_for_ltv_cac_3, lever: enterprise_cac, metric: {metric: ltv_to_cac, segment: enterprise}, target: 3}
  sobol: {levers: [price, churn, acquisition, cac, margin], samples: 64, replications: 50}
  stress:
    templates: [mild, severe, downturn_year]
    library:
      - name: downturn_year
        description: The downturn_stress scenario -- churn x1.5, new sales -40%, contraction x1.5 in months 6 to 18.
        churn_multiplier: [{months: [6, 18], factor: 1.5}]
        acquisition_multiplier: [{months: [6, 18], factor: 0.6}]
        contraction_multiplier: [{months: [6, 18], factor: 1.5}]
    reverse:
      # What churn multiplier over the first 12 months makes cumulative cash negative by month 24?
      - {name: churn_that_empties_the_cash_by_month_24, lever: churn_first_year, metric: {metric: cumulative_cash, month: 24}, target: 0}
"""


def demo_scenarios_text() -> str:
    """The demo's scenarios: one per question the product exists to answer."""
    return """\
# yaml-language-server: $schema=simcore.schema.json
# Scenarios of the demo book, included by config.yaml. Calendar months count from the
# projection start (month 0 = the month after as_of); windows include both ends.
scenarios:
  - name: price_increase
    description: List price +10% for every customer from month 3; customers who saw the rise churn x1.1^e (e = 1.5 self-serve and power users, 0.6 enterprise and mid-market); new sales x1.1^-1.
    price_change: {pct: 10%, from_month: 3, applies_to: all}
    price_elasticity_of_churn:
      - {elasticity: 1.5, segments: [self_serve, power_user]}
      - {elasticity: 0.6, segments: [enterprise, mid_market]}
    price_elasticity_of_acquisition: 1.0

  - name: annual_prepay_discount
    description: New customers may prepay a year at 15% off; 40% do, and they churn 70% less that year.
    discount: {pct: 15%, duration_months: 12, eligible_share: 40%, churn_multiplier: 0.3, applies_to: new}

  - name: downturn_stress
    description: A downturn year -- churn x1.5, new sales -40% and contraction events x1.5 in months 6 to 18.
    churn_multiplier: [{months: [6, 18], factor: 1.5}]
    acquisition_multiplier: [{months: [6, 18], factor: 0.6}]
    contraction_multiplier: [{months: [6, 18], factor: 1.5}]

  - name: cs_investment
    description: One CSM per 40 enterprise and mid-market accounts at 120k a year; covered accounts churn 20% less and expand 30% more often.
    cs_coverage:
      segments: [enterprise, mid_market]
      accounts_per_csm: 40
      cost_per_csm_per_year: 120000
      churn_multiplier: 0.8
      expansion_multiplier: 1.3
"""


# --------------------------------------------------------------------------- writing


def _format_table(table: pd.DataFrame, formats: dict[str, str]) -> str:
    """CSV text with explicit formats: dates as YYYY-MM-DD or YYYY-MM, money with cents."""
    out = table.copy()
    for column, kind in formats.items():
        if kind == "date":
            out[column] = out[column].dt.strftime("%Y-%m-%d").fillna("")
        elif kind == "month":
            out[column] = out[column].dt.strftime("%Y-%m")
        else:
            out[column] = out[column].map(lambda value, spec=kind: format(value, spec))
    return out.to_csv(index=False, lineterminator="\n")


def _write_atomically(path: Path, text: str) -> None:
    # A temporary file renamed into place means a reader never sees half a file.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_demo(directory: Path, *, customers: int = DEFAULT_CUSTOMERS, seed: int = DEFAULT_SEED) -> DemoFiles:
    """Write the demo book and its config into ``directory`` (created if missing).

    Files of the same names already in ``directory`` are replaced; other files are left
    alone. The same ``customers`` and ``seed`` give byte-identical files.

    Parameters
    ----------
    directory
        Folder to write into.
    customers
        Number of customers ever acquired.
    seed
        Seed of every random draw.

    Returns
    -------
    DemoFiles
        The paths written.

    Raises
    ------
    ConfigError
        If ``customers`` or ``seed`` is invalid.
    OutputError
        If the folder cannot be created or written.
    """
    directory = Path(directory)
    tables = generate_demo(customers=customers, seed=seed)
    files = DemoFiles(
        directory=directory,
        customers=directory / "customers.csv",
        mrr_history=directory / "mrr_history.csv",
        acquisition_spend=directory / "acquisition_spend.csv",
        support_costs=directory / "support_costs.csv",
        config=directory / "config.yaml",
        scenarios=directory / "scenarios.yaml",
        schema=directory / "simcore.schema.json",
    )
    import json

    from simcore.config import json_schema

    contents = {
        files.customers: _format_table(tables.customers, {
            "signup_date": "date", "churn_date": "date", "tickets_per_month": ".2f", "mrr": ".2f"}),
        files.mrr_history: _format_table(tables.mrr_history, {"month": "month", "mrr": ".2f"}),
        files.acquisition_spend: _format_table(tables.acquisition_spend, {"month": "month", "spend": ".2f"}),
        files.support_costs: _format_table(tables.support_costs, {"month": "month", "support_cost": ".2f"}),
        files.config: demo_config_text(min(DEMO_MIN_CUSTOMERS, int(tables.customers["plan"].value_counts().min()))),
        files.scenarios: demo_scenarios_text(),
        files.schema: json.dumps(json_schema(), indent=2, sort_keys=True) + "\n",
    }
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for path, text in contents.items():
            _write_atomically(path, text)
    except OSError as error:
        raise OutputError(Problem(
            f"cannot write the demo files: {error.strerror or error}",
            "choose a folder you can write to",
            source=str(error.filename or directory),
        )) from None
    return files


def write_demo_workspace(directory, *, customers: int | None = None, seed: int | None = None,
                         force: bool = False) -> list:
    """Write the example workspace into ``directory`` atomically; returns the file paths."""
    from pathlib import Path

    from simcore.outputs import atomic_directory

    options = {k: v for k, v in {"customers": customers, "seed": seed}.items() if v is not None}
    directory = Path(directory)
    with atomic_directory(directory, force=force) as staging:
        write_demo(staging, **options)
        names = sorted(p.name for p in staging.iterdir())
    return [directory / name for name in names]
