from __future__ import annotations

import datetime as dt

from chispa import assert_df_equality
from pyspark.sql import SparkSession

from retail_lakehouse.bronze.ingestion import add_ingestion_metadata


def test_ingestion_metadata_is_added_to_every_row_unchanged(spark: SparkSession) -> None:
    raw = spark.createDataFrame([("1", "a"), ("1", "a"), (None, "b")], "id STRING, name STRING")
    at = dt.datetime(2025, 3, 4, 23, 59, 1, tzinfo=dt.UTC)
    actual = add_ingestion_metadata(raw, run_id="run-1", ingested_at=at)
    naive = dt.datetime(2025, 3, 4, 23, 59, 1)  # Spark hands timestamps back as naive UTC (session zone UTC)
    expected = spark.createDataFrame(
        [
            ("1", "a", naive, dt.date(2025, 3, 4), "run-1"),
            ("1", "a", naive, dt.date(2025, 3, 4), "run-1"),
            (None, "b", naive, dt.date(2025, 3, 4), "run-1"),
        ],
        "id STRING, name STRING, _ingested_at TIMESTAMP, _ingest_date DATE, _run_id STRING",
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)
