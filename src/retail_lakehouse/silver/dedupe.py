"""Deduplication by business key with a deterministic survivor."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from retail_lakehouse.quality.quarantine import RAW_RECORD, SOURCE_FILE
from retail_lakehouse.silver.standardize import INGESTED_AT


def survivor_order(columns: Sequence[str], latest_by: str | None) -> list[Column]:
    """Which copy of a key survives: the greatest `latest_by` when given, then the latest ingestion, then
    the latest file name and the record text, so the choice never depends on how rows were read."""
    order = [F.col(latest_by).desc_nulls_last()] if latest_by else []
    order += [F.col(c).desc_nulls_last() for c in (INGESTED_AT, SOURCE_FILE, RAW_RECORD) if c in columns]
    # Rows without ingestion metadata: the greatest row by all its values, still independent of read order.
    return order or [F.col(c).desc_nulls_last() for c in sorted(columns)]


def drop_duplicates(df: DataFrame, keys: Sequence[str], latest_by: str | None = None) -> DataFrame:
    """One row per key; rows with a null key are all kept, for the rules to reject."""
    ranked = df.withColumn(
        "_survivor_rank",
        F.row_number().over(Window.partitionBy(*keys).orderBy(*survivor_order(df.columns, latest_by))),
    )
    any_key_null = F.greatest(*[F.col(k).isNull() for k in keys]) if len(keys) > 1 else F.col(keys[0]).isNull()
    return ranked.where(any_key_null | (F.col("_survivor_rank") == 1)).drop("_survivor_rank")
