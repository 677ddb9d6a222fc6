"""Readers: landing-zone feeds (batch or as an incremental file stream) and Delta tables."""

from __future__ import annotations

from pyspark.sql import DataFrame, DataFrameReader, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming.readwriter import DataStreamReader
from pyspark.sql.types import DataType, StringType, StructType

from retail_lakehouse.config.models import FeedSettings
from retail_lakehouse.core.columns import CORRUPT_RECORD, RESCUED_DATA, SOURCE
from retail_lakehouse.core.table_refs import TableRef
from retail_lakehouse.io import delta_tables
from retail_lakehouse.io.file_names import glob_excluding_endings

# Every byte is one character in ISO-8859-1: text read so turns back into exactly the bytes it came from.
BYTES_AS_TEXT = "ISO-8859-1"
UNDECODABLE_LINE = "undecodable line, base64: "
UNDECODABLE_FIELDS = "undecodable fields, base64: "

# Formats whose PERMISSIVE parser can keep a line it cannot parse, raw, in a column of its own.
_KEEPS_CORRUPT_RECORDS = {"csv", "json"}


def feed_schema_ddl(feed: FeedSettings) -> str:
    """The declared schema, plus the column that keeps unparseable lines where the format allows it."""
    ddl = str(feed.schema_ddl)  # file feeds always have one (checked when configuration loads)
    return f"{ddl}, {CORRUPT_RECORD} STRING" if feed.format in _KEEPS_CORRUPT_RECORDS else ddl


def read_feed(
    spark: SparkSession, feed: FeedSettings, path: str, *, incremental: bool, present: bool = True
) -> DataFrame:
    """A file feed's rows with the file each came from; `incremental` reads it as a file stream. A feed
    whose folder is not `present` (nothing delivered yet) reads as no rows, of the same columns."""
    # Feeds arrive in one folder per arrival date; read them all unless the feed says otherwise.
    options = {"recursiveFileLookup": "true", **feed.options}
    if feed.skip_endings:
        options.setdefault("pathGlobFilter", glob_excluding_endings(feed.skip_endings))
    if not present and incremental:
        raise ValueError("a feed without a folder reads as an empty batch, not as a stream")
    if incremental and feed.unreadable_files == "set_aside":
        # Spark passes over a file it cannot read; the runner finds it and records it (runner.set_aside).
        options["ignoreCorruptFiles"] = "true"
    reader = spark.readStream if incremental else spark.read
    paths: str | list[str] = path if present else []
    if feed.format == "json" and options.get("multiLine", "false").lower() != "true":
        return _read_json_lines(reader, feed, paths, options)
    if feed.format == "csv":
        # Match columns by header name, not position: a file whose header differs from the schema fails
        # with the file named instead of shifting values into the wrong columns.
        options.setdefault("enforceSchema", "false")
    if feed.format in _KEEPS_CORRUPT_RECORDS:
        options |= {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT_RECORD}
    checks_utf8 = feed.format == "csv" and is_utf8(feed.encoding)
    if feed.format == "csv":
        # UTF-8 is checked here, not by the parser, which would replace bytes it cannot decode.
        options["encoding"] = BYTES_AS_TEXT if checks_utf8 else feed.encoding
    df = reader.format(feed.format).schema(feed_schema_ddl(feed)).options(**options).load(paths)  # type: ignore[arg-type]
    if checks_utf8:
        df = _utf8_checked(df)
    return df.withColumn(SOURCE, F.col("_metadata.file_path"))


def is_utf8(encoding: str) -> bool:
    return encoding.replace("-", "").replace("_", "").lower() == "utf8"


