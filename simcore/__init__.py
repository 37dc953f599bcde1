"""simcore: scenario simulation of customer unit economics per segment.

Importing the package is cheap: heavy dependencies (numba, lifelines, matplotlib)
are imported by the submodules that need them, never here.
"""

from simcore._version import __version__

__all__ = ["__version__"]
