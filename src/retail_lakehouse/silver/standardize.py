"""Column standards of silver: trimmed strings, upper-case codes, UTC timestamps, decimal money at the
source's precision, string ids, and the record as received (for quarantine). A value that does not parse
exactly becomes null and is named in the row's unparsed fields, which a rule rejects (or, per
configuration, a column keeps): never a silent null, rounding or truncation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from retail_lakehouse.core.columns import (
    CORRUPT_RECORD,
    INGESTED_AT,
    LEGACY_SOURCE_FILE,
    RAW_RECORD,
    RESCUED_DATA,
    SOURCE,
)

# Money keeps the source's precision: 4 decimals unless a column declares its scale (SQL Server `money` and
# many ERPs carry 4). A value this type cannot hold exactly is never rounded: the row says so (see Typed).
MONEY_PRECISION = 18
MONEY_SCALE = 4
DATE_FORMATS = ("yyyy-MM-dd",)
TIMESTAMP_FORMATS = ("yyyy-MM-dd HH:mm:ss",)
# When the record had been delivered at the latest, for the rules; dropped before writing.
DELIVERED_BY = "_delivered_by"
# The fields of a row whose source text held a value their type could not take exactly (null when none):
# the helper a `values_parse` rule rejects, or, with unparsed_values: flag, a column kept in the table.
UNPARSED = "_unparsed_fields"
UNPARSED_FLAG = "unparsed_fields"


@dataclass(frozen=True)
class Typed:
    """A typed value, and whether its source held text the type could not take exactly (a date in no
    accepted format, a number that is not one, money with more decimals than the column keeps)."""

    value: Column
    unparsed: Column


def text(column: str) -> Column:
    """Trimmed, and null when empty."""
    trimmed = F.trim(F.col(column))
    return F.when(trimmed != "", trimmed)


def code(column: str) -> Column:
    return F.upper(text(column))


def identifier(column: str) -> Column:
    return text(column)


def _exact_number(column: str) -> Column:
    return text(column).try_cast("decimal(38,18)")


def _typed_number(column: str, type_name: str) -> Typed:
    value = text(column).try_cast(type_name)
    # Unparsed: text that is no number, or a number the type holds only rounded, truncated or not at all.
    exact = _exact_number(column)
    unparsed = text(column).isNotNull() & (value.isNull() | exact.isNull() | (value.cast("decimal(38,18)") != exact))
    return Typed(F.when(~unparsed, value), unparsed)


def typed_integer(column: str) -> Typed:
    return _typed_number(column, "int")


def typed_double(column: str) -> Typed:
    """A measurement (temperature, rainfall): any number; only text that is no number is unparsed."""
    value = text(column).try_cast("double")
    return Typed(value, text(column).isNotNull() & value.isNull())


def typed_money(column: str, scale: int = MONEY_SCALE) -> Typed:
    return _typed_number(column, f"decimal({MONEY_PRECISION},{scale})")


def _first_parse(column: str, formats: Sequence[str]) -> Column:
    return F.coalesce(*[F.try_to_timestamp(text(column), F.lit(pattern)) for pattern in formats])


def typed_date(column: str, formats: Sequence[str] = DATE_FORMATS) -> Typed:
    """A date in the first of `formats` it parses under (Spark datetime patterns)."""
    parsed = _first_parse(column, formats)
    return Typed(parsed.cast("date"), text(column).isNotNull() & parsed.isNull())


def typed_utc_timestamp(column: str, source_time_zone: str, formats: Sequence[str] = TIMESTAMP_FORMATS) -> Typed:
    """A local time of `source_time_zone`, in the first of `formats` it parses under, as a UTC timestamp."""
    local = _first_parse(column, formats)
    return Typed(F.to_utc_timestamp(local, source_time_zone), text(column).isNotNull() & local.isNull())


def integer(column: str) -> Column:
    return typed_integer(column).value


def utc_timestamp(column: str, source_time_zone: str) -> Column:
    """A 'yyyy-MM-dd HH:mm:ss' local time of `source_time_zone` as a UTC timestamp."""
    return typed_utc_timestamp(column, source_time_zone).value


class SourceFormats(BaseModel):
    """How a feed writes its values, per silver column where it differs from the defaults, and what
    becomes of a value that fits none of them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source_time_zone: str = Field("UTC", description="Time zone of the feed's local timestamps.")
    date_formats: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Column -> accepted date formats (Spark patterns), tried in order; default yyyy-MM-dd.",
    )
    timestamp_formats: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Column -> accepted timestamp formats, tried in order; default yyyy-MM-dd HH:mm:ss.",
    )
    decimal_scales: dict[str, int] = Field(
        default_factory=dict, description=f"Money column -> decimals kept (0 to 12); default {MONEY_SCALE}."
    )
    unparsed_values: Literal["quarantine", "flag"] = Field(
        "quarantine",
        description="A value that parses under no accepted format, or money with more decimals than kept: "
        "quarantine the row (rule values_parse), or flag: keep it, its field null and named in unparsed_fields.",
    )

    @field_validator("decimal_scales")
    @classmethod
    def _scales_fit(cls, scales: dict[str, int]) -> dict[str, int]:
        wrong = sorted(name for name, scale in scales.items() if not 0 <= scale <= 12)
        if wrong:
            raise ValueError(f"decimal scales must be 0 to 12: {', '.join(wrong)}")
        return scales

    @field_validator("date_formats", "timestamp_formats")
    @classmethod
    def _formats_given(cls, formats: dict[str, list[str]]) -> dict[str, list[str]]:
        empty = sorted(name for name, patterns in formats.items() if not patterns)
        if empty:
            raise ValueError(f"give at least one format for {', '.join(empty)}")
        return formats

    def date(self, name: str, column: str | None = None) -> Typed:
        return typed_date(column or name, self.date_formats.get(name, DATE_FORMATS))

    def timestamp(self, name: str, column: str | None = None) -> Typed:
        formats = self.timestamp_formats.get(name, TIMESTAMP_FORMATS)
        return typed_utc_timestamp(column or name, self.source_time_zone, formats)

    def money(self, name: str, column: str | None = None) -> Typed:
        return typed_money(column or name, self.decimal_scales.get(name, MONEY_SCALE))


