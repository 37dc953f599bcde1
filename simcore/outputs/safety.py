"""Text made safe to write: spreadsheet cells that never run, no credentials anywhere.

OWASP's CSV-injection guidance: a spreadsheet runs a cell as a formula when its text
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, so such text (a plan
called ``=HYPERLINK(...)``) is written with a leading apostrophe. Numbers, and text that
is a plain number such as ``-5``, stay as they are. In every format the credentials of
URLs are hidden (:func:`simcore.errors.redact`).
"""

from __future__ import annotations

import re

import pandas as pd

from simcore.errors import redact

#: First characters that make a spreadsheet cell a formula (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?%?$")
#: Control characters an XLSX cell cannot hold (openpyxl refuses them).
_NOT_IN_SPREADSHEETS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def spreadsheet_text(text: str) -> str:
    """``text`` as a spreadsheet shows it and never runs it: a leading apostrophe when it
    starts like a formula (see the module notes), credentials of URLs hidden, and control
    characters a spreadsheet cannot hold shown as U+FFFD."""
    text = _NOT_IN_SPREADSHEETS.sub("\ufffd", redact(text))
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def safe_tables(frame: pd.DataFrame, *, spreadsheet: bool) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and headers are safe to write: for a
    spreadsheet (:func:`spreadsheet_text`), else with URL credentials hidden."""
    clean = spreadsheet_text if spreadsheet else redact
    out = frame.copy(deep=False)
    for column in frame.columns:
        values = frame[column]
        if values.dtype == object or isinstance(values.dtype, (pd.StringDtype, pd.CategoricalDtype)):
            try:
                texts = [v for v in pd.unique(values.dropna()) if isinstance(v, str)]
            except TypeError:  # unhashable cells (lists): look at every one
                texts = [v for v in values if isinstance(v, str)]
            changed = {v: clean(v) for v in texts}
            changed = {k: v for k, v in changed.items() if k != v}
            if changed:
                out[column] = values.astype(object).map(lambda v: changed.get(v, v) if isinstance(v, str) else v)
    out.columns = [clean(str(c)) for c in frame.columns]
    return out
