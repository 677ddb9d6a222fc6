"""Bronze rows for silver transform tests: the feed's columns as text, plus what bronze adds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pyspark.sql import DataFrame, SparkSession

INGESTED = datetime(2025, 1, 3, 6, 0)
METADATA = "_corrupt_record STRING, _source STRING, _ingested_at TIMESTAMP"


def bronze_rows(
    spark: SparkSession,
    schema: str,
    rows: list[tuple[Any, ...]],
    *,
    file: str = "file:/landing/feed/2025-01-02/feed.csv",
    ingested: datetime = INGESTED,
) -> DataFrame:
    """`schema`: the feed's columns (Spark DDL); each row gets no parse error, `file` and `ingested`."""
    return spark.createDataFrame([(*row, None, file, ingested) for row in rows], f"{schema}, {METADATA}")


def text_columns(*names: str) -> str:
    return ", ".join(f"{name} STRING" for name in names)
