"""The family chosen at a cutoff against the one that did best in hindsight.

Every family fitted at the cutoff is scored on what its customers then did: each
customer active at the cutoff, at tenure ``a`` (so their lifetime ``T`` — payments made —
was known to exceed ``a``), contributes the log-probability of their outcome up to
``as_of`` under the family's conditional curve:

* churned after the cutoff having paid ``T`` times: ``log((S(T-1) - S(T)) / S(a))``;
* still active at ``as_of`` at tenure ``A`` (``T > A``): ``log(S(A) / S(a))``.

The family with the highest total log-likelihood did best in hindsight. The gap of the
chosen family is shown as a deviance, twice the log-likelihood shortfall (the scale of an
AIC gap). The model the forecast drew from — the chosen family, or the Akaike-weighted
mixture with model averaging — is scored the same way on its mixture curve
``sum_f w_f S_f(t)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simcore.errors import SimcoreError

#: The mixture the forecast drew from, in the ``family`` column.
AVERAGED = "(model used)"


def _outcomes(full_customers: pd.DataFrame, cut_customers: pd.DataFrame):
    base = cut_customers.loc[~cut_customers["churned"].astype(bool)]
    full = full_customers.set_index("customer_id").loc[base["customer_id"]]
    return (base["segment"].astype(str).to_numpy(), base["tenure_months"].to_numpy(np.int64),
            full["tenure_months"].to_numpy(np.int64), full["churned"].to_numpy(bool))


def _log_likelihood(curve: np.ndarray, age: np.ndarray, tenure: np.ndarray, churned: np.ndarray) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        outcome = np.where(churned, curve[np.maximum(tenure - 1, 0)] - curve[tenure], curve[tenure])
        values = np.log(np.maximum(outcome, 1e-300)) - np.log(np.maximum(curve[age], 1e-300))
    return float(values.sum())


def family_table(cutoff_label: str, fit, full_customers: pd.DataFrame, cut_customers: pd.DataFrame) -> pd.DataFrame:
    """One row per (segment, family fitted at the cutoff), plus the model used.

    Columns: cutoff, segment, family, rank_at_cutoff (by the configured criterion),
    weight_at_cutoff (in the model the forecast drew from), chosen (the segment's family
    at the cutoff), hindsight_log_likelihood, hindsight_rank (1 = best; the model used is
    not ranked), hindsight_gap_deviance (to the best family), n_scored (customers active
    at the cutoff), n_churned_after (of them, churned by ``as_of``).
    """
    segments, age, tenure, churned = _outcomes(full_customers, cut_customers)
    rows = []
    for segment, result in fit.fits.results.items():
        mine = segments == segment
        if not mine.any():
            continue
        a, t, c = age[mine], tenure[mine], churned[mine]
        grid = np.arange(int(max(t.max(), a.max())) + 1)
        ranking = result.ranking.set_index("family")
        curves, scored = {}, []
        for family, fitted in result.fits.items():
            if family not in ranking.index or pd.isna(ranking.loc[family, "rank"]):
                continue
            try:
                curves[family] = np.asarray(fitted.survival(grid), dtype=float)
            except SimcoreError:
                continue  # a Kaplan-Meier curve without a tail cannot reach every tenure
            scored.append({"family": family, "rank_at_cutoff": float(ranking.loc[family, "rank"]),
                           "weight_at_cutoff": float(ranking.loc[family, "weight"]),
                           "chosen": family == result.fit.family,
                           "hindsight_log_likelihood": _log_likelihood(curves[family], a, t, c)})
        weights = result.weights
        if len(weights) and set(weights.index) <= set(curves):
            # the curve the forecast drew around: the weighted families, continued past
            # the window by the stacked tail under tail_stacking
            mixture = np.asarray(result.survival_model().survival(grid), dtype=float)
            scored.append({"family": AVERAGED, "rank_at_cutoff": np.nan, "weight_at_cutoff": 1.0, "chosen": False,
                           "hindsight_log_likelihood": _log_likelihood(mixture, a, t, c)})
        table = pd.DataFrame(scored)
        if table.empty:
            continue
        ranked = table["family"] != AVERAGED
        best = table.loc[ranked, "hindsight_log_likelihood"].max()
        table["hindsight_rank"] = table["hindsight_log_likelihood"].where(ranked).rank(ascending=False, method="min")
        table["hindsight_gap_deviance"] = 2.0 * (best - table["hindsight_log_likelihood"])
        table.insert(0, "segment", segment)
        table.insert(0, "cutoff", cutoff_label)
        table["n_scored"] = int(mine.sum())
        table["n_churned_after"] = int(c.sum())
        rows.append(table.sort_values(["hindsight_rank", "family"], na_position="last"))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


__all__ = ["AVERAGED", "family_table"]
