from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from chispa import assert_df_equality
from delta.tables import DeltaTable
from pyspark.sql import SparkSession

from retail_lakehouse.config.models import TableSettings
from retail_lakehouse.io import delta_tables

SCHEMA = "sale_date DATE, store_id STRING, revenue INT"
TABLE = TableSettings(partition_by=["sale_date"], properties={"classification": "Internal"})
D1, D2, D3 = dt.date(2025, 1, 1), dt.date(2025, 1, 2), dt.date(2025, 1, 3)


def seeded_table(spark: SparkSession, tmp_path: Path) -> str:
    path = str(tmp_path / "sales")
    df = spark.createDataFrame([(D1, "1", 10), (D1, "2", 20), (D2, "1", 30)], SCHEMA)
    delta_tables.ensure_table(spark, path, df.schema, TABLE)
    delta_tables.append(df, path, TABLE)
    return path


def test_ensure_table_applies_partitioning_and_properties(spark: SparkSession, tmp_path: Path) -> None:
    path = seeded_table(spark, tmp_path)
    detail = DeltaTable.forPath(spark, path).detail().first()
    assert detail is not None
    assert detail["partitionColumns"] == ["sale_date"]
    assert detail["properties"]["classification"] == "Internal"
    # Creating again is a no-op.
    version = delta_tables.current_version(spark, path)
    delta_tables.ensure_table(spark, path, spark.table(f"delta.`{path}`").schema, TABLE)
    assert delta_tables.current_version(spark, path) == version


def test_current_version_is_none_without_a_table(spark: SparkSession, tmp_path: Path) -> None:
    assert delta_tables.current_version(spark, str(tmp_path / "none")) is None


def test_overwrite_replaces_everything(spark: SparkSession, tmp_path: Path) -> None:
    path = seeded_table(spark, tmp_path)
    delta_tables.overwrite(spark.createDataFrame([(D3, "9", 1)], SCHEMA), path, TABLE)
    assert_df_equality(
        spark.read.format("delta").load(path), spark.createDataFrame([(D3, "9", 1)], SCHEMA), ignore_row_order=True
    )


def test_replace_where_replaces_only_the_dates_present(spark: SparkSession, tmp_path: Path) -> None:
    path = seeded_table(spark, tmp_path)
    before = delta_tables.current_version(spark, path)
    new_d2 = spark.createDataFrame([(D2, "1", 31), (D2, "3", 5), (D3, "1", 7)], SCHEMA)
    delta_tables.replace_where(new_d2, path, TABLE, "sale_date")
    expected = spark.createDataFrame([(D1, "1", 10), (D1, "2", 20), (D2, "1", 31), (D2, "3", 5), (D3, "1", 7)], SCHEMA)
    assert_df_equality(spark.read.format("delta").load(path), expected, ignore_row_order=True)
    assert delta_tables.rows_written_since(spark, path, before) == 3


def test_merge_upserts_and_rewrites_only_changed_rows(spark: SparkSession, tmp_path: Path) -> None:
    path = seeded_table(spark, tmp_path)
    before = delta_tables.current_version(spark, path)
    changes = spark.createDataFrame([(D1, "1", 10), (D1, "2", 25), (D3, "4", 1)], SCHEMA)
    delta_tables.merge(spark, changes, path, ["sale_date", "store_id"])
    expected = spark.createDataFrame([(D1, "1", 10), (D1, "2", 25), (D2, "1", 30), (D3, "4", 1)], SCHEMA)
    assert_df_equality(spark.read.format("delta").load(path), expected, ignore_row_order=True)
    # One update (store 2) and one insert; the unchanged row 1 is not rewritten.
    assert delta_tables.rows_written_since(spark, path, before) == 2
    # Merging the same rows again writes nothing.
    again = delta_tables.current_version(spark, path)
    delta_tables.merge(spark, changes, path, ["sale_date", "store_id"])
    assert delta_tables.rows_written_since(spark, path, again) == 0


def test_merge_within_partitions_reads_only_the_partitions_of_the_batch(spark: SparkSession, tmp_path: Path) -> None:
    path = seeded_table(spark, tmp_path)
    # Take away the data of partition D1 behind Delta's back: a merge that reads it fails.
    for data_file in (Path(path) / f"sale_date={D1}").glob("*.parquet"):
        data_file.unlink()
    changes = spark.createDataFrame([(D2, "1", 35), (D3, "4", 1)], SCHEMA)
    with pytest.raises(Exception, match=r"(?i)file"):
        delta_tables.merge(spark, changes, path, ["store_id"])
    delta_tables.merge(spark, changes, path, ["store_id"], within_partitions=["sale_date"])
    after_d1 = spark.read.format("delta").load(path).where(f"sale_date > DATE'{D1}'")
    expected = spark.createDataFrame([(D2, "1", 35), (D3, "4", 1)], SCHEMA)
    assert_df_equality(after_d1, expected, ignore_row_order=True)


def test_partitions_of_names_each_partition_of_the_rows_with_nulls(spark: SparkSession) -> None:
    schema = "sale_date DATE, store_id STRING"
    rows = spark.createDataFrame([(D1, "1"), (D1, "1"), (D2, None), (None, "3")], schema)
    table = spark.createDataFrame(
        [(D1, "1"), (D1, "2"), (D2, None), (D2, "1"), (D3, "1"), (None, "3"), (None, None)], schema
    )
    both = table.alias("target").where(delta_tables.partitions_of(rows, ["sale_date", "store_id"]))
    assert sorted(both.collect(), key=str) == sorted([(D1, "1"), (D2, None), (None, "3")], key=str)
    dates = table.alias("target").where(delta_tables.partitions_of(rows, ["sale_date"]))
    assert dates.count() == 6  # D1, D2 and null: every row but D3's


def test_merge_treats_nulls_as_values(spark: SparkSession, tmp_path: Path) -> None:
    path = seeded_table(spark, tmp_path)
    delta_tables.merge(spark, spark.createDataFrame([(D1, "1", None)], SCHEMA), path, ["sale_date", "store_id"])
    before = delta_tables.current_version(spark, path)
    delta_tables.merge(spark, spark.createDataFrame([(D1, "1", None)], SCHEMA), path, ["sale_date", "store_id"])
    assert delta_tables.rows_written_since(spark, path, before) == 0
    row = spark.read.format("delta").load(path).where("store_id = '1' AND sale_date = DATE'2025-01-01'").first()
    assert row is not None and row["revenue"] is None


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        (D1, "DATE'2025-01-01'"),
        (dt.datetime(2025, 1, 1, 8, 30), "TIMESTAMP'2025-01-01 08:30:00'"),
        (7, "7"),
        (True, "true"),
        ("it's", "'it\\'s'"),
        ("back\\slash", "'back\\\\slash'"),
    ],
)
def test_sql_literals_are_quoted(value: object, literal: str) -> None:
    assert delta_tables.sql_literal(value) == literal


def test_replace_where_with_a_quote_in_the_value(spark: SparkSession, tmp_path: Path) -> None:
    path = str(tmp_path / "t")
    table = TableSettings()
    rows = spark.createDataFrame([("o'brien", 1), ("x", 2)], "name STRING, n INT")
    delta_tables.ensure_table(spark, path, rows.schema, table)
    delta_tables.append(rows, path, table)
    delta_tables.replace_where(spark.createDataFrame([("o'brien", 3)], "name STRING, n INT"), path, table, "name")
    assert sorted(tuple(r) for r in spark.read.format("delta").load(path).collect()) == [("o'brien", 3), ("x", 2)]
