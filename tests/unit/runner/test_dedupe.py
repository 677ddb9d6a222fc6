"""Deduplication keeps the latest ingested copy of a key, deterministically, and every null-key row."""

from __future__ import annotations

from datetime import datetime

from chispa import assert_df_equality
from pyspark.sql import SparkSession

from retail_lakehouse.runner.dedupe import drop_duplicates

SCHEMA = "id STRING, value STRING, _ingested_at TIMESTAMP, _source STRING, _raw STRING"
EARLY, LATE = datetime(2025, 1, 1), datetime(2025, 1, 2)


def test_latest_ingestion_wins_then_the_latest_file_and_null_keys_are_all_kept(spark: SparkSession) -> None:
    rows = [
        ("A", "old", EARLY, "f1", "a1"),
        ("A", "new", LATE, "f1", "a2"),
        ("B", "first file", LATE, "f1", "b1"),
        ("B", "second file", LATE, "f2", "b2"),
        (None, "bad 1", EARLY, "f1", "x"),
        (None, "bad 2", EARLY, "f1", "x"),
    ]
    df = spark.createDataFrame(rows, SCHEMA)
    result = drop_duplicates(df, ["id"]).select("id", "value")
    expected = spark.createDataFrame(
        [("A", "new"), ("B", "second file"), (None, "bad 1"), (None, "bad 2")], "id STRING, value STRING"
    )
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)


def test_latest_by_prefers_the_greatest_value_over_the_latest_ingestion(spark: SparkSession) -> None:
    df = spark.createDataFrame([("A", "2", EARLY, "f1", "r1"), ("A", "1", LATE, "f2", "r2")], SCHEMA)
    assert [r.value for r in drop_duplicates(df, ["id"], latest_by="value").collect()] == ["2"]


def test_record_keys_keep_every_row_of_one_copy_never_a_mix_of_two(spark: SparkSession) -> None:
    schema = "id STRING, line INT, value STRING, _ingested_at TIMESTAMP, _source STRING, _raw STRING"
    rows = [
        # The later copy of T1 has two lines; the earlier had three. Line 3 must not survive from the earlier.
        ("T1", 1, "old 1", EARLY, "f1", "t1-old"),
        ("T1", 2, "old 2", EARLY, "f1", "t1-old"),
        ("T1", 3, "old 3", EARLY, "f1", "t1-old"),
        ("T1", 1, "new 1", LATE, "f2", "t1-new"),
        ("T1", 2, "new 2", LATE, "f2", "t1-new"),
        # The same record delivered twice in one file: one row per key.
        ("T2", 1, "same", EARLY, "f1", "t2"),
        ("T2", 1, "same", EARLY, "f1", "t2"),
    ]
    df = spark.createDataFrame(rows, schema)
    result = drop_duplicates(df, ["id", "line"], record_keys=["id"]).select("id", "line", "value")
    expected = spark.createDataFrame(
        [("T1", 1, "new 1"), ("T1", 2, "new 2"), ("T2", 1, "same")], "id STRING, line INT, value STRING"
    )
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)
