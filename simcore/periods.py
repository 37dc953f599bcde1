"""Books counted in quarters or years, on simcore's monthly grid.

A tenure-shaped book can count tenure in other units than months (``data.period``). A
yearly book in the style of Fader & Hardie (2007) counts renewals of annual contracts:
a customer with tenure 3 renewed twice and may leave only at an anniversary. Such a
book is handled in two steps:

* **Fitting happens in the book's own periods.** Retention families are fitted to the
  tenures as given, so an sBG fitted to yearly data keeps its yearly meaning (the
  published alpha 0.704, beta 1.182 of the "regular" segment are recovered), and a
  parametric family's parameters are per period.
* **Everything after the fit is monthly.** A customer who has renewed ``t`` times pays
  every month of the next period, so survival after ``m`` months is survival after
  ``floor(m / k)`` periods, ``k`` months each (3 for quarters, 12 for years): churn
  happens only at a renewal, and the monthly hazard is zero between renewals. The
  engine, the lever calendar, the discounting and every table then work in months as
  usual, and the fits table says in ``tenure_unit`` what the parameters were fitted in.

Weekly books are simpler: weeks are finer than months, so their tenures are converted
to whole months when the book is read (:func:`simcore.data.customers.tenure_in_months`)
and everything, the fit included, runs on months.

:class:`PeriodFit` wraps a fitted model the first way; :func:`monthly_fits` wraps every
segment's fits. The wrapped objects save and load as the fits they wrap (saved fits stay
in the book's periods and are wrapped again when reused).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from simcore.config.data import MONTHS_PER_PERIOD
from simcore.errors import FitError, Problem
from simcore.retention.records import conditional_survival_from, hazard_from
from simcore.retention.selection import SegmentFits

#: Periods fitted in their own unit and stepped onto the monthly grid.
RENEWAL_PERIODS = ("quarter", "year")


class PeriodFit:
    """A retention fit made in periods of ``k`` months, read on the monthly grid.

    ``S_month(m) = S_period(floor(m / k))``. Every attribute not defined here (family,
    parameters, covariance, log-likelihood, counts, ``max_observed_tenure``...) is the
    wrapped fit's, in its own periods, so the fit saves as what it is; the curves and
    ``median_lifetime`` are in months.

    Parameters
    ----------
    native
        The fit in the book's periods (anything with ``survival`` and ``survival_draws``).
    period
        ``"quarter"`` or ``"year"``.
    """

    def __init__(self, native, period: str):
        self.native = native
        self.period = period
        self.months_per_period = int(MONTHS_PER_PERIOD[period])

    def __getattr__(self, name):
        return getattr(self.native, name)

    def _periods(self, months) -> np.ndarray:
        months = np.atleast_1d(np.asarray(months, dtype=float))
        if np.any(months < 0) or np.any(months != np.floor(months)):
            raise FitError(Problem("survival is evaluated at whole months >= 0", field="t"))
        return np.floor(months / self.months_per_period)

    def survival(self, t) -> np.ndarray:
        """S(t) at whole months ``t``: survival after ``floor(t / k)`` periods."""
        return self.native.survival(self._periods(t))

    def hazard(self, t) -> np.ndarray:
        """Monthly hazard ``1 - S(t+1)/S(t)``: zero except at renewals."""
        return hazard_from(self.survival, t)

    def conditional_survival(self, age: int, t) -> np.ndarray:
        """``S(age + t) / S(age)`` in months."""
        return conditional_survival_from(self.survival, age, t)

    def survival_draws(self, n_draws: int, n_months: int, seed: int, method: str = "asymptotic") -> np.ndarray:
        """Curves under parameter uncertainty on months ``0..n_months`` (the wrapped
        fit's draws on periods ``0..floor(n_months / k)``, stepped)."""
        periods = self.native.survival_draws(n_draws, n_months // self.months_per_period, seed=seed, method=method)
        return periods[:, np.arange(n_months + 1) // self.months_per_period]

    @property
    def median_lifetime(self) -> float:
        """Median lifetime in months (the first renewal at which S <= 0.5)."""
        return float(self.native.median_lifetime) * self.months_per_period

    def to_dict(self) -> dict:
        """The wrapped fit's description (parameters per period), with its unit and the
        median lifetime in months."""
        out = dict(self.native.to_dict())
        out["tenure_unit"] = self.period
        out["median_lifetime_months"] = _json_number(self.median_lifetime)
        return out


def _json_number(value: float):
    return float(value) if np.isfinite(value) else None


def _wrap(result, period: str):
    wrapped: dict[int, PeriodFit] = {}

    def wrap(fit):
        if fit is None:
            return None
        if id(fit) not in wrapped:  # the chosen fit may be the Kaplan-Meier fit itself
            wrapped[id(fit)] = PeriodFit(fit, period)
        return wrapped[id(fit)]

    return dataclasses.replace(result, fit=wrap(result.fit), kaplan_meier=wrap(result.kaplan_meier),
                               fits={name: wrap(fit) for name, fit in result.fits.items()})


@dataclasses.dataclass(frozen=True, eq=False)
class PeriodSegmentFits(SegmentFits):
    """Segment fits made in ``period`` units, read in months (see the module notes).

    The fits table gains ``tenure_unit`` (the unit of the parameters) and gives
    ``max_observed_tenure`` in months like every other column.
    """

    period: str = "year"

    def summary_table(self):
        table = super().summary_table()
        table["max_observed_tenure"] = table["max_observed_tenure"] * int(MONTHS_PER_PERIOD[self.period])
        table.insert(table.columns.get_loc("parameters") + 1, "tenure_unit", self.period)
        return table


def monthly_fits(fits: SegmentFits, period: str) -> SegmentFits:
    """Every segment's fits (made in ``period`` units) read on the monthly grid;
    ``fits`` itself for months and weeks."""
    if period not in RENEWAL_PERIODS:
        return fits
    return PeriodSegmentFits({name: _wrap(result, period) for name, result in fits.results.items()},
                             dict(fits.failures), period)


def native_fit(fit):
    """The fit as made, in the book's periods (``fit`` itself when it was made in months)."""
    return fit.native if isinstance(fit, PeriodFit) else fit
