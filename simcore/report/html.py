"""HTML pieces of the report: escaping, tables, figures and the page around them.

The page is one self-contained file: styles inline, images as base64 PNG data URIs, no
script, no font, nothing fetched. A Content-Security-Policy in the page itself forbids
any request, so a browser that opens it offline shows exactly what it would show online.
Every text that comes from data or a config (segment and scenario names, descriptions,
warnings) passes :func:`esc`.
"""

from __future__ import annotations

import base64
import html
from typing import Callable, Iterable, Sequence

#: Forbids every request except images embedded in the page and its own styles.
CONTENT_SECURITY_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

STYLE = """
:root { --ink: #1d232b; --muted: #5b6570; --rule: #dde1e6; --paper: #ffffff; --panel: #f6f7f9;
  --blue: #0072B2; --green: #00664A; --amber: #8A5A00; --red: #A23B00; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: var(--paper);
  font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header.top { padding: 28px 40px 18px; border-bottom: 1px solid var(--rule); background: var(--panel); }
header.top h1 { margin: 0 0 4px; font-size: 26px; }
header.top p { margin: 2px 0; color: var(--muted); }
nav.toc { padding: 10px 40px; border-bottom: 1px solid var(--rule); font-size: 13.5px; }
nav.toc a { color: var(--blue); text-decoration: none; margin-right: 16px; white-space: nowrap; }
main { padding: 8px 40px 40px; max-width: 1180px; }
section { margin-top: 28px; }
h2 { font-size: 21px; margin: 0 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--ink); }
h3 { font-size: 16.5px; margin: 22px 0 6px; }
p, li { max-width: 62em; }
.lead { font-size: 16.5px; }
.note { color: var(--muted); font-size: 13.5px; }
table { border-collapse: collapse; margin: 8px 0 14px; font-size: 13.5px; }
th, td { padding: 5px 10px; border-bottom: 1px solid var(--rule); vertical-align: top; }
th { text-align: left; background: var(--panel); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td { font-weight: 600; border-top: 2px solid var(--ink); }
.status { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 12.5px; font-weight: 600;
  white-space: nowrap; }
.status-profitable { background: #E3F4EC; color: var(--green); }
.status-marginal { background: #FFF1D6; color: var(--amber); }
.status-margin-draining { background: #FBE3D6; color: var(--red); }
.status-other { background: #EEEEEE; color: #555555; }
.gain { color: var(--blue); font-weight: 600; }
.loss { color: var(--red); font-weight: 600; }
figure { margin: 12px 0 22px; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--rule); }
figcaption { color: var(--muted); font-size: 13px; max-width: 62em; }
.warnings li { margin-bottom: 6px; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12.5px; }
details summary { cursor: pointer; color: var(--blue); }
@media print { nav.toc { display: none; } main, header.top { padding-left: 0; padding-right: 0; }
  section { break-inside: avoid-page; } }
"""


def esc(text) -> str:
    """``text`` as HTML text: ``<script>`` becomes ``&lt;script&gt;`` (quotes too, so it is
    safe inside attributes), and URL credentials hidden (:func:`simcore.errors.redact`)."""
    from simcore.errors import redact

    return html.escape("" if text is None else redact(str(text)), quote=True)


def status_badge(status) -> str:
    """A status word in its colour (the word itself always shown: colour is not the only cue)."""
    known = {"profitable", "marginal", "margin-draining"}
    css = f"status-{status}" if status in known else "status-other"
    return f'<span class="status {css}">{esc(status)}</span>'


def signed_class(low: float, high: float) -> str:
    """``gain`` when an interval is above zero, ``loss`` when below, else nothing."""
    return "gain" if low > 0 else "loss" if high < 0 else ""


def table(rows: Iterable[Sequence], headers: Sequence[str], *, numeric: Sequence[bool] | None = None,
          raw: Sequence[bool] | None = None, total_rows: Iterable[int] = ()) -> str:
    """An HTML table.

    Parameters
    ----------
    rows : iterable of sequences
        Cell values; escaped unless the column is ``raw`` (already HTML, e.g. a badge).
    headers : sequence of str
    numeric : sequence of bool, optional
        Right-aligned columns.
    raw : sequence of bool, optional
        Columns whose cells are HTML made by this module.
    total_rows : iterable of int
        Indices of rows shown as totals.
    """
    numeric = list(numeric or [False] * len(headers))
    raw = list(raw or [False] * len(headers))
    totals = set(total_rows)
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        cells = "".join(
            f'<td{" class=num" if numeric[j] else ""}>{value if raw[j] else esc(value)}</td>'
            for j, value in enumerate(row))
        body.append(f'<tr{" class=total" if i in totals else ""}>{cells}</tr>')
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def frame_table(frame, formats: dict[str, Callable] | None = None, headers: dict[str, str] | None = None,
                limit: int | None = None) -> str:
    """A DataFrame as an HTML table: human headers (:func:`simcore.outputs.columns.header`
    unless given), per-column formatters, at most ``limit`` rows (with a note)."""
    from simcore.outputs.columns import header

    formats = formats or {}
    headers = headers or {}
    shown = frame if limit is None else frame.head(limit)
    numeric = [frame[c].dtype.kind in "iuf" for c in frame.columns]

    def cell(column, value):
        if column in formats:
            return formats[column](value)
        if value is None or (isinstance(value, float) and value != value):
            return ""
        if isinstance(value, float):
            return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
        return value

    rows = [[cell(c, v) for c, v in zip(frame.columns, record)] for record in shown.itertuples(index=False, name=None)]
    out = table(rows, [headers.get(c, header(str(c))) for c in frame.columns], numeric=numeric)
    if limit is not None and len(frame) > limit:
        out += f'<p class="note">First {limit:,} of {len(frame):,} rows; the file holds them all.</p>'
    return out


def figure(png: bytes, title: str, caption: str = "") -> str:
    """A figure embedded as a base64 PNG data URI, with its caption."""
    data = base64.b64encode(png).decode("ascii")
    text = f"<figcaption><strong>{esc(title)}.</strong> {esc(caption)}</figcaption>" if title or caption else ""
    return f'<figure><img src="data:image/png;base64,{data}" alt="{esc(title)}">{text}</figure>'


def page(title: str, subtitle_lines: Sequence[str], sections: Sequence[tuple[str, str, str]]) -> str:
    """The whole document.

    Parameters
    ----------
    title : str
        Page and top heading (plain text).
    subtitle_lines : sequence of str
        Lines under the heading (plain text).
    sections : sequence of (anchor, heading, body HTML)
    """
    nav = "".join(f'<a href="#{esc(anchor)}">{esc(heading)}</a>' for anchor, heading, _ in sections)
    body = "".join(f'<section id="{esc(anchor)}"><h2>{esc(heading)}</h2>{content}</section>'
                   for anchor, heading, content in sections)
    lines = "".join(f"<p>{esc(line)}</p>" for line in subtitle_lines)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>"
        f'<header class="top"><h1>{esc(title)}</h1>{lines}</header>'
        f'<nav class="toc">{nav}</nav><main>{body}</main></body></html>\n'
    )
