"""Customer-book ingestion at scale: load + validate (+ segment) a generated book.

Generates a date-shape book (id, signup date, churn date, MRR, two attribute columns) of
``--rows`` customers as CSV (and Parquet) in a temporary folder, then measures each stage
in a fresh subprocess so that the peak resident memory (``ru_maxrss``) belongs to that
stage alone. Targets for 10 million rows: under 60 s in all and under 6 GB.

Usage::

    python benchmarks/ingest.py --rows 10000000

Prints a table, then one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

STAGE_SCRIPT = r"""
import json, resource, sys, time
from pathlib import Path
from simcore.config import ColumnMap, DataConfig
from simcore.data import load_book

path, as_of, segment = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
data = DataConfig(
    customers=Path(path).name,
    columns=ColumnMap(id="customer_id", signup="signup_date", churn="churn_date", mrr="mrr"),
    as_of=as_of,
)
timings = {}
start = time.perf_counter()
book = load_book(data, Path(path).parent)
timings["load_validate_s"] = time.perf_counter() - start
result = {"customers": len(book.customers), "churned": int(book.customers["churned"].sum())}
if segment:
    from simcore.config import SegmentsConfig
    from simcore.segments import assign_segments

    start = time.perf_counter()
    assign_segments(book.customers, SegmentsConfig(by=["plan"], min_customers=100))
    timings["segment_s"] = time.perf_counter() - start
    result["segmentation"] = "by plan"
result.update(timings)
result["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
print(json.dumps(result))
"""


def generate(rows: int, folder: Path, seed: int = 20240601) -> dict[str, Path]:
    """Write the synthetic book as CSV and Parquet; returns their paths."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    as_of = np.datetime64("2024-06-30")
    signup = as_of - rng.integers(0, 6 * 365, rows).astype("timedelta64[D]")
    lifetime = rng.exponential(700.0, rows).astype(np.int64).astype("timedelta64[D]")
    churn = signup + lifetime
    active = churn > as_of
    plans = np.array(["starter", "growth", "pro", "enterprise"])
    regions = np.array(["emea", "na", "latam", "apac", "anz"])
    table = pa.table(
        {
            "customer_id": pa.array(np.char.add("C", np.arange(rows).astype("U10"))),
            "signup_date": pa.array(signup.astype("datetime64[D]")),
            "churn_date": pa.array(churn.astype("datetime64[D]"), mask=active),
            "mrr": pa.array(np.round(rng.lognormal(4.0, 0.8, rows), 2)),
            "plan": pa.array(plans[rng.integers(0, 4, rows)]),
            "region": pa.array(regions[rng.integers(0, 5, rows)]),
        }
    )
    paths = {"csv": folder / "customers.csv", "parquet": folder / "customers.parquet"}
    pacsv.write_csv(table, paths["csv"], pacsv.WriteOptions(quoting_style="none"))
    pq.write_table(table, paths["parquet"])
    return paths


def measure(path: Path, segment: bool) -> dict:
    """Run one load in a fresh interpreter and return its report."""
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", STAGE_SCRIPT, str(path), "2024-06-30", "1" if segment else "0"],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(completed.stderr.strip().splitlines()[-1] if completed.stderr.strip() else "stage failed")
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    report["process_wall_s"] = time.perf_counter() - started
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="simcore-ingest-") as folder:
        start = time.perf_counter()
        paths = generate(args.rows, Path(folder))
        generate_s = time.perf_counter() - start
        csv_mb = paths["csv"].stat().st_size / 1024**2
        results = {
            "csv": measure(paths["csv"], segment=False),
            "csv+segments": measure(paths["csv"], segment=True),
            "parquet": measure(paths["parquet"], segment=False),
        }
    print(f"rows: {args.rows:,}   csv size: {csv_mb:,.0f} MB   generate: {generate_s:.1f} s")
    print(f"{'run':<14}{'load+validate s':>16}{'segment s':>11}{'process s':>11}{'peak RSS GB':>13}")
    for name, report in results.items():
        segment_s = report.get("segment_s")
        print(
            f"{name:<14}{report['load_validate_s']:>16.1f}"
            f"{(f'{segment_s:.1f}' if segment_s is not None else '-'):>11}"
            f"{report['process_wall_s']:>11.1f}{report['peak_rss_gb']:>13.2f}"
        )
    print(json.dumps({"rows": args.rows, "csv_mb": round(csv_mb, 1), "generate_s": round(generate_s, 2), "runs": results}))


if __name__ == "__main__":
    main()
