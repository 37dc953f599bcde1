"""The family registry's declarations: names, labels, parameters, transforms (pure Python).

This module imports nothing but the standard library, so the config schema and the CLI
(whose ``--help`` must stay fast) take their allowed values from here:
``RetentionConfig.family``, the per-segment overrides and ``km_tail``, ``simcore fit
--family`` and the candidates of ``family="auto"`` all derive from :data:`FAMILIES`.

Each declared family is implemented once in :mod:`simcore.retention.families` (closed-form
survival, its gradient, start points, fitting backend); that module refuses to import
when a declaration has no implementation or the other way round, so the two never
disagree.

Transforms map a natural parameter to the unconstrained scale on which families are
fitted, their covariance is held and parameters are drawn: ``"log"`` for a positive
parameter, ``"logit"`` for a fraction, ``"identity"`` otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

LOG = "log"
LOGIT = "logit"
IDENTITY = "identity"

#: Backend of every parametric family: the monthly-grid likelihood, maximised with scipy
#: (:mod:`simcore.retention.grid_fit`).
GRID_BACKEND = "grid_likelihood"
#: Backend of the product-limit estimator (:mod:`simcore.retention.kaplan_meier`).
KAPLAN_MEIER_BACKEND = "product_limit"


@dataclass(frozen=True)
class FamilyInfo:
    """What a family is called and how its parameters are named and transformed.

    Attributes
    ----------
    name : str
        Name used in configs, the CLI and saved fits.
    label : str
        Human name for tables, plots and messages ("Weibull").
    parameters : tuple of str
        Parameter names on the natural scale. The piecewise-exponential family has one
        rate per piece, so its names depend on the breakpoints: this holds the pattern
        ``("lambda_{i}_",)``, expanded by :func:`parameter_names`.
    transforms : tuple of str
        Transform of each parameter to the unconstrained scale (see module notes).
    formula : str
        The survival function ``S(t)``, t in months.
    backend : str
        How the family is fitted.
    in_auto : bool
        Whether ``family="auto"`` ranks it.
    """

    name: str
    label: str
    parameters: tuple[str, ...]
    transforms: tuple[str, ...]
    formula: str
    backend: str = GRID_BACKEND
    in_auto: bool = True


_DECLARATIONS = (
    FamilyInfo("exponential", "exponential", ("lambda_",), (LOG,), "S(t) = exp(-t / lambda)"),
    FamilyInfo("weibull", "Weibull", ("lambda_", "rho_"), (LOG, LOG), "S(t) = exp(-(t / lambda)^rho)"),
    FamilyInfo("lognormal", "log-normal", ("mu_", "sigma_"), (IDENTITY, LOG),
               "S(t) = 1 - Phi((log t - mu) / sigma)"),
    FamilyInfo("loglogistic", "log-logistic", ("alpha_", "beta_"), (LOG, LOG),
               "S(t) = 1 / (1 + (t / alpha)^beta)"),
    FamilyInfo("generalized_gamma", "generalized gamma", ("mu_", "ln_sigma_", "lambda_"),
               (IDENTITY, IDENTITY, IDENTITY),
               "S(t) = Q(k, k exp(lambda z)) for lambda > 0, P(...) for lambda < 0, with "
               "z = (log t - mu) / exp(ln_sigma), k = 1 / lambda^2 (Prentice; lifelines' parameters)"),
    FamilyInfo("piecewise_exponential", "piecewise exponential", ("lambda_{i}_",), (LOG,),
               "constant monthly hazard 1 / lambda_i between breakpoints"),
    FamilyInfo("cure_weibull", "Weibull with a never-churning fraction (mixture cure)",
               ("cured_fraction_", "lambda_", "rho_"), (LOGIT, LOG, LOG),
               "S(t) = c + (1 - c) exp(-(t / lambda)^rho)"),
    FamilyInfo("sbg", "shifted-beta-geometric (sBG)", ("alpha", "beta"), (LOG, LOG),
               "S(t) = B(alpha, beta + t) / B(alpha, beta) (Fader & Hardie 2007)"),
    FamilyInfo("two_class_geometric", "two-class geometric (a loyal class and a churnier class)",
               ("loyal_churn_", "loyal_share_", "extra_churn_"), (LOGIT, LOGIT, LOGIT),
               "S(t) = w (1 - p)^t + (1 - w) ((1 - p)(1 - q))^t: a share w churns with probability p "
               "a month, the rest with 1 - (1 - p)(1 - q) (p = loyal_churn, w = loyal_share, "
               "q = extra_churn)"),
    FamilyInfo("kaplan_meier", "Kaplan-Meier (non-parametric)", (), (),
               "S(t) = prod_{s <= t} (1 - churned_s / at_risk_s)", backend=KAPLAN_MEIER_BACKEND,
               in_auto=False),
)

#: Every family by name, in the order used when ranking ties.
FAMILIES: dict[str, FamilyInfo] = {info.name: info for info in _DECLARATIONS}
#: The non-parametric family (never ranked by AIC/BIC).
KAPLAN_MEIER = "kaplan_meier"
#: Every parametric family.
PARAMETRIC_FAMILIES: tuple[str, ...] = tuple(n for n, info in FAMILIES.items() if info.backend == GRID_BACKEND)
#: Every family, parametric first.
ALL_FAMILIES: tuple[str, ...] = PARAMETRIC_FAMILIES + (KAPLAN_MEIER,)
#: Candidates of ``family="auto"``.
AUTO_FAMILIES: tuple[str, ...] = tuple(n for n in PARAMETRIC_FAMILIES if FAMILIES[n].in_auto)
#: What a config or the CLI may name as the family.
FAMILY_CHOICES: tuple[str, ...] = ("auto",) + ALL_FAMILIES

#: Ranking criteria of ``family="auto"``.
CRITERIA = ("aic", "bic", "holdout")
#: How parameter uncertainty is drawn (see :mod:`simcore.retention.conditioning`).
UNCERTAINTY_METHODS = ("auto", "asymptotic", "bootstrap")
#: How families are mixed across replications (see :mod:`simcore.retention.averaging`).
MODEL_AVERAGING_METHODS = ("none", "akaike", "stacking", "tail_stacking")
#: What ``retention.model_averaging`` may say: a method, or ``auto`` (``tail_stacking`` when
#: the segment's holdout saw at least :data:`STACKING_MIN_HOLDOUT_CHURNS` churns, Akaike
#: otherwise).
MODEL_AVERAGING_CHOICES = ("auto",) + MODEL_AVERAGING_METHODS
#: Default of ``retention.model_averaging`` (chosen from the coverage study in tests/README.md).
DEFAULT_MODEL_AVERAGING = "auto"
#: Holdout churns from which ``auto`` trusts stacking weights (coverage study, tests/README.md).
STACKING_MIN_HOLDOUT_CHURNS = 200
#: Holdout length ``retention.holdout_months: auto`` uses on date-shaped monthly books...
AUTO_HOLDOUT_MONTHS = 6
#: ...whose observation window (first signup to as_of) is at least this long.
AUTO_HOLDOUT_MIN_WINDOW_MONTHS = 24


def label(family: str) -> str:
    """Human name of ``family`` ("Weibull"); the name itself when it is not registered."""
    info = FAMILIES.get(family)
    return info.label if info is not None else family


def parameter_names(family: str, n_pieces: int | None = None) -> tuple[str, ...]:
    """Parameter names of ``family``; the piecewise family needs its number of pieces."""
    info = FAMILIES[family]
    if family == "piecewise_exponential":
        if n_pieces is None:
            raise ValueError("piecewise_exponential parameter names depend on the number of pieces")
        return tuple(info.parameters[0].format(i=i) for i in range(n_pieces))
    return info.parameters


def transforms(family: str, n_pieces: int | None = None) -> tuple[str, ...]:
    """Transforms of ``family``'s parameters (one per name of :func:`parameter_names`)."""
    info = FAMILIES[family]
    if family == "piecewise_exponential":
        return info.transforms * len(parameter_names(family, n_pieces))
    return info.transforms


def choices_text(names=ALL_FAMILIES) -> str:
    """``"exponential, weibull, ..."``: for messages that list the valid names."""
    return ", ".join(names)
