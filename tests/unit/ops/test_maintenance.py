"""Table maintenance: compaction, VACUUM inside the time-travel window, and a stream reading the table
keeps every version it has not read yet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from deltalake import DeltaTable
from pyspark.sql import SparkSession

from retail_lakehouse.config.models import LakehouseConfig
from retail_lakehouse.ops.maintenance import maintain_table, retention_hours, stream_start_versions


def config(tmp_path: Path, window_hours: float, **maintenance: Any) -> LakehouseConfig:
    return LakehouseConfig.model_validate(
        {
            "env": "test",
            "conf_dir": "conf",
            "storage": {"landing": str(tmp_path / "landing"), "root": str(tmp_path / "lh")},
            "tables": {"silver/items": {"maintenance": maintenance}, "gold/items": {}},
            "jobs": {
                "gold_items": {
                    "description": "reads silver/items as a stream",
                    "transform": "any",
                    "inputs": {"source": "silver/items"},
                    "output": "gold/items",
                    "incremental": True,
                    "write": {"mode": "append"},
                }
            },
            "ops": {"maintenance": {"time_travel_hours": window_hours}},
        }
    )


def append_versions(spark: SparkSession, path: str, first: int, count: int) -> None:
    for n in range(first, first + count):
        spark.createDataFrame([(n, f"item {n}")], "id INT, name STRING").write.format("delta").mode("append").save(path)


def test_compaction_and_vacuum_outside_the_window(spark: SparkSession, tmp_path: Path) -> None:
    settings = config(tmp_path, window_hours=0, zorder_by=["id"])
    path = settings.storage.table_path("silver/items")
    append_versions(spark, path, 0, 6)  # versions 0-5, one file each
    done = maintain_table(spark, settings, "silver/items", "m1")
    # Vacuumed: the 6 data files OPTIMIZE replaced and their 6 checksum files (the local file system's .crc).
    assert (done.files_before, done.files_after, done.files_vacuumed, done.retention_hours) == (6, 1, 12, 0)
    assert done.checkpoint_version == 8  # 6: OPTIMIZE, 7 and 8: VACUUM START and END
    assert sorted(r["id"] for r in spark.read.format("delta").load(path).collect()) == [0, 1, 2, 3, 4, 5]
    # An independent reader starts from the checkpoint.
    assert sorted(DeltaTable(path).to_pyarrow_table().column("id").to_pylist()) == [0, 1, 2, 3, 4, 5]
    assert (Path(path) / "_delta_log" / "00000000000000000008.checkpoint.parquet").exists()


def test_time_travel_inside_the_window_survives(spark: SparkSession, tmp_path: Path) -> None:
    settings = config(tmp_path, window_hours=1)
    path = settings.storage.table_path("silver/items")
    append_versions(spark, path, 0, 4)
    done = maintain_table(spark, settings, "silver/items", "m2")
    assert (done.files_before, done.files_after, done.files_vacuumed) == (4, 1, 0)
    version_2 = spark.read.format("delta").option("versionAsOf", 2).load(path)
    assert sorted(r["id"] for r in version_2.collect()) == [0, 1, 2]


def test_a_stream_keeps_running_after_vacuum(spark: SparkSession, tmp_path: Path) -> None:
    settings = config(tmp_path, window_hours=0)
    source = settings.storage.table_path("silver/items")
    target = settings.storage.table_path("gold/items")
    checkpoint = settings.storage.checkpoint("gold_items")

    def run_stream() -> None:
        query = (
            spark.readStream.format("delta")
            .load(source)
            .writeStream.format("delta")
            .option("checkpointLocation", checkpoint)
            .trigger(availableNow=True)
            .start(target)
        )
        query.awaitTermination()

    append_versions(spark, source, 0, 3)  # versions 0-2
    run_stream()
    append_versions(spark, source, 3, 3)  # versions 3-5: not read yet
    assert stream_start_versions(spark, settings, "silver/items") == {"gold_items": 3}
    hours, why = retention_hours(spark, settings, "silver/items", datetime.now(UTC) + timedelta(hours=48))
    assert why == "stream gold_items reads from version 3 next" and 49 <= hours <= 49.1

    done = maintain_table(spark, settings, "silver/items", "m3")  # OPTIMIZE removes versions 3-5's files
    assert done.note is not None and "stream gold_items reads from version 3 next" in done.note
    assert done.files_vacuumed == 0  # what the stream has not read is kept
    run_stream()
    assert sorted(r["id"] for r in spark.read.format("delta").load(target).collect()) == [0, 1, 2, 3, 4, 5]
