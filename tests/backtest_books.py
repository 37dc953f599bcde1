"""Date-shaped customer books with MRR histories drawn from known, possibly shifting,
parameters: the test utility of the backtest, and the study behind its coverage figure.

Each segment has a heterogeneous churn (every customer a monthly churn probability drawn
from a Beta distribution: shifted-beta-geometric lifetimes, Fader & Hardie 2007) and the
revenue process the engine assumes (each month after the first, an expansion with
probability ``p_expansion`` by a log-normal factor, else a contraction with probability
``p_contraction``). A :class:`Shift` changes a segment's churn or expansion from a calendar
month on — what a backtest should catch.

:func:`tests.books.book` draws tenures on a fixed window; the backtest needs calendar
dates whose hazard can change in calendar time, so this module simulates customer by
customer, month by month.

Churn dates: ``timing="renewal"`` dates a churn on the renewal the customer skipped (the
subscription ends there; the engine's model of existing customers assumes this), and
``timing="within_month"`` on a day between the last payment and that renewal, as the demo
book does (the cancellation is known before the renewal it skips).

Run the study: ``python tests/backtest_books.py --seeds 20``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class SegmentTruth:
    """The true parameters of one segment (money per month, probabilities per month)."""

    name: str
    signups_per_month: float = 60.0
    churn_alpha: float = 1.2
    churn_beta: float = 12.0
    start_mrr_median: float = 100.0
    start_mrr_log_sd: float = 0.5
    p_expansion: float = 0.05
    expansion_log_mean: float = 0.15
    expansion_log_sd: float = 0.05
    p_contraction: float = 0.02
    contraction_log_mean: float = -0.15
    contraction_log_sd: float = 0.05


@dataclass(frozen=True)
class Shift:
    """From calendar month ``from_month`` (``YYYY-MM``) on, segment ``segment``'s churn
    probability is multiplied by ``churn_multiplier`` and its expansion probability by
    ``expansion_multiplier``."""

    segment: str
    from_month: str
    churn_multiplier: float = 1.0
    expansion_multiplier: float = 1.0


#: Two contrasting segments: a loyal, expanding one and a churny one.
SEGMENTS = (
    SegmentTruth("loyal", signups_per_month=50, churn_alpha=1.5, churn_beta=30.0, start_mrr_median=400.0,
                 p_expansion=0.06, p_contraction=0.02),
    SegmentTruth("churny", signups_per_month=80, churn_alpha=1.0, churn_beta=8.0, start_mrr_median=60.0,
                 p_expansion=0.02, p_contraction=0.02),
)
AS_OF = "2025-12-31"
FIRST_SIGNUP = "2021-01"
ECONOMICS = {"default": {"gross_margin": "80%", "support_cost_per_month": 5, "cac": 300}}


def _month(text: str) -> int:
    stamp = pd.Period(text, freq="M")
    return (stamp.year - 1970) * 12 + stamp.month - 1


def _dates(month: np.ndarray, day: np.ndarray) -> np.ndarray:
    return (month.astype("datetime64[M]").astype("datetime64[D]") + (day - 1)).astype("datetime64[ns]")


def generate_book(seed: int, segments=SEGMENTS, *, shifts=(), first_signup: str = FIRST_SIGNUP,
                  as_of: str = AS_OF, timing: str = "renewal"):
    """Customers and their MRR change log, drawn with ``seed``.

    Returns
    -------
    customers : DataFrame
        ``customer_id``, ``signup_date``, ``churn_date`` (NaT while active), ``plan`` (the
        segment), ``mrr`` (the last MRR paid).
    history : DataFrame
        ``customer_id``, ``month`` (first day), ``mrr``: a row at signup and at every change.
    """
    if timing not in ("renewal", "within_month"):
        raise ValueError("timing is 'renewal' or 'within_month'")
    rng = np.random.Generator(np.random.PCG64(seed))
    first, last = _month(first_signup), _month(as_of[:7])
    months = last - first + 1
    counts = [rng.poisson(s.signups_per_month, size=months) for s in segments]
    plan = np.concatenate([np.full(c.sum(), i) for i, c in enumerate(counts)])
    signup = np.concatenate([np.repeat(first + np.arange(months), c) for c in counts])
    n = len(plan)
    day = rng.integers(1, 29, size=n)
    def column(name):
        return np.array([getattr(s, name) for s in segments], dtype=float)[plan]
    churn_probability = rng.beta(column("churn_alpha"), column("churn_beta"))
    churn_factor = np.ones((len(segments), last + 2))
    expansion_factor = np.ones((len(segments), last + 2))
    names = [s.name for s in segments]
    for shift in shifts:
        i, start = names.index(shift.segment), _month(shift.from_month)
        churn_factor[i, start:] *= shift.churn_multiplier
        expansion_factor[i, start:] *= shift.expansion_multiplier
    mrr = np.exp(np.log(column("start_mrr_median")) + column("start_mrr_log_sd") * rng.standard_normal(n))
    mrr = np.round(mrr, 2)
    paid = np.ones(n, dtype=np.int64)  # payment 0 at signup
    alive = np.ones(n, bool)
    rows = [(np.arange(n), signup, mrr.copy())]
    for t in range(1, last - first + 1):
        month = signup + t
        due = alive & (month <= last)
        if not due.any():
            break
        at = np.minimum(month, last + 1)
        churn = due & (rng.random(n) < np.minimum(1.0, churn_probability * churn_factor[plan, at]))
        alive &= ~churn
        pays = due & ~churn
        paid += pays
        u = rng.random(n)
        p_up = np.minimum(1.0, column("p_expansion") * expansion_factor[plan, at])
        up = pays & (u < p_up)
        down = pays & ~up & (u < p_up + column("p_contraction"))
        factor = np.where(up, np.exp(column("expansion_log_mean") + column("expansion_log_sd") * rng.standard_normal(n)),
                          np.where(down, np.exp(column("contraction_log_mean")
                                                + column("contraction_log_sd") * rng.standard_normal(n)), 1.0))
        changed = up | down
        mrr = np.where(changed, np.round(mrr * factor, 2), mrr)
        rows.append((np.flatnonzero(changed), month[changed], mrr[changed]))
    churned = ~alive
    skipped = signup + paid  # the month of the renewal a churned customer skipped
    if timing == "renewal":
        churn_date = _dates(skipped, day)
    else:
        last_paid = _dates(skipped - 1, day)
        gap = (_dates(skipped, day) - last_paid).astype("timedelta64[D]").astype(np.int64)
        churn_date = last_paid + (1 + np.floor(rng.random(n) * (gap - 1))).astype("timedelta64[D]")
    as_of_date = np.datetime64(as_of, "ns")
    churned &= churn_date <= as_of_date
    ids = np.array([f"C{i:06d}" for i in range(n)], dtype=object)
    customers = pd.DataFrame({
        "customer_id": ids, "signup_date": _dates(signup, day),
        "churn_date": np.where(churned, churn_date, np.datetime64("NaT")), "plan": np.array(names, dtype=object)[plan],
        "mrr": mrr})
    owner = np.concatenate([r[0] for r in rows])
    month = np.concatenate([r[1] for r in rows])
    history = pd.DataFrame({"customer_id": ids[owner], "month": month.astype("datetime64[M]").astype("datetime64[ns]"),
                            "mrr": np.concatenate([r[2] for r in rows])})
    return customers, history.sort_values(["customer_id", "month"], ignore_index=True)


def book_project(customers: pd.DataFrame, history: pd.DataFrame, *, as_of: str = AS_OF, **settings):
    """The :class:`simcore.Project` of a generated book (segments by plan, the test
    economics, a small replication count unless given)."""
    from simcore import Project

    settings.setdefault("economics", ECONOMICS)
    settings.setdefault("simulation", {"replications": 200, "seed": 1})
    settings.setdefault("segments", ["plan"])
    return Project.from_frame(
        customers, columns={"id": "customer_id", "signup": "signup_date", "churn": "churn_date", "mrr": "mrr"},
        as_of=as_of, history=history, history_columns={"id": "customer_id", "month": "month", "mrr": "mrr"},
        **settings)


@dataclass
class CoverageStudy:
    """Interval coverage of backtests on stable books (see :func:`coverage_study`)."""

    months: pd.DataFrame = field(default_factory=pd.DataFrame)
    ends: pd.DataFrame = field(default_factory=pd.DataFrame)


def coverage_study(seeds, *, cutoff: str = "2024-12", replications: int = 200, timing: str = "renewal",
                   metrics=("active_customers", "mrr", "cumulative_contribution")) -> CoverageStudy:
    """Backtest a stable book per seed at ``cutoff`` and collect, for the customers active
    at the cutoff, every segment's monthly rows of ``metrics`` (the accuracy table) and
    their end-of-window rows (the verdicts)."""
    months, ends = [], []
    for seed in seeds:
        customers, history = generate_book(seed, timing=timing)
        audit = book_project(customers, history).backtest([cutoff], replications=replications, seed=seed)
        rows = audit.accuracy[(audit.accuracy["population"] == "existing") & audit.accuracy["metric"].isin(metrics)
                              & (audit.accuracy["segment"] != "(all segments)")].assign(seed=seed)
        months.append(rows)
        ends.append(rows.groupby(["segment", "metric"], as_index=False).tail(1))
    return CoverageStudy(pd.concat(months, ignore_index=True), pd.concat(ends, ignore_index=True))


def main() -> None:
    """``python tests/backtest_books.py --seeds 20``: coverage of the P10-P90 and P5-P95
    intervals on stable books, per metric, over every month and at the end of the window."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--replications", type=int, default=200)
    parser.add_argument("--cutoff", default="2024-12")
    parser.add_argument("--timing", default="renewal", choices=("renewal", "within_month"))
    args = parser.parse_args()
    study = coverage_study(range(args.seeds), cutoff=args.cutoff, replications=args.replications, timing=args.timing)
    for name, frame in (("every month", study.months), ("end of window", study.ends)):
        table = frame.groupby("metric").agg(coverage_80=("in_80", "mean"), coverage_90=("in_90", "mean"),
                                            mean_pit=("pit", "mean"), rows=("in_90", "size"))
        table.loc["all"] = [frame["in_80"].mean(), frame["in_90"].mean(), frame["pit"].mean(), len(frame)]
        print(f"{name}:\n{table.to_string(float_format=lambda x: f'{x:.3f}')}\n")


if __name__ == "__main__":
    main()
