"""Lazy attributes of a package: names resolved from their module on first use, so that
importing the package stays cheap (PEP 562 module ``__getattr__``)."""

from __future__ import annotations

import importlib
from typing import Callable


def lazy_getattr(package: str, table: dict[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` serving ``name`` from ``table[name]``, the module that
    defines it."""
    def __getattr__(name: str):
        if name in table:
            return getattr(importlib.import_module(table[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
