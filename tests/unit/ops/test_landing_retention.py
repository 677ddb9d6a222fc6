"""Landing files go only after bronze committed them: a crash between the Delta commit and the checkpoint's
marker keeps the file until the batch is marked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from pyspark.sql import SparkSession

from retail_lakehouse.config.models import LakehouseConfig
from retail_lakehouse.ops.landing_retention import clean_feed_landing


def config(tmp_path: Path, action: str = "archive", after_days: float = 0) -> LakehouseConfig:
    return LakehouseConfig.model_validate(
        {
            "env": "test",
            "conf_dir": "conf",
            "storage": {"landing": str(tmp_path / "landing"), "root": str(tmp_path / "lh")},
            "feeds": {
                "events": {
                    "path": "events",
                    "format": "text",
                    "schema": "value STRING",
                    "landing_retention": {"after_days": after_days, "action": action},
                }
            },
            "tables": {"bronze/events": {}},
            "jobs": {
                "bronze_events": {
                    "description": "events to bronze",
                    "transform": "bronze.ingest",
                    "inputs": {"source": "feed:events"},
                    "output": "bronze/events",
                    "incremental": True,
                    "write": {"mode": "append"},
                }
            },
        }
    )


def ingest(spark: SparkSession, settings: LakehouseConfig) -> None:
    """The bronze job's stream: landing files to a Delta table, checkpointed where the job keeps its own."""
    query = (
        spark.readStream.format("text")
        .load(settings.storage.landing_path("events"))
        .writeStream.format("delta")
        .option("checkpointLocation", settings.storage.checkpoint("bronze_events"))
        .trigger(availableNow=True)
        .start(settings.storage.table_path("bronze/events"))
    )
    query.awaitTermination()


def land(tmp_path: Path, name: str, lines: list[str]) -> Path:
    folder = tmp_path / "landing" / "events"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("\n".join(lines) + "\n")
    return folder / name


def bronze_lines(spark: SparkSession, settings: LakehouseConfig) -> list[str]:
    return sorted(
        r["value"] for r in spark.read.format("delta").load(settings.storage.table_path("bronze/events")).collect()
    )


def test_files_are_archived_only_once_their_batch_is_marked_committed(spark: SparkSession, tmp_path: Path) -> None:
    settings = config(tmp_path)
    first = land(tmp_path, "a.txt", ["a1", "a2"])
    ingest(spark, settings)
    cleaned = clean_feed_landing(spark, settings, "events")
    assert (cleaned.committed_files, cleaned.removed) == (1, 1)
    archived = tmp_path / "landing" / "_archive" / "events" / "a.txt"
    assert not first.exists() and archived.read_text() == "a1\na2\n"

    second = land(tmp_path, "b.txt", ["b1"])
    ingest(spark, settings)
    # The process is killed after the Delta commit, before the checkpoint marks batch 1 committed.
    commits = tmp_path / "lh" / "_checkpoints" / "bronze_events" / "commits"
    for marker in ("1", ".1.crc"):  # the marker and its local checksum file are never written
        (commits / marker).unlink()
    assert clean_feed_landing(spark, settings, "events").removed == 0
    assert second.exists()
    # The next run repeats batch 1 (Delta's sink skips the write that landed) and marks it.
    ingest(spark, settings)
    assert clean_feed_landing(spark, settings, "events").removed == 1
    assert not second.exists()
    assert bronze_lines(spark, settings) == ["a1", "a2", "b1"]


def test_deletion_waits_for_the_retention(spark: SparkSession, tmp_path: Path) -> None:
    settings = config(tmp_path, action="delete", after_days=2)
    landed = land(tmp_path, "c.txt", ["c1"])
    ingest(spark, settings)
    kept = clean_feed_landing(spark, settings, "events")
    assert (kept.removed, kept.kept_until_due) == (0, 1) and landed.exists()
    later = clean_feed_landing(spark, settings, "events", now=datetime.now(UTC) + timedelta(days=2, minutes=1))
    assert (later.removed, later.kept_until_due) == (1, 0) and not landed.exists()
    assert not (tmp_path / "landing" / "_archive").exists()
