"""Table maintenance (`lakehouse maintain`, pipelines with `maintain`): OPTIMIZE (Z-order or liquid
clustering), VACUUM, a Delta log checkpoint; one row per table in `_ops/maintenance`.

VACUUM's retention is never shorter than the documented time-travel window (ops.maintenance
.time_travel_hours), and never so short that a stream reading the table loses a version it has not read:
for each incremental job reading the table, the retention reaches back to the commit its checkpoint starts
its next micro-batch from.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import (
    BooleanType,
    DoubleType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from retail_lakehouse.config.models import INCREMENTAL_INPUT, LakehouseConfig, StorageSettings
from retail_lakehouse.core.table_refs import TableRef, quoted_identifier
from retail_lakehouse.io import delta_tables
from retail_lakehouse.io.storage_files import path_exists
from retail_lakehouse.ops.run_history import append_ops_rows, ensure_ops_table
from retail_lakehouse.runtime.logging import get_logger

log = get_logger("maintain")

MAINTENANCE_TABLE = "maintenance"
MAINTENANCE_SCHEMA = StructType(
    [
        StructField("run_id", StringType(), False),
        StructField("table", StringType(), False),
        StructField("started_at", TimestampType(), False),
        StructField("seconds", DoubleType(), False),
        StructField("files_before", LongType(), True),
        StructField("files_after", LongType(), True),
        StructField("bytes_before", LongType(), True),
        StructField("bytes_after", LongType(), True),
        StructField("optimized", BooleanType(), False),
        StructField("files_vacuumed", LongType(), True),
        StructField("retention_hours", DoubleType(), True),
        StructField("checkpoint_version", LongType(), True),
        StructField("note", StringType(), True),
    ]
)
# Delta refuses a VACUUM retention under 7 days unless this check is off; the retention is checked here
# instead (time-travel window, streams' checkpoints).
RETENTION_CHECK = "spark.databricks.delta.retentionDurationCheck.enabled"
DELTA_DEFAULT_RETENTION_HOURS = 168.0
LISTING_PARALLELISM = "spark.sql.sources.parallelPartitionDiscovery.parallelism"
# Beyond the commit a stream reads next: the clock of the machine that wrote it may differ a little.
STREAM_MARGIN_HOURS = 1.0


@dataclass(frozen=True)
class TableMaintenance:
    run_id: str
    table: str
    started_at: datetime
    seconds: float
    files_before: int | None
    files_after: int | None
    bytes_before: int | None
    bytes_after: int | None
    optimized: bool
    files_vacuumed: int | None
    retention_hours: float | None
    checkpoint_version: int | None
    note: str | None


def maintained_tables(config: LakehouseConfig, selected: list[str] | str) -> list[str]:
    return list(config.tables) if selected == "*" else list(selected)


def _detail(spark: SparkSession, ref: TableRef) -> tuple[int, int, list[str]]:
    row = spark.sql(f"DESCRIBE DETAIL {ref.identifier}").first()
    assert row is not None
    return int(row["numFiles"]), int(row["sizeInBytes"]), list(row["clusteringColumns"] or [])


def stream_start_versions(spark: SparkSession, config: LakehouseConfig, table: str) -> dict[str, int]:
    """Each incremental job reading `table` and the table version its next micro-batch may start from: the
    start of the latest batch its checkpoint planned (the batch may not be committed yet)."""
    starts = {}
    for job_name, job in config.jobs.items():
        if not job.reads_stream or job.inputs.get(INCREMENTAL_INPUT) != table:
            continue
        offsets = f"{config.storage.checkpoint(job_name)}/offsets"
        if not path_exists(spark, offsets):
            continue
        lines = (
            spark.read.text(offsets)
            .where(F.col("value").contains("reservoirVersion"))
            .select("value", F.col("_metadata.file_name").alias("batch"))
            .collect()
        )
        by_batch = {
            int(r["batch"]): int(json.loads(r["value"])["reservoirVersion"]) for r in lines if r["batch"].isdigit()
        }
        if by_batch:
            latest_two = sorted(by_batch)[-2:]
            starts[job_name] = min(by_batch[batch] for batch in latest_two)
    return starts


def retention_hours(spark: SparkSession, config: LakehouseConfig, table: str, now: datetime) -> tuple[float, str]:
    """VACUUM's retention for `table`, and why."""
    window = config.ops.maintenance.time_travel_hours
    configured = config.tables[table].maintenance.vacuum_retention_hours
    hours, why = max(configured or window, window), "the time-travel window"
    if configured is not None and configured > window:
        why = "the table's vacuum_retention_hours"
    ref = config.storage.table_ref(table)
    for job_name, version in stream_start_versions(spark, config, table).items():
        rows = delta_tables.history(spark, ref, 1_000_000).where(F.col("version") == version).select("timestamp")
        first = rows.first()
        if first is None:  # its commit's record is gone already: keep everything the log still describes
            continue
        committed = first["timestamp"]
        committed = committed.replace(tzinfo=UTC) if committed.tzinfo is None else committed
        needed = (now - committed).total_seconds() / 3600 + STREAM_MARGIN_HOURS
        if needed > hours:
            hours, why = needed, f"stream {job_name} reads from version {version} next"
    return hours, why


