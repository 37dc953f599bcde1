"""Customer-book loading: shapes, tenure convention, formats and validation messages."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from simcore.config import ColumnMap, DataConfig, SqlSource
from simcore import Project
from simcore.data import CustomerBook, detect_delimiter, load_book
from simcore.data.customers import _months_elapsed
from simcore.errors import ConfigError, DataError

TELCO = Path(__file__).resolve().parents[2] / "shared" / "data" / "telco" / "Telco-Customer-Churn.csv"

DATE_COLUMNS = ColumnMap(id="id", signup="signup", churn="churn", mrr="mrr")
TENURE_COLUMNS = ColumnMap(id="id", tenure="tenure", churned="churned", mrr="mrr")


def write(tmp_path: Path, text: str, name: str = "customers.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def load_text(tmp_path: Path, text: str, columns: ColumnMap = DATE_COLUMNS, **options) -> CustomerBook:
    write(tmp_path, text)
    return load_book(DataConfig(customers="customers.csv", columns=columns, **options), tmp_path)


def messages(error: DataError) -> list[str]:
    return [p.format() for p in error.problems]


# --------------------------------------------------------------------------- date shape


def test_date_shape_tenure_convention(tmp_path):
    # Expected tenures worked out by hand from the convention in simcore.data.customers:
    # churned -> max(1, ceil(elapsed months)), active -> floor(elapsed months).
    book = load_text(
        tmp_path,
        "id,signup,churn,mrr\n"
        "a,2023-01-15,2023-03-15,10\n"  # exactly 2 months: paid Jan 15, Feb 15
        "b,2023-01-15,2023-03-16,10\n"  # 2 months and a day: paid a third time on Mar 15
        "c,2023-01-15,2023-01-15,10\n"  # left on signup day: paid once
        "d,2023-01-31,2023-02-28,10\n"  # anniversary of the 31st in February is the 28th
        "e,2023-01-15,,10\n"  # active, as_of 2023-06-30: 5 months and 15 days
        "f,2023-06-15,,10\n"  # active, 15 days
        "g,2023-03-30,,10\n",  # active, exactly 3 months
        as_of=date(2023, 6, 30),
    )
    customers = book.customers.set_index("customer_id")
    assert customers["tenure_months"].to_dict() == {"a": 2, "b": 3, "c": 1, "d": 1, "e": 5, "f": 0, "g": 3}
    assert customers["churned"].to_dict() == {"a": True, "b": True, "c": True, "d": True, "e": False, "f": False, "g": False}
    assert book.shape == "date"
    assert book.as_of == pd.Timestamp("2023-06-30")
    assert customers["tenure_months"].dtype == np.int64
    assert customers["signup_date"].dtype == "datetime64[ns]"
    assert pd.isna(customers.loc["e", "churn_date"])
    zero = [w for w in book.warnings if "tenure 0" in w.message]
    assert len(zero) == 1 and zero[0].message.startswith("1 active") and "row 7" in zero[0].message


def _reference_months(start: date, end: date) -> tuple[int, bool]:
    """Whole months and 'part of a further month' by dateutil's calendar arithmetic."""
    delta = relativedelta(end, start)
    whole = delta.years * 12 + delta.months
    return whole, start + relativedelta(months=whole) < end


@settings(max_examples=300, deadline=None)
@given(st.dates(date(1990, 1, 1), date(2030, 12, 31)), st.integers(0, 4000))
def test_months_elapsed_matches_dateutil(start, days):
    end = start + pd.Timedelta(days=days).to_pytimedelta()
    whole, partial, _ = _months_elapsed(
        np.array([start], dtype="datetime64[D]"), np.array([end], dtype="datetime64[D]")
    )
    assert (int(whole[0]), bool(partial[0])) == _reference_months(start, end)


def test_default_as_of_is_latest_date_with_warning(tmp_path):
    book = load_text(tmp_path, "id,signup,churn,mrr\na,2023-01-15,2023-04-20,5\nb,2023-02-01,,5\n")
    assert book.as_of == pd.Timestamp("2023-04-20")
    assert any("as_of is not set" in w.message and "2023-04-20" in w.message for w in book.warnings)
    # b: 2023-02-01 to 2023-04-20 is 2 months and 19 days, active -> 2
    assert book.customers.set_index("customer_id").loc["b", "tenure_months"] == 2


