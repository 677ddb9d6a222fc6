"""On a real Spark standalone cluster (a master and two workers, each its own JVM, started here with Spark's
own classes), `spark-submit` of the built wheel, its session sized for the cluster (cluster_submit.py), runs
the inventory stream, `pipeline daily` and `pipeline all`: every table equals, row by row, what the same
commands write in local mode (the shared local run, reference_runs.py), read back by an independent
reader."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from retail_lakehouse.runtime.cluster_submit import build_wheel, sized_settings, submit_command
from retail_lakehouse.runtime.jars import default_jars_dir, local_runtime_jars
from retail_lakehouse.runtime.standalone_cluster import LocalStandaloneCluster
from tests.conftest import REPO_ROOT
from tests.integration.conftest import Workspace
from tests.integration.lakehouse_tables import rows_without_run_columns, run_counts, tables
from tests.integration.reference_runs import STREAM_DAILY_AND_ALL, ReferenceRuns

# Scheduled with the longest: run last, it ended a clean-clone run alone for about 12 minutes.
pytestmark = [pytest.mark.integration, pytest.mark.long, pytest.mark.longest]

SUBMIT_SCRIPT = REPO_ROOT / "jobs" / "lakehouse_submit.py"


def test_pipeline_all_and_the_stream_on_a_standalone_cluster_equal_a_local_run(
    workspace: Workspace, reference_runs: ReferenceRuns, tmp_path: Path
) -> None:
    wheel = build_wheel(REPO_ROOT, tmp_path / "dist")
    cluster_root = tmp_path / "cluster"
    env = {"LAKEHOUSE_ROOT": str(cluster_root), "LAKEHOUSE_LANDING": str(reference_runs.landing)}
    with LocalStandaloneCluster(workers=2, cores_per_worker=1, memory_per_worker="1536m") as cluster:
        settings = {**sized_settings(cores=2), "spark.executor.memory": "1g", "spark.executor.cores": "1"}
        submit = submit_command(
            cluster.url, wheel, SUBMIT_SCRIPT, jars=local_runtime_jars(default_jars_dir()), settings=settings
        )
        for command in STREAM_DAILY_AND_ALL:
            run = workspace.run(*command, command=submit, extra_env=env)
            assert run.returncode == 0, run.stderr[-3000:]
        with urllib.request.urlopen(f"http://127.0.0.1:{cluster.ui_port}/json/", timeout=5) as response:
            master = json.load(response)
    local_root = reference_runs.stream_daily_and_all()

    # Every application ran on the cluster, each with an executor on each worker.
    applications = master["completedapps"] + master["activeapps"]
    assert len(applications) == len(STREAM_DAILY_AND_ALL)
    assert [app["cores"] for app in applications] == [2] * len(STREAM_DAILY_AND_ALL)
    assert tables(cluster_root) == tables(local_root)
    assert len(tables(local_root)) >= 50  # bronze, silver, gold, forecast, quarantines and _ops
    different = [
        table
        for table in sorted(tables(local_root))
        if rows_without_run_columns(local_root, table, float_digits=9)
        != rows_without_run_columns(cluster_root, table, float_digits=9)
    ]
    # The forecast too: it once differed, because LightGBM's training depends on the order of its rows and
    # a cluster's shuffle delivers them in another order (the partitions now sort them; test_partitions.py).
    assert different == []
    assert run_counts(cluster_root) == run_counts(local_root)
