"""Reading a table from a file (CSV, Parquet, XLSX) or a SQL query into a DataFrame.

CSV files are read the way spreadsheets and billing systems write them: the delimiter
(``,`` ``;`` tab ``|``) is detected from the first lines when not given, UTF-8 with or
without a byte-order mark is read (Windows-1252 as a fallback, with a warning), and
quoted fields may hold delimiters, doubled quotes and line breaks. Reading is done by
pyarrow's multi-threaded CSV reader with pandas' C parser as the fallback.

Row numbers: for CSV and XLSX files, rows are numbered as a spreadsheet shows them (the
header is row 1, the first record row 2). Parquet files and SQL results have no header
row, so their first record is row 1.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence, Union

import numpy as np
import pandas as pd

from simcore.errors import DataError, Problem

#: File extensions read as customer tables, by reader.
SUPPORTED_EXTENSIONS: dict[str, str] = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
}

#: Delimiters recognised when none is given, in order of preference on a tie.
CANDIDATE_DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")

_SNIFF_BYTES = 1 << 16
_HASH_CHUNK = 1 << 22
_ARROW_BLOCK = 1 << 24
_COLUMN_IN_ERROR = re.compile(r"In CSV column #(\d+)")


@dataclass
class RawTable:
    """A table as read, before validation.

    ``frame`` holds the user's columns under their own names; ``header`` the column names
    in file order; ``first_row`` the row number of the first record (2 when the file has
    a header row a spreadsheet would show, 1 otherwise).
    """

    frame: pd.DataFrame
    header: list[str]
    source: str
    first_row: int
    data_hash: str
    warnings: list[Problem] = field(default_factory=list)
    #: Row number of each record where records and rows do not line up one to one (a
    #: CSV with blank lines, which readers skip but spreadsheets show as rows).
    row_numbers: np.ndarray | None = None

    def record_rows(self) -> np.ndarray:
        """The spreadsheet row number of every record, in order."""
        if self.row_numbers is not None:
            return self.row_numbers
        return np.arange(self.first_row, self.first_row + len(self.frame), dtype=np.int64)


def file_sha256(path: Path, on_chunk: Callable[[bytes], None] | None = None) -> str:
    """sha256 (hex) of a file's bytes, read in chunks; ``on_chunk`` is given every chunk
    too, so that another scan of the file needs no read of its own."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_HASH_CHUNK), b""):
            digest.update(chunk)
            if on_chunk is not None:
                on_chunk(chunk)
    return digest.hexdigest()


def frame_sha256(text: str, frame: pd.DataFrame) -> str:
    """sha256 (hex) of a query text and the table it returned (names, types, values)."""
    digest = hashlib.sha256(text.encode("utf-8"))
    digest.update("\x1f".join(map(str, frame.columns)).encode("utf-8"))
    digest.update("\x1f".join(map(str, frame.dtypes)).encode("utf-8"))
    if len(frame):
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def _fail(source: str, message: str, hint: str = "") -> DataError:
    return DataError(Problem(message, hint, source=source))


def check_file(path: Path, source: str) -> str:
    """The reader kind for ``path``; raises :class:`DataError` when the file is missing,
    empty or of an unsupported kind."""
    kind = SUPPORTED_EXTENSIONS.get(path.suffix.lower())
    if kind is None:
        supported = ", ".join(sorted(SUPPORTED_EXTENSIONS))
        raise _fail(
            source,
            f"cannot read files ending in '{path.suffix or '(no extension)'}'",
            f"supported file types are {supported}; or read the data with a SQL query",
        )
    if not path.exists():
        raise _fail(source, f"file does not exist (looked for {path})", "check the path; relative paths are read from the config file's folder")
    if path.is_dir():
        raise _fail(source, f"{path} is a folder, not a file", "give the path of the file itself")
    if not stat.S_ISREG(path.stat().st_mode):
        # A pipe would block the reader forever and a device never ends.
        raise _fail(source, f"{path} is not a regular file (a device, pipe or socket)", "give the path of a data file")
    if path.stat().st_size == 0:
        raise _fail(source, "the file is empty (0 bytes)", "export the table again with its header row and one row per customer")
    return kind


