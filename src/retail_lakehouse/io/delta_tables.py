"""Delta writers: create with configured properties (empty or with rows), append, overwrite, replace-where,
merge on keys; and the row counts Delta records for each commit, found by their marker.

Every table is a `TableRef`: read and written by path, or by its catalog name when a catalog is configured
(then created as an external table at its path, and written through the DataFrameWriterV2 API, which fails
on a missing table rather than creating a managed one elsewhere).

Only DataFrame and SQL APIs, no `DeltaTable`: they work the same in a classic session and under Spark
Connect, where `DeltaTable` needs the Delta Connect server plugin on the server (not every Connect server
has it; Databricks' does).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import re
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from py4j.protocol import Py4JError  # type: ignore[import-untyped]
from pyspark.errors import AnalysisException
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from retail_lakehouse.core.contracts import TableLayout
from retail_lakehouse.core.table_refs import TableRef, quoted_identifier
from retail_lakehouse.io import delta_log
from retail_lakehouse.io.storage_files import path_exists
from retail_lakehouse.runtime.local_rows import literal_rows
from retail_lakehouse.runtime.logging import get_logger

R = TypeVar("R")

log = get_logger("delta")


# What a read of a path that holds no Delta table fails with: no folder, a folder without a log, a log
# without a commit (a creation interrupted before its first commit).
NO_TABLE_CONDITIONS = frozenset(
    {
        "PATH_NOT_FOUND",
        "DELTA_TABLE_NOT_FOUND",
        "DELTA_MISSING_DELTA_TABLE",
        "DELTA_PATH_DOES_NOT_EXIST",
        "DELTA_TABLE_ONLY_OPERATION",
        "TABLE_OR_VIEW_NOT_FOUND",
    }
)


def _no_table(exc: AnalysisException) -> bool:
    return exc.getCondition() in NO_TABLE_CONDITIONS


def read(spark: SparkSession, ref: TableRef) -> DataFrame:
    """The table's current rows."""
    if ref.name is not None:
        return spark.read.table(ref.name)
    return spark.read.format("delta").load(ref.path)


def read_stream(spark: SparkSession, ref: TableRef, *, change_feed: bool = False) -> DataFrame:
    """The table as a stream source (its change feed with `change_feed`)."""
    reader = spark.readStream.format("delta")
    if change_feed:
        reader = reader.option("readChangeFeed", "true")
    return reader.table(ref.name) if ref.name is not None else reader.load(ref.path)


def is_present(spark: SparkSession, ref: TableRef) -> bool:
    """A quick look whether the table is there: its folder (no Delta log is read; a folder without a
    table still fails its reader, naming it), or by name, the catalog (see `exists`)."""
    return exists(spark, ref) if ref.name is not None else path_exists(spark, ref.path)


def history(spark: SparkSession, ref: TableRef, limit: int) -> DataFrame:
    """The table's newest `limit` commits, newest first (`DESCRIBE HISTORY`)."""
    return spark.sql(f"DESCRIBE HISTORY {ref.identifier} LIMIT {int(limit)}")


def current_version(spark: SparkSession, ref: TableRef) -> int | None:
    """The table's latest version, or None when there is no Delta table at `ref`."""
    if ref.name is not None and not exists(spark, ref):
        return None
    try:
        row = history(spark, ref, 1).select("version").first()
    except AnalysisException as exc:
        if _no_table(exc):
            return None
        raise
    return int(row["version"]) if row else None


def _exists_at(spark: SparkSession, path: str) -> bool:
    """There is a Delta table at `path` (its latest snapshot's schema is read, not its history)."""
    try:
        spark.read.format("delta").load(path).schema  # noqa: B018
    except AnalysisException as exc:
        if _no_table(exc):
            return False
        raise
    return True


def exists(spark: SparkSession, ref: TableRef) -> bool:
    """There is such a table. By name: the catalog knows it; a Delta table found at its path that the
    catalog does not know yet (written by path before a catalog was configured) is registered there
    under its name, so switching to names keeps every table and its history."""
    if ref.name is None:
        return _exists_at(spark, ref.path)
    if spark.catalog.tableExists(ref.name):
        return True
    if not _exists_at(spark, ref.path):
        return False
    _ensure_schema(spark, ref)
    spark.sql(f"CREATE TABLE IF NOT EXISTS {ref.identifier} USING DELTA LOCATION {sql_literal(ref.path)}")
    log.info("registered the table at %s as %s", ref.path, ref.name)
    return True


