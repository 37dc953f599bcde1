"""Customer books drawn from known retention curves, for tests and the coverage study.

Each :class:`TrueCurve` knows its survival function on the monthly grid and draws whole
-month lifetimes from it; :func:`observe` turns lifetimes into what a book shows at the
end of an observation window (signups spread evenly over the window). The curves are
chosen inside and outside the fitted families: inside, a two-class mixture of geometric
lifetimes (a churny base with a loyal class), a Weibull and an sBG; outside, a
beta-discrete-Weibull (each customer's churn falls with tenure) and a three-class
geometric mixture; and a generalized gamma on the flat ridge that makes asymptotic draws
unusable (the Telco Month-to-month symptom, used by the uncertainty tests).

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


def beta_discrete_weibull(alpha: float = 0.8, beta: float = 6.0, c: float = 0.6) -> TrueCurve:
    """Beta-discrete-Weibull (Fader, Hardie, Liu, Davin & Steenburgh 2018): each customer's
    churn probability ``theta ~ Beta(alpha, beta)`` and ``P(T > t | theta) = (1 - theta)^(t^c)``,
    so ``S(t) = B(alpha, beta + t^c) / B(alpha, beta)``; ``c < 1``: each customer's own
    churn falls with tenure (sBG is ``c = 1``; no candidate family has ``c != 1``)."""
    def survival(t):
        t = np.asarray(t, dtype=float)
        return np.exp(special.betaln(alpha, beta + t**c) - special.betaln(alpha, beta))

    def lifetimes(rng, n):
        theta = rng.beta(alpha, beta, size=n)
        x = (np.log(rng.random(n)) / np.log1p(-theta)) ** (1.0 / c)
        return np.maximum(np.ceil(x), 1).astype(np.int64)

    return TrueCurve(f"beta-discrete-Weibull (alpha {alpha:g}, beta {beta:g}, c {c:g})", survival, lifetimes)


def three_class_geometric(shares=(0.2, 0.3, 0.5), churns=(0.005, 0.03, 0.15)) -> TrueCurve:
    """Three latent classes with geometric lifetimes: ``S(t) = sum_k s_k (1 - p_k)^t`` (the
    candidates hold two classes at most)."""
    shares, churns = np.asarray(shares, dtype=float), np.asarray(churns, dtype=float)

    def survival(t):
        t = np.asarray(t, dtype=float)
        return (shares[:, None] * (1 - churns[:, None]) ** t[None, :]).sum(axis=0)

    def lifetimes(rng, n):
        return rng.geometric(churns[rng.choice(len(shares), size=n, p=shares)])

    text = ", ".join(f"{s:.0%} at {p:.1%}" for s, p in zip(shares, churns))
    return TrueCurve(f"three-class geometric ({text} a month)", survival, lifetimes)


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
    "beta_discrete_weibull": beta_discrete_weibull(),
    "three_class_geometric": three_class_geometric(),
}


#: The study's unit economics, per customer: monthly contribution (margin on MRR after
#: cost to serve) and acquisition cost (CAC + onboarding) set at a third of the true LTV
#: (LTV:CAC of 3), so unit profit = LTV - acquisition = 2/3 of the true LTV.
MONTHLY_CONTRIBUTION = 50.0
LTV_TO_ACQUISITION = 3.0


def coverage_study(seeds, *, n_customers: int = 2000, window_months: int = 36, n_draws: int = 1000,
                   level: float = 0.90, holdout_months: int | None = 6, curves=None) -> list[dict]:
    """For each true curve and seed: fit a book with default settings, draw the survival
    model of every model-averaging setting, and record the estimate (mean over draws) and
    the central ``level`` interval of the discounted value over :data:`HORIZON_MONTHS`
    months, and the mean new-customer unit profit they imply.

    ``"default"`` is what ``model_averaging: auto`` chose for the book (``tail_stacking``
    from :data:`simcore.retention.names.STACKING_MIN_HOLDOUT_CHURNS` holdout churns,
    Akaike otherwise); without ``holdout_months`` neither stacking setting is available
    (tenure books).

    Returns one dict per (curve, seed, averaging): curve, seed, averaging, truth,
    estimate, lower, upper, covered, unit_profit_error (relative), resolved (method),
    holdout_churns, weights.
    """
    from simcore.retention import fit_segment

    rows = []
    months = np.arange(HORIZON_MONTHS + 1)
    for key, curve in (curves or CURVES).items():
        truth = float(discounted_value(curve.survival(months))[0])
        ltv = MONTHLY_CONTRIBUTION * truth
        acquisition = ltv / LTV_TO_ACQUISITION
        for seed in seeds:
            durations, events, signup = book(curve, n_customers, window_months, seed)
            holdout = {} if not holdout_months else {"signup_offsets": signup, "holdout_months": holdout_months}
            result = fit_segment(durations, events, segment=f"{key}-{seed}", **holdout)
            churns = None if result.holdout is None else int(result.holdout["n_holdout_churns"].iloc[0])
            settings = {"default": result.model_averaging, "none": "none", "akaike": "akaike"}
            if holdout_months:
                settings.update(stacking="stacking", tail_stacking="tail_stacking")
            for setting, averaging in settings.items():
                model = result.survival_model(averaging=averaging)
                values = discounted_value(model.survival_draws(n_draws, HORIZON_MONTHS, seed=seed))
                lower, upper = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
                estimate = float(values.mean())
                rows.append({
                    "curve": key, "seed": seed, "averaging": setting, "resolved": averaging, "truth": truth,
                    "estimate": estimate, "lower": float(lower), "upper": float(upper),
                    "covered": bool(lower <= truth <= upper),
                    "unit_profit_error": (MONTHLY_CONTRIBUTION * estimate - acquisition) / (ltv - acquisition) - 1,
                    "holdout_churns": churns,
                    "weights": {name: round(float(w), 3) for name, w in zip(model.families, model.weights)},
                })
    return rows


def main() -> None:
    """``python tests/books.py --seeds 50 --customers 2000 --window 36 --holdout 6``:
    run :func:`coverage_study` and print, per curve and setting, the coverage of the 90%
    interval, its mean width and the mean relative error of the mean unit profit (the
    tables of tests/README.md)."""
    import argparse

    import pandas as pd

    parser = argparse.ArgumentParser(description=main.__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--window", type=int, default=36)
    parser.add_argument("--holdout", type=int, default=6, help="holdout months (0: none, as on a tenure book)")
    args = parser.parse_args()
    rows = pd.DataFrame(coverage_study(range(args.seeds), n_customers=args.customers, window_months=args.window,
                                       holdout_months=args.holdout or None))
    rows["width"] = rows["upper"] - rows["lower"]
    aggregations = dict(coverage=("covered", "mean"), mean_width=("width", "mean"),
                        unit_profit_error=("unit_profit_error", "mean"))
    table = rows.groupby(["averaging", "curve"]).agg(**aggregations)
    overall = rows.groupby("averaging").agg(**aggregations)
    pd.set_option("display.width", 120)
    print(table.to_string(float_format=lambda x: f"{x:.3f}"))
    print(overall.to_string(float_format=lambda x: f"{x:.3f}"))
    default = rows[rows["averaging"] == "default"]
    print("default resolved to:", default["resolved"].value_counts().to_dict(),
          "holdout churns (median):", default["holdout_churns"].median())


if __name__ == "__main__":
    main()
