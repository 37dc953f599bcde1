"""The report's sections: a registry of functions from a run directory to HTML.

Each :class:`Section` has an anchor, a heading and ``render(run) -> str | None``; a
section that has nothing to show (its files are absent) returns ``None`` and is left
out, heading and all. The report shows the registered sections in order.

Analyses that write into the run directory add their own section with
:func:`register_section`. Until they do, the sections for sensitivity analysis and
backtests show the tables and plots those analyses write, found by file name (see
:data:`ANALYSIS_FILES`), and nothing when there are none. The customer-success section
is :func:`simcore.cs.section.render`, from the files ``simcore plan-cs`` writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from simcore.outputs.numbers import better_in, count, estimate, exact_money, flag, money, months, ratio, share
from simcore.report import html
from simcore.report.run_directory import RunDirectory, read_table

TOTAL = "(all segments)"

#: File names (glob patterns, in the run directory) of analyses that have no section of
#: their own yet: their tables (CSV) and figures (PNG under ``plots/``).
ANALYSIS_FILES = {
    "sensitivity": ("sensitivity*.csv", "tornado*.csv", "grid*.csv", "sobol*.csv", "stress*.csv",
                    "plots/sensitivity*.png", "plots/tornado*.png", "plots/grid*.png", "plots/sobol*.png",
                    "plots/stress*.png", "plots/fan_*.png"),
    "backtest": ("backtest*.csv", "plots/backtest*.png"),
}


@dataclass(frozen=True)
class Section:
    """One section of the report.

    Attributes
    ----------
    anchor : str
        Id of the section in the page (``#scenarios``).
    heading : str
    render : callable
        ``render(run: RunDirectory) -> str | None``: the section's HTML, or ``None`` when
        the run holds nothing for it.
    """

    anchor: str
    heading: str
    render: Callable[[RunDirectory], str | None]


def _figures(run: RunDirectory, group: str, key: str | None = None) -> str:
    return "".join(html.figure(run.png(spec), spec.title, spec.caption) for spec in run.figures_of(group, key))


# ----------------------------------------------------------------------- sections


def executive_summary(run: RunDirectory) -> str | None:
    from simcore.report.summary import executive_summary as sentences, to_html

    summary = run.table("segment_summary")
    if summary is None or not len(summary):
        return None
    blocks = sentences(summary, run.table("scenario_comparison"), manifest=run.manifest, settings=run.settings)
    return to_html(blocks)


def _new_rows(summary):
    new = summary[summary["population"] == "new"]
    return new[new["segment"] != TOTAL].sort_values("segment"), new[new["segment"] == TOTAL]


def segments(run: RunDirectory) -> str | None:
    summary = run.table("segment_summary")
    if summary is None or not len(summary):
        return None
    currency = run.currency
    segment_rows, total = _new_rows(summary)
    rows, totals = [], []
    for i, row in enumerate([*segment_rows.to_dict("records"), *total.to_dict("records")]):
        name = "all segments (blended)" if row["segment"] == TOTAL else row["segment"]
        rows.append([name, html.status_badge(row.get("status", "")),
                     estimate(row.get("unit_profit_mean"), row.get("unit_profit_mean_lower_90"),
                              row.get("unit_profit_mean_upper_90")),
                     estimate(row.get("ltv_mean"), row.get("ltv_mean_lower_90"), row.get("ltv_mean_upper_90")),
                     money(row.get("cac")), ratio(row.get("ltv_to_cac")),
                     months(row.get("payback_months_p50"), never=flag(row.get("payback_never"))),
                     share(row.get("p_unit_profit_negative")), count(row.get("customers"))])
        if row["segment"] == TOTAL:
            totals.append(i)
    unit = f" ({currency})" if currency else ""
    out = ["<h3>New customers</h3>",
           html.table(rows, ["Segment", "Status", f"Unit profit, expected [90%]{unit}", f"LTV, expected [90%]{unit}",
                             f"CAC{unit}", "LTV:CAC", "Payback (months)", "Losing money", "New customers"],
                      numeric=[False, False, True, True, True, True, True, True, True],
                      raw=[False, True] + [False] * 7, total_rows=totals),
           '<p class="note">Unit profit = LTV \u2212 CAC \u2212 onboarding per new customer, expected over '
           "customers and replications, with its 90% interval across replications. Losing money = share of new "
           "customers whose unit profit is below zero. Payback = median month in which contribution repays CAC "
           "and onboarding.</p>",
           _figures(run, "unit_profit"), _figures(run, "ltv_cac")]
    existing = summary[summary["population"] == "existing"]
    if len(existing):
        rows = [["all segments" if r["segment"] == TOTAL else r["segment"], html.status_badge(r.get("status", "")),
                 count(r.get("customers")),
                 estimate(r.get("total_value_mean"), r.get("total_value_mean_lower_90"),
                          r.get("total_value_mean_upper_90")),
                 estimate(r.get("ltv_mean"), r.get("ltv_mean_lower_90"), r.get("ltv_mean_upper_90"))]
                for r in existing.to_dict("records")]
        out += ["<h3>Existing customers</h3>",
                html.table(rows, ["Segment", "Status", "Customers", f"Remaining value, expected [90%]{unit}",
                                  f"Per customer [90%]{unit}"], numeric=[False, False, True, True, True],
                           raw=[False, True, False, False, False],
                           total_rows=[i for i, r in enumerate(existing.to_dict("records")) if r["segment"] == TOTAL]),
                '<p class="note">Existing customers were acquired already: their value is the contribution still to '
                "come, discounted to the start.</p>"]
    return "".join(out)


def scenarios(run: RunDirectory) -> str | None:
    comparison = run.table("scenario_comparison")
    if comparison is None or not len(comparison):
        return None
    from simcore.outputs.assumptions import scenario_levers

    levers = {row["scenario"]: row for row in scenario_levers(run.settings)}
    out = [_figures(run, "scenarios")]
    for scenario, rows in comparison.groupby("scenario", sort=False):
        out.append(f"<h3>{html.esc(scenario)}</h3>")
        lever = levers.get(scenario)
        if lever:
            text = html.esc(lever["description"]) if lever["description"] else ""
            out.append(f"<p>{text}</p><p class=\"note\">Levers: {html.esc(lever['levers'] or 'none')}"
                       + (f"; starts from {html.esc(lever['extends'])}" if lever["extends"] else "") + ".</p>")
        table_rows = []
        for r in rows.to_dict("records"):
            css = html.signed_class(r["delta_p5"], r["delta_p95"])
            change = f'<span class="{css}">{html.esc(money(r["delta_mean"], signed=True))}</span>' if css else \
                html.esc(money(r["delta_mean"], signed=True))
            table_rows.append(["total" if r["segment"] == TOTAL else r["segment"], money(r["baseline_value_mean"]),
                               money(r["scenario_value_mean"]), change,
                               f"{money(r['delta_p5'], signed=True)} .. {money(r['delta_p95'], signed=True)}",
                               better_in(r["p_delta_positive"], r["delta_p5"], r["delta_p95"])])
        totals = [i for i, r in enumerate(rows.to_dict("records")) if r["segment"] == TOTAL]
        out.append(html.table(table_rows, ["Segment", "Baseline value", "Scenario value", "Change, expected",
                                           "Change, P5 .. P95", "Better in"],
                              numeric=[False, True, True, True, True, True], raw=[False, False, False, True, False, False],
                              total_rows=totals))
        out.append(_figures(run, "waterfall", scenario))
        out.append(_figures(run, "projection", scenario))
    return "".join(out)


def baseline_projection(run: RunDirectory) -> str | None:
    """The baseline's fan charts, when the run has no scenario to show them beside."""
    figures = _figures(run, "projection", "baseline")
    return figures or None


def retention(run: RunDirectory) -> str | None:
    fits = run.table("fits")
    if fits is None or not len(fits):
        return None
    from simcore.retention.names import label

    rows = [[r["segment"], label(str(r["family"])), months(r.get("median_lifetime_months")), share(r.get("S_12")),
             share(r.get("S_24")), share(r.get("S_60")), count(r.get("n_customers")), count(r.get("n_events")),
             str(r.get("model_averaging", "")), str(r.get("uncertainty", ""))] for r in fits.to_dict("records")]
    out = [html.table(rows, ["Segment", "Family (best by the criterion)", "Median lifetime (months)", "S(12)", "S(24)",
                             "S(60)", "Customers fitted", "Churned", "Model averaging", "Parameter uncertainty"],
                      numeric=[False, False, True, True, True, True, True, True, False, False]),
           '<p class="note">S(t) = share of customers still active after t months. With model averaging, each '
           "replication draws a family by its weight, then that family's parameters; with tail_stacking the curve "
           "is continued past the last observed month by the tail of a family drawn by its stacking weight. The "
           "bold curve in each figure is the model used, the shaded band the 90% band of the curves drawn.</p>"]
    out.append(_figures(run, "retention"))
    return "".join(out)


def _analysis(kind: str) -> Callable[[RunDirectory], str | None]:
    """A section showing the tables and plots of one analysis, or ``None`` without them."""
    def render(run: RunDirectory) -> str | None:
        files = run.files(*ANALYSIS_FILES[kind])
        if not files:
            return None
        out = []
        for path in files:
            if path.suffix == ".png":
                out.append(html.figure(path.read_bytes(), path.stem.replace("_", " "), ""))
            else:
                out.append(f"<h3>{html.esc(path.name)}</h3>")
                out.append(html.frame_table(read_table(path), limit=50))
        return "".join(out)

    render.__name__ = f"{kind}_files"
    render.__doc__ = f"The {kind.replace('_', ' ')} tables and plots in the run directory, if any."
    return render


def sensitivity(run: RunDirectory) -> str | None:
    """Tornado, grids, solves, Sobol' indices and stress tests (``simcore sensitivity``),
    else the sensitivity files found by name, else nothing."""
    from simcore.sensitivity.section import render

    return render(run) or _analysis("sensitivity")(run)


def cs_plan(run: RunDirectory) -> str | None:
    """The customer-success plan (``simcore plan-cs``), when the directory holds one."""
    from simcore.cs.section import render

    return render(run)


def assumptions(run: RunDirectory) -> str | None:
    from simcore.outputs.assumptions import economics_rows, run_settings, scenario_levers

    out = ["<h3>Run</h3>", html.table([[k, v] for k, v in run_settings(run.manifest, run.settings)],
                                      ["Item", "Value"])]
    economics = run.table("economics")
    if economics is not None and len(economics):
        rows = []
        for row in economics_rows(economics):
            value = row["value"]
            shown = share(value) if row["kind"] == "percent" else exact_money(value) if row["kind"] == "money" else \
                (f"{value:,.4g}" if isinstance(value, float) else value)
            rows.append([row["segment"], row["item"], shown, row["source"]])
        out += ["<h3>Economics per segment, and where each number came from</h3>",
                html.table(rows, ["Segment", "Item", "Value", "Where it came from"],
                           numeric=[False, False, True, False])]
    levers = scenario_levers(run.settings)
    if levers:
        out += ["<h3>Scenario levers</h3>",
                html.table([[r["scenario"], r["description"], r["extends"], r["levers"]] for r in levers],
                           ["Scenario", "Description", "Starts from", "Levers"])]
    return "".join(out)


def data_quality(run: RunDirectory) -> str | None:
    warnings = run.warnings
    if warnings is None:
        return None
    if not warnings:
        return "<p>The data and the fits raised no warning.</p>"
    items = "".join(f"<li>{html.esc(w.get('text') or w.get('message'))}</li>" for w in warnings)
    return (f"<p>{len(warnings)} warning{'s' if len(warnings) != 1 else ''} from loading the data, the economics and "
            f"the fits; none stopped the run.</p><ul class=\"warnings\">{items}</ul>")


def _manifest_value(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return "" if value is None else str(value)


def manifest(run: RunDirectory) -> str | None:
    data = run.manifest
    rows = [[key, _manifest_value(value)] for key, value in data.items() if key != "files"]
    out = html.table(rows, ["Field", "Value"])
    files = data.get("files") or []
    if files:
        out += (f"<details><summary>{len(files)} files in the run directory</summary><p class=\"mono\">"
                + "<br>".join(html.esc(f) for f in files) + "</p></details>")
    return out


#: The report's sections, in order. Extend with :func:`register_section`.
SECTIONS: list[Section] = [
    Section("summary", "Executive summary", executive_summary),
    Section("segments", "Segments", segments),
    Section("scenarios", "Scenarios", scenarios),
    Section("projection", "Baseline projection", baseline_projection),
    Section("retention", "Retention", retention),
    Section("sensitivity", "Sensitivity", sensitivity),
    Section("cs-plan", "Customer-success plan", cs_plan),
    Section("backtest", "Backtest", _analysis("backtest")),
    Section("assumptions", "Assumptions", assumptions),
    Section("data-quality", "Data quality", data_quality),
    Section("manifest", "Manifest", manifest),
]


def register_section(section: Section, *, before: str | None = None, replace: bool = True) -> None:
    """Add ``section`` to :data:`SECTIONS`: in place of the section with the same anchor
    (``replace``), else before the section anchored ``before``, else before the
    assumptions."""
    anchors = [s.anchor for s in SECTIONS]
    if replace and section.anchor in anchors:
        SECTIONS[anchors.index(section.anchor)] = section
        return
    target = before or "assumptions"
    SECTIONS.insert(anchors.index(target) if target in anchors else len(SECTIONS), section)
