"""Helpers every config section shares: fractions, dates, lists, the strict base model."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, WithJsonSchema


_PERCENT = re.compile(r"^\s*([+-]?\d+(?:\.\d*)?|[+-]?\.\d+)\s*%\s*$")


def parse_fraction(value: Any) -> Any:
    """``"10%"`` -> 0.10; numbers pass through (already fractions). Other text is left for
    pydantic to reject with its usual message."""
    if isinstance(value, str):
        match = _PERCENT.match(value)
        if match:
            return float(match.group(1)) / 100.0
        try:
            return float(value)
        except ValueError:
            raise ValueError(
                f"'{value}' is not a percentage; write it as \"10%\" or 0.10"
            ) from None
    if isinstance(value, bool):
        raise ValueError("expected a percentage such as \"10%\" or 0.10, not true/false")
    return value


_FRACTION_SCHEMA = {
    "anyOf": [
        {"type": "number"},
        {"type": "string", "pattern": r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*%\s*$"},
    ],
    "description": 'A fraction: 0.10 or "10%".',
}
Fraction = Annotated[float, BeforeValidator(parse_fraction), WithJsonSchema(_FRACTION_SCHEMA)]
"""A fraction, written in YAML as ``"10%"`` or ``0.10``."""


def _parse_date(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"'{value}' is not a date; write it as YYYY-MM-DD") from None
    return value


IsoDate = Annotated[date, BeforeValidator(_parse_date), WithJsonSchema({"type": "string", "format": "date"})]


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, (str, dict)) else value


class StrictModel(BaseModel):
    """Base of every config section: immutable, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
