"""Every ``sensitivity:`` problem, found before any fit and reported at its config line.

Names that must exist (levers named by analyses, the base scenario, stress templates,
segments named by levers and metrics), values an analysis needs (``low`` and ``high``
for a tornado, Sobol or a solve without a range) and what the levers would do to the
numbers at their extreme settings (a gross margin outside [0, 1], expansion plus
contraction probabilities above 1 in some month).
"""

from __future__ import annotations

import difflib

from pydantic import ValidationError

from simcore.config import BASELINE
from simcore.config.sensitivity import ALL_SEGMENTS
from simcore.errors import ConfigError, Problem


def _where(config, *path) -> dict:
    dotted = ".".join(str(p) for p in ("sensitivity", *path))
    return {"source": config.source, "line": config.line_of("sensitivity", *path), "field": dotted}


def _unknown(kind: str, name: str, known) -> tuple[str, str]:
    close = difflib.get_close_matches(str(name), list(known), n=1)
    return (f"no {kind} named '{name}'",
            f"did you mean '{close[0]}'?" if close else f"{kind}s are: {', '.join(map(str, known)) or 'none'}")


def base_scenario(config):
    """The effective scenario the sweeps start from (a name, or levers given inline)."""
    from simcore.scenarios import effective_scenario

    base = config.sensitivity.base
    return effective_scenario(config, base) if isinstance(base, str) else base


def ranged(section) -> list[str]:
    """Levers with both ``low`` and ``high``."""
    return [name for name, lever in section.levers.items() if lever.low is not None and lever.high is not None]


def check_sensitivity(config, segments: list[str], economics: dict | None = None, dynamics: dict | None = None,
                      only: str | None = None) -> None:
    """Raise one :class:`ConfigError` with every problem of ``config.sensitivity``."""
    from simcore.sensitivity.levers import apply_lever
    from simcore.sensitivity.stress import BUILT_IN

    section = config.sensitivity
    problems: list[Problem] = []
    if section is None:
        raise ConfigError(Problem("the config has no sensitivity: section",
                                  "add sensitivity: with levers and the analyses to run (see the README)",
                                  source=config.source))
    scenario_names = [s.name for s in config.scenarios]
    if isinstance(section.base, str) and section.base != BASELINE and section.base not in scenario_names:
        problems.append(Problem(*_unknown("scenario", section.base, [BASELINE, *scenario_names]),
                                **_where(config, "base")))
    levers = section.levers
    with_range = ranged(section)

    def lever_ref(name, *path, need_range=False):
        if name not in levers:
            problems.append(Problem(*_unknown("lever", name, levers), **_where(config, *path)))
        elif need_range and name not in with_range:
            problems.append(Problem(f"lever '{name}' needs low and high here", f"add low: and high: to {name}",
                                    **_where(config, "levers", name)))

    def metric_ref(metric, *path):
        if metric is not None and metric.segment != ALL_SEGMENTS and metric.segment not in segments:
            problems.append(Problem(*_unknown("segment", metric.segment, segments), **_where(config, *path, "segment")))

    metric_ref(section.metric, "metric")
    for name, lever in levers.items():
        for segment in lever.segments or ():
            if segment not in segments:
                problems.append(Problem(*_unknown("segment", segment, segments),
                                        **_where(config, "levers", name, "segments")))
    if section.tornado is not None:
        for i, name in enumerate(section.tornado.levers or with_range):
            lever_ref(name, "tornado", "levers", i, need_range=True)
        for i, metric in enumerate(section.tornado.metrics or ()):
            metric_ref(metric, "tornado", "metrics", i)
        if not (section.tornado.levers or with_range):
            problems.append(Problem("the tornado has no lever with low and high", "add low: and high: to levers",
                                    **_where(config, "tornado")))
    for i, grid in enumerate(section.grids):
        for axis in ("x", "y"):
            name = getattr(grid, axis)
            if name is None:
                continue
            lever_ref(name, "grids", i, axis)
            if name in levers and not levers[name].values and name not in with_range:
                problems.append(Problem(f"grid '{grid.name}' needs values, or low and high, of lever '{name}'",
                                        f"add values: [...] or low:/high: to {name}", **_where(config, "grids", i, axis)))
        metric_ref(grid.metric, "grids", i, "metric")
    solves = [("solve", i, s) for i, s in enumerate(section.solve)]
    if section.stress is not None:
        solves += [("stress", i, s) for i, s in enumerate(section.stress.reverse)]
        library = {t.name for t in section.stress.library}
        known = [*BUILT_IN, *library, *scenario_names]
        for i, name in enumerate(section.stress.templates):
            if name not in known:
                problems.append(Problem(*_unknown("stress template", name, known),
                                        **_where(config, "stress", "templates", i)))
    for where, i, solve in solves:
        path = (where, i) if where == "solve" else ("stress", "reverse", i)
        lever_ref(solve.lever, *path, "lever", need_range=solve.range is None)
        metric_ref(solve.metric, *path, "metric")
    if section.sobol is not None:
        names = section.sobol.levers or with_range
        for i, name in enumerate(names):
            lever_ref(name, "sobol", "levers", i, need_range=True)
        if len(names) < 2:
            problems.append(Problem("Sobol indices need at least two levers with low and high",
                                    "list two or more levers", **_where(config, "sobol")))
        if section.sobol.samples & (section.sobol.samples - 1):
            problems.append(Problem(f"samples {section.sobol.samples} is not a power of two",
                                    "use 32, 64, 128, ... (a Sobol' sequence is balanced at powers of two)",
                                    **_where(config, "sobol", "samples")))
        metric_ref(section.sobol.metric, "sobol", "metric")
    if economics is not None and not problems:
        from simcore.scenarios import lever_problems

        base = base_scenario(config)
        for name, lever in levers.items():
            settings = [v for v in (lever.low, lever.high, *(lever.values or ())) if v is not None]
            for value in sorted(set(settings)):
                try:
                    point = apply_lever(base, lever, value)
                except ValidationError as error:
                    problems.append(Problem(f"lever '{name}' at {value:g}: {error.errors()[0]['msg']}",
                                            "change the lever's values", **_where(config, "levers", name)))
                    continue
                for message, hint, _ in lever_problems(point, segments, config.horizon_months, economics, dynamics):
                    problems.append(Problem(f"lever '{name}' at {value:g} {message}", hint,
                                            **_where(config, "levers", name)))
    if problems:
        raise ConfigError(list(dict.fromkeys(problems)))
