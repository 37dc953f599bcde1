"""Expected values of accounts without simulation: sums over each replication's survival curve.

For parameter draw ``r`` an active account at tenure ``a`` (it has paid life months
``0..a``) pays in projection month ``c`` with probability

``P_r(c) = prod_{k=0..c} (1 - min(1, h_r(a + k) m(k)))``,

``m(k)`` being the churn factor of the tier it is in during month ``k`` (1 without a
tier), so without a tier ``P_r(c) = S_r(a + 1 + c) / S_r(a)`` (DESIGN §4). Its expected
discounted contribution over the ``H`` months of the horizon is

``V_r = sum_{c<H} d^c P_r(c) (mrr G(c) cm - k - s(c))``

with ``G(c) = prod_{k=0..c} g(k)`` the expected MRR factor after the expansion and
contraction events of months ``0..c`` (every projected month is a renewal;
``g(k) = 1 + e(k) p_e (E[e^X] - 1) + p_c (E[e^Y] - 1)``, ``e(k)`` the tier's expansion
factor), ``cm`` the contribution margin, ``k`` the fixed cost to serve and ``s(c)`` the
tier's cost per covered account-month. Events are independent of survival, so the
expectation factorises exactly as in :mod:`simcore.engine.expected`; averaging over
``P_r(c)`` — never an expected lifetime put into an annuity — keeps it free of Jensen's
inequality bias.

A new account pays its first month for certain, ``P_r(0) = 1``,
``P_r(k + 1) = P_r(k) (1 - min(1, h_r(k) m(k + 1)))`` (the renewal into month ``k + 1`` is
helped by the tier of month ``k + 1``), and its events start in its second month,
``G(0) = 1``, ``G(k) = prod_{j=1..k} g(j)``.

Every function returns per-replication values ``(R, ...)``: their mean is the expected
value, their P5 and P95 the 90% interval across parameter (and model) draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simcore.cs.inputs import SegmentInputs

#: Most float64 numbers one block of a vectorised computation holds (4 MB): blocks this
#: small reuse freed memory instead of mapping fresh pages for every block.
_BLOCK = 500_000


@dataclass(frozen=True)
class TenureFactors:
    """Per replication and tenure, the sums behind an account's value without a tier.

    An account at tenure ``a`` with MRR ``m`` and fixed cost ``k`` is worth
    ``m * revenue - k * fixed`` (money, discounted to the valuation month); held flat (no
    expansion or contraction) ``m * flat - k * fixed``.

    Attributes
    ----------
    tenures : (A,) int64
    revenue, flat, fixed : (R, A) float64
        ``sum_c d^c P(c) G(c) cm``, ``sum_c d^c P(c) cm`` and ``sum_c d^c P(c)``.
    months : (R, A) float64
        Expected months still paid within the horizon, ``sum_c P(c)``.
    active_12 : (R, A) float64
        Probability of still paying twelve months on, ``P(11)`` (horizon >= 12; else the last month).
    """

    tenures: np.ndarray
    revenue: np.ndarray
    flat: np.ndarray
    fixed: np.ndarray
    months: np.ndarray
    active_12: np.ndarray

    def index(self, tenure: np.ndarray) -> np.ndarray:
        """Columns of ``tenure`` (every value must be one of :attr:`tenures`)."""
        return np.searchsorted(self.tenures, tenure)


def tenure_factors(segment: SegmentInputs, tenures: np.ndarray) -> TenureFactors:
    """:class:`TenureFactors` of ``segment`` at each of ``tenures`` (baseline: no tier)."""
    tenures = np.unique(np.asarray(tenures, dtype=np.int64))
    hazard, discount = segment.hazard, segment.discount
    R, H = hazard.shape[0], discount.shape[0]
    growth = segment.growth() ** np.arange(1, H + 1)
    twelve = min(11, H - 1)
    out = {name: np.empty((R, tenures.size)) for name in ("revenue", "flat", "fixed", "months", "active_12")}
    step = max(1, _BLOCK // max(1, R * H))
    months = np.arange(H)
    for start in range(0, tenures.size, step):
        chunk = tenures[start:start + step]
        paid = np.cumprod(1.0 - hazard[:, chunk[:, None] + months[None, :]], axis=2)    # (R, A, H)
        weighted = paid * discount
        columns = slice(start, start + chunk.size)
        out["revenue"][:, columns] = weighted @ (growth * segment.margin)
        out["flat"][:, columns] = weighted.sum(axis=2) * segment.margin
        out["fixed"][:, columns] = weighted.sum(axis=2)
        out["months"][:, columns] = paid.sum(axis=2)
        out["active_12"][:, columns] = paid[:, :, twelve]
    return TenureFactors(tenures, **out)


@dataclass(frozen=True)
class PathValue:
    """Sums of tier paths, per replication: ``(R,)`` for one path, ``(R, M)`` for ``M``.

    An account following a path with MRR ``m`` and fixed cost ``k`` is worth
    ``m * revenue - k * fixed - cs_cost`` (money, discounted to its valuation month).

    Attributes
    ----------
    revenue, fixed, cs_cost : (R,) or (R, M) float64
        ``sum d^c P(c) G(c) cm``, ``sum d^c P(c)``, ``sum d^c P(c) s(c)``.
    paid : (R, P) or (R, M, P) float64
        ``P(c)`` for the first ``P`` months (the planning window): the probability of
        being active (paying) in month ``c``.
    """

    revenue: np.ndarray
    fixed: np.ndarray
    cs_cost: np.ndarray
    paid: np.ndarray

    def value(self, mrr: float, cost: float) -> np.ndarray:
        return mrr * self.revenue - cost * self.fixed - self.cs_cost


def _growth_factors(segment: SegmentInputs, expansion: np.ndarray) -> np.ndarray:
    """``g(k)`` of each month from the expansion factor of the tier in that month."""
    return 1.0 + expansion * segment.p_expansion * segment.expansion_gain \
        + segment.p_contraction * segment.contraction_gain


def existing_paths(segment: SegmentInputs, tenures: np.ndarray, churn: np.ndarray, expansion: np.ndarray,
                   cs_cost: np.ndarray, planning_months: int) -> PathValue:
    """:class:`PathValue` of ``M`` paths at once: path ``j`` is an account active at
    tenure ``tenures[j]`` whose tier gives, in projection month ``c``, churn factor
    ``churn[j, c]``, expansion factor ``expansion[j, c]`` and cost ``cs_cost[j, c]`` per
    covered account-month (each ``(M, H)``). Shapes of the result: ``(R, M)`` and
    ``(R, M, P)``."""
    hazard, discount = segment.hazard, segment.discount
    R, H = hazard.shape[0], discount.shape[0]
    tenures = np.asarray(tenures, dtype=np.int64)
    M = tenures.size
    out = {"revenue": np.empty((R, M)), "fixed": np.empty((R, M)), "cs_cost": np.empty((R, M)),
           "paid": np.empty((R, M, planning_months))}
    factors = np.cumprod(_growth_factors(segment, expansion), axis=1) * segment.margin
    step = max(1, _BLOCK // max(1, R * H))
    months = np.arange(H)
    for start in range(0, M, step):
        part = slice(start, min(M, start + step))
        paid = np.cumprod(1.0 - np.minimum(1.0, hazard[:, tenures[part, None] + months[None, :]] * churn[None, part]),
                          axis=2)
        weighted = paid * discount
        by_path = weighted.transpose(1, 0, 2)                                   # (m, R, H)
        out["revenue"][:, part] = np.matmul(by_path, factors[part, :, None])[:, :, 0].T
        out["fixed"][:, part] = weighted.sum(axis=2)
        out["cs_cost"][:, part] = np.matmul(by_path, cs_cost[part, :, None])[:, :, 0].T
        out["paid"][:, part] = paid[:, :, :planning_months]
    return PathValue(**out)


def existing_path(segment: SegmentInputs, tenure: int, churn: np.ndarray, expansion: np.ndarray,
                  cs_cost: np.ndarray, planning_months: int) -> PathValue:
    """:class:`PathValue` of one account active at tenure ``tenure`` whose tier gives, in
    projection month ``c``, churn factor ``churn[c]``, expansion factor ``expansion[c]``
    and cost ``cs_cost[c]`` per covered account-month (each of shape ``(H,)``)."""
    many = existing_paths(segment, np.array([tenure]), churn[None], expansion[None], cs_cost[None], planning_months)
    return PathValue(many.revenue[:, 0], many.fixed[:, 0], many.cs_cost[:, 0], many.paid[:, 0])


def new_path(segment: SegmentInputs, churn: np.ndarray, expansion: np.ndarray, cs_cost: np.ndarray,
             planning_months: int) -> PathValue:
    """:class:`PathValue` at acquisition of a new account whose tier gives, in its tenure
    month ``k``, churn factor ``churn[k]``, expansion factor ``expansion[k]`` and cost
    ``cs_cost[k]`` (each ``(H,)``); ``paid`` is by tenure month."""
    hazard, discount = segment.hazard, segment.discount
    R, H = hazard.shape[0], discount.shape[0]
    keep = 1.0 - np.minimum(1.0, hazard[:, :H - 1] * churn[None, 1:])
    paid = np.concatenate([np.ones((R, 1)), np.cumprod(keep, axis=1)], axis=1)
    factors = np.concatenate([[1.0], np.cumprod(_growth_factors(segment, expansion)[1:])])
    weighted = paid * discount
    return PathValue(weighted @ (factors * segment.margin), weighted.sum(axis=1), weighted @ cs_cost,
                     paid[:, :planning_months])


def new_account_weight(segment: SegmentInputs) -> float:
    """``sum_c0 n(c0) d^c0``: new accounts over the horizon, each discounted from its
    acquisition month to the projection start (the baseline's schedules are neutral, so
    every cohort is worth the same at acquisition)."""
    return float(np.dot(segment.new_counts, segment.discount))


def expected_new_active(segment: SegmentInputs, paid_mean: np.ndarray) -> np.ndarray:
    """Expected new accounts active in each of the first ``P`` projection months, given the
    mean probability ``paid_mean[k]`` that one pays in its tenure month ``k``:
    ``sum_{c0<=c} n(c0) paid_mean[c - c0]``."""
    P = paid_mean.shape[0]
    return np.convolve(segment.new_counts[:P].astype(np.float64), paid_mean)[:P]
