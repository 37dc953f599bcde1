"""MRR history: loading, validation and expansion to customer-months."""

from __future__ import annotations

import sqlite3
from datetime import date

import pandas as pd
import pytest

from simcore.config import ColumnMap, DataConfig, HistoryColumns, HistorySource, SqlSource
from simcore.data import history_monthly, load_book
from simcore.errors import DataError

CUSTOMERS = (
    "id,signup,churn\n"
    "a,2023-01-15,2023-04-20\n"  # churned after 3 months and 5 days: paid Jan, Feb, Mar, Apr
    "b,2023-03-10,\n"  # active at 2023-06-30 with tenure 3: paid Mar, Apr, May, Jun
)
COLUMNS = ColumnMap(id="id", signup="signup", churn="churn")


def load(tmp_path, history_text: str, **history_options):
    (tmp_path / "customers.csv").write_text(CUSTOMERS)
    (tmp_path / "history.csv").write_text(history_text)
    data = DataConfig(
        customers="customers.csv",
        columns=COLUMNS,
        as_of=date(2023, 6, 30),
        history=HistorySource(path="history.csv", **history_options),
    )
    return load_book(data, tmp_path)


def test_history_loads_and_expands(tmp_path):
    book = load(tmp_path, "customer_id,month,mrr\na,2023-01,100\na,2023-03,120\nb,2023-04-15,50\n")
    assert book.history["month"].tolist() == [pd.Timestamp("2023-01-01"), pd.Timestamp("2023-03-01"), pd.Timestamp("2023-04-01")]
    monthly = history_monthly(book)
    expected = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b", "b", "b"],
            "month": pd.to_datetime(["2023-01-01", "2023-02-01", "2023-03-01", "2023-04-01", "2023-04-01", "2023-05-01", "2023-06-01"]),
            "mrr": [100.0, 100.0, 120.0, 120.0, 50.0, 50.0, 50.0],
            "tenure_month": [0, 1, 2, 3, 1, 2, 3],
        }
    )
    pd.testing.assert_frame_equal(monthly, expected)


def test_history_custom_columns_and_hash_changes(tmp_path):
    plain = load(tmp_path, "customer_id,month,mrr\na,2023-01,100\n")
    renamed = load(
        tmp_path,
        "cust;period;revenue\na;2023-01;100\n",
        columns=HistoryColumns(id="cust", month="period", mrr="revenue"),
    )
    pd.testing.assert_frame_equal(plain.history, renamed.history)
    assert plain.data_hash != renamed.data_hash  # the history bytes differ


def test_history_rows_after_churn_are_a_warning(tmp_path):
    book = load(tmp_path, "customer_id,month,mrr\na,2023-01,100\na,2023-05,90\n")
    assert any("after the customer's last paid month" in w.message and "row 3" in w.message for w in book.warnings)
    assert history_monthly(book)["month"].max() == pd.Timestamp("2023-04-01")


def test_history_errors_all_reported(tmp_path):
    text = (
        "customer_id,month,mrr\n"
        "a,2023-01,100\n"
        "zz,2023-02,100\n"  # unknown customer (row 3)
        "a,2023/13,100\n"  # unreadable month (row 4)
        "a,2023-02,lots\n"  # unreadable MRR (row 5)
        "b,2023-01,40\n"  # before b's signup in March (row 6)
        "a,2023-01-20,100\n"  # second row for a in January (row 7)
        "b,2023-04,-1\n"  # negative MRR (row 8)
    )
    with pytest.raises(DataError) as error:
        load(tmp_path, text)
    lines = [p.format() for p in error.value.problems]
    expected = [
        "history.csv, row 3, 'customer_id': customer id 'zz' is not in the customer book",
        "history.csv, row 4, 'month': month '2023/13' cannot be read",
        "history.csv, row 5, 'mrr': MRR 'lots' cannot be read",
        "history.csv, row 6, 'month': month 2023-01 is before customer 'b' signed up (2023-03-10)",
        "history.csv, row 7, 'month': customer 'a' has a second row for 2023-01",
        "history.csv, row 8, 'mrr': MRR -1 is negative",
    ]
    for wanted in expected:
        assert any(line.startswith(wanted) for line in lines), (wanted, lines)


def test_history_missing_column(tmp_path):
    with pytest.raises(DataError, match="column 'mrr' .* is not in the history; did you mean 'MRR'"):
        load(tmp_path, "customer_id,month,MRR\na,2023-01,100\n")


def test_history_from_sqlite(tmp_path, monkeypatch):
    database = tmp_path / "history.db"
    with sqlite3.connect(database) as connection:
        connection.execute("create table mrr (customer_id text, month text, mrr real)")
        connection.executemany("insert into mrr values (?, ?, ?)", [("a", "2023-01", 100.0), ("b", "2023-05", 70.0)])
    monkeypatch.setenv("SIMCORE_HISTORY_DB", f"sqlite:///{database}")
    (tmp_path / "customers.csv").write_text(CUSTOMERS)
    data = DataConfig(
        customers="customers.csv",
        columns=COLUMNS,
        as_of=date(2023, 6, 30),
        history=HistorySource(sql=SqlSource(query="select * from mrr", url_env="SIMCORE_HISTORY_DB")),
    )
    monthly = history_monthly(load_book(data, tmp_path))
    assert monthly.groupby("customer_id")["mrr"].sum().to_dict() == {"a": 400.0, "b": 140.0}


def test_tenure_shape_history_placed_from_as_of(tmp_path):
    (tmp_path / "customers.csv").write_text("id,tenure,churned\na,2,No\nb,3,Yes\n")
    (tmp_path / "history.csv").write_text("customer_id,month,mrr\na,2023-04,10\na,2023-06,12\nb,2023-01,5\nb,2023-02,6\n")
    data = DataConfig(
        customers="customers.csv",
        columns=ColumnMap(id="id", tenure="tenure", churned="churned"),
        as_of=date(2023, 6, 30),
        history=HistorySource(path="history.csv"),
    )
    monthly = history_monthly(load_book(data, tmp_path))
    # a: active, tenure 2 at June -> paid April (0), May (1), June (2).
    # b: churned after 3 payments, last history row February -> paid Dec, Jan, Feb (0..2).
    assert monthly[["customer_id", "tenure_month", "mrr"]].values.tolist() == [
        ["a", 0, 10.0], ["a", 1, 10.0], ["a", 2, 12.0], ["b", 1, 5.0], ["b", 2, 6.0]
    ]