def _ensure_schema(spark: SparkSession, ref: TableRef) -> None:
    """Creates the schema of a table addressed by name, if the catalog lacks it (asked first: creating an
    existing schema can need a privilege the job's principal does not have)."""
    schema = ref.schema_name
    if schema is not None and not spark.catalog.databaseExists(schema):
        spark.sql(f"CREATE SCHEMA IF NOT EXISTS {'.'.join(quoted_identifier(p) for p in schema.split('.'))}")


def ensure_table(spark: SparkSession, ref: TableRef, schema: StructType, table: TableLayout) -> None:
    """Creates the table with its partitioning and properties from configuration, if it does not exist."""
    if not exists(spark, ref):
        create_unless_created(literal_rows(spark, [], schema), ref, table)


def create_unless_created(
    df: DataFrame, ref: TableRef, table: TableLayout, *, commit_marker: str | None = None
) -> bool:
    """Creates the table from `df`'s rows (`create_with_rows`); False, having written nothing, when
    another writer created the table first."""
    try:
        create_with_rows(df, ref, table, commit_marker=commit_marker)
    except AnalysisException as exc:
        if exc.getCondition() != "TABLE_OR_VIEW_ALREADY_EXISTS":
            raise
        return False
    except Exception as exc:  # two writers creating it at once: the loser's commit conflicts
        if not is_write_conflict(exc) or not exists(df.sparkSession, ref):
            raise
        return False
    return True


def create_with_rows(df: DataFrame, ref: TableRef, table: TableLayout, *, commit_marker: str | None = None) -> None:
    """Creates the table from `df`'s rows in one commit, with its partitioning, description and properties
    from configuration (`ensure_table` followed by `append` makes two commits, 0.15 s more). Fails if the
    table exists. By name, an external table at the ref's path, in a schema created if missing."""
    writer = df.writeTo(ref.identifier).using("delta")
    if ref.name is not None:
        _ensure_schema(df.sparkSession, ref)
        writer = writer.tableProperty("location", ref.path)  # external: the catalog's name over our path
    if table.partition_by:
        writer = writer.partitionedBy(*[F.col(column) for column in table.partition_by])
    if table.description:
        writer = writer.tableProperty("comment", table.description)  # Spark's reserved key for the description
    for key, value in table.properties.items():
        writer = writer.tableProperty(key, value)
    # CREATE TABLE AS SELECT takes userMetadata from the session only, and the session that runs the write
    # is the DataFrame's (a micro-batch's is a clone of the stream's).
    with commits_marked(df.sparkSession, commit_marker) if commit_marker else contextlib.nullcontext():
        try:
            writer.create()
        except AnalysisException as exc:
            # A creation that failed before its first commit leaves a log folder without a table, and Spark
            # then refuses to create one there. Replace only that: never a table that has a version.
            if exc.getCondition() != "TABLE_OR_VIEW_ALREADY_EXISTS" or exists(df.sparkSession, ref):
                raise
            writer.createOrReplace()


def _write_options(
    *,
    idempotency: tuple[str, int] | None = None,
    commit_marker: str | None = None,
    merge_schema: bool = False,
) -> dict[str, str]:
    options = {}
    if merge_schema:
        options["mergeSchema"] = "true"
    if idempotency is not None:
        options["txnAppId"], options["txnVersion"] = idempotency[0], str(idempotency[1])
    if commit_marker is not None:
        options["userMetadata"] = commit_marker
    return options


def _write_by_name(df: DataFrame, name: str, options: dict[str, str], overwrite: Column | None) -> None:
    """Appends to (or, with `overwrite`, replaces the rows matching it in) the existing table `name`."""
    writer = df.writeTo(name)
    for key, value in options.items():
        writer = writer.option(key, value)
    if overwrite is None:
        writer.append()
    else:
        writer.overwrite(overwrite)