def test_date_format_and_detection(tmp_path):
    text = "id,signup,churn,mrr\na,15/01/2023,15/03/2023,1\nb,31/01/2023,,1\n"
    book = load_text(tmp_path, text, as_of=date(2023, 6, 30))
    assert book.customers["signup_date"].tolist() == [pd.Timestamp("2023-01-15"), pd.Timestamp("2023-01-31")]
    ambiguous = "id,signup,churn,mrr\na,01/02/2023,,1\n"
    with pytest.raises(DataError) as error:
        load_text(tmp_path, ambiguous, as_of=date(2023, 6, 30))
    assert "date_format" in error.value.render()
    book = load_text(tmp_path, ambiguous, as_of=date(2023, 6, 30), date_format="%m/%d/%Y")
    assert book.customers["signup_date"].iloc[0] == pd.Timestamp("2023-01-02")


# --------------------------------------------------------------------------- tenure shape


def test_tenure_shape_flags(tmp_path):
    book = load_text(
        tmp_path,
        "id,tenure,churned,mrr\na,3,Yes,1\nb,4,no,1\nc,5,TRUE,1\nd,6,false,1\ne,7,1,1\nf,8,0,1\ng,9,Y,1\nh,10,n,1\n",
        TENURE_COLUMNS,
    )
    assert book.shape == "tenure"
    assert book.customers["churned"].tolist() == [True, False, True, False, True, False, True, False]
    assert book.customers["tenure_months"].tolist() == [3, 4, 5, 6, 7, 8, 9, 10]
    assert book.as_of is None


def test_ids_keep_leading_zeros(tmp_path):
    book = load_text(tmp_path, "id,tenure,churned,mrr\n00123,3,Yes,1\n0456,4,No,1\n", TENURE_COLUMNS)
    assert book.customers["customer_id"].tolist() == ["00123", "0456"]


def test_default_id_column_and_row_numbers(tmp_path):
    book = load_text(tmp_path, "Customer ID,tenure,churned\nx1,3,Yes\nx2,4,No\n", ColumnMap(tenure="tenure", churned="churned"))
    assert book.customers["customer_id"].tolist() == ["x1", "x2"]
    assert "Customer ID" not in book.customers.columns
    book = load_text(tmp_path, "tenure,churned,plan\n3,Yes,a\n4,No,b\n", ColumnMap(tenure="tenure", churned="churned"))
    assert book.customers["customer_id"].tolist() == ["2", "3"]  # spreadsheet row numbers
    assert book.customers["plan"].tolist() == ["a", "b"]
    assert any("row number" in w.message for w in book.warnings)


def test_attributes_kept_under_own_names(tmp_path):
    text = "id,tenure,churned,mrr,plan,seats\na,3,Yes,1,pro,4\nb,4,No,1,basic,1\n"
    book = load_text(tmp_path, text, TENURE_COLUMNS)
    assert list(book.customers.columns) == ["customer_id", "tenure_months", "churned", "mrr", "plan", "seats"]
    book = load_text(tmp_path, text, TENURE_COLUMNS, attributes=["seats"])
    assert list(book.customers.columns) == ["customer_id", "tenure_months", "churned", "mrr", "seats"]
    assert book.customers["seats"].tolist() == [4, 1]


# --------------------------------------------------------------------------- warnings


