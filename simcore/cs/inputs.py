"""What customer-success planning reads from a project: per segment the engine's own
survival draws, its compiled baseline economics and the active accounts.

The plan values accounts with the same arrays the Monte Carlo engine simulates: each
segment is compiled once through :func:`simcore.engine.compile.compile_book` on the
baseline (no scenario levers), and the survival curves the compile step draws — seeded
from the run seed and the segment name, so replication ``r`` is the engine's parameter
draw ``r`` — are captured and extended far enough for the reviews (an account at tenure
``a`` reviewed in projection month ``c`` is valued over ``horizon_months`` more months).
Every fitted family evaluates its parameter draws on the month grid, so a longer grid
only appends months: the first months are the ones the engine uses.

All reads of the compiled segment's attributes are in :func:`segment_inputs`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simcore.errors import SimcoreError


class CapturingFit:
    """A fitted retention model that remembers the survival draws it hands out.

    ``survival_draws(n, months, seed, method)`` computes ``at_least_months`` months (or
    more when asked) once per ``(n, seed, method)``, returns the first ``months + 1``
    columns, and keeps the full array as :attr:`captured`. Passing the same object to
    every engine call of one segment draws its curves once.

    Parameters
    ----------
    fit
        Anything with ``survival_draws(n_draws, n_months, seed, method)``.
    at_least_months
        Months of survival to compute whatever a caller asks for.
    """

    def __init__(self, fit: Any, at_least_months: int):
        self.fit = fit
        self.at_least_months = int(at_least_months)
        self._cache: dict[tuple, np.ndarray] = {}
        self.captured: np.ndarray | None = None

    def survival_draws(self, n_draws: int, n_months: int, seed: int, method: str | None = None) -> np.ndarray:
        key = (int(n_draws), int(seed), method)
        draws = self._cache.get(key)
        if draws is None or draws.shape[1] < n_months + 1:
            months = max(int(n_months), self.at_least_months)
            draws = np.asarray(self.fit.survival_draws(n_draws, months, seed=seed, method=method), dtype=np.float64)
            self._cache[key] = draws
        self.captured = draws
        return draws[:, : n_months + 1]


def hazard_from_survival(draws: np.ndarray) -> np.ndarray:
    """Monthly hazards ``h(t) = 1 - S(t+1) / S(t)`` of survival rows ``(R, n + 1)``, 1
    where ``S(t) = 0``, clipped to [0, 1]: the engine's own conversion."""
    draws = np.minimum(np.asarray(draws, dtype=np.float64), 1.0)
    previous = draws[:, :-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(previous > 0, 1.0 - draws[:, 1:] / previous, 1.0)
    return np.clip(hazard, 0.0, 1.0)


@dataclass(frozen=True)
class SegmentInputs:
    """One segment, compiled on the baseline, as the plan needs it.

    Shapes: ``R`` replications, ``H`` horizon months, ``N`` active accounts.

    Attributes
    ----------
    name : str
    hazard : (R, T) float64
        Monthly hazard by tenure under parameter draw ``r``, ``T >= max tenure + 2H``.
    discount : (H,) float64
        ``d ** c`` for ``c = 0..H-1``.
    margin : float
        Contribution margin (gross margin less the infrastructure share; fraction).
    p_expansion, expansion_gain, p_contraction, contraction_gain : float
        Monthly event probabilities and expected MRR factors minus 1
        (``E[exp(X)] - 1``) of expansion and contraction.
    customer_id : (N,) object; tenure : (N,) int64; mrr, cost : (N,) float64
        Active accounts at ``as_of``: id, completed months, MRR (money / month) and fixed
        cost to serve (money / month).
    new_counts : (H,) int64
        New accounts acquired in each projection month (baseline volume).
    new_mrr, new_cost : float
        Starting MRR and fixed cost to serve of a new account (money / month).
    fit : CapturingFit
        The segment's retention model, shared by every engine call of the plan.
    economics, levers, rows
        The segment's :class:`~simcore.economics.Economics`, baseline
        :class:`~simcore.engine.levers.ScenarioLevers` and book rows, for engine calls.
    accounts : DataFrame
        The book rows of the active accounts, in the order of the arrays above.
    """

    name: str
    hazard: np.ndarray
    discount: np.ndarray
    margin: float
    p_expansion: float
    expansion_gain: float
    p_contraction: float
    contraction_gain: float
    customer_id: np.ndarray
    tenure: np.ndarray
    mrr: np.ndarray
    cost: np.ndarray
    new_counts: np.ndarray
    new_mrr: float
    new_cost: float
    fit: CapturingFit = field(repr=False)
    economics: Any = field(repr=False)
    levers: Any = field(repr=False)
    rows: pd.DataFrame = field(repr=False)
    accounts: pd.DataFrame = field(repr=False, default=None)

    @property
    def horizon_months(self) -> int:
        return int(self.discount.shape[0])

    def survived_factor(self, months_from_now: np.ndarray | int = 0) -> np.ndarray:
        """``1 / (1 - G h)`` per replication and account, ``(R, N)``: how much likelier
        every later payment is for an account that has outlived the share ``G`` of its
        current month's churns (books that date cancellations between payments; 1 when
        they are dated on the renewal skipped), ``h`` the hazard of its renewal
        ``months_from_now`` months from ``as_of`` (see
        :class:`~simcore.engine.compiled.CompiledSegment`)."""
        column = "period_churn_passed"
        passed = (self.accounts[column].to_numpy(dtype=np.float64) if column in self.accounts.columns
                  else np.zeros(self.tenure.size))
        passed = np.nan_to_num(np.clip(passed, 0.0, 1.0))
        hazard = np.minimum(self.hazard[:, self.tenure + np.asarray(months_from_now)], 1.0)
        return 1.0 / (1.0 - passed[None, :] * hazard)

    def growth(self, expansion_multiplier: float = 1.0) -> float:
        """Expected MRR factor of one month, ``1 + e p_e (E[e^X] - 1) + p_c (E[e^Y] - 1)``,
        with the expansion probability times ``expansion_multiplier``."""
        return (1.0 + expansion_multiplier * self.p_expansion * self.expansion_gain
                + self.p_contraction * self.contraction_gain)


@dataclass(frozen=True)
class PlanInputs:
    """Every segment of a plan with the run settings.

    Attributes
    ----------
    segments : dict of str -> SegmentInputs
    replications, seed, horizon_months : int
    as_of : Timestamp or None
    dynamics : dict or None
        Revenue dynamics by segment (expansion and contraction), for the config checks.
    """

    segments: dict
    replications: int
    seed: int
    horizon_months: int
    as_of: Any
    dynamics: dict | None


def _neutral(values: np.ndarray, neutral: float) -> bool:
    return bool(np.all(np.asarray(values) == neutral))


def segment_inputs(name: str, fit: Any, economics: Any, dynamics: Any, levers: Any, rows: pd.DataFrame, *,
                   replications: int, seed: int, horizon: int, as_of=None) -> SegmentInputs:
    """Compile one segment on ``levers`` (the baseline's, with its acquisition volume and
    new accounts' MRR) and read what the plan needs (see the module notes).

    Parameters
    ----------
    name : str
        The segment's name: it seeds the engine's draws, so it must be the name ``simcore
        run`` uses.
    fit
        The segment's retention model (``survival_draws``).
    economics, dynamics, levers, rows
        As :func:`simcore.engine.compile.compile_book` takes them (``rows``: the segment's
        customers, canonical columns).
    replications, seed, horizon : int
    as_of : Timestamp, optional
    """
    from simcore.engine.compile import compile_book, customer_keys

    active = rows.loc[~rows["churned"].astype(bool)] if "churned" in rows.columns else rows
    max_tenure = int(active["tenure_months"].max()) if len(active) else 0
    capturing = CapturingFit(fit, max_tenure + 2 * horizon + 1)
    book = compile_book({name: capturing}, rows, economics, dynamics=dynamics, levers=levers,
                        replications=replications, seed=seed, horizon_months=horizon, as_of=as_of,
                        draw_method=None)
    segment = book.segments[0]
    H = horizon
    # The plan is made on the baseline, whose calendar schedules are neutral, so the
    # value of an account depends on its tenure and MRR but not on the month it is valued in.
    schedules = ((segment.price_existing, 1.0), (segment.price_new, 1.0), (segment.cost_multiplier, 1.0),
                 (segment.extra_cost_per_month, 0.0), (segment.existing_hazard_factor, 1.0),
                 (segment.new_hazard_factor, 1.0), (segment.hazard_multiplier_new_tenure, 1.0),
                 (segment.price_new_tenure, 1.0))
    margin = np.asarray(segment.contribution_margin)
    if not all(_neutral(values, neutral) for values, neutral in schedules) or not _neutral(margin, margin[0]):
        raise SimcoreError(f"the baseline of segment {name!r} has calendar levers; this is a defect, please report it")
    # The compiled accounts are the active rows sorted (stably) by tenure; check that by
    # their random-number keys before trusting the order.
    order = np.argsort(active["tenure_months"].to_numpy(dtype=np.int64), kind="stable")
    ordered = active.iloc[order]
    ids = ordered["customer_id"].to_numpy() if "customer_id" in ordered.columns else np.arange(len(ordered))
    if "customer_id" in ordered.columns and len(ordered) and not np.array_equal(
            customer_keys(ordered["customer_id"]), segment.customer_key):
        raise SimcoreError(f"the compiled accounts of segment {name!r} are not in the book's order; this is a defect, "
                           "please report it")
    hazard = hazard_from_survival(capturing.captured)

    def gain(log_mean: float, log_sd: float) -> float:
        return float(np.exp(log_mean + 0.5 * log_sd ** 2) - 1.0)

    return SegmentInputs(
        name=name, hazard=np.ascontiguousarray(hazard), discount=np.asarray(segment.discount[:H], dtype=np.float64),
        margin=float(margin[0]), p_expansion=float(segment.p_expansion),
        expansion_gain=gain(segment.expansion_log_mean, segment.expansion_log_sd),
        p_contraction=float(segment.p_contraction),
        contraction_gain=gain(segment.contraction_log_mean, segment.contraction_log_sd),
        customer_id=np.asarray(ids, dtype=object),
        tenure=ordered["tenure_months"].to_numpy(dtype=np.int64),
        mrr=np.asarray(segment.customer_mrr, dtype=np.float64),
        cost=np.asarray(segment.customer_cost_per_month, dtype=np.float64),
        new_counts=np.asarray(segment.cohort_counts, dtype=np.int64),
        new_mrr=float(segment.new_mrr), new_cost=float(segment.new_cost_per_month),
        fit=capturing, economics=economics, levers=levers, rows=rows, accounts=ordered,
    )


def plan_inputs(project, *, replications: int, seed: int) -> PlanInputs:
    """Fit (once, through the project's cache) and compile every segment on the baseline.

    Parameters
    ----------
    project : simcore.Project
    replications, seed : int
        Monte Carlo settings; replication ``r`` uses the engine's parameter draw ``r``.
    """
    from simcore.config import BASELINE
    from simcore.scenarios import scenario_levers

    config = project.config
    book = project.book()
    economics = project.economics()
    fit = project.fit()
    levers = scenario_levers(config, BASELINE, book.segments, economics)
    dynamics = fit.dynamics or {}
    customers = book.customers
    segments = {}
    for name, result in fit.fits.results.items():
        rows = customers.loc[customers["segment"].astype(str) == str(name)]
        segments[name] = segment_inputs(
            name, result.survival_model(), economics.economics[name], dynamics.get(name), levers[name], rows,
            replications=int(replications), seed=int(seed), horizon=config.horizon_months, as_of=book.book.as_of)
    return PlanInputs(segments, int(replications), int(seed), config.horizon_months, book.book.as_of,
                      fit.dynamics)
