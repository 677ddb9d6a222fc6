"""Point-in-time lookups in SCD2 tables: the attributes a key had when a fact happened."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F


def end_of_day(date: Column) -> Column:
    """The last instant of a date: a daily fact takes the version in force when its day closed."""
    return F.to_timestamp(F.date_add(date, 1)) - F.expr("INTERVAL 1 MICROSECOND")


def attributes_at(
    facts: DataFrame,
    versions: DataFrame,
    *,
    key: str,
    at: Column,
    columns: Sequence[str],
    prefix: str,
) -> DataFrame:
    """`facts` with `columns` of the version of `key` valid at `at` (valid_from <= at < valid_to), named
    `prefix + column`. A fact older than the key's first version takes the first version (a master record
    often arrives after the first sales it explains); a key without versions gets nulls."""
    renamed = {c: f"{prefix}{c}" for c in columns}
    version_key = f"{prefix}_key"
    in_force = versions.select(
        F.col(key).alias(version_key),
        F.col("valid_from").alias(f"{prefix}_from"),
        F.col("valid_to").alias(f"{prefix}_to"),
        *[F.col(c).alias(f"{prefix}_at_{c}") for c in columns],
    )
    first = (
        versions.withColumn(
            f"{prefix}_rank", F.row_number().over(Window.partitionBy(key).orderBy(F.col("valid_from").asc()))
        )
        .where(F.col(f"{prefix}_rank") == 1)
        .select(F.col(key).alias(f"{prefix}_first_key"), *[F.col(c).alias(f"{prefix}_first_{c}") for c in columns])
    )
    at_column = f"{prefix}_at"
    matched = (
        facts.withColumn(at_column, at)
        .join(
            in_force,
            (F.col(key) == F.col(version_key))
            & (F.col(f"{prefix}_from") <= F.col(at_column))
            & (F.col(f"{prefix}_to").isNull() | (F.col(at_column) < F.col(f"{prefix}_to"))),
            "left",
        )
        .join(first, F.col(key) == F.col(f"{prefix}_first_key"), "left")
    )
    found = F.col(version_key).isNotNull()
    return matched.withColumns(
        {
            name: F.when(found, F.col(f"{prefix}_at_{c}")).otherwise(F.col(f"{prefix}_first_{c}"))
            for c, name in renamed.items()
        }
    ).drop(
        version_key,
        at_column,
        f"{prefix}_from",
        f"{prefix}_to",
        f"{prefix}_first_key",
        *[f"{prefix}_at_{c}" for c in columns],
        *[f"{prefix}_first_{c}" for c in columns],
    )


def current(versions: DataFrame) -> DataFrame:
    """The current version of every key of an SCD2 table."""
    return versions.where(F.col("is_current")).drop("valid_from", "valid_to", "is_current", "change_hash")