def test_suspicious_rows_are_warnings(tmp_path):
    book = load_text(
        tmp_path,
        "id,tenure,churned,mrr\na,0,No,10\nb,0,Yes,0\nc,5,No,\nd,6,No,0\ne,7,Yes,20\n",
        TENURE_COLUMNS,
    )
    assert len(book.customers) == 5  # nothing dropped
    text = [w.message for w in book.warnings]
    assert all(w.severity == "warning" for w in book.warnings)
    assert any(m.startswith("1 active customers have tenure 0") and "row 2" in m for m in text)
    assert any(m.startswith("1 churned customers have tenure 0") and "row 3" in m for m in text)
    assert any(m.startswith("2 customers have MRR 0") and "rows 3, 5" in m for m in text)
    assert any(m.startswith("1 customers have no MRR") and "row 4" in m for m in text)
    # A churned customer who left in the first month still paid once (T >= 1).
    assert book.customers.set_index("customer_id").loc["b", "tenure_months"] == 1


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "text, columns, options, expected",
    [
        ("id,signup,churn,mrr\na,2023-02-01,2023-01-03,1\n", DATE_COLUMNS, {"as_of": date(2023, 6, 1)},
         ["row 2, 'churn': churn date 2023-01-03 is before signup date 2023-02-01"]),
        ("id,signup,churn,mrr\na,2023-07-01,,1\n", DATE_COLUMNS, {"as_of": date(2023, 6, 1)},
         ["row 2, 'signup': signup date 2023-07-01 is after as_of 2023-06-01"]),
        ("id,signup,churn,mrr\na,2023-01-01,2023-07-01,1\n", DATE_COLUMNS, {"as_of": date(2023, 6, 1)},
         ["row 2, 'churn': churn date 2023-07-01 is after as_of 2023-06-01"]),
        ("id,signup,churn,mrr\na,2023-01-01,,1\nb,2023-13-45,,1\n", DATE_COLUMNS, {"as_of": date(2023, 6, 1)},
         ["row 3, 'signup': signup date '2023-13-45' cannot be read"]),
        ("id,signup,churn,mrr\na,,,1\n", DATE_COLUMNS, {"as_of": date(2023, 6, 1)},
         ["row 2, 'signup': signup date is blank"]),
        ("id,tenure,churned,mrr\na,-2,No,1\n", TENURE_COLUMNS, {}, ["row 2, 'tenure': tenure -2 is negative"]),
        ("id,tenure,churned,mrr\na,2.5,No,1\n", TENURE_COLUMNS, {}, ["row 2, 'tenure': tenure 2.5 is not a whole number"]),
        ("id,tenure,churned,mrr\na,2,No,-5\n", TENURE_COLUMNS, {}, ["row 2, 'mrr': mrr -5 is negative"]),
        ("id,tenure,churned,mrr\na,2,No,abc\n", TENURE_COLUMNS, {}, ["row 2, 'mrr': mrr 'abc' cannot be read"]),
        ("id,tenure,churned,mrr\na,two,No,1\n", TENURE_COLUMNS, {}, ["row 2, 'tenure': tenure 'two' cannot be read"]),
        ("id,tenure,churned,mrr\na,2,maybe,1\n", TENURE_COLUMNS, {},
         ["row 2, 'churned': churned flag 'maybe' is not recognised; write yes/y/true/t/1 or no/n/false/f/0"]),
        ("id,tenure,churned,mrr\na,2,No,1\nb,3,No,1\na,4,No,1\n", TENURE_COLUMNS, {},
         ["row 4, 'id': customer id 'a' is used again (first in row 2)"]),
        ("id,tenure,churned,mrr\n,2,No,1\n", TENURE_COLUMNS, {}, ["row 2, 'id': customer id is blank"]),
        ("id,tenure,churned,mrr\n", TENURE_COLUMNS, {}, ["the table has a header but no customer rows"]),
        ("id,tenure_m,churned,mrr\na,2,No,1\n", TENURE_COLUMNS, {},
         ["row 1, 'tenure': column 'tenure' (data.columns.tenure) is not in the file; did you mean 'tenure_m'?"]),
    ],
)
def test_each_validation_error_names_row_and_field(tmp_path, text, columns, options, expected):
    with pytest.raises(DataError) as error:
        load_text(tmp_path, text, columns, **options)
    lines = messages(error.value)
    for wanted in expected:
        assert any(wanted in line for line in lines), (wanted, lines)
    assert all(line.startswith("customers.csv") for line in lines)


