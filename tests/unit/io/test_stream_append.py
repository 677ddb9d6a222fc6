from __future__ import annotations

import json
from pathlib import Path

import pytest
from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from retail_lakehouse.config.models import TableSettings
from retail_lakehouse.core.table_refs import TableRef
from retail_lakehouse.io.stream_append import CheckpointState, StreamOutcome, append_stream, read_checkpoint_state

TABLE = TableSettings(
    description="Test rows as received.", partition_by=["day"], properties={"classification": "Internal"}
)
SCHEMA = "id INT, day STRING"


def land(folder: Path, name: str, ids: list[int], day: str = "2025-01-01") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"id": i, "day": day}) for i in ids]
    (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def file_stream(spark: SparkSession, landing: Path, **options: str) -> DataFrame:
    return spark.readStream.schema(SCHEMA).options(**options).json(str(landing))


RUNS = iter(range(1, 1000))


def run(spark: SparkSession, df: DataFrame, tmp_path: Path, run_id: str | None = None) -> StreamOutcome:
    """One run of the append; each run has a run id of its own, as the runner gives it."""
    return append_stream(
        spark,
        df,
        TableRef(str(tmp_path / "table")),
        checkpoint=str(tmp_path / "checkpoint"),
        table=TABLE,
        query_name="q",
        run_id=run_id or f"run-{next(RUNS)}",
    )


def ids(spark: SparkSession, tmp_path: Path) -> list[int]:
    return sorted(r.id for r in spark.read.format("delta").load(str(tmp_path / "table")).collect())


def commits(spark: SparkSession, tmp_path: Path) -> list[tuple[str, str]]:
    """(operation, userMetadata) of every commit, oldest first."""
    history = DeltaTable.forPath(spark, str(tmp_path / "table")).history().orderBy("version").collect()
    return [(r.operation, r.userMetadata) for r in history]


def query_id(tmp_path: Path) -> str:
    return str(json.loads((tmp_path / "checkpoint" / "metadata").read_text(encoding="utf-8"))["id"])


def test_each_batch_is_one_marked_commit_and_the_first_creates_the_configured_table(
    spark: SparkSession, tmp_path: Path
) -> None:
    landing = tmp_path / "landing"
    land(landing, "a.json", [1, 2, 3])
    land(landing, "b.json", [4, 5])
    # One file per micro-batch: two batches in one run.
    first = run(spark, file_stream(spark, landing, maxFilesPerTrigger="1"), tmp_path, run_id="first")
    assert first == StreamOutcome(
        rows_read=5, rows_written=5, batches_committed=2, batches_already_committed=0, batch_ids=(0, 1)
    )
    writer = f"q:{query_id(tmp_path)}"
    # The batch (query name, checkpoint query id, batch id), then the run that wrote it.
    assert commits(spark, tmp_path) == [("CREATE TABLE AS SELECT", f"{writer}#0@first"), ("WRITE", f"{writer}#1@first")]
    detail = DeltaTable.forPath(spark, str(tmp_path / "table")).detail().first()
    assert detail is not None
    assert (detail["description"], detail["partitionColumns"]) == ("Test rows as received.", ["day"])
    assert detail["properties"]["classification"] == "Internal"

    nothing_new = run(spark, file_stream(spark, landing), tmp_path)
    assert nothing_new == StreamOutcome(0, 0, 0, 0)
    assert len(commits(spark, tmp_path)) == 2

    land(landing, "c.json", [6])
    later = run(spark, file_stream(spark, landing), tmp_path, run_id="later")
    assert later == StreamOutcome(1, 1, 1, 0, batch_ids=(2,))
    assert commits(spark, tmp_path)[-1] == ("WRITE", f"{writer}#2@later")
    assert ids(spark, tmp_path) == [1, 2, 3, 4, 5, 6]


def test_a_batch_planned_again_after_its_commit_landed_is_not_written_again(
    spark: SparkSession, tmp_path: Path
) -> None:
    landing = tmp_path / "landing"
    land(landing, "a.json", [1, 2, 3])
    run(spark, file_stream(spark, landing), tmp_path)
    # A process killed after the Delta commit, before the checkpoint recorded the batch as done.
    for entry in ("0", ".0.crc"):
        (tmp_path / "checkpoint" / "commits" / entry).unlink()
    state = read_checkpoint_state(spark, str(tmp_path / "checkpoint"))
    assert (state.listed, state.replayed_batch) == (True, 0)
    assert state.replayed_planned_at is not None

    rerun = run(spark, file_stream(spark, landing), tmp_path)
    assert rerun == StreamOutcome(rows_read=0, rows_written=0, batches_committed=0, batches_already_committed=1)
    assert ids(spark, tmp_path) == [1, 2, 3]
    assert read_checkpoint_state(spark, str(tmp_path / "checkpoint")) == CheckpointState(listed=True)

    land(landing, "b.json", [4])
    assert run(spark, file_stream(spark, landing), tmp_path) == StreamOutcome(1, 1, 1, 0, batch_ids=(1,))
    assert ids(spark, tmp_path) == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("failing_id", "landed_before_the_failure", "failed_batch"),
    [(1, [], 0), (4, [1, 2, 3], 1)],
    ids=["first batch, before the table exists", "second batch"],
)
def test_a_batch_that_failed_before_its_commit_is_written_when_the_stream_restarts(
    spark: SparkSession, tmp_path: Path, failing_id: int, landed_before_the_failure: list[int], failed_batch: int
) -> None:
    landing = tmp_path / "landing"
    land(landing, "a.json", [1, 2, 3])
    land(landing, "b.json", [4, 5], day="2025-01-02")
    message = f"row {failing_id} cannot be written"
    failing = file_stream(spark, landing, maxFilesPerTrigger="1").withColumn(
        "id", F.when(F.col("id") == failing_id, F.raise_error(F.lit(message))).otherwise(F.col("id"))
    )
    with pytest.raises(Exception, match=message):
        run(spark, failing, tmp_path)
    created = DeltaTable.isDeltaTable(spark, str(tmp_path / "table"))
    assert (ids(spark, tmp_path) if created else []) == landed_before_the_failure
    assert read_checkpoint_state(spark, str(tmp_path / "checkpoint")).replayed_batch == failed_batch

    restarted = run(spark, file_stream(spark, landing, maxFilesPerTrigger="1"), tmp_path)
    rows = 5 - len(landed_before_the_failure)
    assert restarted == StreamOutcome(
        rows,
        rows,
        batches_committed=2 - failed_batch,
        batches_already_committed=0,
        batch_ids=tuple(range(failed_batch, 2)),
    )
    assert ids(spark, tmp_path) == [1, 2, 3, 4, 5]


