"""Numbers as a reader sees them, the same in the console, the report and the plots:
compact money (``88.8k``, ``463.2M``), shares that never round to a false 0% or 100%,
payback months with "never", and an estimate with its interval."""

from __future__ import annotations

import math

#: What a payback that is never reached within the horizon reads as.
NEVER = "never"


def _finite(value) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def money(value, currency: str | None = None, *, signed: bool = False) -> str:
    """Compact money: ``1,942``, ``88.8k``, ``351k``, ``463.2M``, ``1.08B``; empty when
    missing. ``signed`` adds ``+`` to positive amounts (for changes); ``currency`` is
    written after the number."""
    if not _finite(value):
        return ""
    value = float(value)
    size = abs(value)
    if size < 10_000:
        text = f"{value:,.0f}"
    elif size < 100_000:
        text = f"{value / 1e3:,.1f}k"
    elif size < 999_500:
        text = f"{value / 1e3:,.0f}k"
    elif size < 999_950_000:
        text = f"{value / 1e6:,.1f}M"
    else:
        text = f"{value / 1e9:,.2f}B"
    if text.lstrip("-").strip("0.,kMB") == "":
        text = "0"  # a small negative rounds to zero, not to "-0"
    if text.startswith("-"):
        text = "\u2212" + text[1:]  # a true minus sign: reads better, same width
    elif signed and text != "0":
        text = "+" + text
    return f"{text} {currency}" if currency else text


def count(value) -> str:
    """A number of customers (or months, or anything counted): ``12,074``; empty when missing."""
    return f"{float(value):,.0f}" if _finite(value) else ""


def exact_money(value) -> str:
    """Money as an input is written: ``38,000``, ``652.80`` (cents below 1,000); empty when missing."""
    if not _finite(value):
        return ""
    value = float(value)
    return (f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}").replace("-", "\u2212")


def share(value) -> str:
    """A probability or share as a whole percentage, never rounded to a false extreme:
    ``<1%`` and ``>99%`` instead of 0% and 100% when the value is not exactly 0 or 1."""
    if not _finite(value):
        return ""
    value = float(value)
    if 0.0 < value < 0.005:
        return "<1%"
    if 0.995 <= value < 1.0:
        return ">99%"
    return f"{value:.0%}"


def better_in(share_better, low, high) -> str:
    """The share of replications in which a scenario does better, or "unchanged" when
    its change is exactly zero in every replication (a lever that does not touch the
    segment: "better in 0%" would read as a loss)."""
    return "unchanged" if low == 0 and high == 0 else share(share_better)


def months(value, never: bool = False) -> str:
    """Payback months: ``"18"``; :data:`NEVER` for ``inf`` or when ``never`` is true;
    empty when not applicable."""
    if never or (value is not None and _is_posinf(value)):
        return NEVER
    return f"{float(value):,.0f}" if _finite(value) else ""


def _is_posinf(value) -> bool:
    try:
        return float(value) == math.inf
    except (TypeError, ValueError):
        return False


def ratio(value) -> str:
    """``3.7``, ``\u22120.8`` (one decimal, a true minus sign); empty when missing."""
    return f"{float(value):.1f}".replace("-", "\u2212") if _finite(value) else ""


def estimate(mean, lower, upper, currency: str | None = None, *, signed: bool = False) -> str:
    """``88.8k [82.3k .. 96.3k]``: an expected value and its 90% interval."""
    if not _finite(mean):
        return ""
    return (f"{money(mean, signed=signed)} [{money(lower, signed=signed)} .. {money(upper, signed=signed)}]"
            + (f" {currency}" if currency else ""))


def flag(value) -> bool:
    """A nullable yes/no cell as any table format reads it back: true only for a true
    value (``pd.NA``, NaN, None and blanks are false)."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1")
    try:
        return bool(value) and bool(value == value)
    except TypeError:  # pd.NA refuses bool()
        return False
