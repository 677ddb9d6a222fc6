"""Deduplication by business key with a deterministic survivor."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from retail_lakehouse.core.columns import INGESTED_AT, RAW_RECORD, SOURCE


def survivor_order(columns: Sequence[str], latest_by: str | None) -> list[Column]:
    """Which copy of a key survives: the greatest `latest_by` when given, then the latest ingestion, then
    the latest file name and the record text, so the choice never depends on how rows were read."""
    order = [F.col(latest_by).desc_nulls_last()] if latest_by else []
    order += [F.col(c).desc_nulls_last() for c in (INGESTED_AT, SOURCE, RAW_RECORD) if c in columns]
    # Rows without ingestion metadata: the greatest row by all its values, still independent of read order.
    return order or [F.col(c).desc_nulls_last() for c in sorted(columns)]


def _any_null(columns: Sequence[str]) -> Column:
    return F.greatest(*[F.col(c).isNull() for c in columns]) if len(columns) > 1 else F.col(columns[0]).isNull()


def drop_duplicates(
    df: DataFrame, keys: Sequence[str], latest_by: str | None = None, record_keys: Sequence[str] = ()
) -> DataFrame:
    """One row per key; rows with a null key are all kept, for the rules to reject.

    `record_keys` name the source record when one record gives several rows (a transaction's lines): the
    surviving copy is chosen per record first, so every row of one delivery survives together and no
    record is stitched from the rows of two copies."""
    order = survivor_order(df.columns, latest_by)
    if record_keys:
        # Rows of one copy tie on the survivor order (it is made of record-level columns), so the best
        # copy's rows all rank 1.
        best_copy = F.dense_rank().over(Window.partitionBy(*record_keys).orderBy(*order))
        df = df.withColumn("_copy_rank", best_copy)
        df = df.where(_any_null(record_keys) | (F.col("_copy_rank") == 1)).drop("_copy_rank")
    ranked = df.withColumn("_survivor_rank", F.row_number().over(Window.partitionBy(*keys).orderBy(*order)))
    return ranked.where(_any_null(keys) | (F.col("_survivor_rank") == 1)).drop("_survivor_rank")