# --------------------------------------------------------------------------- CSV


#: Control characters that never occur in a text export (tab, line breaks and form feed
#: aside); one of them in the first bytes means the file is binary, not a CSV.
_BINARY = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")


def _decode_head(raw: bytes, complete: bool) -> tuple[str, str]:
    """Decode the first bytes of a CSV: UTF-16 when it starts with its byte-order mark
    (Excel's "Unicode text" export), else UTF-8 (a byte-order mark is dropped), else
    Windows-1252, the encoding of Excel's "CSV" export on Windows."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        decoder = codecs.getincrementaldecoder("utf-16")()
        return decoder.decode(raw[: len(raw) - len(raw) % 2], final=complete), "utf-16"
    try:
        decoder = codecs.getincrementaldecoder("utf-8-sig")()
        return decoder.decode(raw, final=complete), "utf8"
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace"), "cp1252"


def _refuse_binary(raw: bytes, source: str) -> None:
    """A located refusal when the first bytes hold binary content."""
    found = _BINARY.search(raw)
    if found is None:
        return
    line = raw.count(b"\n", 0, found.start()) + 1
    raise DataError(Problem(
        f"byte 0x{raw[found.start()]:02x} is binary content: this is not a CSV text file",
        "export the table as CSV (UTF-8), or give the Parquet/XLSX file its own extension",
        source=source, line=line,
    ))


def detect_delimiter(sample: str, complete: bool = True) -> str:
    """The delimiter among :data:`CANDIDATE_DELIMITERS` that splits the sampled lines into
    the most equal-width records (quotes are honoured, so delimiters inside quoted fields
    do not count); ``","`` when none splits the header.

    Parameters
    ----------
    sample
        The first lines of the file.
    complete
        False when ``sample`` was cut from a longer file; its last line is then ignored.
    """
    if not complete and "\n" in sample:
        sample = sample[: sample.rfind("\n")]
    best, best_score = ",", (0.0, 0)
    for delimiter in CANDIDATE_DELIMITERS:
        try:
            records = [r for r in csv.reader(io.StringIO(sample), delimiter=delimiter) if r]
        except csv.Error:
            continue
        if not records or len(records[0]) < 2:
            continue
        width = len(records[0])
        agreeing = sum(len(r) == width for r in records) / len(records)
        score = (agreeing, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _check_windows_1252(path: Path, source: str) -> None:
    """Refuse, with its line, the first byte a file read as Windows-1252 cannot hold
    (five byte values have no character there); pyarrow would otherwise fail mid-read."""
    decoder = codecs.getincrementaldecoder("cp1252")()
    lines = 1
    with open(path, "rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                line = lines + chunk.count(b"\n", 0, error.start)
                raise DataError(Problem(
                    f"byte 0x{chunk[error.start]:02x} is neither UTF-8 nor Windows-1252 text",
                    "save the file as 'CSV UTF-8'", source=source, line=line,
                )) from None
            lines += chunk.count(b"\n")


def _csv_header(path: Path, delimiter: str | None, source: str) -> tuple[list[str], str, str, bool]:
    with open(path, "rb") as handle:
        raw = handle.read(_SNIFF_BYTES)
        complete = len(raw) < _SNIFF_BYTES
    if not raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        _refuse_binary(raw, source)
    text, encoding = _decode_head(raw, complete)
    if delimiter is None:
        delimiter = detect_delimiter(text, complete)
    try:
        first = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    except csv.Error as error:
        raise _fail(source, f"the header row cannot be read as CSV: {error}",
                    "check that this is a CSV export (one header row, one row per customer)") from None
    return first, delimiter, encoding, bool(text.strip())


ColumnChoice = Union[Sequence[str], Callable[[list[str]], Sequence[str]], None]


def _for_header(choice: ColumnChoice, header: list[str]):
    return choice(header) if callable(choice) else choice


def read_csv(
    path: Path,
    source: str,
    *,
    delimiter: str | None = None,
    text_columns: ColumnChoice = (),
    number_columns: ColumnChoice = (),
    keep: ColumnChoice = None,
) -> RawTable:
    """Read a CSV file.

    Each column choice is a list of names or a function of the header returning one.

    Parameters
    ----------
    text_columns
        Columns always read as text (ids, flags), so ``00123`` keeps its zeros.
    number_columns
        Columns read as float64 when every value is a number (read as text otherwise, so
        bad values can be reported).
    keep
        Columns to read (default: all).
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    header, delimiter, encoding, has_text = _csv_header(path, delimiter, source)
    if not has_text or not header:
        raise _fail(source, "the file is empty (no header row)", "export the table again with its header row")
    warnings: list[Problem] = []
    if encoding == "cp1252":
        _check_windows_1252(path, source)
        warnings.append(
            Problem(
                "the file is not UTF-8; it was read as Windows-1252 (Excel's default on Windows)",
                "save it as 'CSV UTF-8' if names or text look wrong",
                source=source,
                severity="warning",
            )
        )
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise DataError(
            [
                Problem(
                    f"column '{name}' appears more than once in the header (columns "
                    f"{', '.join(str(i + 1) for i, h in enumerate(header) if h == name)})",
                    "rename or remove the extra column",
                    source=source,
                    row=1,
                    field=name,
                )
                for name in duplicated
            ]
        )
    keep, text_columns, number_columns = (_for_header(x, header) for x in (keep, text_columns, number_columns))
    wanted = [c for c in header if keep is None or c in keep]
    types = {c: pa.string() for c in text_columns if c in wanted}
    types.update({c: pa.float64() for c in number_columns if c in wanted and c not in types})

    invalid: list[tuple[int | None, int, int, str]] = []

    def on_invalid_row(row) -> str:
        invalid.append((row.number, row.expected_columns, row.actual_columns, row.text))
        return "skip"

    table = None
    arrow_message = ""
    for _ in range(len(header) + 1):
        invalid.clear()
        try:
            table = pacsv.read_csv(
                path,
                read_options=pacsv.ReadOptions(encoding=encoding, block_size=_ARROW_BLOCK, use_threads=True),
                parse_options=pacsv.ParseOptions(
                    delimiter=delimiter,
                    quote_char='"',
                    double_quote=True,
                    newlines_in_values=True,
                    invalid_row_handler=on_invalid_row,
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types=types, include_columns=wanted, strings_can_be_null=False
                ),
            )
            break
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
            arrow_message = str(error)
            match = _COLUMN_IN_ERROR.search(arrow_message)
            # Types are guessed from the first block; a later block that disagrees (a
            # stray "n/a" among numbers) is read again as text and reported cell by cell.
            # pyarrow numbers columns in file order, whichever columns are read.
            culprit = header[int(match.group(1))] if match and int(match.group(1)) < len(header) else None
            if culprit is not None and types.get(culprit) != pa.string():
                types[culprit] = pa.string()
                continue
            table = None
            break
    if invalid:
        if any(number is None for number, *_ in invalid):
            # Line numbers are only known to a single-threaded read; a broken file is worth it.
            invalid.clear()
            try:
                pacsv.read_csv(
                    path,
                    read_options=pacsv.ReadOptions(encoding=encoding, use_threads=False),
                    parse_options=pacsv.ParseOptions(
                        delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_invalid_row
                    ),
                    convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in wanted}, include_columns=wanted),
                )
            except pa.ArrowException:  # pragma: no cover - already failed once above
                pass
        problems = [
            Problem(
                f"has {actual} fields where the header has {expected}: {text[:80]!r}",
                f"quote fields that contain the delimiter {delimiter!r}, or fix the row",
                source=source,
                line=number,
            )
            for number, expected, actual, text in invalid[:50]
        ]
        raise DataError(problems, total=len(invalid))
    if table is None:
        frame = _read_csv_with_pandas(path, source, delimiter, encoding, wanted, text_columns, arrow_message)
    else:
        frame = _to_pandas(table, [c for c in text_columns if c in wanted])
        del table
    blank_lines = _BlankLineSearch()
    data_hash = file_sha256(path, on_chunk=blank_lines.feed)
    try:
        row_numbers = _rows_around_blank_lines(path, encoding, delimiter, len(frame)) if blank_lines.found else None
    except (csv.Error, UnicodeError) as error:
        raise _fail(source, f"cannot be read as a CSV file: {error}",
                    "check that it is a CSV text export (one header row, one row per customer)") from None
    return RawTable(frame, header, source, 2, data_hash, warnings, row_numbers)


