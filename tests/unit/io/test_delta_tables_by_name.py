"""Tables addressed by catalog name (`storage.catalog`): every writer and reader of `delta_tables` against
Spark's session catalog, standing in for Unity Catalog. Each table is an external table at its path, so an
independent reader (deltalake) finds by path exactly what was written by name."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from deltalake import DeltaTable
from pyspark.errors import AnalysisException
from pyspark.sql import SparkSession

from retail_lakehouse.config.models import TableSettings
from retail_lakehouse.core.table_refs import TableRef
from retail_lakehouse.io import delta_tables

SCHEMA = "sale_date DATE, store_id STRING, revenue INT"
TABLE = TableSettings(partition_by=["sale_date"], description="Sales.", properties={"classification": "Internal"})
D1, D2 = dt.date(2025, 1, 1), dt.date(2025, 1, 2)


@pytest.fixture
def schema(spark: SparkSession) -> Iterator[str]:
    """A schema of its own in the session catalog, not created yet (the first write creates it)."""
    name = f"spark_catalog.t_{uuid.uuid4().hex[:8]}"
    yield name
    spark.sql(f"DROP SCHEMA IF EXISTS {name} CASCADE")


def by_path(path: str) -> list[tuple[object, ...]]:
    rows = DeltaTable(path).to_pyarrow_table().to_pylist()
    return sorted((r["sale_date"], r["store_id"], r["revenue"]) for r in rows)


def test_the_first_write_creates_the_schema_and_an_external_table_at_the_path(
    spark: SparkSession, tmp_path: Path, schema: str
) -> None:
    ref = TableRef(str(tmp_path / "sales"), f"{schema}.sales")
    assert not delta_tables.exists(spark, ref)
    assert delta_tables.current_version(spark, ref) is None
    rows = spark.createDataFrame([(D1, "1", 10)], SCHEMA)
    delta_tables.create_with_rows(rows, ref, TABLE, commit_marker="created")

    detail = spark.sql(f"DESCRIBE DETAIL {ref.identifier}").first()
    assert detail is not None
    assert detail["location"] == f"file:{tmp_path}/sales"
    assert (detail["partitionColumns"], detail["description"]) == (["sale_date"], "Sales.")
    assert detail["properties"]["classification"] == "Internal"
    table = spark.sql(f"DESCRIBE TABLE EXTENDED {ref.identifier}").where("col_name = 'Type'").first()
    assert table is not None and table["data_type"] == "EXTERNAL"
    assert by_path(ref.path) == [(D1, "1", 10)]
    assert delta_tables.last_commit_metadata(spark, ref) == "created"


def test_every_write_goes_through_the_name_with_its_options(spark: SparkSession, tmp_path: Path, schema: str) -> None:
    ref = TableRef(str(tmp_path / "sales"), f"{schema}.sales")
    first = spark.createDataFrame([(D1, "1", 10), (D2, "1", 30)], SCHEMA)
    delta_tables.ensure_table(spark, ref, first.schema, TABLE)
    delta_tables.append(first, ref, TABLE, idempotency=("app", 1))
    delta_tables.append(first, ref, TABLE, idempotency=("app", 1))  # a retried write: skipped by Delta
    assert by_path(ref.path) == [(D1, "1", 10), (D2, "1", 30)]

    delta_tables.replace_where(spark.createDataFrame([(D2, "2", 5)], SCHEMA), ref, TABLE, "sale_date")
    assert by_path(ref.path) == [(D1, "1", 10), (D2, "2", 5)]

    delta_tables.merge(spark.createDataFrame([(D1, "1", 11), (D1, "3", 7)], SCHEMA), ref, ["sale_date", "store_id"])
    assert by_path(ref.path) == [(D1, "1", 11), (D1, "3", 7), (D2, "2", 5)]
    _, commits = delta_tables.write_marked(
        spark,
        ref,
        "overwritten",
        lambda: delta_tables.overwrite(spark.createDataFrame([(D2, "9", 1)], SCHEMA), ref, TABLE),
    )
    assert [c.rows_written for c in commits] == [1]
    assert by_path(ref.path) == [(D2, "9", 1)]
    assert delta_tables.holds_exactly(spark, ref, spark.createDataFrame([(D2, "9", 1)], SCHEMA))

    operations = [r["operation"] for r in delta_tables.history(spark, ref, 10).orderBy("version").collect()]
    assert operations == ["CREATE TABLE AS SELECT", "WRITE", "WRITE", "MERGE", "WRITE"]
    # The overwrite kept what configuration gave the table.
    assert spark.sql(f"DESCRIBE DETAIL {ref.identifier}").first()["partitionColumns"] == ["sale_date"]  # type: ignore[index]


def test_a_write_to_a_name_the_catalog_lacks_fails_rather_than_create_a_managed_table(
    spark: SparkSession, tmp_path: Path, schema: str
) -> None:
    ref = TableRef(str(tmp_path / "sales"), f"{schema}.sales")
    spark.sql(f"CREATE SCHEMA {schema}")
    with pytest.raises(AnalysisException, match="TABLE_OR_VIEW_NOT_FOUND"):
        delta_tables.append(spark.createDataFrame([(D1, "1", 10)], SCHEMA), ref, TABLE)
    assert not spark.catalog.tableExists(ref.name)  # type: ignore[arg-type]


def test_a_table_written_by_path_before_is_registered_under_its_name_with_its_history(
    spark: SparkSession, tmp_path: Path, schema: str
) -> None:
    path = str(tmp_path / "sales")
    delta_tables.create_with_rows(spark.createDataFrame([(D1, "1", 10)], SCHEMA), TableRef(path), TABLE)
    delta_tables.append(spark.createDataFrame([(D2, "1", 20)], SCHEMA), TableRef(path), TABLE)
    ref = TableRef(path, f"{schema}.sales")
    assert delta_tables.exists(spark, ref)
    assert delta_tables.current_version(spark, ref) == 1
    assert sorted(tuple(r) for r in delta_tables.read(spark, ref).collect()) == [(D1, "1", 10), (D2, "1", 20)]


def test_a_stream_reads_a_table_by_name(spark: SparkSession, tmp_path: Path, schema: str) -> None:
    ref = TableRef(str(tmp_path / "sales"), f"{schema}.sales")
    delta_tables.create_with_rows(spark.createDataFrame([(D1, "1", 10), (D2, "2", 20)], SCHEMA), ref, TABLE)
    received: list[tuple[object, ...]] = []
    query = (
        delta_tables.read_stream(spark, ref)
        .writeStream.foreachBatch(lambda batch, _: received.extend(tuple(r) for r in batch.collect()))
        .option("checkpointLocation", str(tmp_path / "checkpoint"))
        .trigger(availableNow=True)
        .start()
    )
    query.awaitTermination()
    assert sorted(received) == [(D1, "1", 10), (D2, "2", 20)]


def test_identifiers_quote_each_part() -> None:
    assert TableRef("/lake/gold/x", "retail.gold.x").identifier == "`retail`.`gold`.`x`"
    assert TableRef("/lake/gold/x`y").identifier == "delta.`/lake/gold/x``y`"
    assert str(TableRef("/lake/gold/x", "retail.gold.x")) == "retail.gold.x"
    assert str(TableRef("/lake/gold/x")) == "/lake/gold/x"