def append(
    df: DataFrame,
    ref: TableRef,
    table: TableLayout,
    *,
    idempotency: tuple[str, int] | None = None,
    commit_marker: str | None = None,
    merge_schema: bool = False,
) -> None:
    """Appends `df`. With `idempotency` (application id, version) Delta skips the write when that
    application already committed that version, so a retried write cannot add the rows twice.
    `commit_marker` goes into the commit's userMetadata; `merge_schema` adds `df`'s new columns."""
    options = _write_options(idempotency=idempotency, commit_marker=commit_marker, merge_schema=merge_schema)
    if ref.name is not None:
        _write_by_name(df, ref.name, options, overwrite=None)
        return
    df.write.format("delta").mode("append").partitionBy(*table.partition_by).options(**options).save(ref.path)


def overwrite(df: DataFrame, ref: TableRef, table: TableLayout, *, commit_marker: str | None = None) -> None:
    options = _write_options(commit_marker=commit_marker)
    if ref.name is not None:
        _write_by_name(df, ref.name, options, overwrite=F.lit(True))
        return
    df.write.format("delta").mode("overwrite").partitionBy(*table.partition_by).options(**options).save(ref.path)


def sql_literal(value: Any) -> str:
    """A Spark SQL literal for a replace-where predicate (values come from data, so quote them)."""
    if value is None:
        raise ValueError("replace_where cannot replace rows whose replace column is null")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.datetime):
        return f"TIMESTAMP'{value.isoformat(sep=' ')}'"
    if isinstance(value, dt.date):
        return f"DATE'{value.isoformat()}'"
    escaped = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def replace_where(
    df: DataFrame,
    ref: TableRef,
    table: TableLayout,
    column: str,
    *,
    idempotency: tuple[str, int] | None = None,
    commit_marker: str | None = None,
) -> None:
    """Atomically replaces the rows whose `column` value occurs in `df` (e.g. the dates a run touched).
    With `idempotency`, a retried micro-batch that had committed already is skipped (see `append`)."""
    values = [row[0] for row in df.select(column).distinct().collect()]
    if not values:
        return
    predicate = f"{quoted_identifier(column)} IN ({', '.join(sql_literal(v) for v in sorted(values))})"
    options = _write_options(idempotency=idempotency, commit_marker=commit_marker)
    if ref.name is not None:
        _write_by_name(df, ref.name, options, overwrite=F.expr(predicate))
        return
    writer = df.write.format("delta").mode("overwrite").option("replaceWhere", predicate).options(**options)
    writer.partitionBy(*table.partition_by).save(ref.path)


def holds_exactly(spark: SparkSession, ref: TableRef, df: DataFrame) -> bool:
    """The table holds exactly the rows of `df` (as a multiset, ignoring order), in the same columns."""
    target = read(spark, ref)
    if sorted(target.columns) != sorted(df.columns):
        return False
    target = target.select(*df.columns)
    return df.exceptAll(target).isEmpty() and target.exceptAll(df).isEmpty()


# Text a commit carries in its commitInfo (DataFrame writes take the `userMetadata` option instead).
USER_METADATA_CONF = "spark.databricks.delta.commitInfo.userMetadata"


def last_commit_metadata(spark: SparkSession, ref: TableRef) -> str | None:
    """The userMetadata of the table's latest commit (one small file read; no state reconstruction)."""
    row = history(spark, ref, 1).select("userMetadata").first()
    return None if row is None else row["userMetadata"]


def keys_match(columns: Sequence[str]) -> str:
    """A MERGE's ON condition: `target` and `source` equal on every column (quoted)."""
    return " AND ".join(f"target.{quoted_identifier(c)} = source.{quoted_identifier(c)}" for c in columns)


def merge(
    df: DataFrame,
    ref: TableRef,
    keys: Sequence[str],
    *,
    latest_by: str | None = None,
    commit_marker: str | None = None,
    within_partitions: Sequence[str] = (),
) -> None:
    """Upserts on `keys`; a matched row is rewritten only when a value changed, so re-runs change nothing.
    With `latest_by`, only by a row whose value of that column is greater (an older row arriving late
    changes nothing). With `within_partitions` (the table's partition columns), rows are matched only in
    the partitions the source's rows fall in, so Delta reads only those. `commit_marker` goes into the
    commit's userMetadata."""
    on = keys_match(keys)
    if within_partitions:
        on += f" AND ({partitions_of(df, within_partitions)})"
    values = [c for c in df.columns if c not in keys]
    clauses = []
    if values:
        changed = " OR ".join(f"NOT (target.{quoted_identifier(c)} <=> source.{quoted_identifier(c)})" for c in values)
        if latest_by is not None:
            changed = f"({changed}) AND source.{quoted_identifier(latest_by)} > target.{quoted_identifier(latest_by)}"
        clauses.append(f"WHEN MATCHED AND ({changed}) THEN UPDATE SET *")
    clauses.append("WHEN NOT MATCHED THEN INSERT *")
    merge_into(df, ref, on, clauses, commit_marker=commit_marker)


