"""Checks a write's columns against the table: new columns are added when the table allows it; a column
whose type changed is an error that names it, with the old and the new type."""

from __future__ import annotations

from pyspark.sql import SparkSession
from pyspark.sql.types import StructType

from retail_lakehouse.core.contracts import TableLayout
from retail_lakehouse.core.errors import SchemaChangeError


def evolve_schema(spark: SparkSession, path: str, incoming: StructType, table: TableLayout, name: str) -> None:
    existing = {f.name.lower(): f for f in spark.read.format("delta").load(path).schema.fields}
    added = []
    for field in incoming.fields:
        current = existing.get(field.name.lower())
        if current is None:
            added.append(field)
        elif current.dataType != field.dataType:
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
    columns = ", ".join(f"`{f.name}` {f.dataType.simpleString()}" for f in added)
    spark.sql(f"ALTER TABLE delta.`{path}` ADD COLUMNS ({columns})")
