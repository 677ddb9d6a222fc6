"""Landing hygiene: a feed's landing files are archived or deleted `after_days` after bronze committed them,
never before.

A file counts as committed when every job reading the feed has it in a micro-batch its checkpoint marks
committed (`commits/N`, written only after the batch's Delta commit landed), and its commit time is that
marker's. A process killed after a Delta commit but before the checkpoint's marker leaves the file in place:
the next run of the job repeats the batch (its writes are skipped as landed) and marks it; only then may the
file go. Moves are renames, one file at a time: a process killed among them leaves each file either in
place or archived, and the next run goes on.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlparse

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from retail_lakehouse.config.models import LakehouseConfig
from retail_lakehouse.io.storage_files import path_exists
from retail_lakehouse.runtime.logging import get_logger

log = get_logger("landing")


@dataclass(frozen=True)
class LandingCleanup:
    feed: str
    committed_files: int
    removed: int
    action: str
    kept_until_due: int  # committed, but less than after_days ago
    note: str | None = None


def _local(uri: str) -> Path:
    parsed = urlparse(uri)
    if parsed.scheme not in ("", "file"):
        raise ValueError(f"landing retention handles local landing zones; {uri} is not local")
    return Path(unquote(parsed.path))


def committed_files(spark: SparkSession, checkpoint: str) -> dict[str, datetime]:
    """Each file a file stream's committed micro-batches read, with its batch's commit time."""
    commits = f"{checkpoint}/commits"
    sources = f"{checkpoint}/sources/0"
    if not path_exists(spark, commits) or not path_exists(spark, sources):
        return {}
    committed_at = {
        int(Path(urlparse(row["path"]).path).name): row["modificationTime"].replace(tzinfo=UTC)
        if row["modificationTime"].tzinfo is None
        else row["modificationTime"]
        for row in spark.read.format("binaryFile")
        .load(commits)
        .select("path", "modificationTime")
        .collect()  # one row per micro-batch marker (Spark keeps the last 100)
        if Path(urlparse(row["path"]).path).name.isdigit()
    }
    if not committed_at:
        return {}
    # Older markers are cleaned up by Spark: a batch older than the oldest kept marker was committed at
    # the latest by that marker's time.
    oldest_kept = min(committed_at)
    files: dict[str, datetime] = {}
    for row in spark.read.text(sources).where(F.col("value").startswith("{")).collect():
        entry = json.loads(row["value"])
        batch = int(entry["batchId"])
        if batch > max(committed_at):
            continue
        at = committed_at.get(batch) or committed_at[oldest_kept]
        files[entry["path"]] = at
    return files


def clean_feed_landing(
    spark: SparkSession, config: LakehouseConfig, feed_name: str, now: datetime | None = None
) -> LandingCleanup:
    feed = config.feeds[feed_name]
    retention = feed.landing_retention
    assert retention is not None  # only feeds with a retention are cleaned
    now = now or datetime.now(UTC)
    readers = [name for name, job in config.jobs.items() if f"feed:{feed_name}" in job.inputs.values()]
    per_reader = [committed_files(spark, config.storage.checkpoint(name)) for name in readers]
    # Committed by every reader, at the latest of their commits.
    common = set.intersection(*(set(files) for files in per_reader)) if per_reader else set()
    committed = {path: max(files[path] for files in per_reader) for path in common}
    due = sorted(path for path, at in committed.items() if at <= now - timedelta(days=retention.after_days))
    landing_root = _local(config.storage.landing)
    archive_root = _local(config.storage.landing_path(retention.archive_to))
    removed = 0
    for uri in due:
        source = _local(uri)
        if not source.exists():  # archived or deleted by an earlier run
            continue
        if retention.action == "delete":
            source.unlink()
        else:
            try:
                relative = source.relative_to(landing_root)
            except ValueError:
                relative = Path(source.name)
            target = archive_root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(source, target)  # a rename within one file system
        removed += 1
    log.info(
        "landing of %s: %d of %d committed files %s (%d not yet %g days old)",
        feed_name,
        removed,
        len(committed),
        "deleted" if retention.action == "delete" else f"archived to {archive_root}",
        len(committed) - len(due),
        retention.after_days,
    )
    return LandingCleanup(feed_name, len(committed), removed, retention.action, len(committed) - len(due))
