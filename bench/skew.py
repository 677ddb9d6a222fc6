"""Benchmark: skew in the heaviest jobs. Runs each job on an existing lakehouse with Spark's UI on, as on
its first day: its table, its quarantine table and its checkpoint are removed first, so an incremental
job reads its whole source again (a forced run with nothing new would read nothing). Then reads every
stage's task times from Spark's monitoring REST API and prints, per job, its stages with the largest task
against the median task, with adaptive execution on (Spark's default, ours) and off (the baseline), side
by side, each mode in a fresh process. The jobs run upstream first, so each reads what the one before
rebuilt. For each job: its stage count, the skewed ones, the ones of a single task (adaptive execution
coalesces a small shuffle into one), and its three stages with the longest tasks.

    .venv/bin/python bench/skew.py WORKDIR [--jobs silver_transaction_lines gold_customer_360 ...]

WORKDIR is a folder where `lakehouse generate` and the pipelines ran with the local configuration (e.g.
the demo's: `make demo` in the checkout, WORKDIR = the checkout); its tables are rewritten by the runs.
A stage counts as skewed when its largest task takes more than 3 times its median and more than a second.
Results go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from retail_lakehouse.catalogue import catalogue
from retail_lakehouse.config.loader import LoadedConfig, load_config
from retail_lakehouse.core.columns import QUARANTINE_SUFFIX
from retail_lakehouse.runner.jobs import JobRunner
from retail_lakehouse.runtime.local_process import free_port
from retail_lakehouse.runtime.spark import get_spark_session

REPO_ROOT = Path(__file__).resolve().parents[1]
HEAVIEST = [
    "silver_transactions",
    "silver_transaction_lines",
    "silver_inventory_changes",
    "gold_sales_daily",
    "gold_customer_360",
    "gold_frequent_itemsets",
    "gold_price_elasticity",
    "gold_demand_features",
]
SKEW_RATIO = 3.0
SKEW_MIN_MS = 1000
HEAVY_STAGES = 3


def rest(port: int, path: str) -> Any:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1{path}", timeout=30) as response:
        return json.load(response)


def stages_between(port: int, app: str, started: float, ended: float) -> list[dict[str, Any]]:
    """The stages of the Spark jobs submitted while a job ran (a stream's micro-batches run in threads of
    their own, so job groups would miss them; the time window does not)."""
    stage_ids: set[int] = set()
    for job in rest(port, f"/applications/{app}/jobs"):
        submitted = job.get("submissionTime")
        if submitted and started <= _epoch(submitted) <= ended:
            stage_ids.update(job["stageIds"])
    stages = []
    for stage_id in sorted(stage_ids):
        for attempt in rest(port, f"/applications/{app}/stages/{stage_id}"):
            if attempt.get("status") != "COMPLETE" or attempt.get("numCompleteTasks", 0) < 1:
                continue
            summary = rest(
                port, f"/applications/{app}/stages/{stage_id}/{attempt['attemptId']}/taskSummary?quantiles=0.5,1.0"
            )
            median_ms, max_ms = summary["executorRunTime"]
            stages.append(
                {
                    "stage": stage_id,
                    "name": attempt["name"].split(" at ")[0],
                    "tasks": attempt["numCompleteTasks"],
                    "median_ms": median_ms,
                    "max_ms": max_ms,
                }
            )
    return stages


def _epoch(stamp: str) -> float:
    """Seconds since the epoch of the REST API's times ('2026-12-03T01:20:00.123GMT')."""
    return dt.datetime.strptime(stamp[:23], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=dt.UTC).timestamp()


def remove_outputs(loaded: LoadedConfig, job_name: str) -> None:
    """The job's table, quarantine table and checkpoint (local paths), so its next run does all its work."""
    storage = loaded.config.storage
    output = loaded.config.jobs[job_name].output
    for folder in (
        storage.table_path(output),
        storage.table_path(output + QUARANTINE_SUFFIX),
        storage.checkpoint(job_name),
    ):
        shutil.rmtree(folder, ignore_errors=True)


