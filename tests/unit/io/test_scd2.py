"""SCD2 merge: versions on change only, repeated deliveries ignored, late older versions placed in history."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession

from retail_lakehouse.config.models import TableSettings
from retail_lakehouse.core.table_refs import TableRef
from retail_lakehouse.io.delta_tables import ensure_table
from retail_lakehouse.io.scd2 import scd2_columns, scd2_merge

SCHEMA = "customer_id STRING, city STRING, valid_from TIMESTAMP"
D1, D2, D3, D4 = (datetime(2025, 1, day) for day in (1, 2, 3, 4))


def versions(spark: SparkSession, rows: list[tuple[str, str, datetime]]) -> DataFrame:
    return spark.createDataFrame(rows, SCHEMA)


def merge(spark: SparkSession, path: str, rows: list[tuple[str, str, datetime]]) -> int:
    return scd2_merge(spark, versions(spark, rows), TableRef(path), ["customer_id"], "valid_from")


def history(spark: SparkSession, path: str) -> DataFrame:
    return spark.read.format("delta").load(path).select("customer_id", "city", "valid_from", "valid_to", "is_current")


def expected(spark: SparkSession, rows: list[tuple[object, ...]]) -> DataFrame:
    return spark.createDataFrame(
        rows, "customer_id STRING, city STRING, valid_from TIMESTAMP, valid_to TIMESTAMP, is_current BOOLEAN"
    )


def test_two_updates_a_repeated_delivery_and_a_late_older_update(spark: SparkSession, tmp_path: Path) -> None:
    path = str(tmp_path / "customers")
    first = [("C1", "Oslo", D1), ("C2", "Rome", D1)]
    ensure_table(
        spark,
        TableRef(path),
        scd2_columns(versions(spark, first), ["customer_id"], "valid_from").schema,
        TableSettings(),
    )

    assert merge(spark, path, first) == 2
    assert merge(spark, path, [("C1", "Lyon", D3)]) == 1  # first update
    assert merge(spark, path, [("C1", "Lyon", D3), ("C2", "Rome", D4)]) == 0  # repeated / unchanged
    assert merge(spark, path, [("C1", "Kyiv", D4)]) == 1  # second update
    # An update from D2 arrives after the D3 and D4 versions: it goes between D1 and D3, and C1 stays in Kyiv.
    assert merge(spark, path, [("C1", "Graz", D2)]) == 1

    assert_df_equality(
        history(spark, path),
        expected(
            spark,
            [
                ("C1", "Oslo", D1, D2, False),
                ("C1", "Graz", D2, D3, False),
                ("C1", "Lyon", D3, D4, False),
                ("C1", "Kyiv", D4, None, True),
                ("C2", "Rome", D1, None, True),
            ],
        ),
        ignore_row_order=True,
        ignore_nullable=True,
    )
