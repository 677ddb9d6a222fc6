from __future__ import annotations

from pathlib import Path

from delta.tables import DeltaTable
from pyspark.sql import SparkSession

from retail_lakehouse.config.models import TableSettings
from retail_lakehouse.core.table_refs import TableRef
from retail_lakehouse.io import delta_tables
from retail_lakehouse.io.delta_log import CommitInfo, DeltaLogFiles

TABLE = TableSettings(partition_by=["day"], properties={"delta.checkpointInterval": "2"})


def table_of_several_operations(spark: SparkSession, path: str) -> None:
    """Create with rows, appends (a checkpoint every two commits), a merge and a delete, some marked."""
    rows = spark.createDataFrame([(1, "2025-01-01"), (2, "2025-01-02")], "id INT, day STRING")
    delta_tables.create_with_rows(rows, TableRef(path), TABLE, commit_marker="created")
    for n in range(3):
        delta_tables.append(rows, TableRef(path), TABLE, commit_marker=f"append-{n}")
    changes = spark.createDataFrame([(2, "2025-01-03"), (9, "2025-01-09")], "id INT, day STRING")
    delta_tables.merge(changes, TableRef(path), ["id"], commit_marker="merged")
    DeltaTable.forPath(spark, path).delete("id = 1")


def test_commit_infos_are_what_the_history_shows(spark: SparkSession, tmp_path: Path) -> None:
    path = str(tmp_path / "t")
    table_of_several_operations(spark, path)
    history = DeltaTable.forPath(spark, path).history().collect()
    log_files = DeltaLogFiles.of(spark, path)
    assert log_files is not None

    assert log_files.versions() == sorted(row["version"] for row in history)
    assert (tmp_path / "t" / "_delta_log" / "00000000000000000002.checkpoint.parquet").exists()
    for row in history:
        info = log_files.commit_info(row["version"])
        assert info is not None
        # History shows the commit file's modification time, a few milliseconds after the writer's time.
        file_time_ms = row["timestamp"].timestamp() * 1000
        assert file_time_ms - 2000 < info.timestamp_ms <= file_time_ms
        assert info == CommitInfo(
            version=row["version"],
            timestamp_ms=info.timestamp_ms,
            operation=row["operation"],
            parameters=row["operationParameters"],
            metrics=row["operationMetrics"],
            user_metadata=row["userMetadata"],
        )
    newest = [info.user_metadata for info in log_files.newest_first(3) if info is not None]
    assert newest == [None, "merged", "append-2"]


def test_a_folder_without_a_log_has_no_versions(spark: SparkSession, tmp_path: Path) -> None:
    log_files = DeltaLogFiles.of(spark, str(tmp_path / "nothing"))
    assert log_files is not None
    assert log_files.versions() == []


def test_without_a_jvm_there_is_no_reader(tmp_path: Path) -> None:
    class ConnectSession:  # Spark Connect's session has no `_jvm`
        pass

    assert DeltaLogFiles.of(ConnectSession(), str(tmp_path)) is None  # type: ignore[arg-type]
