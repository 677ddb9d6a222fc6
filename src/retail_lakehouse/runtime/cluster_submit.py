"""The `spark-submit` command line that runs a `lakehouse` command on a Spark cluster from the built wheel
(jobs/lakehouse_submit.py), with the session sized for the cluster as a local session sizes its own.

Under spark-submit the runner takes the submitted session and changes none of its settings, so the sizing
a local session gets from runtime/spark.py has to come from the command line; docs/operations.md.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from retail_lakehouse.runtime.spark import CODEGEN_CACHE_ENTRIES, DELTA_SESSION_SETTINGS

# Shuffles and Delta's log reads get this many tasks per core of the cluster.
TASKS_PER_CORE = 2


def sized_settings(cores: int) -> dict[str, str]:
    """The settings sized for a cluster of `cores` cores (Spark's and Delta's defaults are for large data):
    - shuffles of Spark's default 200 partitions, on a daily increment, are mostly empty tasks;
    - Delta reconstructs each table's state from its log with 50 tasks by default, and every job reads
      several tables' logs;
    - Spark keeps 100 compiled query classes by default, fewer than one inventory micro-batch generates,
      so each batch, on each executor, compiled them all again.
    On a standalone cluster of two 1-core workers the last two took the stream, `pipeline daily` and
    `pipeline all` from 758.5 s to 553.2 s (docs/benchmarks.md, bench/cluster_settings.py)."""
    partitions = str(TASKS_PER_CORE * cores)
    return {
        "spark.sql.shuffle.partitions": partitions,
        "spark.databricks.delta.snapshotPartitions": partitions,
        "spark.sql.codegen.cache.maxEntries": str(CODEGEN_CACHE_ENTRIES),
    }


def submit_command(
    master: str,
    wheel: Path,
    script: Path,
    *,
    jars: list[Path],
    settings: Mapping[str, str],
    driver_memory: str = "2g",
) -> list[str]:
    """spark-submit (pyspark's, beside this interpreter) of `script` in client mode: the wheel on every
    executor's path, the jars on every classpath, Delta's extension and catalog, timestamps in UTC, and
    `settings` (sized_settings and the cluster's own, such as executor memory) on top. The `lakehouse`
    command's arguments follow."""
    conf = {
        **DELTA_SESSION_SETTINGS,
        "spark.sql.session.timeZone": "UTC",
        "spark.pyspark.python": sys.executable,
        **settings,
    }
    return [
        str(Path(sys.executable).parent / "spark-submit"),
        "--master", master,
        "--deploy-mode", "client",
        "--driver-memory", driver_memory,
        "--jars", ",".join(str(jar) for jar in jars),
        "--py-files", str(wheel),
        *[item for key, value in conf.items() for item in ("--conf", f"{key}={value}")],
        str(script),
    ]  # fmt: skip


def build_wheel(source: Path, folder: Path) -> Path:
    """The package's wheel built from the checkout at `source` into `folder`, as a release is
    (`pip wheel --no-deps`)."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(folder), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = folder.glob("retail_lakehouse-*.whl")
    return wheel