def measure(workdir: Path, jobs: list[str], adaptive: bool) -> dict[str, tuple[float, list[dict[str, Any]]]]:
    port = free_port()
    os.chdir(workdir)  # the local configuration's relative roots
    os.environ.setdefault("LAKEHOUSE_SECRET_CARD_TOKEN_KEY", "bench-only-card-token-key")
    # The demo's forecast scope (the top 20 products of every store), as `make demo` builds the lakehouse.
    loaded = load_config(
        transforms=catalogue(),
        conf_dir=REPO_ROOT / "conf",
        set_overrides=["jobs.gold_demand_features.params.top_products=20"],
    )
    settings = loaded.config.spark
    conf = {**settings.conf, "spark.ui.port": str(port), "spark.sql.adaptive.enabled": str(adaptive).lower()}
    spark = get_spark_session(settings.model_copy(update={"session": "local", "ui_enabled": True, "conf": conf}))
    app = spark.sparkContext.applicationId
    runner = JobRunner(spark, loaded)
    found = {}
    try:
        for name in jobs:
            remove_outputs(loaded, name)
            started = time.time() - 1
            run = runner.run(name, force=True)
            ended = time.time() + 1
            if run.status != "succeeded":
                raise SystemExit(f"{name} failed: {run.error}")
            time.sleep(2)  # the UI's listener catches up with the last stage
            found[name] = (run.seconds, stages_between(port, app, started, ended))
    finally:
        runner.close()
        spark.stop()
    return found


def heaviest_stages(stages: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """The stages with the longest tasks: where skew would cost time (a 6 ms task 3 times its median
    does not)."""
    return sorted(stages, key=lambda stage: stage["max_ms"], reverse=True)[:count]


def skewed(stages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in stages if s["max_ms"] > SKEW_MIN_MS and s["max_ms"] > SKEW_RATIO * s["median_ms"]]


def single_task(stages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in stages if s["tasks"] == 1]


def stage_text(stage: dict[str, Any]) -> str:
    ratio = stage["max_ms"] / max(stage["median_ms"], 1.0)
    return (
        f"stage {stage['stage']} {stage['name']}: {stage['tasks']} tasks, largest {stage['max_ms']:,.0f} ms, "
        f"median {stage['median_ms']:,.0f} ms ({ratio:.1f}x)"
    )


def report(jobs: list[str], off: dict[str, Any], on: dict[str, Any]) -> None:
    print(f"{'job':<28} {'AQE off s':>9} {'AQE on s':>9}  stages (AQE on): count, skewed, single-task")
    for name in jobs:
        (off_seconds, off_stages), (on_seconds, on_stages) = off[name], on[name]
        on_counts, off_counts = (
            f"{len(stages)}, {len(skewed(stages))}, {len(single_task(stages))}" for stages in (on_stages, off_stages)
        )
        print(f"{name:<28} {off_seconds:>9.1f} {on_seconds:>9.1f}  {on_counts}   (AQE off: {off_counts})")
    for label, results in (("AQE on", on), ("AQE off", off)):
        print(f"\nthe {HEAVY_STAGES} stages with the longest tasks per job, {label}:")
        for name in jobs:
            print(f"  {name}")
            for stage in heaviest_stages(results[name][1], HEAVY_STAGES):
                print(f"    {stage_text(stage)}")
            for stage in skewed(results[name][1]):
                print(f"    skewed: {stage_text(stage)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--jobs", nargs="+", default=HEAVIEST)
    parser.add_argument("--adaptive", choices=("on", "off"), help=argparse.SUPPRESS)  # a child: one mode
    args = parser.parse_args()
    workdir = args.workdir.resolve()
    if args.adaptive is not None:
        found = measure(workdir, args.jobs, args.adaptive == "on")
        (workdir / f"skew-{args.adaptive}.json").write_text(json.dumps(found))
        return
    # Each mode in a process of its own: a fresh JVM each, in the same state when its first job starts.
    for mode in ("off", "on"):
        command = [sys.executable, __file__, str(workdir), "--adaptive", mode, "--jobs", *args.jobs]
        subprocess.run(command, check=True)
    off, on = (json.loads((workdir / f"skew-{mode}.json").read_text()) for mode in ("off", "on"))
    report(args.jobs, off, on)


if __name__ == "__main__":
    main()