def merge_into(
    source: DataFrame, ref: TableRef, on: str, clauses: Sequence[str], *, commit_marker: str | None = None
) -> None:
    """`MERGE INTO` the table `ref` (aliased `target`) from `source` (aliased `source`), in the
    source's session: `on` and `clauses` are SQL over those aliases."""
    session = source.sparkSession
    view = f"merge_source_{uuid.uuid4().hex}"
    source.createOrReplaceTempView(view)
    statement = f"MERGE INTO {ref.identifier} AS target USING {view} AS source ON {on} {' '.join(clauses)}"
    try:
        with commits_marked(session, commit_marker) if commit_marker is not None else contextlib.nullcontext():
            session.sql(statement)
    finally:
        session.catalog.dropTempView(view)


def partitions_of(df: DataFrame, columns: Sequence[str]) -> str:
    """A SQL predicate on the target naming, as literals, the partitions `df`'s rows fall in (Delta prunes
    files only by literal predicates on partition columns)."""

    def equal(column: str, value: Any) -> str:
        target = f"target.{quoted_identifier(column)}"
        return f"{target} IS NULL" if value is None else f"{target} = {sql_literal(value)}"

    rows = df.select(*columns).distinct().collect()  # one row per partition the batch touches
    if not rows:
        return "false"
    if len(columns) == 1:
        # One IN list rather than a chain of ORs as deep as the number of partitions.
        values = [row[0] for row in rows]
        known = [sql_literal(v) for v in values if v is not None]
        target = f"target.{quoted_identifier(columns[0])}"
        parts = [f"{target} IN ({', '.join(known)})"] if known else []
        if None in values:
            parts.append(f"{target} IS NULL")
        return " OR ".join(parts)
    return " OR ".join("(" + " AND ".join(equal(c, row[c]) for c in columns) + ")" for row in rows)


@contextlib.contextmanager
def commits_marked(spark: SparkSession, marker: str) -> Iterator[None]:
    """Every commit this session makes inside the block carries `marker` as its userMetadata: MERGE and
    SQL commands take it only from the session configuration, not from a writer option."""
    previous = spark.conf.get(USER_METADATA_CONF, None)
    spark.conf.set(USER_METADATA_CONF, marker)
    try:
        yield
    finally:
        if previous is None:
            spark.conf.unset(USER_METADATA_CONF)
        else:
            spark.conf.set(USER_METADATA_CONF, previous)


@dataclass(frozen=True)
class Commit:
    operation: str
    parameters: dict[str, str | None]
    metrics: dict[str, str]
    marker: str | None = None

    @property
    def rows_written(self) -> int:
        """Rows the commit inserted or rewrote, from Delta's own commit metrics."""
        if self.operation == "MERGE":
            return int(self.metrics.get("numTargetRowsInserted", 0)) + int(self.metrics.get("numTargetRowsUpdated", 0))
        return int(self.metrics.get("numOutputRows", 0))

    @property
    def rows_inserted(self) -> int:
        """Rows a MERGE inserted, not counting rows it rewrote."""
        return int(self.metrics.get("numTargetRowsInserted", 0)) if self.operation == "MERGE" else 0


def write_marked(spark: SparkSession, ref: TableRef, marker: str, write: Callable[[], R]) -> tuple[R, list[Commit]]:
    """Runs `write` with its commits marked (see `commits_marked`) and returns its result and its commits,
    read back with their metrics (none when Delta skipped the write as already committed)."""
    written_after = dt.datetime.now()
    with commits_marked(spark, marker):
        result = write()
    return result, marked_commits(spark, ref, marker, written_after=written_after)


# Newest commits a first history read looks at, and how far before the write's start the search goes
# at most (commit times come from the storage's clock, which may differ from this machine's).
FIRST_HISTORY_WINDOW = 10
CLOCK_SKEW_ALLOWANCE = dt.timedelta(minutes=10)


