"""The report's sensitivity section, read back from the files ``simcore sensitivity`` writes.

:func:`render` returns ``None`` for a directory without sensitivity tables, so the
report leaves the section out; ``simcore report`` on a sensitivity directory (or
``simcore sensitivity --report``) shows it.
"""

from __future__ import annotations

from simcore.outputs.numbers import money
from simcore.report import html


def _number(value, money_like: bool) -> str:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return ""
    if value != value:
        return ""
    return money(value, signed=True) if money_like else f"{value:+,.3g}"


def _is_money(metric: str) -> bool:
    return not str(metric).startswith(("ltv_to_cac", "payback", "active"))


def change_text(value, metric: str) -> str:
    """A change of ``metric`` as read: ``+80.0M`` for money, ``+0.312`` otherwise."""
    return _number(value, _is_money(metric))


def error_text(value, metric: str) -> str:
    """A Monte Carlo error in the metric's units (``±108k``); ``exact`` when the change
    moves no random quantity (a CAC change), whose error is only rounding."""
    value = abs(float(value))
    if value != value:
        return ""
    if value < 1e-6:
        return "exact"
    return "±" + (money(value) if _is_money(metric) else f"{value:,.3g}")


def solve_text(row) -> str:
    """A solve's value and 90% interval as lever settings, flagged at the range's end."""
    if str(row.found) != "True":
        return "not reached within the range"
    text = f"{row.setting} {row.interval_90_setting}"
    if str(row.interval_open) == "True":
        text += " (open)"
    if str(row.at_range_end) == "True":
        text += " - at the end of the range searched: the best may lie beyond it"
    implied = getattr(row, "implied_cac", None)
    try:
        if implied is not None and float(implied) == float(implied):
            text += f" (CAC {money(float(implied))})"
    except (TypeError, ValueError):
        pass
    return text


def _figure(run, name: str, title: str, caption: str = "") -> str:
    path = run.path / "plots" / name
    return html.figure(path.read_bytes(), title, caption) if path.is_file() else ""


def render(run) -> str | None:
    """The section's HTML, or ``None`` when ``run`` holds no sensitivity tables."""
    from simcore.outputs.charts import file_safe

    if run.manifest.get("command") != "sensitivity":
        return None
    tornado, grids, solves = (run.table(f"sensitivity_{n}") for n in ("tornado", "grid", "solve"))
    sobol, stress = run.table("sensitivity_sobol"), run.table("sensitivity_stress")
    if all(t is None for t in (tornado, grids, solves, sobol, stress)):
        return None
    out = [f'<p class="note">Every sweep point simulated with the same seed and {run.manifest.get("replications")} '
           "replications (common random numbers): each change is a paired difference, shown with its Monte Carlo "
           f"error. Sweeps start from the scenario '{html.esc(run.manifest.get('base', 'baseline'))}'.</p>"]
    if tornado is not None:
        for metric, rows in tornado.groupby("metric", sort=False):
            out.append(f"<h3>Tornado: {html.esc(rows.iloc[0].metric_label)}</h3>")
            body = [[int(r.rank), r.lever_label, f"{r.low_setting} .. {r.high_setting}",
                     f"{change_text(r.low_delta_mean, metric)} {error_text(r.low_delta_mc_error, metric)}",
                     f"{change_text(r.high_delta_mean, metric)} {error_text(r.high_delta_mc_error, metric)}",
                     f"{change_text(r.swing_mean, metric)} {error_text(r.swing_mc_error, metric)}"]
                    for r in rows.itertuples()]
            out.append(html.table(body, ["Rank", "Lever", "Low .. high", "Change at low", "Change at high",
                                         "Swing (high \u2212 low)"], numeric=[True, False, False, True, True, True]))
            out.append(_figure(run, f"sensitivity_tornado_{file_safe(metric)}.png", "Tornado"))
    if grids is not None:
        for name in dict.fromkeys(grids["grid"]):
            out.append(f"<h3>Grid: {html.esc(name)}</h3>")
            out.append(_figure(run, f"sensitivity_grid_{file_safe(name)}.png", str(name)))
    if solves is not None:
        out.append("<h3>Solves and reverse stress tests</h3>")
        body = [[r.solve, r.lever, r.metric_label, "maximise" if r.goal == "maximise" else f"= {r.target:g}",
                 solve_text(r), f"{float(r.mc_error):.3g}" if str(r.found) == "True" else ""]
                for r in solves.itertuples()]
        out.append(html.table(body, ["Solve", "Lever", "Metric", "Goal",
                                     "Value [90% interval of per-replication solves]",
                                     "Monte Carlo error of the value"]))
        for r in solves.itertuples():
            out.append(_figure(run, f"sensitivity_solve_{file_safe(r.solve)}.png", str(r.solve)))
    if sobol is not None:
        out.append("<h3>Sobol' indices</h3>")
        body = [[r.lever, f"{r.first_order:.3f} [{r.first_order_lower_90:.3f} .. {r.first_order_upper_90:.3f}]",
                 f"{r.total:.3f} [{r.total_lower_90:.3f} .. {r.total_upper_90:.3f}]"] for r in sobol.itertuples()]
        out.append(html.table(body, ["Lever", "First order [90%]", "Total [90%]"]))
        out.append(_figure(run, "sensitivity_sobol.png", "Sobol' indices"))
    if stress is not None:
        out.append("<h3>Stress templates</h3>")
        body = [[r.template, r.description, f"{money(r.delta_mean, signed=True)} ({error_text(r.delta_mc_error, getattr(r, 'metric', 'total_value'))})",
                 f"{money(r.delta_p5, signed=True)} .. {money(r.delta_p95, signed=True)}",
                 f"{float(r.p_cumulative_cash_negative):.0%}"]
                for r in stress.itertuples() if r.template != "base"]
        out.append(html.table(body, ["Template", "Levers", "Change of the metric", "P5 .. P95",
                                     "P(cumulative cash < 0)"]))
        for r in stress.itertuples():
            if r.template != "base":
                out.append(_figure(run, f"sensitivity_stress_{file_safe(r.template)}.png", str(r.template)))
    return "".join(out)
