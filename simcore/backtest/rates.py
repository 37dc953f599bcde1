"""Expansion and contraction: the rates assumed at a cutoff against the rates realised.

The forecast's revenue dynamics (:class:`simcore.revenue.RevenueDynamics`, fitted on the
history known at the cutoff) say that each month an active customer's MRR rises with
probability ``p_expansion`` by a log-normal factor ``exp(N(m_e, s_e))``, or falls with
probability ``p_contraction`` by ``exp(N(m_c, s_c))``. Per month that predicts

* the share of customers who stayed with a rise, ``p_expansion``, and with a fall,
  ``p_contraction``;
* the expansion rate, MRR added per unit of MRR of those customers,
  ``p_expansion (exp(m_e + s_e^2 / 2) - 1)``, and the contraction rate, MRR lost,
  ``p_contraction (1 - exp(m_c + s_c^2 / 2))``.

The realised figures use the same transitions the dynamics were fitted on
(:mod:`simcore.revenue`): a customer paying in consecutive months ``m`` and ``m + 1`` with
MRR above 0 in both, ``m + 1`` in the compared window (the first after the cutoff to the
last ended by ``as_of``), every customer of the segment (base and new signups alike, as
the engine applies the dynamics to both). A realised rate far from the predicted one is
the assumption to recalibrate; the MRR verdict says whether it mattered.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simcore.backtest.cutoff import Cutoff, month_number

#: Row label of the figures pooled over the whole window.
WINDOW = "window"


def _predicted(dynamics) -> dict[str, float]:
    if dynamics is None:
        return {"p_expansion": 0.0, "p_contraction": 0.0, "expansion_rate": 0.0, "contraction_rate": 0.0}
    up = np.exp(dynamics.expansion_log_mean + dynamics.expansion_log_sd ** 2 / 2) - 1.0
    down = 1.0 - np.exp(dynamics.contraction_log_mean + dynamics.contraction_log_sd ** 2 / 2)
    return {"p_expansion": dynamics.p_expansion, "p_contraction": dynamics.p_contraction,
            "expansion_rate": dynamics.p_expansion * up if dynamics.p_expansion > 0 else 0.0,
            "contraction_rate": dynamics.p_contraction * down if dynamics.p_contraction > 0 else 0.0}


def transitions(customers: pd.DataFrame, history: pd.DataFrame, as_of) -> pd.DataFrame:
    """Month-to-month MRR transitions of customers paying in both months, MRR > 0 in both.

    Returns
    -------
    DataFrame
        ``segment``, ``month_number`` (of the later month, months since 1970-01),
        ``mrr`` (earlier month), ``next_mrr``.
    """
    from simcore.data.history import expand_history

    rows = expand_history(customers, history, "date", as_of)
    owner = rows["customer"].to_numpy()
    months = rows["month_number"].to_numpy()
    mrr = rows["mrr"].to_numpy()
    following = np.r_[(owner[1:] == owner[:-1]) & (months[1:] == months[:-1] + 1), False]
    next_mrr = np.r_[mrr[1:], 0.0]
    kept = following & (mrr > 0) & (next_mrr > 0)
    segments = customers["segment"].astype(str).to_numpy()[owner]
    return pd.DataFrame({"segment": segments[kept], "month_number": months[kept] + 1,
                         "mrr": mrr[kept], "next_mrr": next_mrr[kept]})


def calibration_table(cutoff: Cutoff, dynamics: dict | None, moves: pd.DataFrame, segments: list[str]) -> pd.DataFrame:
    """Predicted against realised expansion and contraction, per segment and month of
    the window and pooled over it (``month`` = ``"window"``).

    Parameters
    ----------
    cutoff : Cutoff
    dynamics : dict of str -> RevenueDynamics, or None
        Fitted at the cutoff.
    moves : DataFrame
        :func:`transitions` of the full book.
    segments : list of str
    """
    first = month_number(cutoff.date) + 1
    window = moves[(moves["month_number"] >= first) & (moves["month_number"] < first + cutoff.months)]
    rise = window["next_mrr"] > window["mrr"]
    fall = window["next_mrr"] < window["mrr"]
    frame = window.assign(
        rises=rise.astype(int), falls=fall.astype(int),
        added=np.where(rise, window["next_mrr"] - window["mrr"], 0.0),
        lost=np.where(fall, window["mrr"] - window["next_mrr"], 0.0),
        month=[str(pd.Period(year=1970 + m // 12, month=m % 12 + 1, freq="M")) for m in window["month_number"]])
    rows = []
    for segment in segments:
        predicted = _predicted((dynamics or {}).get(segment))
        mine = frame[frame["segment"] == segment]
        groups = list(mine.groupby("month", sort=True)) + [(WINDOW, mine)]
        for month, group in groups:
            n, start = len(group), float(group["mrr"].sum())
            realised = {
                "p_expansion": group["rises"].sum() / n if n else np.nan,
                "p_contraction": group["falls"].sum() / n if n else np.nan,
                "expansion_rate": group["added"].sum() / start if start > 0 else np.nan,
                "contraction_rate": group["lost"].sum() / start if start > 0 else np.nan,
            }
            row = {"cutoff": cutoff.label, "segment": segment, "month": month, "transitions": n}
            for name in predicted:
                row[f"{name}_predicted"] = predicted[name]
                row[f"{name}_realised"] = realised[name]
            rows.append(row)
    return pd.DataFrame(rows)


__all__ = ["WINDOW", "calibration_table", "transitions"]
