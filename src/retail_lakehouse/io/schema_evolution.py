"""Checks a write's columns against the table: new columns are added when the table allows it; a column
whose type changed is an error that names it, with the old and the new type. Nullability inside a type
(an array's elements, a map's values, a struct's fields) is not the type: a plan may derive it differently
from one run to the next (FP-Growth's item arrays do), and Delta's write reconciles it."""

from __future__ import annotations

from pyspark.sql import SparkSession
from pyspark.sql.types import ArrayType, DataType, MapType, StructField, StructType

from retail_lakehouse.core.contracts import TableLayout
from retail_lakehouse.core.errors import SchemaChangeError
from retail_lakehouse.core.table_refs import TableRef, quoted_identifier
from retail_lakehouse.io import delta_tables


def evolve_schema(spark: SparkSession, ref: TableRef, incoming: StructType, table: TableLayout, name: str) -> None:
    existing = {f.name.lower(): f for f in delta_tables.read(spark, ref).schema.fields}
    added = []
    for field in incoming.fields:
        current = existing.get(field.name.lower())
        if current is None:
            added.append(field)
        elif without_nullability(current.dataType) != without_nullability(field.dataType):
            raise SchemaChangeError(
                f"{name}: column {field.name} changes type from {current.dataType.simpleString()} to "
                f"{field.dataType.simpleString()}; change the feed's schema back, or migrate the table first"
            )
    if not added:
        return
    names = ", ".join(f.name for f in added)
    if table.schema_evolution == "fail":
        raise SchemaChangeError(
            f"{name}: new column(s) {names} are not in the table and its schema_evolution is 'fail'; "
            "set tables.<table>.schema_evolution to add_columns to accept them"
        )
    columns = ", ".join(f"{quoted_identifier(f.name)} {f.dataType.simpleString()}" for f in added)
    spark.sql(f"ALTER TABLE {ref.identifier} ADD COLUMNS ({columns})")


def without_nullability(data_type: DataType) -> DataType:
    """`data_type` with every nested element, value and field nullable: what a type change compares."""
    if isinstance(data_type, ArrayType):
        return ArrayType(without_nullability(data_type.elementType), containsNull=True)
    if isinstance(data_type, MapType):
        return MapType(without_nullability(data_type.keyType), without_nullability(data_type.valueType), True)
    if isinstance(data_type, StructType):
        return StructType([StructField(f.name, without_nullability(f.dataType), True) for f in data_type.fields])
    return data_type