def test_a_first_run_with_nothing_to_read_creates_the_table_empty(spark: SparkSession, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    assert run(spark, file_stream(spark, landing), tmp_path) == StreamOutcome(0, 0, 0, 0)
    table = spark.read.format("delta").load(str(tmp_path / "table"))
    assert (table.count(), table.columns) == (0, ["id", "day"])
    assert commits(spark, tmp_path) == [("CREATE TABLE AS SELECT", None)]


def test_a_checkpoint_not_yet_written_replays_nothing(spark: SparkSession, tmp_path: Path) -> None:
    assert read_checkpoint_state(spark, str(tmp_path / "none")) == CheckpointState(listed=True)


def test_without_a_listing_only_the_first_batch_of_a_run_is_looked_for() -> None:
    unlisted = CheckpointState(listed=False)
    assert (unlisted.may_have_landed(5, first_of_run=True), unlisted.may_have_landed(6, first_of_run=False)) == (
        True,
        False,
    )
    listed = CheckpointState(listed=True, replayed_batch=5)
    assert (listed.may_have_landed(5, first_of_run=True), listed.may_have_landed(6, first_of_run=True)) == (
        True,
        False,
    )


def test_a_column_new_in_the_source_joins_the_table_before_the_first_append(
    spark: SparkSession, tmp_path: Path
) -> None:
    # A table written before the source had `_source` (bronze tables before 2026-12-02 had `_source_file`).
    landing = tmp_path / "landing"
    land(landing, "a.json", [1, 2])
    assert run(spark, file_stream(spark, landing), tmp_path).rows_written == 2
    land(landing, "b.json", [3])
    with_source = file_stream(spark, landing).withColumn("_source", F.col("_metadata.file_path"))
    assert run(spark, with_source, tmp_path).rows_written == 1
    rows = spark.read.format("delta").load(str(tmp_path / "table")).collect()
    assert sorted((r.id, r._source is None) for r in rows) == [(1, True), (2, True), (3, False)]
    versions = len(commits(spark, tmp_path))
    assert run(spark, with_source, tmp_path) == StreamOutcome(0, 0, 0, 0)  # nothing new: no schema change either
    assert len(commits(spark, tmp_path)) == versions
