"""The executive summary: the run's answer in sentences, written from its tables.

Which segments make or lose money on a new customer, by how much and how sure (the
expected unit profit, its 90% interval across replications, the share of customers
losing money); what the blended average says and what it hides; what the existing base
is worth; each scenario's effect. Every number comes from ``segment_summary`` and
``scenario_comparison``; nothing is written that the tables do not say.

Sentences are lists of *spans*: plain text, or ``("status", word)``, ``("strong", text)``,
``("gain", text)``, ``("loss", text)`` for words the page styles. :func:`to_html`
escapes every span; :func:`to_text` gives the plain text (for tests and logs).
"""

from __future__ import annotations

import math

from simcore.outputs.numbers import NEVER, flag, money, months, ratio, share
from simcore.report.html import esc, status_badge

TOTAL = "(all segments)"
#: Below this many replications the summary says that interval ends are rough.
FEW_REPLICATIONS = 500


def _finite(value) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _interval(row, prefix: str, signed: bool = False) -> str:
    return f"90% interval {money(row[f'{prefix}_lower_90'], signed=signed)} to " \
           f"{money(row[f'{prefix}_upper_90'], signed=signed)}"


def _payback(row) -> str:
    value = row.get("payback_months_p50")
    text = months(value, never=flag(row.get("payback_never")))
    if text == NEVER:
        return "most never repay their acquisition cost within the horizon"
    return f"payback in {text} months (median)" if text else ""


def _segment_sentence(segment: str, row) -> list:
    status = str(row["status"])
    mean = row["unit_profit_mean"]
    amount = money(mean, signed=True)
    interval = _interval(row, "unit_profit_mean", signed=True)
    losing = share(row["p_unit_profit_negative"])
    spans: list = [("strong", segment), " \u2014 ", ("status", status), ": "]
    if status == "margin-draining":
        spans += [("loss", f"{amount} per new customer"), f" expected ({interval}); {losing} of its new customers "
                  "lose money"]
    elif status == "profitable":
        spans += [("gain", f"{amount} per new customer"), f" expected ({interval})"]
    elif status == "marginal":
        straddles = row["unit_profit_mean_lower_90"] <= 0 <= row["unit_profit_mean_upper_90"]
        spans += [f"{amount} per new customer expected ({interval}), but "
                  + ("the interval includes zero" if straddles else f"{losing} of its new customers lose money")]
    else:
        return [("strong", segment), " \u2014 ", ("status", status),
                ": no CAC or onboarding cost is given, so a new customer's profit cannot be judged."]
    details = []
    if _finite(row.get("ltv_to_cac")):
        details.append(f"LTV:CAC {ratio(row['ltv_to_cac'])}")
    payback = _payback(row)
    if payback:
        details.append(payback)
    if details:
        spans.append("; " + ", ".join(details))
    spans.append(".")
    return spans


def executive_summary(summary, comparison=None, *, manifest: dict, settings: dict | None = None) -> list:
    """The summary as blocks: ``("p", spans)`` paragraphs and ``("ul", [spans, ...])``
    lists.

    Parameters
    ----------
    summary : DataFrame
        The baseline ``segment_summary``.
    comparison : DataFrame, optional
        ``scenario_comparison``.
    manifest : dict
        The run's manifest (replications, horizon, as-of, currency).
    settings : dict, optional
        The run's settings (scenario descriptions).
    """
    currency = manifest.get("currency")
    unit_note = f" (amounts in {currency})" if currency else ""
    new = summary[summary["population"] == "new"].set_index("segment")
    existing = summary[summary["population"] == "existing"].set_index("segment")
    judged = new[(new.index != TOTAL) & new["unit_profit_mean"].notna()] if "unit_profit_mean" in new else new.iloc[:0]
    blocks: list = []

    counts = {s: int((judged["status"] == s).sum()) for s in ("profitable", "marginal", "margin-draining")}
    horizon = manifest.get("horizon_months")
    lead = [f"New customers, valued over {horizon} months{unit_note}: of {len(judged)} segments, "]
    parts = []
    for status, one, many in (("profitable", "makes money with room to spare", "make money with room to spare"),
                              ("marginal", "is marginal", "are marginal"),
                              ("margin-draining", "loses money on the average new customer",
                               "lose money on the average new customer")):
        if counts[status]:
            names = ", ".join(sorted(judged.index[judged["status"] == status]))
            parts.append(f"{counts[status]} {one if counts[status] == 1 else many} ({names})")
    lead.append("; ".join(parts) + "." if parts else "none has new customers with a unit profit.")
    blocks.append(("p", lead))
    order = sorted(judged.index, key=lambda s: (judged.loc[s, "unit_profit_mean"]))
    blocks.append(("ul", [_segment_sentence(s, judged.loc[s]) for s in order]))

    if TOTAL in new.index and _finite(new.loc[TOTAL].get("unit_profit_mean")) and len(judged) > 1:
        blocks.append(("p", _blended(new.loc[TOTAL], judged)))
    if len(existing):
        blocks.append(("p", _existing(existing, manifest)))
    if comparison is not None and len(comparison):
        blocks.append(("p", ["Scenarios, each against the baseline (change in the value of the existing base and "
                             "new cohorts, discounted to the start, paired by replication):"]))
        blocks.append(("ul", _scenarios(comparison, settings)))
    blocks.append(("p", _how_sure(manifest, settings)))
    return blocks


