"""JSON every parser accepts: no NaN or infinities, numpy values as plain numbers, and
no credentials (every text passes :func:`simcore.errors.redact`)."""

from __future__ import annotations

import json
import math


def strict_json(value):
    """``value`` with NaN and infinities replaced by None and numpy scalars and arrays as
    Python values, so ``json.dumps(..., allow_nan=False)`` gives JSON every parser
    accepts (jq, JavaScript)."""
    import numpy as np

    from simcore.errors import redact

    if isinstance(value, dict):
        return {redact(str(k)): strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return [strict_json(v) for v in value.tolist()]
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, (int, bool)) or value is None:
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return redact(str(value))


def dumps(value, *, indent: int | None = 2) -> str:
    """Strict JSON text of ``value`` (see :func:`strict_json`)."""
    return json.dumps(strict_json(value), indent=indent, allow_nan=False)
