"""Readers: landing-zone feeds (batch or as an incremental file stream) and Delta tables."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from retail_lakehouse.config.models import FeedSettings

SOURCE_FILE = "_source_file"
CORRUPT_RECORD = "_corrupt_record"

# Formats whose PERMISSIVE parser can keep a line it cannot parse, raw, in a column of its own.
_KEEPS_CORRUPT_RECORDS = {"csv", "json"}


def feed_schema_ddl(feed: FeedSettings) -> str:
    """The declared schema, plus the column that keeps unparseable lines where the format allows it."""
    ddl = str(feed.schema_ddl)  # file feeds always have one (checked when configuration loads)
    return f"{ddl}, {CORRUPT_RECORD} STRING" if feed.format in _KEEPS_CORRUPT_RECORDS else ddl


def read_feed(spark: SparkSession, feed: FeedSettings, path: str, *, incremental: bool) -> DataFrame:
    """A file feed's rows with the file each came from; `incremental` reads it as a file stream."""
    # Feeds arrive in one folder per arrival date; read them all unless the feed says otherwise.
    options = {"recursiveFileLookup": "true", **feed.options}
    if feed.format in _KEEPS_CORRUPT_RECORDS:
        options |= {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT_RECORD}
    reader = spark.readStream if incremental else spark.read
    df = reader.format(feed.format).schema(feed_schema_ddl(feed)).options(**options).load(path)
    return df.withColumn(SOURCE_FILE, F.col("_metadata.file_path"))


def read_table(spark: SparkSession, path: str) -> DataFrame:
    return spark.read.format("delta").load(path)