def test_ten_defects_reported_in_one_error(tmp_path):
    text = (
        "id,signup,churn,mrr,cac\n"
        "a,2023-01-10,,10,100\n"  # fine
        "b,2023-02-30,,10,100\n"  # 1 unreadable signup (row 3)
        ",2023-01-10,,10,100\n"  # 2 blank id (row 4)
        "a,2023-01-10,,10,100\n"  # 3 duplicate id (row 5, first row 2)
        "c,2023-03-01,2023-02-01,10,100\n"  # 4 churn before signup (row 6)
        "d,2024-01-01,,10,100\n"  # 5 signup after as_of (row 7)
        "e,2023-01-01,2024-02-01,10,100\n"  # 6 churn after as_of (row 8)
        "f,2023-01-01,,-3,100\n"  # 7 negative MRR (row 9)
        "g,2023-01-01,,ten,100\n"  # 8 unreadable MRR (row 10)
        "h,2023-01-01,soon,10,100\n"  # 9 unreadable churn (row 11)
        "i,2023-01-01,,10,-50\n"  # 10 negative CAC (row 12)
        "j,,,10,100\n"  # 11 blank signup (row 13)
    )
    write(tmp_path, text)
    data = DataConfig(
        customers="customers.csv",
        columns=ColumnMap(id="id", signup="signup", churn="churn", mrr="mrr", cac="cac"),
        as_of=date(2023, 12, 31),
    )
    with pytest.raises(DataError) as error:
        load_book(data, tmp_path)
    lines = messages(error.value)
    expected = [
        "row 3, 'signup': signup date '2023-02-30' cannot be read",
        "row 4, 'id': customer id is blank",
        "row 5, 'id': customer id 'a' is used again (first in row 2)",
        "row 6, 'churn': churn date 2023-02-01 is before signup date 2023-03-01",
        "row 7, 'signup': signup date 2024-01-01 is after as_of 2023-12-31",
        "row 8, 'churn': churn date 2024-02-01 is after as_of 2023-12-31",
        "row 9, 'mrr': mrr -3 is negative",
        "row 10, 'mrr': mrr 'ten' cannot be read",
        "row 11, 'churn': churn date 'soon' cannot be read",
        "row 12, 'cac': cac -50 is negative",
        "row 13, 'signup': signup date is blank",
    ]
    for wanted in expected:
        assert any(wanted in line for line in lines), (wanted, lines)
    assert error.value.total == len(expected)


def test_many_offenders_are_counted_not_listed(tmp_path):
    body = "".join(f"c{i},2023-01-01,,-1\n" for i in range(40))
    with pytest.raises(DataError) as error:
        load_text(tmp_path, "id,signup,churn,mrr\n" + body, as_of=date(2023, 6, 1))
    assert error.value.total == 40
    assert len(error.value.problems) == 6  # five examples and one summary line
    assert "35 more rows like the above (40 in all)" in error.value.problems[-1].message


def test_missing_attribute_and_several_missing_columns(tmp_path):
    write(tmp_path, "ID,signup_date,mrr\na,2023-01-01,1\n")
    data = DataConfig(customers="customers.csv", columns=ColumnMap(id="id", signup="signup"), attributes=["plan"])
    with pytest.raises(DataError) as error:
        load_book(data, tmp_path)
    text = error.value.render()
    assert "column 'id' (data.columns.id) is not in the file; did you mean 'ID'?" in text
    assert "column 'signup' (data.columns.signup) is not in the file; did you mean 'signup_date'?" in text
    assert "attribute column 'plan' (data.attributes) is not in the file" in text


