"""A job with nothing new since its last successful run is skipped: no stream started, no transform called,
recorded as skipped. New files, a changed setting, an output changed by hand, a failed last run or
`force` make it run; compaction of an input does not. A pipeline with nothing new takes no lease."""

from __future__ import annotations

import json
import time
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql.streaming import StreamingQueryListener
from pyspark.sql.streaming.listener import (
    QueryIdleEvent,
    QueryProgressEvent,
    QueryStartedEvent,
    QueryTerminatedEvent,
)

from retail_lakehouse.core.table_refs import TableRef
from retail_lakehouse.io.delta_tables import current_version
from retail_lakehouse.ops.run_history import FAILED, SKIPPED, SUCCEEDED
from retail_lakehouse.runner.jobs import JobRunner
from retail_lakehouse.runner.pipelines import run_pipeline
from tests.unit.runner.conftest import CONFORM_CALLS, lakehouse_config, silver_job


class StreamsStarted(StreamingQueryListener):
    """Counts the streaming queries Spark starts (events arrive in order, a moment after)."""

    def __init__(self) -> None:
        self.started: list[str] = []

    def onQueryStarted(self, event: QueryStartedEvent) -> None:  # noqa: N802 (PySpark's name)
        self.started.append(str(event.name))

    def onQueryProgress(self, event: QueryProgressEvent) -> None:  # noqa: N802 (PySpark's name)
        pass

    def onQueryIdle(self, event: QueryIdleEvent) -> None:  # noqa: N802 (PySpark's name)
        pass

    def onQueryTerminated(self, event: QueryTerminatedEvent) -> None:  # noqa: N802 (PySpark's name)
        pass

    def wait_for(self, count: int) -> list[str]:
        deadline = time.monotonic() + 30
        while len(self.started) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return list(self.started)


def recorded(spark: SparkSession, root: str) -> list[tuple[str, str, str | None]]:
    rows = spark.read.format("delta").load(f"{root}/_ops/job_runs").orderBy("started_at").collect()
    return [(r.job, r.status, r.input_state) for r in rows]


def test_an_ingestion_with_no_new_file_starts_no_stream_and_is_recorded_as_skipped(
    spark: SparkSession, tmp_path: Path, landing: Path
) -> None:
    loaded = lakehouse_config(tmp_path, landing)
    runner = JobRunner(spark, loaded)
    streams = StreamsStarted()
    spark.streams.addListener(streams)
    try:
        first = runner.run("bronze_stores")
        skipped = runner.run("bronze_stores")
        forced = runner.run("bronze_stores", force=True)
        # The forced run's stream is the second started: the skipped run started none in between.
        assert streams.wait_for(2) == ["bronze_stores", "bronze_stores"]
        time.sleep(1)
        assert len(streams.started) == 2
    finally:
        spark.streams.removeListener(streams)
    assert [(r.status, r.rows_read, r.rows_written) for r in (first, skipped, forced)] == [
        (SUCCEEDED, 4, 4),
        (SKIPPED, 0, 0),
        (SUCCEEDED, 0, 0),
    ]
    runner.history.wait()
    runs = recorded(spark, loaded.config.storage.root)
    assert [(job, status) for job, status, _ in runs] == [
        ("bronze_stores", SUCCEEDED),
        ("bronze_stores", SKIPPED),
        ("bronze_stores", SUCCEEDED),
    ]
    state = json.loads(runs[0][2] or "")
    assert sorted(state) == ["checkpoint", "inputs", "output", "settings"]
    assert state["inputs"]["source"].startswith("1 files #")  # the fixture's one stores file
    assert runs[1][2] == runs[0][2]  # the skip found the state the first run left

    (landing / "stores" / "2025-01-02").mkdir()
    (landing / "stores" / "2025-01-02" / "stores.csv").write_text("store_id,name\n7,x\n", encoding="utf-8")
    assert (runner.run("bronze_stores").status, JobRunner(spark, loaded).run("bronze_stores").status) == (
        SUCCEEDED,
        SKIPPED,  # a new runner reads the last run from the history
    )


def test_a_job_runs_again_when_its_settings_or_its_output_changed_but_not_when_an_input_was_compacted(
    spark: SparkSession, tmp_path: Path, landing: Path
) -> None:
    def runner_with(suffix: str) -> JobRunner:
        job = silver_job("test.conform", params={"suffix": suffix})
        return JobRunner(spark, lakehouse_config(tmp_path, landing, extra_jobs={"silver_stores": job}))

    runner = runner_with("!")
    runner.run("bronze_stores")
    calls = len(CONFORM_CALLS)
    assert runner.run("silver_stores").status == SUCCEEDED
    assert runner.run("silver_stores").status == SKIPPED
    assert len(CONFORM_CALLS) == calls + 1  # the skipped run did not call the transform

    bronze = runner.loaded.config.storage.table_path("bronze/stores")
    spark.sql(f"OPTIMIZE delta.`{bronze}`")
    assert runner.run("silver_stores").status == SKIPPED

    changed = runner_with("?")  # another parameter: the output would differ
    assert changed.run("silver_stores").status == SUCCEEDED
    assert changed.run("silver_stores").status == SKIPPED

    silver = changed.loaded.config.storage.table_path("silver/stores")
    spark.sql(f"DELETE FROM delta.`{silver}` WHERE store_id = '0'")  # by hand: the job puts it back
    restored = changed.run("silver_stores")
    assert (restored.status, restored.rows_written) == (SUCCEEDED, 1)
    names = {r.store_id: r.name for r in spark.read.format("delta").load(silver).collect()}
    assert names == {"0": "online?", "1": "store_001?"}


def test_a_failed_last_run_runs_again_with_no_new_input(spark: SparkSession, tmp_path: Path, landing: Path) -> None:
    broken = silver_job("test.fail", output="silver/broken", params={})
    loaded = lakehouse_config(tmp_path, landing, extra_jobs={"silver_broken": broken})
    runner = JobRunner(spark, loaded)
    runner.run("bronze_stores")
    assert [runner.run("silver_broken").status for _ in range(2)] == [FAILED, FAILED]


def test_a_pipeline_with_nothing_new_takes_no_lease(spark: SparkSession, tmp_path: Path, landing: Path) -> None:
    job = silver_job("test.conform", params={"suffix": "!"})
    loaded = lakehouse_config(tmp_path, landing, extra_jobs={"silver_stores": job})
    first = run_pipeline(JobRunner(spark, loaded), "all")
    leases = f"{loaded.config.storage.ops_root}/leases"
    version = current_version(spark, TableRef(leases))

    again = run_pipeline(JobRunner(spark, loaded), "all")

    assert [(r.job, r.status) for r in first.runs] == [("bronze_stores", SUCCEEDED), ("silver_stores", SUCCEEDED)]
    assert [(r.job, r.status) for r in again.runs] == [("bronze_stores", SKIPPED), ("silver_stores", SKIPPED)]
    assert current_version(spark, TableRef(leases)) == version
    forced = run_pipeline(JobRunner(spark, loaded), "all", force=True)
    assert [r.status for r in forced.runs] == [SUCCEEDED, SUCCEEDED]
    assert current_version(spark, TableRef(leases)) > version
