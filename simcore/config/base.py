"""Helpers every config section shares: fractions, dates, lists, the strict base model."""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, WithJsonSchema


_PERCENT = re.compile(r"^\s*([+-]?\d+(?:\.\d*)?|[+-]?\.\d+)\s*%\s*$")


#: Largest magnitude of a fraction written as a bare number. ``pct: 10`` almost always
#: means ten percent, not +1000%, so a bare number outside [-1, 1] is refused; a change
#: beyond 100% (a price rise of 150%) is written with its percent sign, ``"150%"``.
BARE_FRACTION_LIMIT = 1.0


def parse_fraction(value: Any) -> Any:
    """``"10%"`` -> 0.10; a bare number is already a fraction and must lie in [-1, 1]
    (see :data:`BARE_FRACTION_LIMIT`). Other text is refused with the accepted forms."""
    if isinstance(value, str):
        match = _PERCENT.match(value)
        if match:
            return float(match.group(1)) / 100.0
        try:
            value = float(value)
        except ValueError:
            raise ValueError(
                f"'{value}' is not a percentage; write it as \"10%\" or 0.10"
            ) from None
    if isinstance(value, bool):
        raise ValueError("expected a percentage such as \"10%\" or 0.10, not true/false")
    if isinstance(value, (int, float)) and math.isfinite(value) and abs(value) > BARE_FRACTION_LIMIT:
        raise ValueError(
            f"{value:g} would be read as {value * 100:,.0f}%; write \"{value:g}%\" for {value:g} percent, "
            f"or \"{value * 100:g}%\" if you really mean {value * 100:,.0f}% (a bare number is a fraction, 0.10 = 10%)"
        )
    return value


_FRACTION_SCHEMA = {
    "anyOf": [
        {"type": "number"},
        {"type": "string", "pattern": r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*%\s*$"},
    ],
    "description": 'A fraction: 0.10 or "10%". A bare number lies between -1 and 1; write larger changes with % ("150%").',
}
Fraction = Annotated[float, BeforeValidator(parse_fraction), WithJsonSchema(_FRACTION_SCHEMA)]
"""A fraction, written in YAML as ``"10%"`` or ``0.10``."""


def _parse_date(value: Any) -> Any:
    """Dates are written ``YYYY-MM-DD``; a number (``20251231``) is refused rather than
    read as seconds since 1970, which is what pydantic would otherwise do."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"'{value}' is not a date; write it as YYYY-MM-DD") from None
    if isinstance(value, (int, float)):
        raise ValueError(f"{value!r} is a number, not a date; write the date as YYYY-MM-DD (e.g. 2025-12-31)")
    return value


IsoDate = Annotated[date, BeforeValidator(_parse_date), WithJsonSchema({"type": "string", "format": "date"})]


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, (str, dict)) else value


class StrictModel(BaseModel):
    """Base of every config section: immutable, unknown keys rejected, and numbers finite
    (``.inf`` or ``.nan`` is never a meaningful price, rate or count)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)