def test_file_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_book(DataConfig(customers="nope.csv", columns=TENURE_COLUMNS), tmp_path)
    (tmp_path / "book.json").write_text("{}")
    with pytest.raises(DataError) as error:
        load_book(DataConfig(customers="book.json", columns=TENURE_COLUMNS), tmp_path)
    assert "'.json'" in error.value.render() and ".csv" in error.value.render() and ".parquet" in error.value.render()
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(DataError, match="empty"):
        load_book(DataConfig(customers="empty.csv", columns=TENURE_COLUMNS), tmp_path)
    (tmp_path / "broken.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match="cannot be read as a Parquet file"):
        load_book(DataConfig(customers="broken.parquet", columns=TENURE_COLUMNS), tmp_path)


def test_row_with_extra_fields_is_reported_with_its_line(tmp_path):
    with pytest.raises(DataError) as error:
        load_text(tmp_path, "id,tenure,churned,mrr\na,1,No,1\nb,2,No,1,extra\nc,3,No,1\n", TENURE_COLUMNS)
    problem = error.value.problems[0]
    assert problem.line == 3 and "5 fields where the header has 4" in problem.message


def test_a_file_without_a_config_needs_a_shape(tmp_path):
    path = write(tmp_path, "id,tenure,churned\na,1,No\n")
    with pytest.raises(ConfigError) as error:
        Project.from_file(path, columns={"tenure": "tenure"})
    assert error.value.lines() == [
        f"{path}, 'data.columns': the tenure shape needs both 'tenure' and 'churned'; 'churned' is missing"]
    book = Project.from_file(path, columns={"tenure": "tenure", "churned": "churned"}).book().book
    assert book.customers["tenure_months"].tolist() == [1]


# --------------------------------------------------------------------------- CSV dialects


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters_detected(tmp_path, delimiter):
    rows = [["id", "tenure", "churned", "mrr", "note"], ["a", "3", "Yes", "10.5", "x"], ["b", "4", "No", "20", "y"]]
    text = "\n".join(delimiter.join(r) for r in rows) + "\n"
    book = load_text(tmp_path, text, TENURE_COLUMNS)
    assert book.customers["mrr"].tolist() == [10.5, 20.0]
    assert book.customers["note"].tolist() == ["x", "y"]


def test_detect_delimiter_ignores_quoted_commas():
    assert detect_delimiter('id;name;mrr\n1;"Smith, John";10\n2;"Doe, Jane";20\n') == ";"


def test_bom_quotes_newlines_and_thousands(tmp_path):
    text = (
        "\ufeffid,tenure,churned,mrr,note\n"
        'a,3,Yes,"1,234.50","has, a comma"\n'
        'b,4,No,20,"two\nlines and ""quotes"""\n'
        "c,5,No,30,plain\n"
    )
    write(tmp_path, text)
    book = load_book(DataConfig(customers="customers.csv", columns=TENURE_COLUMNS), tmp_path)
    assert book.customers["customer_id"].tolist() == ["a", "b", "c"]  # BOM not glued to the header
    assert book.customers["mrr"].tolist() == [1234.5, 20.0, 30.0]
    assert book.customers["note"].tolist() == ["has, a comma", 'two\nlines and "quotes"', "plain"]


def test_bad_value_after_first_block_is_reported(tmp_path):
    # pyarrow guesses column types from the first block; a stray value later must still
    # be reported with its row, not crash the reader.
    body = "".join(f"c{i},{i % 50},No,{i}.5\n" for i in range(300_000))
    text = "id,tenure,churned,mrr\n" + body + "late,7,No,oops\n"
    with pytest.raises(DataError) as error:
        load_text(tmp_path, text, TENURE_COLUMNS)
    assert messages(error.value) == [f"customers.csv, row {300_002}, 'mrr': mrr 'oops' cannot be read; write plain numbers such as 1234.50 (no decimal comma)"]


def test_data_hash_is_sha256_of_file(tmp_path):
    text = "id,tenure,churned,mrr\na,3,Yes,1\n"
    book = load_text(tmp_path, text, TENURE_COLUMNS)
    assert book.data_hash == hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------- other formats


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "signup": pd.to_datetime(["2023-01-15", "2023-02-01", "2023-03-10"]),
            "churn": pd.to_datetime(["2023-03-16", None, None]),
            "mrr": [10.0, 20.0, 30.0],
            "plan": ["pro", "basic", "pro"],
        }
    )


def _check_formats_book(book: CustomerBook) -> None:
    customers = book.customers.set_index("customer_id")
    assert customers["tenure_months"].to_dict() == {"a": 3, "b": 4, "c": 3}  # as_of 2023-06-30
    assert customers["churned"].to_dict() == {"a": True, "b": False, "c": False}
    assert customers["plan"].to_dict() == {"a": "pro", "b": "basic", "c": "pro"}


def test_parquet(tmp_path):
    _frame().to_parquet(tmp_path / "book.parquet")
    book = load_book(DataConfig(customers="book.parquet", columns=DATE_COLUMNS, as_of=date(2023, 6, 30)), tmp_path)
    _check_formats_book(book)
    assert book.data_hash == hashlib.sha256((tmp_path / "book.parquet").read_bytes()).hexdigest()


def test_xlsx_with_sheet(tmp_path):
    with pd.ExcelWriter(tmp_path / "book.xlsx", engine="openpyxl") as writer:
        pd.DataFrame({"x": [1]}).to_excel(writer, sheet_name="notes", index=False)
        _frame().to_excel(writer, sheet_name="customers", index=False)
    data = DataConfig(customers="book.xlsx", columns=DATE_COLUMNS, as_of=date(2023, 6, 30), sheet="customers")
    _check_formats_book(load_book(data, tmp_path))
    with pytest.raises(DataError) as error:
        load_book(data.model_copy(update={"sheet": "Customers2"}), tmp_path)
    assert "'notes', 'customers'" in error.value.render()


def test_xlsx_errors_name_spreadsheet_rows(tmp_path):
    frame = pd.DataFrame({"id": ["a", "b"], "tenure": [3, -1], "churned": ["Yes", "No"], "mrr": [1.0, 2.0]})
    frame.to_excel(tmp_path / "book.xlsx", index=False)
    with pytest.raises(DataError) as error:
        load_book(DataConfig(customers="book.xlsx", columns=TENURE_COLUMNS), tmp_path)
    assert messages(error.value)[0].startswith("book.xlsx, row 3, 'tenure': tenure -1 is negative")