def _blended(total, judged) -> list:
    status = str(total["status"])
    spans = ["Blended over all segments, a new customer looks worth ",
             ("strong", money(total["unit_profit_mean"], signed=True)),
             f" ({_interval(total, 'unit_profit_mean', signed=True)})"]
    if status in ("profitable", "marginal", "margin-draining"):
        spans += [", and the book looks ", ("status", status), ". "]
    else:
        spans.append("; with a segment that has no CAC, the blended number has no status. ")
    low, high = judged["unit_profit_mean"].idxmin(), judged["unit_profit_mean"].idxmax()
    spans.append(f"That average hides a range from {money(judged.loc[low, 'unit_profit_mean'], signed=True)} "
                 f"({low}) to {money(judged.loc[high, 'unit_profit_mean'], signed=True)} ({high}) per new customer")
    draining = sorted(judged.index[judged["status"] == "margin-draining"])
    if draining:
        totals = [judged.loc[s, "total_value_mean"] for s in draining if _finite(judged.loc[s].get("total_value_mean"))]
        one = len(draining) == 1
        spans.append(f", and {', '.join(draining)} " + ("is" if one else "are") + " margin-draining")
        if totals:
            spans += [f": {'its' if one else 'their'} new customers are expected to cost ", ("loss", money(-sum(totals))),
                      " over the horizon, discounted to the start"]
    spans.append(".")
    return spans


def _existing(existing, manifest: dict) -> list:
    as_of = manifest.get("as_of")
    when = f"on {as_of}" if as_of else "today"
    spans: list = []
    if TOTAL in existing.index:
        row = existing.loc[TOTAL]
        spans += [f"The {round(float(row['customers'])):,} customers active {when} are expected to bring ",
                  ("strong", money(row["total_value_mean"])),
                  f" more, discounted ({_interval(row, 'total_value_mean')}); their acquisition cost is already spent."]
    losing = [s for s in existing.index if s != TOTAL and _finite(existing.loc[s].get("total_value_mean"))
              and existing.loc[s, "total_value_mean"] < 0]
    for segment in sorted(losing):
        row = existing.loc[segment]
        spans += [f" {segment}'s existing customers cost more to serve than they bring: ",
                  ("loss", money(row["total_value_mean"])), f" ({_interval(row, 'total_value_mean')})."]
    if not spans:
        row = existing.iloc[0]
        spans = [f"The customers active {when} are expected to bring ", ("strong", money(row["total_value_mean"])),
                 f" more, discounted ({_interval(row, 'total_value_mean')})."]
    return spans


def _scenarios(comparison, settings: dict | None) -> list:
    descriptions = {s.get("name"): s.get("description") for s in (settings or {}).get("scenarios", [])}
    items = []
    for scenario, rows in comparison.groupby("scenario", sort=False):
        total = rows[rows["segment"] == TOTAL]
        if not len(total):
            continue
        total = total.iloc[0]
        style = "gain" if total["delta_p5"] > 0 else "loss" if total["delta_p95"] < 0 else "strong"
        spans: list = [("strong", str(scenario))]
        if descriptions.get(scenario):
            spans.append(f" ({descriptions[scenario].rstrip('.')})")
        spans += [": total value ", (style, money(total["delta_mean"], signed=True)),
                  f" (P5 to P95: {money(total['delta_p5'], signed=True)} to {money(total['delta_p95'], signed=True)}), "
                  f"better than the baseline in {share(total['p_delta_positive'])} of replications"]
        segments = rows[(rows["segment"] != TOTAL) & (rows["delta_mean"] != 0)]
        if len(segments):
            biggest = segments.reindex(segments["delta_mean"].abs().sort_values(ascending=False).index).head(2)
            spans.append("; largest changes: " + ", ".join(
                f"{r.segment} {money(r.delta_mean, signed=True)}" for r in biggest.itertuples()))
        unchanged = rows[(rows["segment"] != TOTAL) & (rows["delta_mean"] == 0)]
        if len(unchanged):
            spans.append(f"; unchanged: {', '.join(map(str, unchanged['segment']))}")
        spans.append(".")
        items.append(spans)
    return items


def _how_sure(manifest: dict, settings: dict | None) -> list:
    replications = int(manifest.get("replications") or 0)
    averaging = ((settings or {}).get("retention") or {}).get("model_averaging")
    model = " and the retention family (by its weight)" if averaging in ("auto", "akaike", "stacking") else ""
    spans = [f"How sure: every expected value is the mean of {replications:,} replications of the whole book. Each "
             f"replication draws the retention curve's parameters{model}, so a 90% interval holds the uncertainty "
             "of the fitted curves and the noise of a finite book. It does not hold errors in the economics taken "
             "as given (CAC, margins, costs, acquisition volume): the assumptions below list them and their "
             "sources."]
    if replications < FEW_REPLICATIONS:
        spans.append(f" With {replications:,} replications the interval ends are rough; run with 1,000 or more "
                     "before a decision rests on them.")
    return spans


# ------------------------------------------------------------------------ rendering


def _span_html(span) -> str:
    if isinstance(span, str):
        return esc(span)
    kind, text = span
    if kind == "status":
        return status_badge(text)
    if kind == "strong":
        return f"<strong>{esc(text)}</strong>"
    return f'<span class="{esc(kind)}">{esc(text)}</span>'


def to_html(blocks: list) -> str:
    """The summary blocks as HTML (every text escaped)."""
    out = []
    for i, (kind, content) in enumerate(blocks):
        if kind == "p":
            out.append(f'<p{" class=lead" if i == 0 else ""}>{"".join(map(_span_html, content))}</p>')
        else:
            items = "".join(f"<li>{''.join(map(_span_html, spans))}</li>" for spans in content)
            out.append(f"<ul>{items}</ul>")
    return "".join(out)


def to_text(blocks: list) -> str:
    """The summary as plain text, one block per line."""
    def text(spans):
        return "".join(s if isinstance(s, str) else s[1] for s in spans)

    lines = []
    for kind, content in blocks:
        lines.extend([text(content)] if kind == "p" else [f"- {text(spans)}" for spans in content])
    return "\n".join(lines)

