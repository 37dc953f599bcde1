"""Customer-book ingestion and validation.

Reads a customer table (CSV, Parquet, XLSX or a SQL query) and optional MRR history,
checks every row, and returns a :class:`CustomerBook` with canonical columns. The tenure
convention (how signup and churn dates become whole months) is set out in
:mod:`simcore.data.customers`; file formats and row numbering in :mod:`simcore.data.sources`.
"""

from simcore.data.book import CANONICAL_COLUMNS, CustomerBook
from simcore.data.history import history_monthly
from simcore.data.load import load_book
from simcore.data.sources import SUPPORTED_EXTENSIONS, detect_delimiter

__all__ = [
    "CANONICAL_COLUMNS",
    "CustomerBook",
    "SUPPORTED_EXTENSIONS",
    "detect_delimiter",
    "history_monthly",
    "load_book",
]
