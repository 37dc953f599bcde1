"""Customer-success planning: which accounts deserve a CSM, and how many CSMs it takes.

* :mod:`~simcore.cs.inputs` — every segment compiled on the baseline, with the engine's
  own survival draws;
* :mod:`~simcore.cs.values` — expected values over survival curves, per replication;
* :mod:`~simcore.cs.accounts` — per-account expected profit, interval and lifetime;
* :mod:`~simcore.cs.classify` — core, growth and cautionary accounts;
* :mod:`~simcore.cs.tiers` — tiers, rules and what moving between them means;
* :mod:`~simcore.cs.evaluate`, :mod:`~simcore.cs.optimise` — the value of an assignment
  and the thresholds that maximise it under a headcount or budget cap;
* :mod:`~simcore.cs.headcount` — CSMs needed from the engine's paths, and hiring;
* :mod:`~simcore.cs.plan` — :func:`account_table` and :func:`plan_cs`, what
  ``Project.accounts()`` and ``Project.plan_cs()`` call.

Importing this package is cheap; numpy, pandas and the engine load on first use.
"""

from __future__ import annotations

from simcore._lazy import lazy_getattr

_LAZY = {
    "account_table": "simcore.cs.plan",
    "plan_cs": "simcore.cs.plan",
    "AccountsResult": "simcore.cs.result",
    "CSPlanResult": "simcore.cs.result",
    "ClassRule": "simcore.cs.classify",
    "TierSpec": "simcore.cs.tiers",
}

__all__ = sorted(_LAZY)

__getattr__ = lazy_getattr(__name__, _LAZY)
