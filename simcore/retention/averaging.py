"""Model averaging: family weights, and the survival model the simulation draws from.

A segment's retention curve is uncertain in two ways: within a family (its parameters)
and across families (which shape extrapolates correctly). Picking the best family by AIC
and drawing only its parameters ignores the second. With model averaging each
replication first draws a family by its weight, then that family's parameters.

Weights (``retention.model_averaging``)
    ``"none"``: the chosen family only (weight 1).
    ``"akaike"``: Akaike weights ``w_f = exp(-(AIC_f - AIC_min) / 2) / sum_g (...)``
    over the families that fitted (Burnham & Anderson 2002, section 2.9).
    ``"stacking"``: weights that maximise the holdout log score of the mixture,
    ``sum_i log sum_f w_f p_f(y_i)``, over the simplex, ``p_f(y_i)`` being the
    probability the family fitted before the holdout cutoff gives to what customer ``i``
    did after it (Yao, Vehtari, Simpson & Gelman 2018, "Using stacking to average
    Bayesian predictive distributions", Bayesian Analysis 13(3)). Needs a holdout.
    Solved with scipy's SLSQP on the simplex (:func:`stacking_weights`). Stacking may
    weigh a family the observed window rejects (it can predict the last months well), so
    whole curves drawn from it can leave the observed curve.
    ``"tail_stacking"``: Akaike weights up to the last observed month, stacking weights
    beyond it: each replication draws a curve from the Akaike-weighted families and
    continues it past the window with the conditional curve ``S_g(t) / S_g(window)`` of
    a family drawn by its stacking weight. Inside the window the curves are those the
    data support; beyond it, the tails are weighed by how well each family predicted
    what customers did next, which is the extrapolation question.

Weights below :data:`MIN_WEIGHT` are set to 0 and the rest renormalised, so a family no
replication would realistically draw is never refitted or bootstrapped.

The survival model protocol
    The engine draws curves from any object with ``survival_draws(n_draws, n_months,
    seed, method=...) -> ndarray (n_draws, n_months + 1)`` whose rows start at 1, are
    non-increasing and in [0, 1], and which returns the same rows for the same seed.
    Every fit record is one; :class:`SurvivalModel` is one for a weighted set of fits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from simcore.errors import FitError, Problem
from simcore.retention.names import (
    KAPLAN_MEIER,
    MODEL_AVERAGING_METHODS,
    STACKING_MIN_HOLDOUT_CHURNS,
    UNCERTAINTY_METHODS,
)
from simcore.retention.records import RetentionFit, check_draw_request

#: Weights below this are set to 0 (and the others renormalised).
MIN_WEIGHT = 1e-6


def akaike_weights(aic: Mapping[str, float]) -> dict[str, float]:
    """Akaike weights of the families with a finite AIC (the others get 0)."""
    values = {name: value for name, value in aic.items() if np.isfinite(value)}
    if not values:
        return {name: 0.0 for name in aic}
    best = min(values.values())
    raw = {name: float(np.exp(-(value - best) / 2.0)) for name, value in values.items()}
    total = sum(raw.values())
    return {name: raw.get(name, 0.0) / total for name in aic}


def stacking_weights(probabilities: Mapping[str, np.ndarray], counts=None, *,
                     tolerance: float = 1e-10) -> dict[str, float]:
    """Weights maximising ``sum_i n_i log sum_f w_f p_f(i)`` over the simplex.

    The mean log score is concave in ``w``; scipy's SLSQP maximises it with its exact
    gradient ``g_f = mean_i p_f(i) / sum_g w_g p_g(i)`` (customer-weighted) under
    ``w >= 0, sum w = 1``. (The multiplicative EM step ``w_f <- w_f g_f`` converges
    too slowly when families predict alike: 20,000 steps still moved weights by 0.05 on a
    250k-customer segment.) ``max_f g_f - 1`` bounds how far the mean log score is below
    its maximum (the Frank-Wolfe gap; ``sum_f w_f g_f = 1``).

    Parameters
    ----------
    probabilities : mapping of family -> ndarray, shape (n,)
        Holdout probability of each distinct observed outcome under each family;
        families whose vector is not finite get weight 0.
    counts : array-like, shape (n,), optional
        Customers with each outcome ``n_i`` (default: one each).
    tolerance : float
        Stopping tolerance of the search, in mean log score.

    Returns
    -------
    dict of family -> weight (summing to 1 over the usable families)
    """
    from scipy import optimize
    from threadpoolctl import threadpool_limits

    names = [name for name, p in probabilities.items() if p.size and np.all(np.isfinite(p))]
    if not names:
        return {name: 0.0 for name in probabilities}
    p = np.maximum(np.array([probabilities[name] for name in names]), 1e-300)  # (families, outcomes)
    counts = np.ones(p.shape[1]) if counts is None else np.asarray(counts, dtype=float)
    share = counts / counts.sum()
    # the scale of the probabilities cancels out of the weights; dividing each outcome by
    # its largest probability keeps the search well scaled
    p = p / p.max(axis=0, keepdims=True)

    def negative_score(w):
        return -float(share @ np.log(np.maximum(w @ p, 1e-300)))

    def negative_gradient(w):
        return -((p / np.maximum(w @ p, 1e-300)[None, :]) @ share)

    start = np.full(len(names), 1.0 / len(names))
    # SLSQP and the products above run on BLAS, whose results change in the last digits
    # with its thread count (OPENBLAS_NUM_THREADS, or one thread on a Dask worker); one
    # thread makes the weights the same whatever the setting.
    with threadpool_limits(limits=1, user_api="blas"):
        result = optimize.minimize(
            negative_score, start, jac=negative_gradient, method="SLSQP", bounds=[(0.0, 1.0)] * len(names),
            constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0, "jac": lambda w: np.ones_like(w)}],
            options={"ftol": tolerance, "maxiter": 1000},
        )
    w = np.clip(result.x, 0.0, None)
    w = w / w.sum()
    out = {name: 0.0 for name in probabilities}
    out.update(zip(names, map(float, w)))
    return out


def truncate(weights: Mapping[str, float]) -> dict[str, float]:
    """Weights below :data:`MIN_WEIGHT` set to 0, the rest renormalised to sum to 1."""
    kept = {name: w for name, w in weights.items() if w >= MIN_WEIGHT}
    total = sum(kept.values())
    return {name: (kept.get(name, 0.0) / total if total > 0 else 0.0) for name in weights}


def check_methods(uncertainty: str, averaging: str, choices=MODEL_AVERAGING_METHODS) -> None:
    """Refuse an unknown uncertainty method, or a model averaging outside ``choices``."""
    if uncertainty not in UNCERTAINTY_METHODS:
        raise FitError(Problem(
            f"unknown uncertainty method {uncertainty!r}", "choose one of " + ", ".join(UNCERTAINTY_METHODS),
            field="retention.uncertainty",
        ))
    if averaging not in choices:
        raise FitError(Problem(
            f"unknown model averaging {averaging!r}", "choose one of " + ", ".join(choices),
            field="retention.model_averaging",
        ))


def resolve_averaging(setting: str, holdout_churns: int | None) -> str:
    """The method ``setting`` stands for on a segment whose holdout saw ``holdout_churns``
    churns (None: no holdout): ``auto`` is ``tail_stacking`` from
    :data:`~simcore.retention.names.STACKING_MIN_HOLDOUT_CHURNS` churns, Akaike otherwise;
    any other setting stands for itself."""
    if setting != "auto":
        return setting
    enough = holdout_churns is not None and holdout_churns >= STACKING_MIN_HOLDOUT_CHURNS
    return "tail_stacking" if enough else "akaike"


def model_weights(averaging: str, ranking, chosen: str, segment) -> dict[str, float]:
    """Weight per family of the survival model for ``averaging``, from the ranking
    table's ``akaike_weight`` or ``stacking_weight`` column (``chosen`` alone for
    ``none`` and for Kaplan-Meier)."""
    if averaging == "none" or chosen == KAPLAN_MEIER:
        return {name: float(name == chosen) for name in ranking["family"]}
    # tail_stacking: these are the weights up to the last observed month (Akaike); the
    # tail's come from the stacking column
    column = "stacking_weight" if averaging == "stacking" else "akaike_weight"
    weights = ranking.set_index("family")[column]
    if weights.isna().all():
        where = f"segment {segment!r}: " if segment is not None else ""
        raise FitError(Problem(
            f"{where}model averaging {averaging!r} needs holdout scores",
            "set retention.holdout_months (date-shaped books), or use model_averaging 'akaike' or 'none'",
            field="retention.model_averaging",
        ))
    return truncate(weights.fillna(0.0).to_dict())


def component_seed(seed: int, component: int) -> int:
    """Seed of one family's draws inside a mixture, derived from the mixture's seed."""
    state = np.random.SeedSequence(int(seed), spawn_key=(int(component),)).generate_state(2, dtype=np.uint32)
    return int(state[0]) | (int(state[1]) << 32)


@dataclass(frozen=True, eq=False)
class SurvivalModel:
    """A weighted set of fits that draws survival curves (the engine's survival model).

    Attributes
    ----------
    fits : tuple of RetentionFit
        The families drawn from (weights > 0).
    weights : tuple of float
        Probability that a replication uses each fit; sums to 1.
    uncertainty : str
        Default draw method of every fit (``"auto"``, ``"asymptotic"`` or ``"bootstrap"``).
    averaging : str
        How the weights were made (``"none"``, ``"akaike"``, ``"stacking"``,
        ``"tail_stacking"``).
    tail : SurvivalModel, optional
        With ``tail_stacking``: the model whose conditional curve continues every drawn
        curve past ``window`` (see :meth:`survival_draws`).
    window : int, optional
        The last month the data observed (the splice point of ``tail``).
    """

    fits: tuple[RetentionFit, ...]
    weights: tuple[float, ...]
    uncertainty: str = "auto"
    averaging: str = "none"
    tail: "SurvivalModel | None" = None
    window: int | None = None

    def __post_init__(self):
        check_methods(self.uncertainty, self.averaging)
        if (self.tail is None) != (self.window is None):
            raise FitError(Problem("a survival model's tail needs the window it continues",
                                   field="retention.model_averaging"))
        weights = np.asarray(self.weights, dtype=float)
        if len(self.fits) == 0 or len(weights) != len(self.fits) or np.any(weights <= 0) \
                or abs(weights.sum() - 1.0) > 1e-9:
            raise FitError(Problem(
                "a survival model needs at least one fit and one positive weight per fit, summing to 1",
                field="retention.model_averaging",
            ))

    @property
    def families(self) -> tuple[str, ...]:
        return tuple(fit.family for fit in self.fits)

    def survival_draws(self, n_draws: int, n_months: int, seed: int, method: str | None = None) -> np.ndarray:
        """Survival curves, shape (n_draws, n_months + 1), rows S(0..n_months).

        Each row first draws a family with probability ``weights`` (``numpy.random
        .Generator(PCG64(seed))``), then that family's parameters with ``method``
        (default :attr:`uncertainty`) and a seed derived from ``seed`` and the family's
        position. With a single fit, the fit's own ``survival_draws(..., seed)``.
        """
        method = self.uncertainty if method is None else method
        check_draw_request(n_draws, n_months, method)
        if self.tail is not None:
            body = self._body_draws(n_draws, n_months, seed, method)
            return _spliced(body, self.tail.survival_draws(n_draws, n_months, component_seed(seed, TAIL_COMPONENT),
                                                           method=method), self.window)
        return self._body_draws(n_draws, n_months, seed, method)

    def _body_draws(self, n_draws: int, n_months: int, seed: int, method: str) -> np.ndarray:
        if len(self.fits) == 1:
            return self.fits[0].survival_draws(n_draws, n_months, seed, method=method)
        rng = np.random.Generator(np.random.PCG64(seed))
        which = rng.choice(len(self.fits), size=n_draws, p=np.asarray(self.weights, dtype=float))
        out = np.empty((n_draws, n_months + 1))
        for j, fit in enumerate(self.fits):
            rows = np.flatnonzero(which == j)
            if rows.size:
                out[rows] = fit.survival_draws(rows.size, n_months, component_seed(seed, j), method=method)
        return out

    def survival(self, t) -> np.ndarray:
        """The weighted mean of the fits' point curves at months ``t`` (continued past
        :attr:`window` by the tail's conditional curve)."""
        t = np.asarray(t)
        body = sum(w * fit.survival(t) for w, fit in zip(self.weights, self.fits))
        if self.tail is None:
            return body
        m = np.asarray([self.window])
        beyond = t > self.window
        at_window = sum(w * fit.survival(m) for w, fit in zip(self.weights, self.fits))[0]
        tail_window = self.tail.survival(m)[0]
        ratio = self.tail.survival(t) / tail_window if tail_window > 0 else np.zeros(t.shape)
        return np.where(beyond, at_window * ratio, body)


#: Component number of the tail's seed (distinct from every family position).
TAIL_COMPONENT = 1_000_000


def _spliced(body: np.ndarray, tail: np.ndarray, window: int) -> np.ndarray:
    """``body`` up to month ``window``, then ``body[window]`` times the conditional
    curve ``tail[t] / tail[window]`` of the row's tail draw."""
    m = int(window)
    if m + 1 >= body.shape[1]:
        return body
    out = body.copy()
    start = tail[:, [m]]
    ratio = np.divide(tail[:, m + 1:], start, out=np.zeros_like(tail[:, m + 1:]), where=start > 0)
    out[:, m + 1:] = body[:, [m]] * np.minimum(ratio, 1.0)
    return out
