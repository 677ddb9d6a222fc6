from __future__ import annotations

import io
from pathlib import Path

from pyspark.sql import SparkSession

from retail_lakehouse.ops.run_history import FAILED, SUCCEEDED
from retail_lakehouse.runner.jobs import JobRunner
from retail_lakehouse.runner.pipelines import run_pipeline
from tests.unit.runner.conftest import lakehouse_config, silver_job


def test_pipeline_runs_in_dependency_order_and_stops_at_the_first_failure(
    spark: SparkSession, tmp_path: Path, landing: Path
) -> None:
    loaded = lakehouse_config(
        tmp_path,
        landing,
        extra_jobs={
            "silver_stores": silver_job("test.conform", params={"suffix": ""}),
            "silver_broken": silver_job("test.fail", output="silver/broken", depends_on=["silver_stores"]),
            "after_broken": silver_job(
                "test.conform", output="silver/broken", params={"suffix": "x"}, depends_on=["silver_broken"]
            ),
        },
        # Listed out of order on purpose: the runner orders by dependency.
        pipelines={"daily": {"jobs": ["after_broken", "silver_broken", "silver_stores", "bronze_stores"]}},
    )
    progress = io.StringIO()
    outcome = run_pipeline(JobRunner(spark, loaded), "daily", progress_stream=progress)
    assert [(r.job, r.status) for r in outcome.runs] == [
        ("bronze_stores", SUCCEEDED),
        ("silver_stores", SUCCEEDED),
        ("silver_broken", FAILED),
    ]
    assert outcome.not_run == ["after_broken"]
    assert outcome.failed is not None and outcome.failed.job == "silver_broken"
    assert {r.pipeline_run_id for r in outcome.runs} == {outcome.pipeline_run_id}
    rows = spark.read.format("delta").load(f"{loaded.config.storage.root}/_ops/job_runs").collect()
    assert sorted((r.job, r.status, r.pipeline_run_id) for r in rows) == sorted(
        (r.job, r.status, outcome.pipeline_run_id) for r in outcome.runs
    )
