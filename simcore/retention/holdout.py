"""The holdout check: refit on what was known before a cutoff, score what came after.

With each customer's signup month offset ``s`` (whole months on any fixed origin) and
the last observed month ``W`` (default ``max(s + duration)``), the cutoff is
``c = W - holdout_months``. Customers who signed up before ``c`` are cut back to what
was known at ``c`` (tenure ``min(duration, c - s)``, churned only if they churned by
then) and every candidate family is refitted on that. Each customer still active at
``c`` (tenure ``a = c - s``) is then scored on what happened next, using the
conditional curve ``S(a + k) / S(a)``:

* ``holdout_log_likelihood``: mean over those customers of ``log P(observed outcome)``
  (churn at ``T``: ``(S(T-1) - S(T)) / S(a)``; still active at ``W``: ``S(W-s) / S(a)``);
* ``holdout_active_error``: mean absolute difference, over holdout months
  ``k = 1..holdout_months``, between predicted and observed share of those customers
  still active.

Customers who signed up on or after ``c`` are not used. ``criterion="holdout"`` ranks by
the holdout log-likelihood (then uses the chosen family fitted on all data); stacking
weights come from the same probabilities.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simcore.errors import DataError, FitError, Problem, SimcoreError
from simcore.retention.counts import aggregate_survival
from simcore.retention.fitting import fit_counts
from simcore.retention.names import KAPLAN_MEIER
from simcore.retention.records import RetentionFit

#: Columns of the holdout table and their dtypes (inserted after ``error`` in the ranking).
HOLDOUT_COLUMNS = {
    "family": "object", "holdout_log_likelihood": "float64", "holdout_active_error": "float64",
    "n_holdout_customers": "int64", "n_holdout_churns": "int64",
}


def holdout_split(durations, events, signup_offsets, holdout_months, window_end):
    """Data known at the cutoff, and the customers active at the cutoff for scoring."""
    s = np.asarray(signup_offsets, dtype=np.int64)
    d = np.asarray(durations, dtype=np.int64)
    e = np.asarray(events).astype(bool)
    if s.shape != d.shape:
        raise DataError(Problem(
            f"signup_offsets has shape {s.shape} but durations {d.shape}",
            "pass one signup month offset per customer", field="signup_offsets",
        ))
    end = int(window_end) if window_end is not None else int((s + d).max())
    cutoff = end - int(holdout_months)
    before = s < cutoff
    if not before.any():
        raise FitError(Problem(
            f"no customer signed up before the holdout cutoff (month {cutoff})",
            "use fewer holdout_months", field="retention.holdout_months",
        ))
    known = np.minimum(d, cutoff - s)
    churned_by_cutoff = e & (d <= cutoff - s)
    active_at_cutoff = before & (d > cutoff - s)
    return (known[before], churned_by_cutoff[before], s[before], d, e, s, active_at_cutoff, cutoff, end)


def holdout_outcomes(d, e, s, active, cutoff):
    """The scored customers' distinct outcomes: age at the cutoff, tenure, churned, and
    how many customers share each (customers with one outcome get one probability)."""
    age = (cutoff - s[active]).astype(np.int64)
    dur = d[active].astype(np.int64)
    churn = e[active].astype(np.int64)
    key = (age * (int(dur.max(initial=0)) + 1) + dur) * 2 + churn
    _, first, counts = np.unique(key, return_index=True, return_counts=True)
    return age[first], dur[first], churn[first].astype(bool), counts


def score_holdout(fit: RetentionFit, age, dur, churn, counts, holdout_months):
    """Mean holdout log-likelihood, mean active-share error, and each outcome's probability.

    Every scored customer was observed ``holdout_months`` past the cutoff, so each
    holdout month ``k`` covers them all.
    """
    last = int(max(dur.max(initial=0), age.max(initial=0) + int(holdout_months))) + 1
    curve = fit.survival(np.arange(last + 1))
    s_age = curve[age]
    prob = np.where(churn, curve[np.maximum(dur - 1, 0)] - curve[dur], curve[dur]) / s_age
    share = counts / counts.sum()
    # numpy's sums rather than BLAS dot products, whose digits depend on the thread count
    log_likelihood = float((share * np.log(np.maximum(prob, 1e-300))).sum())
    errors = []
    for k in range(1, int(holdout_months) + 1):
        predicted = (share * (curve[age + k] / s_age)).sum()
        # active after a + k months: T > a + k; a customer still active at the end of the
        # window has T > duration, so duration >= a + k suffices
        observed = (share * np.where(churn, dur > age + k, dur >= age + k)).sum()
        errors.append(abs(predicted - observed))
    return log_likelihood, float(np.mean(errors)) if errors else float("nan"), prob


def holdout_table(fits, failures, km_tail, options, durations, events, signup_offsets, holdout_months,
                  window_end, segment) -> tuple[pd.DataFrame, dict[str, np.ndarray], np.ndarray]:
    """Refit every family of ``fits`` before the cutoff and score it after.

    Returns
    -------
    table : DataFrame
        Columns :data:`HOLDOUT_COLUMNS`, one row per family.
    probabilities : dict of family -> ndarray, shape (n_outcomes,)
        Probability of each distinct scored outcome (for stacking weights).
    counts : ndarray, shape (n_outcomes,)
        Customers with each outcome.

    A family that cannot be refitted gets NaN scores and its reason in ``failures``.
    """
    known_d, known_e, _, d, e, s, active, cutoff, end = holdout_split(
        durations, events, signup_offsets, holdout_months, window_end
    )
    known = aggregate_survival(known_d, known_e, source=segment)
    age, dur, churn, counts = holdout_outcomes(d, e, s, active, cutoff)
    rows, probabilities = [], {}
    for name in list(fits):
        try:
            early = fit_counts(name, known, **options, **({"km_tail": km_tail} if name == KAPLAN_MEIER else {}))
            ll, err, prob = score_holdout(early, age, dur, churn, counts, holdout_months)
            probabilities[name] = prob
        except SimcoreError as error:
            ll, err = float("nan"), float("nan")
            failures.setdefault(name, "holdout: " + "; ".join(p.message for p in error.problems))
        rows.append({"family": name, "holdout_log_likelihood": ll, "holdout_active_error": err,
                     "n_holdout_customers": int(active.sum()), "n_holdout_churns": int(counts[churn].sum())})
    table = pd.DataFrame(rows, columns=list(HOLDOUT_COLUMNS)).astype(HOLDOUT_COLUMNS)
    return table, probabilities, counts
