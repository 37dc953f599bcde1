"""simcore: scenario simulation of customer unit economics per segment.

The public API::

    import simcore

    project = simcore.Project.from_config("config.yaml")        # or Project.from_frame(df, columns=...)
    project.segments().table                                   # customers per segment
    project.fit().table                                        # retention per segment
    run = project.simulate(replications=200, seed=7)           # baseline + scenarios
    run.segment_summary, run.scenario_comparison, run.projection
    run.write("runs/q3", formats=["csv", "xlsx"])

Importing the package is cheap: heavy dependencies (pandas, numba, scipy, matplotlib)
load with the first step that needs them.
"""

from __future__ import annotations

from simcore._lazy import lazy_getattr
from simcore._version import __version__

_LAZY = {
    "Project": "simcore.project",
    "Config": "simcore.config",
    "load_config": "simcore.config",
    "SegmentsResult": "simcore.results",
    "ValidationResult": "simcore.results",
    "FitResult": "simcore.results",
    "RunResult": "simcore.results",
    "Economics": "simcore.economics",
    "SimcoreError": "simcore.errors",
    "ConfigError": "simcore.errors",
    "DataError": "simcore.errors",
    "FitError": "simcore.errors",
    "OutputError": "simcore.errors",
    "Problem": "simcore.errors",
}

__all__ = ["__version__", *sorted(_LAZY)]


__getattr__ = lazy_getattr(__name__, _LAZY)



def __dir__() -> list[str]:
    return sorted(__all__)