def _to_pandas(table, text_columns: list[str]) -> pd.DataFrame:
    """The table as a DataFrame; text columns (ids, dates) stay pyarrow-backed strings.

    Turning a million distinct ids into Python strings is most of a large file's read
    time (pyarrow hashes each to share repeated values); the parsers read pyarrow strings
    directly, and the few that need Python strings convert once, without the hashing.
    """
    import pyarrow as pa

    text = [c for c in dict.fromkeys(text_columns) if pa.types.is_string(table.schema.field(c).type)]
    rest = table.drop_columns(text)
    frame = rest.to_pandas(date_as_object=False, split_blocks=True)
    for name in text:
        frame[name] = pd.Series(pd.arrays.ArrowStringArray(table.column(name)), index=frame.index, copy=False)
    return frame[table.column_names]


class _BlankLineSearch:
    """Whether a file has an empty line after its first one (``\\n\\n`` or
    ``\\n\\r\\n``), fed its bytes chunk by chunk."""

    def __init__(self) -> None:
        self.found = False
        self._tail = b""

    def feed(self, chunk: bytes) -> None:
        if self.found:
            return
        # Across the chunk boundary, then inside the chunk from the gaps between its
        # newlines (a byte search would stop at every one of a million newlines).
        seam = self._tail + chunk[:2]
        data = np.frombuffer(chunk, dtype=np.uint8)
        newline = np.flatnonzero(data == ord("\n"))
        gap = np.diff(newline)
        self.found = (b"\n\n" in seam or b"\n\r\n" in seam or bool(np.any(gap == 1))
                      or bool(np.any((gap == 2) & (data[newline[:-1] + 1] == ord("\r")))))
        self._tail = (self._tail + chunk[-2:])[-2:]


