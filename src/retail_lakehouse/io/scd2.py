"""Slowly changing dimension type 2: every change of a key's attributes is a version with valid_from,
valid_to and is_current; an unchanged re-delivery adds no version, and an older version arriving late is
placed in the history where it belongs without touching the current one.

Only the keys in the batch are read back from the table, so a run costs in proportion to the keys it
touches and their history, not to the whole table.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from retail_lakehouse.core.table_refs import TableRef, quoted_identifier
from retail_lakehouse.io.delta_tables import keys_match, merge_into, read

CHANGE_HASH = "change_hash"
VALID_TO = "valid_to"
IS_CURRENT = "is_current"
_FROM_TABLE = "_from_table"


def with_change_hash(versions: DataFrame, keys: Sequence[str], valid_from: str) -> DataFrame:
    """Adds CHANGE_HASH: a hash of every attribute (not the key, not valid_from) that makes a version."""
    attributes = sorted(c for c in versions.columns if c not in {*keys, valid_from})
    return versions.withColumn(CHANGE_HASH, F.sha2(F.to_json(F.struct(*[F.col(c) for c in attributes])), 256))


def scd2_columns(versions: DataFrame, keys: Sequence[str], valid_from: str) -> DataFrame:
    """The table's shape: the versions with CHANGE_HASH, VALID_TO and IS_CURRENT (for creating it)."""
    return (
        with_change_hash(versions, keys, valid_from)
        .withColumn(VALID_TO, F.lit(None).cast(versions.schema[valid_from].dataType))
        .withColumn(IS_CURRENT, F.lit(True))
    )


def scd2_merge(spark: SparkSession, versions: DataFrame, ref: TableRef, keys: Sequence[str], valid_from: str) -> int:
    """Merges `versions` (one row per key and valid_from) into the SCD2 table `ref`; returns how many
    new versions it inserted (the others were re-deliveries or repeated the version in force)."""
    incoming = with_change_hash(versions, keys, valid_from).withColumn(_FROM_TABLE, F.lit(False))
    table = read(spark, ref)
    touched_keys = incoming.select(*keys).distinct()
    history = (
        table.join(touched_keys, list(keys), "left_semi")
        .select(*incoming.columns[:-1])
        .withColumn(_FROM_TABLE, F.lit(True))
    )
    # A version already recorded for the same key and valid_from stays as it is.
    candidates = history.unionByName(incoming.join(history.select(*keys, valid_from), [*keys, valid_from], "left_anti"))
    chain = Window.partitionBy(*keys).orderBy(valid_from)
    # A new version identical to the one in force before it is no change.
    repeats_previous = F.coalesce(F.lag(CHANGE_HASH).over(chain) == F.col(CHANGE_HASH), F.lit(False))
    kept = (
        candidates.withColumn("_repeats_previous", repeats_previous)
        .where(F.col(_FROM_TABLE) | ~F.col("_repeats_previous"))
        .drop("_repeats_previous")
    )
    relinked = (
        kept.withColumn(VALID_TO, F.lead(valid_from).over(chain))
        .withColumn(IS_CURRENT, F.col(VALID_TO).isNull())
        .localCheckpoint(eager=True)
    )
    new_versions = relinked.where(~F.col(_FROM_TABLE)).count()
    changes = relinked.drop(_FROM_TABLE)
    on = keys_match([*keys, valid_from])
    valid_to, is_current = quoted_identifier(VALID_TO), quoted_identifier(IS_CURRENT)
    merge_into(
        changes,
        ref,
        on,
        [
            f"WHEN MATCHED AND NOT (target.{valid_to} <=> source.{valid_to}) THEN UPDATE SET "
            f"target.{valid_to} = source.{valid_to}, target.{is_current} = source.{is_current}",
            "WHEN NOT MATCHED THEN INSERT *",
        ],
    )
    return new_versions
