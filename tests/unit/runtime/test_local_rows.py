from __future__ import annotations

import datetime as dt

import pytest
from chispa import assert_df_equality
from pyspark.sql import SparkSession
from pyspark.sql.types import (
    BooleanType,
    DateType,
    DoubleType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from retail_lakehouse.runtime.local_rows import literal_rows

SCHEMA = StructType(
    [
        StructField("run_id", StringType(), False),
        StructField("rows", LongType(), True),
        StructField("score", DoubleType(), True),
        StructField("passed", BooleanType(), True),
        StructField("day", DateType(), True),
        StructField("at", TimestampType(), True),
    ]
)

ROWS = [
    {
        "run_id": "r1",
        "rows": 12_345_678_901,  # beyond an INT
        "score": 0.25,
        "passed": True,
        "day": dt.date(2025, 3, 1),
        "at": dt.datetime(2025, 3, 1, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    },
    {"run_id": 'it\'s "quoted"', "rows": None, "score": None, "passed": False, "day": None, "at": None},
    {"run_id": "r3", "at": dt.datetime(2025, 3, 2, 8, 0)},  # naive; columns left out are null
]


def test_literal_rows_hold_what_create_dataframe_holds(spark: SparkSession) -> None:
    """createDataFrame is the independent reference: the same rows, types and timestamps."""
    expected = spark.createDataFrame([{f.name: row.get(f.name) for f in SCHEMA.fields} for row in ROWS], SCHEMA)
    actual = literal_rows(spark, ROWS, SCHEMA)
    assert actual.columns == SCHEMA.fieldNames()
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)
    first = actual.where("run_id = 'r1'").first()
    assert first is not None
    assert first["at"] == dt.datetime(2025, 3, 1, 21, 30)  # the session's time zone is UTC


def test_no_rows_is_an_empty_frame_of_the_schema(spark: SparkSession) -> None:
    empty = literal_rows(spark, [], SCHEMA)
    assert empty.count() == 0
    assert [(f.name, f.dataType) for f in empty.schema.fields] == [(f.name, f.dataType) for f in SCHEMA.fields]


def test_a_value_for_a_column_not_in_the_schema_is_refused(spark: SparkSession) -> None:
    with pytest.raises(ValueError, match="not in the schema: extra"):
        literal_rows(spark, [{"run_id": "r1", "extra": 1}], SCHEMA)
