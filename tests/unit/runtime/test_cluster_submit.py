"""The spark-submit command line for a cluster, and the settings sized for it."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

from retail_lakehouse.runtime.cluster_submit import sized_settings, submit_command


def test_settings_are_sized_by_the_clusters_cores() -> None:
    assert sized_settings(cores=3) == {
        "spark.sql.shuffle.partitions": "6",
        "spark.databricks.delta.snapshotPartitions": "6",
        "spark.sql.codegen.cache.maxEntries": "2000",
    }


def test_the_command_submits_the_script_with_the_wheel_the_jars_delta_and_the_settings() -> None:
    command = submit_command(
        "spark://10.0.0.5:7077",
        Path("/dist/retail_lakehouse-0.1.0-py3-none-any.whl"),
        Path("/repo/jobs/lakehouse_submit.py"),
        jars=[Path("/jars/delta-spark.jar"), Path("/jars/delta-storage.jar")],
        # A setting given overrides the command's own.
        settings={"spark.executor.memory": "1g", "spark.sql.session.timeZone": "Europe/Paris"},
        driver_memory="3g",
    )
    conf = [value for flag, value in itertools.pairwise(command) if flag == "--conf"]
    assert command[0] == str(Path(sys.executable).parent / "spark-submit")
    assert command[1:9] == [
        "--master", "spark://10.0.0.5:7077",
        "--deploy-mode", "client",
        "--driver-memory", "3g",
        "--jars", "/jars/delta-spark.jar,/jars/delta-storage.jar",
    ]  # fmt: skip
    assert command[9:11] == ["--py-files", "/dist/retail_lakehouse-0.1.0-py3-none-any.whl"]
    assert conf == [
        "spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.session.timeZone=Europe/Paris",
        f"spark.pyspark.python={sys.executable}",
        "spark.executor.memory=1g",
    ]
    assert command[-1] == "/repo/jobs/lakehouse_submit.py"
    assert len(command) == 11 + 2 * len(conf) + 1
