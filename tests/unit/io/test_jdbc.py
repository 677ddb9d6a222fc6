"""JDBC reads against a real embedded database: SQLite through the xerial JDBC driver."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import SparkSession

from retail_lakehouse.config.models import FeedSettings
from retail_lakehouse.io.jdbc import max_watermark, read_jdbc_range, read_jdbc_table

ROWS = [
    (1, "Ann", "Gold", "2025-01-01 10:00:00", 10),
    (2, "Bob", "Silver", "2025-01-02 11:30:00", 11),
    (3, "Cy", "Bronze", "2025-01-03 09:00:00", 12),
]


def crm_database(path: Path, rows: list[tuple[object, ...]] = ROWS) -> Path:
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE TABLE IF NOT EXISTS customers (customer_id INTEGER PRIMARY KEY, name TEXT, segment TEXT, "
            "updated_at TIMESTAMP, row_version INTEGER)"
        )
        connection.executemany("INSERT OR REPLACE INTO customers VALUES (?, ?, ?, ?, ?)", rows)
    return path


def crm_feed(path: Path, watermark_column: str = "updated_at") -> FeedSettings:
    return FeedSettings(
        format="jdbc",
        url=f"jdbc:sqlite:{path}",
        table="customers",
        driver="org.sqlite.JDBC",
        watermark_column=watermark_column,
    )


@pytest.fixture
def feed(tmp_path: Path) -> FeedSettings:
    return crm_feed(crm_database(tmp_path / "crm.db"))


def test_whole_table_with_its_source(spark: SparkSession, feed: FeedSettings) -> None:
    expected = spark.createDataFrame(
        [(i, n, s, dt.datetime.fromisoformat(t), v, "jdbc:customers") for i, n, s, t, v in ROWS],
        "customer_id INT, name STRING, segment STRING, updated_at TIMESTAMP, row_version INT, _source STRING",
    )
    # JDBC columns carry metadata (their scale); the values and types are what matter here.
    assert_df_equality(
        read_jdbc_table(spark, feed), expected, ignore_row_order=True, ignore_nullable=True, ignore_metadata=True
    )


def test_range_is_open_below_and_closed_above(spark: SparkSession, feed: FeedSettings) -> None:
    low, high = dt.datetime(2025, 1, 1, 10), dt.datetime(2025, 1, 2, 11, 30)
    assert [r.customer_id for r in read_jdbc_range(spark, feed, low, high).collect()] == [2]
    assert sorted(r.customer_id for r in read_jdbc_range(spark, feed, None, high).collect()) == [1, 2]


def test_the_range_filter_runs_in_the_database(spark: SparkSession, feed: FeedSettings) -> None:
    plan = read_jdbc_range(spark, feed, dt.datetime(2025, 1, 1), dt.datetime(2025, 2, 1))._jdf.queryExecution()
    assert "PushedFilters: [*IsNotNull(updated_at), *GreaterThan(updated_at" in plan.executedPlan().toString()


def test_max_watermark_of_timestamps_and_integers(spark: SparkSession, tmp_path: Path) -> None:
    path = crm_database(tmp_path / "crm.db")
    assert max_watermark(spark, crm_feed(path)) == dt.datetime(2025, 1, 3, 9)
    assert max_watermark(spark, crm_feed(path, "row_version")) == 12
    empty = tmp_path / "empty.db"
    crm_database(empty, rows=[])
    assert max_watermark(spark, crm_feed(empty)) is None
