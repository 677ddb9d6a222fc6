"""Column standards of silver: trimmed strings, upper-case codes, UTC timestamps, decimal money, string ids,
and the record as received (for quarantine). A value that does not parse becomes null, so a rule that
wants it present rejects the row instead of the cast failing the run."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from retail_lakehouse.columns import (
    CORRUPT_RECORD,
    INGESTED_AT,
    LEGACY_SOURCE_FILE,
    RAW_RECORD,
    RESCUED_DATA,
    SOURCE,
)

MONEY = "decimal(12,2)"
# When the record had been delivered at the latest, for the rules; dropped before writing.
DELIVERED_BY = "_delivered_by"


def text(column: str) -> Column:
    """Trimmed, and null when empty."""
    trimmed = F.trim(F.col(column))
    return F.when(trimmed != "", trimmed)


def code(column: str) -> Column:
    return F.upper(text(column))


def identifier(column: str) -> Column:
    return text(column)


def integer(column: str) -> Column:
    return text(column).try_cast("int")


def money(column: str) -> Column:
    return text(column).try_cast(MONEY)


def date(column: str) -> Column:
    return F.try_to_timestamp(text(column), F.lit("yyyy-MM-dd")).cast("date")


def utc_timestamp(column: str, source_time_zone: str) -> Column:
    """A 'yyyy-MM-dd HH:mm:ss' local time of `source_time_zone` as a UTC timestamp."""
    local = F.try_to_timestamp(text(column), F.lit("yyyy-MM-dd HH:mm:ss"))
    return F.to_utc_timestamp(local, source_time_zone)


def raw_record(source_columns: Sequence[str]) -> Column:
    """The record as received: the unparsed text when it did not parse, the whole line when it carried
    fields the schema does not declare, else its fields as JSON."""
    fields = F.to_json(F.struct(*[F.col(c) for c in source_columns if c not in (CORRUPT_RECORD, RESCUED_DATA)]))
    whole = [F.col(c) for c in (CORRUPT_RECORD, RESCUED_DATA) if c in source_columns]
    return F.coalesce(*whole, fields)


def delivered_by() -> Column:
    """The latest moment a record can have been created: the end of the arrival-date folder its file
    came in (landing files sit in <feed>/<YYYY-MM-DD>/), or the ingestion time without such a folder.
    A record stamped later claims to come from the future."""
    arrival = F.try_to_timestamp(F.regexp_extract(F.col(SOURCE), r"/(\d{4}-\d{2}-\d{2})/[^/]+$", 1))
    return F.coalesce(arrival + F.expr("INTERVAL 1 DAY"), F.col(INGESTED_AT))


def bronze_lineage() -> list[Column]:
    """The bronze columns every silver transform keeps for quarantine and deduplication."""
    return [F.col(SOURCE), F.col(INGESTED_AT)]


def source_columns(df: DataFrame) -> list[str]:
    """The columns of a bronze table as received (without the metadata bronze added)."""
    return [c for c in df.columns if not c.startswith("_") or c in (CORRUPT_RECORD, RESCUED_DATA)]


def with_raw(df: DataFrame) -> DataFrame:
    """The bronze rows with their raw record, and their source in `_source` even where an older bronze
    table holds it in `_source_file` (rows ingested before `_source` existed)."""
    if LEGACY_SOURCE_FILE in df.columns:
        source = (
            F.coalesce(F.col(SOURCE), F.col(LEGACY_SOURCE_FILE)) if SOURCE in df.columns else F.col(LEGACY_SOURCE_FILE)
        )
        df = df.withColumn(SOURCE, source).drop(LEGACY_SOURCE_FILE)
    return df.withColumn(RAW_RECORD, raw_record(source_columns(df)))


def typed_rows(source: DataFrame, columns: dict[str, Column]) -> DataFrame:
    """The bronze rows as `columns` (name -> typed expression), with what quarantine, deduplication and
    the rules need besides: the raw record, its file, ingestion time, delivery bound and parse error."""
    helpers = [F.col(CORRUPT_RECORD)] if CORRUPT_RECORD in source.columns else [F.lit(None).alias(CORRUPT_RECORD)]
    return with_raw(source).select(
        F.col(RAW_RECORD),
        *bronze_lineage(),
        delivered_by().alias(DELIVERED_BY),
        *helpers,
        *[value.alias(name) for name, value in columns.items()],
    )
