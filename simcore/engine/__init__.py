"""Monte Carlo engine: compile a scenario into plain arrays, simulate, summarise.

Importing this package is cheap and never imports numba: the kernels are loaded when
:func:`simulate` (or :func:`warm_up`) first needs them. Before that happens this module
points numba's on-disk cache at the user cache directory (``~/.cache/simcore/numba``,
or ``$XDG_CACHE_HOME/simcore/numba``) unless ``NUMBA_CACHE_DIR`` is already set, so the
kernels compile once per machine rather than once per run. It also asks OpenMP's idle
worker threads to wait passively (``OMP_WAIT_POLICY=PASSIVE``, unless already set): on
a machine shared with other jobs, spinning workers slow the working ones down.

The first run on a machine compiles the kernels, which takes tens of seconds. A caller
that talks to a user (the CLI) asks :func:`compile_status` and, when it answers
``"needs_compile"``, prints a note such as "compiling simulation kernels (first run
only)..." before calling :func:`warm_up` or :func:`simulate`.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Literal

if TYPE_CHECKING:  # pragma: no cover - typing only
    from simcore.engine.api import SimulationResult, StatusThresholds, simulate
    from simcore.engine.compile import CompiledBook, CompiledSegment, compile_book
    from simcore.engine.levers import ScenarioLevers
    from simcore.engine.protocols import MrrDynamics, SurvivalModel


def default_cache_dir() -> Path:
    """The user cache directory for compiled kernels (``<cache home>/simcore/numba``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "simcore" / "numba"


# numba reads NUMBA_CACHE_DIR when it is first imported, so the default must be in the
# environment before any kernel module is loaded.
os.environ.setdefault("NUMBA_CACHE_DIR", str(default_cache_dir()))
# numba's OpenMP threading layer lets idle worker threads spin between parallel regions
# by default. On a machine shared with other processes the spinning thread takes the CPU
# from the one doing the work: the demo book's simulation ran 2.5 times slower on 2
# threads than on 1 while other jobs ran (16 s against 6.4 s; 6.4 s when waiting
# passively). Waiting passively costs a wake-up per parallel region, microseconds. The
# OpenMP runtime reads this when numba first starts its threads; a value the user set
# wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

_KERNEL_MODULES = ("rng.py", "kernels.py", "accumulators.py")
_loaded = False

_LAZY = {
    "simulate": "simcore.engine.api",
    "SimulationResult": "simcore.engine.api",
    "StatusThresholds": "simcore.engine.api",
    "ScenarioLevers": "simcore.engine.levers",
    "compile_book": "simcore.engine.compile",
    "compile_segment": "simcore.engine.compile",
    "CompiledBook": "simcore.engine.compile",
    "CompiledSegment": "simcore.engine.compile",
    "expected_values": "simcore.engine.expected",
    "MrrDynamics": "simcore.engine.protocols",
    "SurvivalModel": "simcore.engine.protocols",
}

__all__ = sorted(_LAZY) + ["compile_status", "default_cache_dir", "warm_up"]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'simcore.engine' has no attribute {name!r}")


def _kernel_fingerprint() -> str:
    """Hash of the kernel sources and the numba version: a cache built for another
    version of either is recompiled."""
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for name in _KERNEL_MODULES:
        digest.update((here / name).read_bytes())
    try:
        from importlib.metadata import version

        digest.update(version("numba").encode())
    except Exception:  # pragma: no cover - numba metadata missing
        pass
    return digest.hexdigest()[:16]


def _marker_path() -> Path:
    return Path(os.environ["NUMBA_CACHE_DIR"]) / f"simcore-kernels-{_kernel_fingerprint()}.ok"


def compile_status() -> Literal["ready", "cached", "needs_compile"]:
    """Whether running the engine now will compile its kernels first.

    Returns
    -------
    ``"ready"`` when the kernels are already loaded in this process, ``"cached"`` when
    a compiled copy for these sources is in the cache directory, ``"needs_compile"``
    otherwise (expect a one-off delay of tens of seconds).
    """
    if _loaded:
        return "ready"
    return "cached" if _marker_path().exists() else "needs_compile"


def warm_up(on_compile: Callable[[], None] | None = None) -> str:
    """Load (compiling if needed) every kernel by running it on a tiny input.

    Parameters
    ----------
    on_compile
        Called once, before any work, when :func:`compile_status` says the kernels
        need compiling — the place for a caller to tell its user.

    Returns
    -------
    The status before warming up (see :func:`compile_status`).
    """
    global _loaded
    status = compile_status()
    if status == "ready":
        return status
    if status == "needs_compile" and on_compile is not None:
        on_compile()
    from simcore.engine import kernels

    kernels.exercise()
    _loaded = True
    try:
        marker = _marker_path()
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:  # a read-only cache only costs a recompile next time
        pass
    return status