def mask_pii(value: Column) -> Column:
    """What quarantine keeps of a personal value: its first character, so a person fixing the record can
    tell values apart, and stars (an e-mail keeps its domain)."""
    first = F.substring(value, 1, 1)
    domain = F.regexp_extract(value, r"(@[^@\s]*)$", 1)
    return F.when(value.isNotNull() & (F.length(value) > 0), F.concat(first, F.lit("***"), domain))


def raw_record(source_columns: Sequence[str], pii: Sequence[str] = ()) -> Column:
    """The record as received: the unparsed text when it did not parse, the whole line when it carried
    fields the schema does not declare, else its fields as JSON. Personal fields (`pii`) are masked in
    every form: as fields, and wherever their parsed values stand in the text of a whole line."""
    protected = set(pii) & set(source_columns)
    fields = F.to_json(
        F.struct(
            *[
                mask_pii(F.col(c)).alias(c) if c in protected else F.col(c)
                for c in source_columns
                if c not in (CORRUPT_RECORD, RESCUED_DATA)
            ]
        )
    )
    whole = [F.col(c) for c in (CORRUPT_RECORD, RESCUED_DATA) if c in source_columns]
    raw = F.coalesce(*whole, fields)
    for column in sorted(protected):
        value = F.trim(F.col(column))
        raw = F.when(value.isNull() | (value == ""), raw).otherwise(F.replace(raw, value, mask_pii(value)))
    # An e-mail address in a line the parser could not split into fields is masked all the same.
    return mask_emails(raw) if protected else raw


def mask_emails(text: Column) -> Column:
    return F.regexp_replace(text, r"([A-Za-z0-9])[A-Za-z0-9._%+-]*(@[A-Za-z0-9.-]+)", "$1***$2")


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


def with_raw(df: DataFrame, pii: Sequence[str] = ()) -> DataFrame:
    """The bronze rows with their raw record, and their source in `_source` even where an older bronze
    table holds it in `_source_file` (rows ingested before `_source` existed)."""
    if LEGACY_SOURCE_FILE in df.columns:
        source = (
            F.coalesce(F.col(SOURCE), F.col(LEGACY_SOURCE_FILE)) if SOURCE in df.columns else F.col(LEGACY_SOURCE_FILE)
        )
        df = df.withColumn(SOURCE, source).drop(LEGACY_SOURCE_FILE)
    return df.withColumn(RAW_RECORD, raw_record(source_columns(df), pii))


def unparsed_fields(columns: Mapping[str, Column | Typed]) -> Column:
    """The names of the typed fields whose source value did not parse exactly, or null when all did."""
    flags = [F.when(value.unparsed, F.lit(name)) for name, value in columns.items() if isinstance(value, Typed)]
    if not flags:
        return F.lit(None).cast("array<string>")
    names = F.filter(F.array(*flags), lambda name: name.isNotNull())
    return F.when(F.size(names) > 0, names)


def typed_rows(
    source: DataFrame,
    columns: Mapping[str, Column | Typed],
    formats: SourceFormats | None = None,
    *,
    pii: Sequence[str] = (),
) -> DataFrame:
    """The bronze rows as `columns` (name -> typed expression), with what quarantine, deduplication and
    the rules need besides: the raw record, its file, ingestion time, delivery bound, parse error and the
    fields that did not parse (a helper the rules see, or a kept column with unparsed_values: flag).
    `pii` names the source fields masked in the raw record, as in the table (quarantine keeps it)."""
    helpers = [F.col(CORRUPT_RECORD)] if CORRUPT_RECORD in source.columns else [F.lit(None).alias(CORRUPT_RECORD)]
    flagged = formats is not None and formats.unparsed_values == "flag"
    unparsed = unparsed_fields(columns)
    return with_raw(source, pii).select(
        F.col(RAW_RECORD),
        *bronze_lineage(),
        delivered_by().alias(DELIVERED_BY),
        *helpers,
        *[(value.value if isinstance(value, Typed) else value).alias(name) for name, value in columns.items()],
        (F.lit(None).cast("array<string>") if flagged else unparsed).alias(UNPARSED),
        *([unparsed.alias(UNPARSED_FLAG)] if flagged else []),
    )
