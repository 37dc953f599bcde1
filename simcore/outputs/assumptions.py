"""The assumptions behind a run, as rows a reader can check: run settings, economics per
segment with where each number came from, and every scenario's levers in words.

Built from what a run directory holds (``manifest.json``, ``config.json``, the
``economics`` table), so the workbook's Assumptions sheet and the report's assumptions
section say the same thing.
"""

from __future__ import annotations

from typing import Any

from simcore.outputs.columns import describe

#: Lever fields that hold a fraction, written as a percentage.
_PERCENT_FIELDS = {"pct", "eligible_share", "discount_rate_annual", "gross_margin_change", "cost_to_serve_change",
                   "cac_change"}


def run_settings(manifest: dict, settings: dict | None) -> list[tuple[str, Any]]:
    """``(item, value)`` rows: what was run, on what, with which seed and versions."""
    settings = settings or {}
    retention = settings.get("retention", {})
    simulation_rows = [
        ("Run name", manifest.get("name")),
        ("Config file", manifest.get("config_file")),
        ("Valuation date (as of)", manifest.get("as_of")),
        ("Customers in the book", manifest.get("customers")),
        ("Segments", ", ".join(map(str, manifest.get("segments", [])))),
        ("Scenarios", ", ".join(map(str, manifest.get("scenarios", [])))),
        ("Horizon (months)", manifest.get("horizon_months")),
        ("Replications", manifest.get("replications")),
        ("Seed", manifest.get("seed")),
        ("Discount rate per year (default)", _percent(settings.get("discount_rate_annual"))),
        ("Currency", manifest.get("currency") or "not given (set economics.currency)"),
        ("Retention family", retention.get("family")),
        ("Retention ranking criterion", retention.get("criterion")),
        ("Parameter uncertainty", retention.get("uncertainty")),
        ("Model averaging", retention.get("model_averaging")),
        ("Marginal when the share of customers losing money exceeds",
         _percent((settings.get("status") or {}).get("marginal_loss_probability"))),
        ("simcore version", manifest.get("simcore_version")),
        ("Python", manifest.get("python")),
        ("Config sha256", manifest.get("config_sha256")),
        ("Data sha256", manifest.get("data_sha256")),
    ]
    if manifest.get("saved_fits"):
        simulation_rows.append(("Retention fits reused from", manifest["saved_fits"]))
    timings = manifest.get("timings_s") or {}
    if timings:
        simulation_rows.append(("Timings (seconds)", ", ".join(f"{k.removesuffix('_s')} {v:g}"
                                                               for k, v in timings.items())))
    return [(item, f"{value:,}" if isinstance(value, int) and item != "Seed" else value)
            for item, value in simulation_rows if value not in (None, "")]


def _percent(value) -> str | None:
    return None if value is None else f"{float(value):.1%}".replace(".0%", "%")


def economics_rows(economics) -> list[dict]:
    """One row per segment and economic input: ``segment``, ``item`` (human), ``value``,
    ``kind`` (money or percent...), ``source`` (where the number came from).

    Parameters
    ----------
    economics : DataFrame
        The run's ``economics`` table: every field beside its ``<field>_from`` column.
    """
    rows = []
    fields = [c for c in economics.columns if f"{c}_from" in economics.columns]
    others = [c for c in economics.columns if c != "segment" and not c.endswith("_from") and c not in fields]
    for record in economics.to_dict(orient="records"):
        for field in [*fields, *others]:
            value = record.get(field)
            source = record.get(f"{field}_from", "derived from data")
            if source == "not given" and _missing(value):
                continue
            column = describe(field)
            rows.append({"segment": record.get("segment"), "item": column.label,
                         "value": value, "kind": column.kind, "source": source})
    return rows


def _missing(value) -> bool:
    import pandas as pd

    return value is None or bool(pd.isna(value))


#: Fractions that are a change (signed: "+10%") rather than a level ("15% off", "40% of").
_SIGNED_FIELDS = {"gross_margin_change", "cost_to_serve_change", "cac_change"}


def _lever_value(key: str, value, parent: str = "") -> str:
    if isinstance(value, dict):
        parts = [f"{k.replace('_', ' ')} {_lever_value(k, v, key)}" for k, v in value.items()
                 if v not in (None, [], {})]
        return "{" + ", ".join(parts) + "}"
    if isinstance(value, list):
        if key == "months" and len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
            return f"{value[0]:g}\u2013{value[1]:g}"
        return ", ".join(_lever_value(key, v, parent) for v in value)
    if isinstance(value, float) and key in _PERCENT_FIELDS:
        # A price change is signed (+10%); a discount's pct is how much is taken off (15%).
        signed = key in _SIGNED_FIELDS or (key == "pct" and parent not in ("discount",))
        return f"{value:+.1%}".replace(".0%", "%") if signed else _percent(value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _lever_defaults() -> dict:
    """What every lever is when a scenario does not set it (a scenario's ``config.json``
    entry lists every lever, set or not)."""
    from simcore.config import ScenarioConfig

    return ScenarioConfig(name="defaults").model_dump(mode="json")


def scenario_levers(settings: dict | None) -> list[dict]:
    """One row per scenario: ``scenario``, ``description``, ``extends`` and ``levers`` (the
    levers it sets, in words: ``price change {pct +10%, from month 3, applies to all}``).
    Levers inherited through ``extends`` are those of the scenario it names."""
    scenarios = (settings or {}).get("scenarios", [])
    defaults = _lever_defaults() if scenarios else {}
    rows = []
    for scenario in scenarios:
        levers = {k: v for k, v in scenario.items()
                  if k not in ("name", "description", "extends") and v not in (None, [], {}) and v != defaults.get(k)}
        rows.append({
            "scenario": scenario.get("name"),
            "description": scenario.get("description") or "",
            "extends": scenario.get("extends") or "",
            "levers": "; ".join(f"{k.replace('_', ' ')}: {_lever_value(k, v)}" for k, v in levers.items()),
        })
    return rows
