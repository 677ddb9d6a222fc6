"""Benchmark: a gold and a silver table after 90 daily runs, before and after `lakehouse maintain`.

    .venv/bin/python bench/maintenance.py [--days 90] [--rows-per-day 8000] [--work /tmp/bench-maintenance]

Writes the two tables the way 90 daily runs of their jobs do, one commit per run, with the writers the jobs
use: `gold/sales_daily` (partitioned by sale_date, replace-where on the day each run brings) and
`silver/transactions` (a MERGE on transaction_id of the day's transactions, plus corrections of the day
before, unpartitioned). Rows are drawn with the demo's shape at scale 1 (about 8,000 sales_daily rows and
1,200 transactions a day). Then prints, per table, file count, size and a typical query's time through
Spark and through DuckDB's own Delta reader, before and after maintenance (OPTIMIZE with the table's
policy, VACUUM keeping a 0-hour window so removed files go, a log checkpoint). Results go to
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import duckdb_extension_delta
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from retail_lakehouse.config.models import LakehouseConfig, SparkSettings, TableSettings
from retail_lakehouse.io import delta_tables
from retail_lakehouse.ops.maintenance import maintain_table
from retail_lakehouse.runtime.spark import get_spark_session

START = dt.date(2025, 1, 1)
SALES = "gold/sales_daily"
TRANSACTIONS = "silver/transactions"
TIMES = 5


def sales_of_day(spark: SparkSession, day: dt.date, rows: int) -> DataFrame:
    return spark.range(rows).select(
        F.lit(day).alias("sale_date"),
        (F.col("id") % 50).cast("string").alias("store_id"),
        ((F.col("id") * 7919) % 5000).cast("string").alias("product_id"),
        F.when(F.col("id") % 10 == 0, "online").otherwise("store").alias("channel"),
        ((F.col("id") % 5) + 1).cast("long").alias("quantity_sold"),
        ((F.col("id") % 97) * 1.25 + 3).cast("decimal(28,4)").alias("gross_revenue"),
        ((F.col("id") % 7) * 0.5).cast("decimal(28,4)").alias("discount_amount"),
        ((F.col("id") % 97) * 1.25 + 3 - (F.col("id") % 7) * 0.5).cast("decimal(28,4)").alias("net_revenue"),
        ((F.col("id") % 3) + 1).cast("long").alias("transaction_count"),
    )


def transactions_of_day(spark: SparkSession, day_index: int, rows: int) -> DataFrame:
    day = START + dt.timedelta(days=day_index)
    # The day's transactions, and a tenth of yesterday's again with a corrected total (late corrections).
    today = spark.range(day_index * rows, (day_index + 1) * rows)
    corrected = spark.range(max(0, (day_index - 1) * rows), max(0, (day_index - 1) * rows) + rows // 10)
    return today.union(corrected).select(
        F.format_string("T%09d", F.col("id")).alias("transaction_id"),
        F.lit(day).alias("transaction_date"),
        (F.col("id") % 50).cast("string").alias("store_id"),
        ((F.col("id") % 500) + day_index * 0.01).cast("decimal(28,4)").alias("total_amount"),
    )


def duckdb_over_delta() -> duckdb.DuckDBPyConnection:
    """DuckDB with its own Delta reader, from the duckdb-extension-delta wheel (INSTALL cannot download)."""
    extension = Path(duckdb_extension_delta.__file__).parent / "extensions" / f"v{duckdb.__version__}"
    connection = duckdb.connect()
    connection.execute(f"LOAD '{extension / 'delta.duckdb_extension'}'")
    return connection


def timed(query: Callable[[], object]) -> float:
    times = []
    for _ in range(TIMES):
        started = time.perf_counter()
        query()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(spark: SparkSession, config: LakehouseConfig) -> dict[str, tuple[int, int, float, float]]:
    found = {}
    con = duckdb_over_delta()
    queries = {
        SALES: (
            "SELECT store_id, SUM(net_revenue) FROM {t} WHERE sale_date >= DATE '2025-03-01' GROUP BY store_id",
            "SELECT store_id, SUM(net_revenue) FROM delta_scan('{p}') WHERE sale_date >= DATE '2025-03-01' "
            "GROUP BY store_id",
        ),
        TRANSACTIONS: (
            "SELECT transaction_date, COUNT(*), SUM(total_amount) FROM {t} GROUP BY transaction_date",
            "SELECT transaction_date, COUNT(*), SUM(total_amount) FROM delta_scan('{p}') GROUP BY transaction_date",
        ),
    }
    for table, (spark_sql, duck_sql) in queries.items():
        ref = config.storage.table_ref(table)
        path = ref.path
        identifier = ref.identifier
        detail = spark.sql(f"DESCRIBE DETAIL {identifier}").first()
        assert detail is not None
        spark_seconds = timed(lambda: spark.sql(spark_sql.format(t=identifier)).collect())  # noqa: B023
        duck_seconds = timed(lambda: con.execute(duck_sql.format(p=path)).fetchall())  # noqa: B023
        found[table] = (int(detail["numFiles"]), int(detail["sizeInBytes"]), spark_seconds, duck_seconds)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--rows-per-day", type=int, default=8000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-maintenance"))
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    config = LakehouseConfig.model_validate(
        {
            "env": "bench",
            "conf_dir": "conf",
            "storage": {"landing": str(args.work / "landing"), "root": str(args.work / "lakehouse")},
            "tables": {
                SALES: {"partition_by": ["sale_date"], "maintenance": {"zorder_by": ["store_id", "product_id"]}},
                TRANSACTIONS: {},
            },
            "ops": {"maintenance": {"time_travel_hours": 0}},
        }
    )
    spark = get_spark_session(
        SparkSettings(session="local", master="local[2]", shuffle_partitions=4, driver_memory="4g"),
        warehouse_dir=str(args.work / "warehouse"),
    )
    sales_path = config.storage.table_ref(SALES)
    transactions_path = config.storage.table_ref(TRANSACTIONS)
    written = time.perf_counter()
    for day_index in range(args.days):
        day = START + dt.timedelta(days=day_index)
        sales = sales_of_day(spark, day, args.rows_per_day).repartition(4)  # the job's shuffle partitions
        if day_index == 0:
            delta_tables.create_with_rows(sales, sales_path, config.tables[SALES])
        else:
            delta_tables.replace_where(sales, sales_path, TableSettings(partition_by=["sale_date"]), "sale_date")
        transactions = transactions_of_day(spark, day_index, args.rows_per_day * 3 // 20).repartition(4)
        if day_index == 0:
            delta_tables.create_with_rows(transactions, transactions_path, config.tables[TRANSACTIONS])
        else:
            delta_tables.merge(transactions, transactions_path, ["transaction_id"])
    print(f"{args.days} daily runs written in {time.perf_counter() - written:.0f} s")

    before = measure(spark, config)
    maintained = {table: maintain_table(spark, config, table, "bench") for table in (SALES, TRANSACTIONS)}
    after = measure(spark, config)
    print(f"\n{'table':<22} {'files':>15} {'MB':>13} {'Spark query s':>17} {'DuckDB query s':>17} {'maintain s':>10}")
    for table in (SALES, TRANSACTIONS):
        (f0, b0, s0, d0), (f1, b1, s1, d1) = before[table], after[table]
        print(
            f"{table:<22} {f0:>6} -> {f1:<6} {b0 / 1e6:>5.1f} -> {b1 / 1e6:<5.1f} {s0:>7.3f} -> {s1:<7.3f} "
            f"{d0:>7.3f} -> {d1:<7.3f} {maintained[table].seconds:>10.1f}"
        )
        print(
            f"  {'':<20} query {s0 / s1:.1f}x faster in Spark, {d0 / d1:.1f}x in DuckDB; "
            f"{maintained[table].files_vacuumed} files vacuumed"
        )
    spark.stop()


if __name__ == "__main__":
    main()