def _utf8_checked(df: DataFrame) -> DataFrame:
    """CSV rows read as ISO-8859-1 (every byte one character), with each text field decoded as UTF-8. A
    row with bytes that are not UTF-8 keeps them, base64-encoded per field, in `_corrupt_record` (silver
    quarantines it under record_parses), and null in the fields that do not decode: never a replacement
    character."""
    text_columns = [f.name for f in df.schema.fields if isinstance(f.dataType, StringType)]
    joined = F.concat_ws(",", *[F.col(name) for name in text_columns])
    # Most rows are ASCII, the same in every encoding: only the others are turned back into bytes. (Spark
    # holds text as UTF-8, where exactly the non-ASCII characters take more than one byte.)
    ascii_only = F.octet_length(joined) == F.length(joined)
    as_bytes = {name: F.encode(F.col(name), BYTES_AS_TEXT) for name in text_columns}
    as_utf8 = {name: raw.cast("string") for name, raw in as_bytes.items()}
    # One check per row: an ASCII separator ends any byte sequence, so the joined text is valid UTF-8
    # exactly when every field is.
    valid = ascii_only | F.coalesce(F.is_valid_utf8(F.concat_ws(",", *as_utf8.values())), F.lit(True))
    kept = F.to_json(F.struct(*[F.base64(raw).alias(name) for name, raw in as_bytes.items() if name != CORRUPT_RECORD]))
    decoded = {
        name: F.when(ascii_only, F.col(name)).when(F.is_valid_utf8(text), text) for name, text in as_utf8.items()
    }
    decoded[CORRUPT_RECORD] = F.when(valid, decoded[CORRUPT_RECORD]).otherwise(
        F.concat(F.lit(UNDECODABLE_FIELDS), kept)
    )
    return df.withColumns(decoded)


def read_feed_stream(spark: SparkSession, feed: FeedSettings, path: str) -> DataFrame:
    """A feed as a stream: from its Kafka topic when it has one (JSON messages, parsed like the files'
    lines; the source column names topic, partition and offset), else its new files."""
    if feed.kafka is None:
        return read_feed(spark, feed, path, incremental=True)
    messages = spark.readStream.format("kafka").options(**feed.kafka.source_options()).load()
    lines = messages.select(
        F.col("value").cast("string").alias("value"),
        F.format_string("kafka:%s/%d/%d", "topic", "partition", "offset").alias(SOURCE),
    )
    return parse_json_lines(lines, feed)


def _read_json_lines(
    reader: DataStreamReader | DataFrameReader, feed: FeedSettings, paths: str | list[str], options: dict[str, str]
) -> DataFrame:
    # An empty list (no folder yet) only reaches a batch reader, whose load takes a list of paths.
    lines = reader.format("text").options(**options).load(paths)  # type: ignore[arg-type]
    return parse_json_lines(lines.withColumn(SOURCE, F.col("_metadata.file_path")), feed)


def parse_json_lines(lines: DataFrame, feed: FeedSettings) -> DataFrame:
    """JSON Lines (`value`, `_source`) parsed against the schema; a document with fields the schema
    does not declare is kept whole in `_rescued_data`, so a new source field is never silently dropped.
    A line that is not valid in the feed's encoding is kept, base64-encoded, in `_corrupt_record`."""
    schema = DataType.fromDDL(feed_schema_ddl(feed))
    assert isinstance(schema, StructType)
    # The text source and Kafka hand over the bytes as they are; they are decoded here.
    raw = F.col("value")
    if is_utf8(feed.encoding):
        decodable = F.coalesce(F.is_valid_utf8(raw), F.lit(True))
        text = F.when(decodable, raw)
    else:
        decodable, text = F.lit(True), F.decode(raw.cast("binary"), feed.encoding)
    decoded = lines.select(
        text.alias("value"),
        F.when(~decodable, F.concat(F.lit(UNDECODABLE_LINE), F.base64(raw.cast("binary")))).alias("_undecodable"),
        F.col(SOURCE),
    )
    parsed = F.from_json("value", schema, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT_RECORD})
    declared = F.array(*[F.lit(name) for name in schema.fieldNames() if name != CORRUPT_RECORD])
    undeclared = F.array_except(F.json_object_keys("value"), declared)
    return (
        decoded.select(
            parsed.alias("document"),
            F.when(F.size(undeclared) > 0, F.col("value")).alias(RESCUED_DATA),
            F.col(SOURCE),
            F.col("_undecodable"),
        )
        .select("document.*", RESCUED_DATA, SOURCE, "_undecodable")
        .withColumn(CORRUPT_RECORD, F.coalesce(F.col("_undecodable"), F.col(CORRUPT_RECORD)))
        .drop("_undecodable")
    )


def read_table(spark: SparkSession, ref: TableRef) -> DataFrame:
    return delta_tables.read(spark, ref)
