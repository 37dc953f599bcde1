"""Customer books drawn from known retention curves, for tests and the coverage study.

Each :class:`TrueCurve` knows its survival function on the monthly grid and draws whole
-month lifetimes from it; :func:`observe` turns lifetimes into what a book shows at the
end of an observation window (signups spread evenly over the window). The curves are
chosen inside and outside the fitted families: a two-class mixture of geometric lifetimes
(no family has that shape; a heterogeneous base with a loyal class), a Weibull and an
sBG (both in the candidate set), and a generalized gamma on the flat ridge that makes
asymptotic draws unusable (the Telco Month-to-month symptom).

:func:`coverage_study` is the study behind the model-averaging default in
``tests/README.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import special

#: Annual discount rate of the value measure (simcore's example default).
DISCOUNT_RATE_ANNUAL = 0.10
#: Months over which value is summed.
HORIZON_MONTHS = 120


@dataclass(frozen=True)
class TrueCurve:
    """A known lifetime distribution on the monthly grid.

    Attributes
    ----------
    name : str
    survival : callable
        ``survival(t) -> S(t)`` for integer months ``t`` (array), ``S(0) = 1``.
    lifetimes : callable
        ``lifetimes(rng, n) -> ndarray of int`` whole months paid, >= 1.
    """

    name: str
    survival: Callable[[np.ndarray], np.ndarray]
    lifetimes: Callable[[np.random.Generator, int], np.ndarray]


def two_class_geometric(churn_fast: float = 0.12, churn_slow: float = 0.01, slow_share: float = 0.35) -> TrueCurve:
    """A share of customers churns with monthly probability ``churn_slow``, the rest with
    ``churn_fast``: ``S(t) = s (1 - p_slow)^t + (1 - s) (1 - p_fast)^t``."""
    def survival(t):
        t = np.asarray(t, dtype=float)
        return slow_share * (1 - churn_slow) ** t + (1 - slow_share) * (1 - churn_fast) ** t

    def lifetimes(rng, n):
        p = np.where(rng.random(n) < slow_share, churn_slow, churn_fast)
        return rng.geometric(p)

    return TrueCurve(f"two-class geometric ({slow_share:.0%} at {churn_slow:.0%}/month, rest {churn_fast:.0%})",
                     survival, lifetimes)


def weibull(scale: float = 30.0, shape: float = 0.7) -> TrueCurve:
    """Continuous Weibull lifetimes paid up to the month they end in:
    ``S(t) = exp(-(t / scale)^shape)``, ``T = ceil(X)``."""
    def survival(t):
        return np.exp(-(np.asarray(t, dtype=float) / scale) ** shape)

    def lifetimes(rng, n):
        return np.maximum(np.ceil(scale * rng.weibull(shape, size=n)), 1).astype(np.int64)

    return TrueCurve(f"Weibull (scale {scale:g}, shape {shape:g})", survival, lifetimes)


def sbg(alpha: float = 0.8, beta: float = 6.0) -> TrueCurve:
    """Shifted-beta-geometric: ``S(t) = B(alpha, beta + t) / B(alpha, beta)``."""
    def survival(t):
        t = np.asarray(t, dtype=float)
        return np.exp(special.betaln(alpha, beta + t) - special.betaln(alpha, beta))

    def lifetimes(rng, n):
        return rng.geometric(rng.beta(alpha, beta, size=n))

    return TrueCurve(f"sBG (alpha {alpha:g}, beta {beta:g})", survival, lifetimes)


def generalized_gamma(mu: float = 4.7, ln_sigma: float = -1.24, lam: float = 7.0) -> TrueCurve:
    """Generalized gamma (lifelines' parameters, lambda > 0) with monthly lifetimes
    ``ceil(T)``: with ``k = 1 / lambda^2`` and ``Y ~ Gamma(k)``, ``log T = mu + sigma
    log(Y / k) / lambda``. The default sits where the likelihood is flat in lambda."""
    sigma, k = np.exp(ln_sigma), 1.0 / lam**2

    def survival(t):
        t = np.asarray(t, dtype=float)
        z = (np.log(np.maximum(t, 1e-300)) - mu) / sigma
        return np.where(t <= 0, 1.0, special.gammaincc(k, k * np.exp(np.clip(lam * z, -700, 700))))

    def lifetimes(rng, n):
        z = np.log(rng.gamma(k, size=n) / k) / lam
        return np.maximum(np.ceil(np.exp(mu + sigma * z)), 1).astype(np.int64)

    return TrueCurve(f"generalized gamma (mu {mu:g}, ln_sigma {ln_sigma:g}, lambda {lam:g})", survival, lifetimes)


def observe(lifetimes: np.ndarray, window_months: int, rng: np.random.Generator):
    """What a book shows after ``window_months`` with signups spread evenly over the window.

    Returns
    -------
    durations : ndarray of int
        Lifetime for churned customers; months observed (0..window) for active ones.
    events : ndarray of int
        1 if churned by the end of the window.
    signup : ndarray of int
        Signup month offset (0..window), for holdout checks.
    """
    signup = rng.integers(0, window_months + 1, size=len(lifetimes))
    observed = window_months - signup
    churned = lifetimes <= observed
    return np.where(churned, lifetimes, observed).astype(np.int64), churned.astype(np.int64), signup


def book(curve: TrueCurve, n: int, window_months: int, seed: int):
    """``observe(curve.lifetimes(rng, n), window_months, rng)`` with ``rng`` seeded by ``seed``."""
    rng = np.random.Generator(np.random.PCG64(seed))
    return observe(curve.lifetimes(rng, n), window_months, rng)


def discounted_value(curves: np.ndarray, rate_annual: float = DISCOUNT_RATE_ANNUAL,
                     horizon_months: int = HORIZON_MONTHS) -> np.ndarray:
    """Expected discounted months paid over the horizon per customer:
    ``sum_{t < H} d^t S(t)``, ``d = (1 + r)^(-1/12)`` (rows of ``curves`` = curves on 0..H)."""
    factor = (1.0 + rate_annual) ** (-np.arange(horizon_months) / 12.0)
    return np.atleast_2d(curves)[:, :horizon_months] @ factor


CURVES = {
    "two_class_geometric": two_class_geometric(),
    "weibull": weibull(),
    "sbg": sbg(),
}


def coverage_study(seeds, *, n_customers: int = 2000, window_months: int = 36, n_draws: int = 1000,
                   level: float = 0.90, holdout_months: int | None = None, curves=None) -> list[dict]:
    """For each true curve and seed: fit a book, draw curves without and with model
    averaging, and record whether the central ``level`` interval of the discounted value
    over :data:`HORIZON_MONTHS` months covers the true value.

    With ``holdout_months`` the books are also fitted with a holdout and stacking weights
    are evaluated too.

    Returns one dict per (curve, seed, averaging): curve, seed, averaging, truth, point
    (the chosen fit's value), lower, upper, covered, chosen (family), weights.
    """
    from simcore.retention import fit_segment

    rows = []
    months = np.arange(HORIZON_MONTHS + 1)
    settings = ("none", "akaike") + (("stacking",) if holdout_months else ())
    for key, curve in (curves or CURVES).items():
        truth = float(discounted_value(curve.survival(months))[0])
        for seed in seeds:
            durations, events, signup = book(curve, n_customers, window_months, seed)
            holdout = {} if not holdout_months else {"signup_offsets": signup, "holdout_months": holdout_months}
            result = fit_segment(durations, events, segment=f"{key}-{seed}", model_averaging="akaike", **holdout)
            point = float(discounted_value(result.fit.survival(months))[0])
            for averaging in settings:
                model = result.survival_model(averaging=averaging)
                values = discounted_value(model.survival_draws(n_draws, HORIZON_MONTHS, seed=seed))
                lower, upper = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
                rows.append({
                    "curve": key, "seed": seed, "averaging": averaging, "truth": truth, "point": point,
                    "lower": float(lower), "upper": float(upper), "covered": bool(lower <= truth <= upper),
                    "chosen": result.fit.family,
                    "weights": {name: round(float(w), 3) for name, w in zip(model.families, model.weights)},
                })
    return rows


def main() -> None:
    """``python tests/books.py --seeds 50 --customers 2000 --window 36 --holdout 6``:
    run :func:`coverage_study` and print coverage and mean interval width per curve and
    setting (the tables of tests/README.md)."""
    import argparse

    import pandas as pd

    parser = argparse.ArgumentParser(description=main.__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--window", type=int, default=36)
    parser.add_argument("--holdout", type=int, default=6, help="holdout months for stacking (0: no stacking)")
    args = parser.parse_args()
    rows = pd.DataFrame(coverage_study(range(args.seeds), n_customers=args.customers, window_months=args.window,
                                       holdout_months=args.holdout or None))
    rows["width"] = rows["upper"] - rows["lower"]
    rows["relative_error_of_chosen_fit"] = (rows["point"] - rows["truth"]) / rows["truth"]
    table = rows.groupby(["curve", "averaging"]).agg(
        coverage=("covered", "mean"), mean_width=("width", "mean"),
        relative_error_of_chosen_fit=("relative_error_of_chosen_fit", "mean"))
    print(table.to_string(float_format=lambda x: f"{x:.3f}"))
    print(rows.groupby("averaging").agg(coverage=("covered", "mean"), mean_width=("width", "mean")).to_string(
        float_format=lambda x: f"{x:.3f}"))


if __name__ == "__main__":
    main()
