"""Splits validated rows into valid rows and quarantine rows that name every rule they broke."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, StringType, StructField, StructType, TimestampType

from retail_lakehouse.core.columns import RAW_RECORD, SOURCE
from retail_lakehouse.quality.validation import FAILED_RULES, ROW_ID

QUARANTINE_SCHEMA = StructType(
    [
        StructField("run_id", StringType(), False),
        StructField("job", StringType(), False),
        StructField("rules", ArrayType(StringType(), False), False),
        StructField("record_key", StringType(), True),
        StructField("record", StringType(), True),
        StructField("source_file", StringType(), True),
        StructField("quarantined_at", TimestampType(), False),
    ]
)

# A run of 12 to 19 digits not glued to letters (so ids like T20250102000001 are left alone): a card
# number, whose digits before the last four are masked. The raw records of quarantine are read by the
# people who fix data; card numbers must not reach them (PCI DSS), even in a record that did not parse.
_CARD_NUMBER = r"(?<![0-9A-Za-z])[0-9]{8,15}([0-9]{4})(?![0-9A-Za-z])"


def mask_card_numbers(text: Column) -> Column:
    return F.regexp_replace(text, _CARD_NUMBER, "************$1")


@dataclass(frozen=True)
class SplitRows:
    valid: DataFrame
    quarantine: DataFrame


def flag_failed_rows(validated: DataFrame, failed_rows: DataFrame) -> DataFrame:
    """`validated` with FAILED_RULES: the row-level rules each row broke, null for a row that broke none."""
    return validated.join(F.broadcast(failed_rows), ROW_ID, "left")


def split_flagged(
    flagged: DataFrame,
    *,
    run_id: str,
    job: str,
    key_columns: Sequence[str],
    quarantined_at: datetime,
) -> SplitRows:
    """Flagged rows (`flag_failed_rows`) no row-level rule rejected, and the others as quarantine rows (see
    QUARANTINE_SCHEMA)."""
    valid = flagged.where(F.col(FAILED_RULES).isNull()).drop(FAILED_RULES, ROW_ID)
    key = F.to_json(F.struct(*[F.col(c) for c in key_columns])) if key_columns else F.lit(None)
    source_file = F.col(SOURCE) if SOURCE in flagged.columns else F.lit(None).cast("string")
    quarantine = flagged.where(F.col(FAILED_RULES).isNotNull()).select(
        F.lit(run_id).alias("run_id"),
        F.lit(job).alias("job"),
        F.col(FAILED_RULES).alias("rules"),
        key.alias("record_key"),
        mask_card_numbers(F.col(RAW_RECORD)).alias("record"),
        source_file.alias("source_file"),
        F.lit(quarantined_at).cast("timestamp").alias("quarantined_at"),
    )
    return SplitRows(valid=valid, quarantine=quarantine)