def test_sqlite(tmp_path, monkeypatch):
    database = tmp_path / "book.db"
    with sqlite3.connect(database) as connection:
        connection.execute("create table customers (id text, signup text, churn text, mrr real, plan text)")
        connection.executemany(
            "insert into customers values (?, ?, ?, ?, ?)",
            [("a", "2023-01-15", "2023-03-16", 10.0, "pro"), ("b", "2023-02-01", None, 20.0, "basic"),
             ("c", "2023-03-10", None, 30.0, "pro")],
        )
    query = "select id, signup, churn, mrr, plan from customers order by id"
    monkeypatch.setenv("SIMCORE_TEST_DB", f"sqlite:///{database}")
    data = DataConfig(customers=SqlSource(query=query, url_env="SIMCORE_TEST_DB"), columns=DATE_COLUMNS, as_of=date(2023, 6, 30))
    book = load_book(data, tmp_path)
    _check_formats_book(book)
    assert book.source == "sql query (customers)"
    assert len(book.data_hash) == 64

    monkeypatch.delenv("SIMCORE_TEST_DB")
    with pytest.raises(DataError, match="environment variable SIMCORE_TEST_DB is not set"):
        load_book(data, tmp_path)
    monkeypatch.setenv("SIMCORE_TEST_DB", f"sqlite:///{database}")
    bad = data.model_copy(update={"customers": SqlSource(query="select * from nowhere", url_env="SIMCORE_TEST_DB")})
    with pytest.raises(DataError, match="the query failed: no such table: nowhere"):
        load_book(bad, tmp_path)


# --------------------------------------------------------------------------- the IBM Telco sample


@pytest.mark.telco
def test_telco_sample_loads_through_column_mapping():
    if not TELCO.exists():
        pytest.skip("IBM Telco sample file not found next to the repository")
    book = Project.from_file(TELCO, columns={"id": "customerID", "tenure": "tenure", "churned": "Churn",
                                             "mrr": "MonthlyCharges"}).book().book
    customers = book.customers
    # Facts published with the file (SOURCE.md): 7,043 customers, 1,869 churned, 11 with
    # tenure 0, mean tenure 32.37, mean MonthlyCharges 64.76, Contract counts.
    assert len(customers) == 7043
    assert int(customers["churned"].sum()) == 1869
    assert customers["tenure_months"].mean() == pytest.approx(32.37, abs=0.005)
    assert customers["mrr"].mean() == pytest.approx(64.76, abs=0.005)
    assert customers["Contract"].value_counts().to_dict() == {"Month-to-month": 3875, "Two year": 1695, "One year": 1473}
    zero = [w for w in book.warnings if "tenure 0" in w.message]
    assert len(zero) == 1 and zero[0].message.startswith("11 active customers")
    assert "TotalCharges" in customers.columns
    assert book.data_hash == "16320c9c1ec72448db59aa0a26a0b95401046bef5d02fd3aeb906448e3055e91"


def test_rows_after_blank_lines_keep_their_spreadsheet_numbers(tmp_path):
    # Readers skip the blank lines (rows 3 and 5 in a spreadsheet); the bad values sit in
    # spreadsheet rows 4 and 7, and a quoted field spanning two lines is one row.
    text = 'id,signup,churn,mrr\na,2023-01-01,,10\n\nb,2023-01-01,,ten\n\n"c\nd",2023-01-01,,10\ne,2023-01-01,,-1\n'
    with pytest.raises(DataError) as error:
        load_text(tmp_path, text, as_of=date(2023, 6, 1))
    lines = messages(error.value)
    assert any("row 4, 'mrr'" in line and "'ten'" in line for line in lines), lines
    assert any("row 7, 'mrr'" in line and "negative" in line for line in lines), lines


def test_history_rows_after_blank_lines(tmp_path):
    write(tmp_path, "id,signup,churn,mrr\na,2023-01-01,,10\n")
    write(tmp_path, "customer_id,month,mrr\na,2023-01,10\n\na,2023-13,12\n", name="history.csv")
    data = DataConfig(customers="customers.csv", columns=DATE_COLUMNS, as_of=date(2023, 6, 1),
                      history={"path": "history.csv"})
    with pytest.raises(DataError) as error:
        load_book(data, tmp_path)
    assert any("history.csv, row 4" in line for line in messages(error.value)), messages(error.value)
