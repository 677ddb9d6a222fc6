"""On a real Spark standalone cluster (a master and two workers, each its own JVM, started here with Spark's
own classes), `spark-submit` of the built wheel runs the inventory stream, `pipeline daily` and `pipeline all`:
every table equals, row by row, what the same commands write in local mode (the shared local run,
reference_runs.py), read back by an independent reader."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from retail_lakehouse.runtime.jars import default_jars_dir, local_runtime_jars
from retail_lakehouse.runtime.standalone_cluster import LocalStandaloneCluster
from tests.conftest import REPO_ROOT
from tests.integration.conftest import Workspace
from tests.integration.lakehouse_tables import rows_without_run_columns, run_counts, tables
from tests.integration.reference_runs import STREAM_DAILY_AND_ALL, ReferenceRuns

# Scheduled with the longest: run last, it ended a clean-clone run alone for about 12 minutes.
pytestmark = [pytest.mark.integration, pytest.mark.long, pytest.mark.longest]


def built_wheel(folder: Path) -> Path:
    """The package's wheel, built from the checkout as a release is."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(folder), str(REPO_ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = folder.glob("retail_lakehouse-*.whl")
    return wheel


def spark_submit(master: str, wheel: Path) -> list[str]:
    """spark-submit as a user runs it against a cluster: the wheel on every executor's path, Delta's jars,
    shuffle partitions sized for the cluster's two cores."""
    settings = {
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.shuffle.partitions": "4",
        "spark.sql.session.timeZone": "UTC",
        "spark.executor.memory": "1g",
        "spark.executor.cores": "1",
        "spark.pyspark.python": sys.executable,
    }
    return [
        str(Path(sys.executable).parent / "spark-submit"),
        "--master", master,
        "--deploy-mode", "client",
        "--driver-memory", "2g",
        "--jars", ",".join(str(jar) for jar in local_runtime_jars(default_jars_dir())),
        "--py-files", str(wheel),
        *[item for key, value in settings.items() for item in ("--conf", f"{key}={value}")],
        str(REPO_ROOT / "jobs" / "lakehouse_submit.py"),
    ]  # fmt: skip


def test_pipeline_all_and_the_stream_on_a_standalone_cluster_equal_a_local_run(
    workspace: Workspace, reference_runs: ReferenceRuns, tmp_path: Path
) -> None:
    wheel = built_wheel(tmp_path / "dist")
    cluster_root = tmp_path / "cluster"
    env = {"LAKEHOUSE_ROOT": str(cluster_root), "LAKEHOUSE_LANDING": str(reference_runs.landing)}
    with LocalStandaloneCluster(workers=2, cores_per_worker=1, memory_per_worker="1536m") as cluster:
        submit = spark_submit(cluster.url, wheel)
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
