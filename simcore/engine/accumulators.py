"""Fixed-size accumulators of a simulation and the NumPy steps that fill them.

Shared by the numba engine (:mod:`simcore.engine.run`) and the NumPy reference
(:mod:`simcore.engine.reference`); nothing here imports numba or pandas (the kernels
import the column constants, and must load without pandas).

Memory is bounded by ``replications x horizon`` (per-replication totals and monthly
series) plus one block of scratch (``block_size x horizon^2`` lifetime counts) and the
per-segment histograms — never by customers x replications.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover - typing only; compile imports pandas
    from simcore.engine.compiled import CompiledSegment

#: Columns of the per-replication ``totals`` accumulator.
TOTAL_COLUMNS = (
    "existing_customers",
    "existing_value_sum",
    "existing_value_sum_of_squares",
    "existing_value_min",
    "existing_value_max",
    "new_customers",
    "new_value_sum",
    "new_value_sum_of_squares",
    "new_value_min",
    "new_value_max",
    "new_profit_at_start_sum",
)
N_TOTALS = len(TOTAL_COLUMNS)
EXISTING_COUNT, EXISTING_SUM, EXISTING_SQUARES, EXISTING_MIN, EXISTING_MAX = 0, 1, 2, 3, 4
NEW_COUNT, NEW_SUM, NEW_SQUARES, NEW_MIN, NEW_MAX, NEW_PROFIT_AT_START = 5, 6, 7, 8, 9, 10

#: Default number of bins of the per-customer value histograms.
DEFAULT_BINS = 16384
EXISTING, NEW = 0, 1
POPULATIONS = ("existing", "new")
METRICS = ("active_customers", "mrr", "contribution")


@dataclass
class SegmentAccumulators:
    """Everything the summaries need for one segment, whatever computed it.

    Attributes
    ----------
    totals : (R, N_TOTALS) float64
        Per replication: customers, value sum, sum of squares, min, max (existing, then
        new, value at acquisition before acquisition cost) and the new customers'
        profit discounted to the projection start (see ``kernels.TOTAL_COLUMNS``).
    monthly : (R, 2, 3, H) float64
        Per replication, population (existing, new) and projection month: active
        customers, MRR, contribution.
    acquisition_spend : (H,) float64
        Acquisition cost paid in each projection month (same in every replication).
    histogram : (2, n_bins + 2) int64
        Per-customer value counts pooled over replications (existing, new); bin 0 is
        below ``bounds[p, 0]``, the last bin at or above ``bounds[p, 1]``.
    bounds : (2, 2) float64
    payback : (H + 2,) int64
        New customers by payback months (index ``H + 1`` = not within the horizon).
    payback_by_replication : (R, H + 2) int64
        The same per replication (``payback`` is their sum), for statistics of the
        payback month whose Monte Carlo error is wanted (sensitivity sweeps).
    """

    totals: np.ndarray
    monthly: np.ndarray
    acquisition_spend: np.ndarray
    histogram: np.ndarray
    bounds: np.ndarray
    payback: np.ndarray
    payback_by_replication: np.ndarray


def empty_accumulators(segment: "CompiledSegment", n_bins: int, rows: int | None = None) -> SegmentAccumulators:
    """Accumulators of one segment before any customer is simulated, for ``rows``
    replications (default: all of the segment's)."""
    R, H = segment.replications if rows is None else int(rows), segment.horizon_months
    totals = np.zeros((R, N_TOTALS))
    totals[:, [EXISTING_MIN, NEW_MIN]] = np.inf
    totals[:, [EXISTING_MAX, NEW_MAX]] = -np.inf
    return SegmentAccumulators(
        totals=totals, monthly=np.zeros((R, 2, 3, H)),
        acquisition_spend=segment.cohort_counts * segment.new_acquisition_cost_by_cohort,
        histogram=np.zeros((2, n_bins + 2), dtype=np.int64),
        bounds=segment.histogram_bounds.copy(), payback=np.zeros(H + 2, dtype=np.int64),
        payback_by_replication=np.zeros((R, H + 2), dtype=np.int64))


def merge_accumulators(parts: "list[SegmentAccumulators]") -> SegmentAccumulators:
    """One segment's accumulators from those of consecutive replication ranges, in order.

    Per-replication rows are stacked and the pooled counts (histograms, payback) added
    as integers, so the merge is exact and associative: any split of the replications,
    simulated anywhere, merges into the accumulators of one whole run.
    """
    first = parts[0]
    return SegmentAccumulators(
        totals=np.concatenate([p.totals for p in parts]),
        monthly=np.concatenate([p.monthly for p in parts]),
        acquisition_spend=first.acquisition_spend.copy(),
        histogram=np.sum([p.histogram for p in parts], axis=0),
        bounds=first.bounds.copy(),
        payback=np.sum([p.payback for p in parts], axis=0),
        payback_by_replication=np.concatenate([p.payback_by_replication for p in parts]),
    )


def histogram_bins(values: np.ndarray, low: float, high: float, n_bins: int) -> np.ndarray:
    """NumPy twin of the kernels' binning (0 = underflow, n_bins + 1 = overflow)."""
    position = (np.asarray(values, dtype=np.float64) - low) * (n_bins / (high - low))
    bins = np.where(position < 0, 0, np.where(position >= n_bins, n_bins + 1, 0))
    inside = (position >= 0) & (position < n_bins)
    bins[inside] = position[inside].astype(np.int64) + 1
    return bins.astype(np.int64)


def add_existing_ends(segment: "CompiledSegment", ends: np.ndarray, monthly: np.ndarray) -> None:
    """Turn end-month records (B, 3, H + 1) of existing customers into monthly totals.

    A customer with ``L`` projected payments is active in months ``c < L``, so the
    active totals of month ``c`` are the records with ``L > c``: a reverse cumulative
    sum. Its MRR in month ``c`` is the expected one, ``m prod_{c'<=c} g(c')`` times the
    price factor (``g = 1`` without expansion or contraction; see
    :mod:`simcore.engine.kernels`).
    """
    H = segment.horizon_months
    active = np.cumsum(ends[:, :, ::-1], axis=2)[:, :, ::-1][:, :, 1:]
    mrr = active[:, 1] * (segment.price_existing[:H] * segment.existing_mrr_growth)
    monthly[:, 0] += active[:, 0]
    monthly[:, 1] += mrr
    monthly[:, 2] += (mrr * segment.contribution_margin[:H] - active[:, 2] * segment.cost_multiplier[:H]
                      - active[:, 0] * segment.extra_cost_per_month[:H])


def new_monthly_mrr(segment: "CompiledSegment") -> np.ndarray:
    """(H, H) expected MRR of an active new customer: [acquisition month, tenure month]."""
    H = segment.horizon_months
    calendar = np.arange(H)[:, None] + np.arange(H)[None, :]
    return (segment.new_mrr * segment.price_new[calendar] * segment.price_new_tenure[None, :H]
            * segment.new_mrr_growth)


def new_monthly_contribution(segment: "CompiledSegment") -> np.ndarray:
    """(H, H) expected contribution of an active new customer: [acquisition month, tenure month]."""
    H = segment.horizon_months
    calendar = np.arange(H)[:, None] + np.arange(H)[None, :]
    return (new_monthly_mrr(segment) * segment.contribution_margin[calendar]
            - segment.new_cost_per_month * segment.cost_multiplier[calendar]
            - segment.extra_cost_per_month[calendar])