@contextlib.contextmanager
def _settings(spark: SparkSession, settings: dict[str, str]) -> Iterator[None]:
    """Session settings for the block, restored after it."""
    previous = {key: spark.conf.get(key, None) for key in settings}
    for key, value in settings.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, old in previous.items():
            if old is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, old)


def vacuum_settings(spark: SparkSession, hours: float) -> dict[str, str]:
    # VACUUM lists the table's folders in a Spark job of `parallelPartitionDiscovery.parallelism` tasks,
    # 10,000 by default: 20-40 s of empty tasks for a small table on two cores. As many as the session's
    # shuffle partitions (sized per environment) list any table in parallel enough.
    settings = {LISTING_PARALLELISM: str(spark.conf.get("spark.sql.shuffle.partitions", "200"))}
    if hours < DELTA_DEFAULT_RETENTION_HOURS:
        settings[RETENTION_CHECK] = "false"
    return settings


def files_vacuumed(spark: SparkSession, ref: TableRef) -> int | None:
    """The files the latest VACUUM deleted, from its `VACUUM END` commit (None where Delta logs none)."""
    for row in delta_tables.history(spark, ref, 2).select("operation", "operationMetrics").collect():
        if row["operation"] == "VACUUM END":
            metrics = row["operationMetrics"] or {}
            return int(metrics.get("numDeletedFiles", 0))
    return None


def write_checkpoint(path: str) -> int:
    """Writes a Delta log checkpoint at the table's latest version (readers then replay no older commit
    files), with the `deltalake` writer: Delta Lake for Spark has no public call for it. By the table's
    path, also for a table addressed by name (an external table's log is at its path)."""
    from deltalake import DeltaTable

    table = DeltaTable(path)
    table.create_checkpoint()
    return int(table.version())


def maintain_table(
    spark: SparkSession,
    config: LakehouseConfig,
    table: str,
    run_id: str,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> TableMaintenance:
    policy = config.tables[table].maintenance
    ref = config.storage.table_ref(table)
    started_at, started = clock(), time.monotonic()
    if not delta_tables.exists(spark, ref):
        return TableMaintenance(
            run_id, table, started_at, 0.0, None, None, None, None, False, None, None, None, "no table yet"
        )
    notes = []
    files_before, bytes_before, clustering = _detail(spark, ref)
    identifier = ref.identifier
    if policy.cluster_by and clustering != policy.cluster_by:
        columns = ", ".join(quoted_identifier(c) for c in policy.cluster_by)
        spark.sql(f"ALTER TABLE {identifier} CLUSTER BY ({columns})")
        notes.append(f"clustered by {', '.join(policy.cluster_by)}")
    if policy.optimize:
        zorder = ""
        if policy.zorder_by:
            zorder = " ZORDER BY (" + ", ".join(quoted_identifier(c) for c in policy.zorder_by) + ")"
        delta_tables.retry_on_conflict(lambda: spark.sql(f"OPTIMIZE {identifier}{zorder}"))
    vacuumed = hours = None
    if policy.vacuum:
        hours, why = retention_hours(spark, config, table, clock())
        with _settings(spark, vacuum_settings(spark, hours)):
            spark.sql(f"VACUUM {identifier} RETAIN {hours} HOURS")
        vacuumed = files_vacuumed(spark, ref)
        notes.append(f"retention {hours:.1f} h: {why}")
    checkpoint_version = None
    if policy.checkpoint:
        try:
            checkpoint_version = write_checkpoint(ref.path)
        except Exception as exc:  # the table stays as it was; readers replay its commits as before
            notes.append(f"no checkpoint written: {str(exc).splitlines()[0]}")
    files_after, bytes_after, _ = _detail(spark, ref)
    done = TableMaintenance(
        run_id,
        table,
        started_at,
        round(time.monotonic() - started, 3),
        files_before,
        files_after,
        bytes_before,
        bytes_after,
        policy.optimize,
        vacuumed,
        hours,
        checkpoint_version,
        "; ".join(notes) or None,
    )
    log.info(
        "maintained %s: %d -> %d files, %d vacuumed (%s)", table, files_before, files_after, vacuumed or 0, done.note
    )
    return done


def record_maintenance(spark: SparkSession, storage: StorageSettings, done: list[TableMaintenance]) -> None:
    if not done:
        return
    table = storage.ops_table(MAINTENANCE_TABLE)
    ensure_ops_table(spark, table, MAINTENANCE_SCHEMA)
    append_ops_rows(spark, table, [asdict(d) for d in done], MAINTENANCE_SCHEMA)


def writers_of(config: LakehouseConfig, table: str) -> list[str]:
    """The jobs that write `table`: its job, and a stream that names it among its parameters (the inventory
    stream writes its ledger, quarantine and alerts beside its positions)."""
    return [
        name
        for name, job in config.jobs.items()
        if job.output == table or (job.kind == "stream" and table in map(str, job.params.values()))
    ]
