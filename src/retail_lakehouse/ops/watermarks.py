"""Watermarks of incremental database extractions, kept in `_ops/jdbc_watermarks`.

Each extraction is recorded twice: `started` with its range (low, high] before bronze is written, and
`committed` after. A run that finds its feed's last extraction started but not committed redoes exactly
that range, and the bronze write is idempotent for it (Delta txnAppId/txnVersion), so a crash at any
point neither loses nor repeats rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import LongType, StringType, StructField, StructType, TimestampType

from retail_lakehouse.config.models import StorageSettings
from retail_lakehouse.core.errors import WatermarkTypeError
from retail_lakehouse.io import delta_tables
from retail_lakehouse.ops.run_history import append_ops_rows, ensure_ops_table

WATERMARKS_TABLE = "jdbc_watermarks"
STARTED = "started"
COMMITTED = "committed"

WATERMARKS_SCHEMA = StructType(
    [
        StructField("feed", StringType(), False),
        StructField("extraction", LongType(), False),
        StructField("status", StringType(), False),
        StructField("low", StringType(), True),
        StructField("high", StringType(), False),
        StructField("value_type", StringType(), False),
        StructField("run_id", StringType(), False),
        StructField("recorded_at", TimestampType(), False),
    ]
)

_PARSERS: dict[str, Any] = {
    "int": int,
    "float": float,
    "Decimal": Decimal,
    "str": str,
    "datetime": dt.datetime.fromisoformat,
    "date": dt.date.fromisoformat,
}


def watermark_text(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def watermark_value(text: str | None, value_type: str) -> Any | None:
    return None if text is None else _PARSERS[value_type](text)


def value_type_of(value: Any) -> str:
    name = type(value).__name__
    if name not in _PARSERS:
        raise WatermarkTypeError(
            f"watermark values of type {name} are not supported; use a number, date, timestamp or text"
        )
    return name


@dataclass(frozen=True)
class Extraction:
    feed: str
    extraction: int
    low: Any | None
    high: Any
    committed: bool


class WatermarkStore:
    def __init__(self, spark: SparkSession, storage: StorageSettings) -> None:
        self.spark = spark
        self.table = storage.ops_table(WATERMARKS_TABLE)
        self._table_ready = False

    def latest(self, feed: str) -> Extraction | None:
        """The feed's latest extraction and whether it was committed."""
        if not delta_tables.exists(self.spark, self.table):
            return None
        rows = (
            delta_tables.read(self.spark, self.table)
            .where(F.col("feed") == feed)
            .orderBy(F.col("extraction").desc(), (F.col("status") == COMMITTED).desc())
            .limit(1)
            .collect()
        )
        if not rows:
            return None
        row = rows[0]
        return Extraction(
            feed=feed,
            extraction=int(row["extraction"]),
            low=watermark_value(row["low"], row["value_type"]),
            high=watermark_value(row["high"], row["value_type"]),
            committed=row["status"] == COMMITTED,
        )

    def record(self, extraction: Extraction, run_id: str) -> None:
        row = {
            "feed": extraction.feed,
            "extraction": extraction.extraction,
            "status": COMMITTED if extraction.committed else STARTED,
            "low": None if extraction.low is None else watermark_text(extraction.low),
            "high": watermark_text(extraction.high),
            "value_type": value_type_of(extraction.high),
            "run_id": run_id,
            "recorded_at": dt.datetime.now(dt.UTC),
        }
        if not self._table_ready:
            ensure_ops_table(self.spark, self.table, WATERMARKS_SCHEMA)
            self._table_ready = True
        append_ops_rows(self.spark, self.table, [row], WATERMARKS_SCHEMA)
