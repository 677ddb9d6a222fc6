"""Benchmark: skew in the heaviest jobs. Runs each job (forced: the whole of its work, as on its first
day) on an existing lakehouse with Spark's UI on, then reads every stage's task times from Spark's
monitoring REST API and prints, per job, its stages with the largest task against the median task, with
adaptive execution on (Spark's default, ours) and off (the baseline), side by side.

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
import statistics
import time
import urllib.request
from pathlib import Path
from typing import Any

from retail_lakehouse.catalogue import catalogue
from retail_lakehouse.config.loader import load_config
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
            if attempt.get("status") != "COMPLETE" or attempt.get("numCompleteTasks", 0) < 2:
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


def measure(workdir: Path, jobs: list[str], adaptive: bool) -> dict[str, tuple[float, list[dict[str, Any]]]]:
    port = free_port()
    os.chdir(workdir)  # the local configuration's relative roots
    os.environ.setdefault("LAKEHOUSE_SECRET_CARD_TOKEN_KEY", "bench-only-card-token-key")
    loaded = load_config(transforms=catalogue(), conf_dir=REPO_ROOT / "conf")
    settings = loaded.config.spark
    conf = {**settings.conf, "spark.ui.port": str(port), "spark.sql.adaptive.enabled": str(adaptive).lower()}
    spark = get_spark_session(settings.model_copy(update={"session": "local", "ui_enabled": True, "conf": conf}))
    app = spark.sparkContext.applicationId
    runner = JobRunner(spark, loaded)
    found = {}
    try:
        for name in jobs:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--jobs", nargs="+", default=HEAVIEST)
    args = parser.parse_args()
    workdir = args.workdir.resolve()
    results = {adaptive: measure(workdir, args.jobs, adaptive) for adaptive in (False, True)}
    print(f"{'job':<28} {'AQE off s':>9} {'AQE on s':>9}  stages (AQE on): worst max/median task, skewed")
    for name in args.jobs:
        off_seconds, _ = results[False][name]
        on_seconds, stages = results[True][name]
        ratios = [s["max_ms"] / max(s["median_ms"], 1.0) for s in stages]
        worst = max(stages, key=lambda s: s["max_ms"] / max(s["median_ms"], 1.0), default=None)
        skewed = [s for s in stages if s["max_ms"] > SKEW_MIN_MS and s["max_ms"] > SKEW_RATIO * s["median_ms"]]
        worst_text = (
            f"{worst['name']} {worst['max_ms']:.0f}/{worst['median_ms']:.0f} ms ({worst['tasks']} tasks)"
            if worst
            else "-"
        )
        median_ratio = statistics.median(ratios) if ratios else 0.0
        print(
            f"{name:<28} {off_seconds:>9.1f} {on_seconds:>9.1f}  {len(stages)} stages, median ratio "
            f"{median_ratio:.1f}, worst {worst_text}, skewed: {len(skewed)}"
        )
        for stage in skewed:
            print(f"{'':<50} skewed: {stage['name']} {stage['max_ms']:.0f}/{stage['median_ms']:.0f} ms")


if __name__ == "__main__":
    main()
