"""Immutable results of ``Project.accounts()`` and ``Project.plan_cs()``.

Like every simcore result they have ``table`` (the main table), ``tables`` (every table by
the name its file is written under), ``warnings`` and ``write``; they never print.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import pandas as pd

from simcore.errors import Problem


@dataclass(frozen=True)
class AccountsResult:
    """Every active account's expected profit, interval, remaining lifetime and class.

    Attributes
    ----------
    tables : dict of str -> DataFrame
        ``accounts`` (one row per active account, see
        :func:`simcore.cs.accounts.account_values`), ``accounts_summary`` (per segment
        and class) and ``rules`` (the classification rule and, with a ``cs_plan``, each
        tier's rule and assumed effect, in words).
    manifest : dict
    warnings : tuple of Problem
    rule_text : str
        The classification rule, as printed with the output.
    """

    tables: dict
    manifest: dict
    warnings: tuple[Problem, ...]
    rule_text: str

    @property
    def table(self) -> pd.DataFrame:
        return self.tables["accounts"]

    def write(self, directory: str | Path, *, formats: Sequence[str] | str = ("csv",), force: bool = False) -> Path:
        """Write every table in every format (CSV, Parquet, JSON, XLSX) and
        ``manifest.json`` into a fresh directory, atomically."""
        from simcore.cs.output import write_accounts

        return write_accounts(self, directory, formats=formats, force=force)


@dataclass(frozen=True)
class CSPlanResult:
    """A customer-success plan: assignments, headcount, ROI and the optimiser's answer.

    Tables (each also in :attr:`tables`):

    ``cs_plan_headcount_quarterly``
        The capital-planning table: per plan (``current`` rules, ``optimised``), tier and
        quarter, CSMs needed at P50 and P90, covered accounts, CSMs employed, hires,
        capacity gap and cost.
    ``cs_plan_headcount_monthly``
        The same month by month, with the covered accounts' mean, P10, P50 and P90.
    ``cs_plan_roi``
        Per plan (current, optimised, a uniform playbook per tier, no customer success)
        and tier: expected net gain with its 90% interval, gross uplift, CS cost, ROI,
        peak CSMs, whether within the cap, and the marginal profit of the last CSM.
    ``cs_plan_thresholds``
        Expected-profit thresholds per tier and segment, configured and optimised.
    ``cs_plan_assignments``
        Every account's tier path under both plans and its expected net gain.
    ``cs_plan_assumptions``
        Every assumption in words: tiers, effects, rules, reviews, cap, staffing.

    Attributes
    ----------
    manifest : dict
    warnings : tuple of Problem
    paths : dict of str -> HeadcountPaths
        Covered accounts and CSMs needed per tier, replication and month, per plan.
    staffing : dict of str -> dict of str -> Staffing
        The hiring plan per plan and tier.
    specs : list of TierSpec
    """

    tables: dict
    manifest: dict
    warnings: tuple[Problem, ...]
    paths: dict = field(repr=False, default_factory=dict)
    staffing: dict = field(repr=False, default_factory=dict)
    specs: list = field(repr=False, default_factory=list)

    @property
    def table(self) -> pd.DataFrame:
        return self.tables["cs_plan_headcount_quarterly"]

    def __getattr__(self, name: str):
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(f"'CSPlanResult' has no attribute {name!r}")

    def write(self, directory: str | Path, *, formats: Sequence[str] | str = ("csv",), force: bool = False,
              plots: bool = True, report: bool = False) -> Path:
        """Write every table in every format, ``plots/`` (unless ``plots=False``),
        ``manifest.json`` and, with ``report=True``, ``report.html`` into a fresh
        directory, atomically."""
        from simcore.cs.output import write_plan

        return write_plan(self, directory, formats=formats, force=force, plots=plots, report=report)
