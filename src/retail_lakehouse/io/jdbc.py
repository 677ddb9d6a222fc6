"""Database sources through JDBC: a whole table, or the rows whose watermark lies in a range; a large table
in parallel range queries on a partition column."""

from __future__ import annotations

from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType

from retail_lakehouse.config.models import FeedSettings
from retail_lakehouse.core.columns import SOURCE


def _reader_options(feed: FeedSettings) -> dict[str, str]:
    assert feed.url and feed.table  # checked when configuration loads
    options = {"url": feed.url, **feed.options}
    for key, value in (("driver", feed.driver_class), ("user", feed.user), ("password", feed.password)):
        if value:
            options[key] = value
    return options


def read_jdbc_table(spark: SparkSession, feed: FeedSettings) -> DataFrame:
    """The whole table (a full extraction), with the table it came from (`jdbc:<table>`) as its source.

    Text columns arrive as VARCHAR(n); Spark would carry n along and Delta would enforce it, so a source
    that widens a column would break ingestion. They are read as plain strings.
    """
    reader = spark.read.format("jdbc").options(**_reader_options(feed)).option("dbtable", str(feed.table))
    if feed.partition_column and feed.num_partitions:
        low, high = _partition_bounds(spark, feed)
        if low is not None and high is not None:
            reader = reader.options(
                partitionColumn=feed.partition_column,
                lowerBound=str(low),
                upperBound=str(high),
                numPartitions=str(feed.num_partitions),
            )
    df = reader.load()
    # A cast yields a column without the source's char/varchar metadata.
    plain = [
        F.col(f.name).cast("string").alias(f.name) if isinstance(f.dataType, StringType) else F.col(f.name)
        for f in df.schema.fields
    ]
    return df.select(*plain, F.lit(f"jdbc:{feed.table}").alias(SOURCE))


def _partition_bounds(spark: SparkSession, feed: FeedSettings) -> tuple[Any | None, Any | None]:
    """The configured bounds, else the column's minimum and maximum as the database computes them (None for
    an empty table: then one query reads it)."""
    if feed.lower_bound is not None and feed.upper_bound is not None:
        return feed.lower_bound, feed.upper_bound
    # Identifiers only (validated against SQL_IDENTIFIER when configuration loads), no data values.
    query = f"SELECT MIN({feed.partition_column}) AS low, MAX({feed.partition_column}) AS high FROM {feed.table}"
    row = spark.read.format("jdbc").options(**_reader_options(feed)).option("query", query).load().first()
    low, high = (None, None) if row is None else (row["low"], row["high"])
    return (feed.lower_bound or low, feed.upper_bound or high)


def read_jdbc_range(spark: SparkSession, feed: FeedSettings, low: Any | None, high: Any) -> DataFrame:
    """Rows with low < watermark <= high; Spark pushes the comparison into the database's WHERE clause."""
    column = F.col(str(feed.watermark_column))
    condition = column <= F.lit(high)
    if low is not None:
        condition = (column > F.lit(low)) & condition
    return read_jdbc_table(spark, feed).where(condition)


def max_watermark(spark: SparkSession, feed: FeedSettings) -> Any | None:
    """The database's current highest watermark, computed by the database (it can use an index)."""
    # Identifiers only (validated against SQL_IDENTIFIER when configuration loads), no data values.
    query = f"SELECT MAX({feed.watermark_column}) AS high FROM {feed.table}"
    # Some databases (SQLite) type an aggregate loosely; read it as the column's own type.
    column_type = read_jdbc_table(spark, feed).schema[str(feed.watermark_column)].dataType.simpleString()
    reader = spark.read.format("jdbc").options(**_reader_options(feed)).option("query", query)
    row = reader.option("customSchema", f"high {column_type}").load().first()
    return None if row is None else row["high"]