def _rows_around_blank_lines(path: Path, encoding: str, delimiter: str, records: int) -> np.ndarray | None:
    """Spreadsheet row numbers of the records of a file with an empty line, or None when
    they do not add up to ``records``.

    CSV readers skip blank lines, so without this a problem after one would be reported a
    row too early. The file is parsed again with the csv module, so this is only done
    when a byte scan (:class:`_BlankLineSearch`, during the hash's read) found an empty
    line: ordinary files cost no read of their own.
    """
    rows = np.empty(records, dtype=np.int64)
    record = 0
    with open(path, encoding=encoding, errors="replace", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        next(reader, None)  # the header, row 1
        for row_number, fields in enumerate(reader, start=2):
            if not fields:  # a blank line: a row in a spreadsheet, no record for a reader
                continue
            if record < records:
                rows[record] = row_number
            record += 1
    return rows if record == records else None



def _read_csv_with_pandas(
    path: Path, source: str, delimiter: str, encoding: str, wanted: list[str], text_columns, arrow_message: str
) -> pd.DataFrame:
    """pandas' C parser reads a few files pyarrow refuses (an unterminated quote at the
    very end, for instance)."""
    try:
        return pd.read_csv(
            path,
            sep=delimiter,
            encoding="utf-8-sig" if encoding == "utf8" else encoding,
            usecols=wanted,
            dtype={c: str for c in text_columns if c in wanted},
            keep_default_na=False,
            na_values=[""],
            engine="c",
        )
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as error:
        detail = str(error).strip().splitlines()[0] if str(error).strip() else arrow_message
        raise _fail(source, f"cannot be read as a CSV file: {detail}", "check that it is a CSV export (one header row, one row per customer)") from None


# --------------------------------------------------------------------------- Parquet, XLSX


def read_parquet(path: Path, source: str, *, keep: ColumnChoice = None) -> RawTable:
    """Read a Parquet file (all columns, or those in ``keep`` that exist)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(path).names
        keep = _for_header(keep, list(names))
        table = pq.read_table(path, columns=[c for c in names if keep is None or c in keep])
    except (pa.ArrowException, OSError) as error:
        raise _fail(source, f"cannot be read as a Parquet file: {error}", "check that it is a Parquet file") from None
    frame = table.to_pandas(date_as_object=False, split_blocks=True, self_destruct=True)
    del table
    return RawTable(frame, list(names), source, 1, file_sha256(path))


def read_xlsx(path: Path, source: str, *, sheet: str | int | None = None) -> RawTable:
    """Read one sheet of an .xlsx workbook (the first when ``sheet`` is None)."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True)
        sheets = list(workbook.sheetnames)
        workbook.close()
    except Exception as error:  # noqa: BLE001 - openpyxl raises many kinds for a bad file
        raise _fail(source, f"cannot be read as an Excel workbook: {error}", "save it as .xlsx or export it as CSV") from None
    chosen = 0 if sheet is None else sheet
    if (isinstance(chosen, str) and chosen not in sheets) or (isinstance(chosen, int) and not 0 <= chosen < len(sheets)):
        raise _fail(
            source,
            f"the workbook has no sheet {chosen!r}",
            f"its sheets are {', '.join(repr(s) for s in sheets)} (an index counts from 0)",
        )
    frame = pd.read_excel(path, sheet_name=chosen, engine="openpyxl")
    # Formatted but empty cells to the right of the table come back as unnamed columns.
    unnamed = [c for c in frame.columns if str(c).startswith("Unnamed: ") and frame[c].isna().all()]
    frame = frame.drop(columns=unnamed)
    frame.columns = [str(c) for c in frame.columns]
    return RawTable(frame, list(frame.columns), source, 2, file_sha256(path))


# --------------------------------------------------------------------------- SQL


def read_sql(query: str, url_env: str, *, what: str = "customers") -> RawTable:
    """Run a SQL query through SQLAlchemy; the URL is read from the environment variable
    ``url_env`` (never from a config file, so no password is ever written down)."""
    source = f"sql query ({what})"
    url = os.environ.get(url_env)
    if not url:
        raise DataError(
            Problem(
                f"environment variable {url_env} is not set; it must hold the database URL",
                f"set it, e.g. export {url_env}='postgresql://user:password@host/db'",
                source=source,
                field="url_env",
            )
        )
    import sqlalchemy

    try:
        engine = sqlalchemy.create_engine(url)
    except Exception as error:  # noqa: BLE001 - any bad URL; the URL itself is not echoed
        raise DataError(
            Problem(
                f"the database URL in {url_env} is not usable: {type(error).__name__}",
                "check the URL's form, e.g. postgresql://user:password@host/db or sqlite:///path.db",
                source=source,
                field="url_env",
            )
        ) from None
    try:
        with engine.connect() as connection:
            frame = pd.read_sql_query(sqlalchemy.text(query), connection)
    except sqlalchemy.exc.SQLAlchemyError as error:
        detail = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        raise DataError(
            Problem(f"the query failed: {detail}", "check the query and the database it points at", source=source, field="query")
        ) from None
    finally:
        engine.dispose()
    frame.columns = [str(c) for c in frame.columns]
    return RawTable(frame, list(frame.columns), source, 1, frame_sha256(query, frame))


def read_table(
    path: Path,
    source: str,
    *,
    delimiter: str | None = None,
    sheet: str | int | None = None,
    text_columns: ColumnChoice = (),
    number_columns: ColumnChoice = (),
    keep: ColumnChoice = None,
) -> RawTable:
    """Read a customer or history table from a file of any supported kind. Column
    choices (see :func:`read_csv`) steer the CSV reader; Parquet honours ``keep``."""
    kind = check_file(path, source)
    if kind == "csv":
        return read_csv(
            path, source, delimiter=delimiter, text_columns=text_columns, number_columns=number_columns, keep=keep
        )
    if kind == "parquet":
        return read_parquet(path, source, keep=keep)
    return read_xlsx(path, source, sheet=sheet)


__all__ = [
    "RawTable",
    "SUPPORTED_EXTENSIONS",
    "detect_delimiter",
    "file_sha256",
    "frame_sha256",
    "read_table",
    "read_sql",
]
