"""Schema evolution: a new column is added (nullable) where the table allows it; a changed type never is."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.sql.types import StructType

from retail_lakehouse.config.models import TableSettings
from retail_lakehouse.core.errors import SchemaChangeError
from retail_lakehouse.io.schema_evolution import evolve_schema

ORIGINAL = "store_id STRING, square_feet INT"


def table_with_one_row(spark: SparkSession, tmp_path: Path) -> str:
    path = str(tmp_path / "stores")
    spark.createDataFrame([("1", 100)], ORIGINAL).write.format("delta").save(path)
    return path


def schema(ddl: str) -> StructType:
    parsed = StructType.fromDDL(ddl)
    assert isinstance(parsed, StructType)
    return parsed


def test_a_new_column_is_added_as_nullable_and_old_rows_read_null(spark: SparkSession, tmp_path: Path) -> None:
    path = table_with_one_row(spark, tmp_path)
    evolve_schema(spark, path, schema(f"{ORIGINAL}, region STRING"), TableSettings(), "silver/stores")
    table = spark.read.format("delta").load(path)
    assert [(f.name, f.dataType.simpleString(), f.nullable) for f in table.schema.fields][-1] == (
        "region",
        "string",
        True,
    )
    assert [tuple(r) for r in table.collect()] == [("1", 100, None)]


def test_a_changed_type_fails_naming_the_column_and_both_types(spark: SparkSession, tmp_path: Path) -> None:
    path = table_with_one_row(spark, tmp_path)
    with pytest.raises(SchemaChangeError) as error:
        evolve_schema(spark, path, schema("store_id STRING, square_feet STRING"), TableSettings(), "silver/stores")
    assert str(error.value) == (
        "silver/stores: column square_feet changes type from int to string; change the feed's schema back, "
        "or migrate the table first"
    )


def test_a_table_whose_policy_is_fail_refuses_new_columns(spark: SparkSession, tmp_path: Path) -> None:
    path = table_with_one_row(spark, tmp_path)
    with pytest.raises(SchemaChangeError, match="new column\\(s\\) region are not in the table"):
        evolve_schema(
            spark, path, schema(f"{ORIGINAL}, region STRING"), TableSettings(schema_evolution="fail"), "silver/stores"
        )
    assert spark.read.format("delta").load(path).columns == ["store_id", "square_feet"]
