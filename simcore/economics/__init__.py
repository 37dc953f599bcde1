"""Unit economics per segment: one concept, one package.

* :mod:`~simcore.economics.values` — :class:`Economics`, the unit economics of one
  segment (margin, cost to serve, CAC, onboarding, discount rate) and the contribution
  formula;
* :mod:`~simcore.economics.rules` — the rules every economic number obeys, written once;
* :mod:`~simcore.economics.derived` — CAC from acquisition spend and support cost from a
  cost table;
* :mod:`~simcore.economics.segments` — every economic input of every segment (including
  new cohorts' starting MRR and acquisition volume) with where each number came from.

Importing this package is cheap (no pandas): the table-reading modules load on first use.
"""

from __future__ import annotations

from simcore._lazy import lazy_getattr

from simcore.economics.values import Economics, monthly_discount_factor

_LAZY = {
    "SegmentEconomics": "simcore.economics.segments",
    "resolve_economics": "simcore.economics.segments",
    "baseline_acquisition_per_month": "simcore.economics.segments",
    "starting_mrr_from_history": "simcore.economics.segments",
    "DerivedCost": "simcore.economics.derived",
    "cac_from_spend": "simcore.economics.derived",
    "support_cost_from_table": "simcore.economics.derived",
}

__all__ = ["Economics", "monthly_discount_factor", *sorted(_LAZY)]


__getattr__ = lazy_getattr(__name__, _LAZY)
