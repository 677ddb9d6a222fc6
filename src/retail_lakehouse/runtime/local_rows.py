"""DataFrames of the few rows a job records about itself (its run, its rule results, a watermark).

`spark.createDataFrame` of Python rows makes an RDD that a Python worker has to serialise again when
the DataFrame is written: a one-row Delta append took 0.5 s that way against 0.25 s from literals, on
every job run (docs/benchmarks.md). Rows built from literals are planned and written by the JVM alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType


def literal_rows(spark: SparkSession, rows: Sequence[Mapping[str, Any]], schema: StructType) -> DataFrame:
    """`rows` as a DataFrame of `schema`'s columns, in its order and types; a column a row lacks is null.

    Datetimes convert as `createDataFrame` converts them: aware ones by their offset, naive ones in the
    Python process's local time zone. Nullability is not carried: a NOT NULL column of the table written
    to still refuses a null.
    """
    unknown = {key for row in rows for key in row} - set(schema.fieldNames())
    if unknown:
        raise ValueError(f"values for columns not in the schema: {', '.join(sorted(unknown))}")
    if not rows:
        return spark.range(0).select(*[F.lit(None).cast(field.dataType).alias(field.name) for field in schema.fields])
    structs = [
        F.struct(*[F.lit(row.get(field.name)).cast(field.dataType).alias(field.name) for field in schema.fields])
        for row in rows
    ]
    return spark.range(1).select(F.inline(F.array(*structs)))
