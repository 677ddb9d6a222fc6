"""Readers: landing-zone feeds (batch or as an incremental file stream) and Delta tables."""

from __future__ import annotations

from pyspark.sql import DataFrame, DataFrameReader, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming.readwriter import DataStreamReader
from pyspark.sql.types import DataType, StructType

from retail_lakehouse.columns import CORRUPT_RECORD, RESCUED_DATA, SOURCE
from retail_lakehouse.config.models import FeedSettings
from retail_lakehouse.io.file_names import glob_excluding_endings

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
    df = reader.format(feed.format).schema(feed_schema_ddl(feed)).options(**options).load(paths)  # type: ignore[arg-type]
    return df.withColumn(SOURCE, F.col("_metadata.file_path"))


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
    does not declare is kept whole in `_rescued_data`, so a new source field is never silently dropped."""
    schema = DataType.fromDDL(feed_schema_ddl(feed))
    assert isinstance(schema, StructType)
    parsed = F.from_json("value", schema, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT_RECORD})
    declared = F.array(*[F.lit(name) for name in schema.fieldNames() if name != CORRUPT_RECORD])
    undeclared = F.array_except(F.json_object_keys("value"), declared)
    return lines.select(
        parsed.alias("document"),
        F.when(F.size(undeclared) > 0, F.col("value")).alias(RESCUED_DATA),
        F.col(SOURCE),
    ).select("document.*", RESCUED_DATA, SOURCE)


def read_table(spark: SparkSession, path: str) -> DataFrame:
    return spark.read.format("delta").load(path)
