"""Schema evolution: a new column is added (nullable) where the table allows it; a changed type never is."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.sql.types import ArrayType, LongType, StringType, StructField, StructType

from retail_lakehouse.config.models import TableSettings
from retail_lakehouse.core.errors import SchemaChangeError
from retail_lakehouse.core.table_refs import TableRef
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
    evolve_schema(spark, TableRef(path), schema(f"{ORIGINAL}, region STRING"), TableSettings(), "silver/stores")
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
        evolve_schema(
            spark, TableRef(path), schema("store_id STRING, square_feet STRING"), TableSettings(), "silver/stores"
        )
    assert str(error.value) == (
        "silver/stores: column square_feet changes type from int to string; change the feed's schema back, "
        "or migrate the table first"
    )


def test_a_table_whose_policy_is_fail_refuses_new_columns(spark: SparkSession, tmp_path: Path) -> None:
    path = table_with_one_row(spark, tmp_path)
    with pytest.raises(SchemaChangeError, match="new column\\(s\\) region are not in the table"):
        evolve_schema(
            spark,
            TableRef(path),
            schema(f"{ORIGINAL}, region STRING"),
            TableSettings(schema_evolution="fail"),
            "silver/stores",
        )
    assert spark.read.format("delta").load(path).columns == ["store_id", "square_feet"]


@pytest.mark.parametrize("table_allows_null_items", [False, True])
def test_nullability_inside_a_type_is_not_a_type_change(
    spark: SparkSession, tmp_path: Path, table_allows_null_items: bool
) -> None:
    # FP-Growth's item arrays come out with or without null elements allowed, depending on the plan.
    path = str(tmp_path / "itemsets")
    item_type = ArrayType(StringType(), containsNull=table_allows_null_items)
    created = StructType([StructField("items", item_type, True), StructField("freq", LongType(), True)])
    spark.createDataFrame([(["a", "b"], 2)], created).write.format("delta").save(path)
    incoming = StructType(
        [
            StructField("items", ArrayType(StringType(), containsNull=not table_allows_null_items), True),
            StructField("freq", LongType(), True),
        ]
    )

    evolve_schema(spark, TableRef(path), incoming, TableSettings(), "gold/frequent_itemsets")
    spark.createDataFrame([(["c"], 3)], incoming).write.format("delta").mode("overwrite").save(path)

    assert [tuple(r) for r in spark.read.format("delta").load(path).collect()] == [(["c"], 3)]


def test_a_changed_element_type_is_a_type_change(spark: SparkSession, tmp_path: Path) -> None:
    path = str(tmp_path / "itemsets")
    spark.createDataFrame([(["a"],)], "items ARRAY<STRING>").write.format("delta").save(path)
    with pytest.raises(SchemaChangeError, match="column items changes type from array<string> to array<int>"):
        evolve_schema(spark, TableRef(path), schema("items ARRAY<INT>"), TableSettings(), "gold/frequent_itemsets")