def marked_commits(
    spark: SparkSession,
    ref: TableRef,
    *markers: str,
    written_after: dt.datetime | None,
    expected: int = 1,
    by_prefix: bool = False,
) -> list[Commit]:
    """The commits of `ref` that carry one of `markers` in their userMetadata (that start with one, with
    `by_prefix`), made after `written_after`
    (naive local time; None when unknown: then the search can read the whole history) by writes that made
    at most `expected` commits; newest first.

    For a table addressed by path the newest commit files of the log are read first (`delta_log`): they
    hold a write's commits unless other writers committed many times since (by name, the catalog is the
    only way in). Otherwise the table's history is searched: one read of the
    newest commits, going further back only when fewer than `expected` are found and every commit the
    window holds is younger than the write (other writers committed often meanwhile, or a write was
    skipped as already committed).
    """
    oldest_possible = None if written_after is None else written_after - CLOCK_SKEW_ALLOWANCE
    wanted = tuple(markers)

    def is_wanted(user_metadata: str | None) -> bool:
        if user_metadata is None:
            return False
        return user_metadata.startswith(wanted) if by_prefix else user_metadata in wanted

    if oldest_possible is not None and ref.name is None:
        from_log_files = _marked_in_newest_log_files(spark, ref.path, is_wanted, oldest_possible, expected)
        if from_log_files is not None:
            return from_log_files
    window = FIRST_HISTORY_WINDOW
    while True:
        rows = (
            history(spark, ref, window)
            .select("timestamp", "operation", "operationParameters", "operationMetrics", "userMetadata")
            .collect()
        )
        marked = [
            Commit(
                row["operation"], row["operationParameters"] or {}, row["operationMetrics"] or {}, row["userMetadata"]
            )
            for row in rows
            if is_wanted(row["userMetadata"])
        ]
        searched_back_far_enough = oldest_possible is not None and rows[-1]["timestamp"] < oldest_possible
        if len(marked) >= expected or len(rows) < window or searched_back_far_enough:
            return marked
        window *= 10


def _marked_in_newest_log_files(
    spark: SparkSession, path: str, is_wanted: Callable[[str | None], bool], oldest_possible: dt.datetime, expected: int
) -> list[Commit] | None:
    """The marked commits if the newest commit files hold all `expected` of them, else None: fewer found
    is left to the history, which sees commits a log folder may not hold yet (coordinated commits)."""
    log_files = delta_log.DeltaLogFiles.of(spark, path)
    if log_files is None:
        return None
    oldest_possible_ms = oldest_possible.timestamp() * 1000
    marked: list[Commit] = []
    try:
        for info in log_files.newest_first(max(FIRST_HISTORY_WINDOW, expected)):
            if info is None:  # a commit file without commitInfo: not one this reader understands
                return None
            if is_wanted(info.user_metadata):
                marked.append(Commit(info.operation, info.parameters, info.metrics, info.user_metadata))
                if len(marked) >= expected:
                    return marked
            if info.timestamp_ms < oldest_possible_ms:
                return None
    except Py4JError as exc:  # only a shortcut: the history answers with Delta's own reader
        log.debug("reading the commit files of %s failed, reading its history: %s", path, exc)
    return None


# Delta's optimistic concurrency: another writer committed first and this commit read what it changed.
# Seen as the Delta exception's class or error condition, whatever wraps it (py4j, Spark Connect).
_CONFLICT = re.compile(r"Concurrent\w*Exception|DELTA_CONCURRENT_\w+|DELTA_PROTOCOL_CHANGED|DELTA_METADATA_CHANGED")


def is_write_conflict(exc: BaseException) -> bool:
    return _CONFLICT.search(f"{type(exc).__name__}: {exc}") is not None


def retry_on_conflict(write: Callable[[], R], *, attempts: int = 10, pause_seconds: float = 0.2) -> R:
    """Runs `write`, again after a write conflict (each attempt reads the table afresh), up to `attempts`
    times with a growing, jittered pause."""
    for attempt in range(1, attempts + 1):
        try:
            return write()
        except Exception as exc:
            if attempt == attempts or not is_write_conflict(exc):
                raise
            time.sleep(pause_seconds * attempt * (0.5 + random.random()))
    raise AssertionError("unreachable")
