"""Benchmark: the inventory stream, `pipeline daily` and `pipeline all` submitted to a Spark standalone
cluster (a master and two 1-core workers, each its own JVM) with Spark's and Delta's default settings,
against the same with the session sized for the cluster (runtime/cluster_submit.py), side by side.

    .venv/bin/python bench/cluster_settings.py [--scale 0.03] [--days 2] [--work /tmp/bench-cluster]
        [--repeat 1]

Generates the data set once and builds the wheel; then, `--repeat` times, alternating the two settings,
each on a new lakehouse: the three commands in order, each its own application, as a user submits them.
Prints the seconds per command and their ratio. Results go to docs/benchmarks.md.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pyspark

from alternating import argument_parser, generated_once
from noop import ENV
from retail_lakehouse.runtime.cluster_submit import build_wheel, sized_settings, submit_command
from retail_lakehouse.runtime.jars import default_jars_dir, local_runtime_jars
from retail_lakehouse.runtime.standalone_cluster import LocalStandaloneCluster

REPO = Path(__file__).resolve().parents[1]
WORKERS = 2
EXECUTOR = {"spark.executor.memory": "1g", "spark.executor.cores": "1"}
# Both size the shuffles (Spark's 200 partitions would dwarf either difference); "default" leaves the rest.
MODES = {
    "default": {"spark.sql.shuffle.partitions": sized_settings(WORKERS)["spark.sql.shuffle.partitions"], **EXECUTOR},
    "sized": {**sized_settings(WORKERS), **EXECUTOR},
}
COMMANDS = {
    "stream inventory --available-now": ["stream", "inventory", "--available-now"],
    "pipeline daily": ["pipeline", "daily"],
    "pipeline all": ["pipeline", "all"],
}


def submitted(work: Path, submit: list[str], args: list[str]) -> float:
    """Runs one lakehouse command as its own application on the cluster; seconds taken."""
    environ = {
        **os.environ,
        **ENV,
        # spark-submit finds Spark in the pyspark package (its own search asks another interpreter) and runs
        # the driver with this interpreter, which has the package's dependencies.
        "SPARK_HOME": str(Path(pyspark.__file__).parent),
        "PYSPARK_PYTHON": sys.executable,
        # The repository's configuration: the copy inside the wheel is out of reach while the wheel is only
        # on the path as a zip (--py-files), not installed.
        "LAKEHOUSE_CONF_DIR": str(REPO / "conf"),
        "LAKEHOUSE_ROOT": str(work / "lakehouse"),
        "LAKEHOUSE_LANDING": str(work / "data" / "landing"),
    }
    started = time.perf_counter()
    done = subprocess.run([*submit, *args], cwd=work, env=environ, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        output = (done.stderr + done.stdout)[-2000:]
        raise SystemExit(f"spark-submit lakehouse {' '.join(args)} failed ({done.returncode}): {output}")
    return time.perf_counter() - started


def main() -> None:
    parser = argument_parser(__doc__ or "", Path("/tmp/bench-cluster"))
    parser.set_defaults(repeat=1)
    args = parser.parse_args()
    work = generated_once(args)
    wheel = build_wheel(REPO, work / "dist")
    jars = local_runtime_jars(default_jars_dir())
    seconds: dict[tuple[str, str], list[float]] = {}
    with LocalStandaloneCluster(workers=WORKERS, cores_per_worker=1, memory_per_worker="1536m") as cluster:
        for _ in range(args.repeat):
            for mode, settings in MODES.items():
                shutil.rmtree(work / "lakehouse", ignore_errors=True)
                submit = submit_command(
                    cluster.url, wheel, REPO / "jobs" / "lakehouse_submit.py", jars=jars, settings=settings
                )
                for label, command in COMMANDS.items():
                    seconds.setdefault((label, mode), []).append(submitted(work, submit, command))

    print(f"scale {args.scale}, {args.days} days, {WORKERS} workers x 1 core, {args.repeat} run(s) each; medians")
    print(f"{'command, new lakehouse':<36} {'default s':>10} {'sized s':>8} {'default / sized':>16}")
    totals = dict.fromkeys(MODES, 0.0)
    for label in COMMANDS:
        medians = {mode: statistics.median(seconds[(label, mode)]) for mode in MODES}
        for mode, value in medians.items():
            totals[mode] += value
        ratio = medians["default"] / medians["sized"]
        print(f"{label:<36} {medians['default']:>10.1f} {medians['sized']:>8.1f} {ratio:>15.2f}x")
    total_ratio = totals["default"] / totals["sized"]
    print(f"{'the three':<36} {totals['default']:>10.1f} {totals['sized']:>8.1f} {total_ratio:>15.2f}x")


if __name__ == "__main__":
    main()
