"""Benchmark: how the cost of every layer grows with the data. Builds a lakehouse from nothing at each scale
(0.25, 1 and 4 by default: 4 x 4 times the stores, products, customers and sales), runs the inventory
stream (available-now) and every batch job of `pipeline all`, and prints per layer the seconds, the rows
read, rows per second and the ratio of each scale's time to the one before, beside the ratio of the data.

    .venv/bin/python bench/scaling.py [--scales 0.25 1 4] [--days 30] [--work /tmp/bench-scaling] [--report]

Each scale runs in a process of its own (a fresh JVM: no scale inherits another's warmed-up code), one
after the other, each job once through the job runner as `lakehouse pipeline all` runs it; a job's
seconds are its run record's (the Spark session's start is not in any layer). The forecast is scoped as
the demo scopes it (the top 20 products of every store, so the series grow with the stores) and, because
30 days are too short for a 30-day horizon with three backtest origins, forecasts 7 days from three
origins 7 days apart. Goal (issue 23): time(4) / time(1) at most 4.0 for every layer. Results go to
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
LAYERS = ("bronze", "silver", "stream", "gold", "forecast")
FORECAST_SCOPE = [
    "jobs.gold_demand_features.params.top_products=20",
    *(
        f"jobs.{job}.params.{name}={value}"
        for job in ("gold_forecast_backtest", "gold_forecast_accuracy", "gold_demand_forecast")
        for name, value in (("horizon_days", 7), ("backtest_origins", 3))
    ),
]


@dataclass
class JobTiming:
    job: str
    layer: str
    seconds: float
    rows_read: int
    rows_written: int


def layer_of(job: str, forecast_jobs: set[str], kind: str) -> str:
    if kind == "stream":
        return "stream"
    if job in forecast_jobs:
        return "forecast"
    return job.split("_", 1)[0]


def run_one_scale(scale: float, days: int, work: Path) -> dict[str, Any]:
    """Generates the data set and runs every job once, in this process; what each job took."""
    # Imported here: the parent process only starts children and prints, without a JVM of its own.
    from retail_lakehouse.catalogue import catalogue
    from retail_lakehouse.config import load_config
    from retail_lakehouse.generator.landing import generate_landing
    from retail_lakehouse.generator.options import GeneratorOptions
    from retail_lakehouse.runner.jobs import JobRunner
    from retail_lakehouse.runtime.spark import get_spark_session

    shutil.rmtree(work, ignore_errors=True)
    landing, lakehouse = work / "landing", work / "lakehouse"
    started = time.perf_counter()
    generate_landing(landing, GeneratorOptions(scale=scale, days=days))
    generate_seconds = time.perf_counter() - started
    landing_bytes = sum(p.stat().st_size for p in landing.rglob("*") if p.is_file())

    loaded = load_config(
        transforms=catalogue(),
        conf_dir=REPO / "conf",
        set_overrides=[f"storage.landing={landing}", f"storage.root={lakehouse}", *FORECAST_SCOPE],
        environ={"LAKEHOUSE_SECRET_CARD_TOKEN_KEY": "bench-card-token-key"},
    )
    config = loaded.config
    spark = get_spark_session(config.spark, warehouse_dir=str(work / "warehouse"))
    runner = JobRunner(spark, loaded)
    forecast_jobs = set(config.job_names_of("forecast"))
    # The stream first, as `make demo` runs it: replenishment reads the positions it keeps.
    jobs = ["inventory", *config.job_names_of("all")]
    timings = []
    try:
        for job in jobs:
            run = runner.run(job)
            if run.status != "succeeded":
                raise SystemExit(f"scale {scale}: {job} {run.status}: {run.error}")
            kind = config.jobs[job].kind
            timings.append(
                JobTiming(
                    job, layer_of(job, forecast_jobs, kind), run.seconds, run.rows_read or 0, run.rows_written or 0
                )
            )
            print(f"  scale {scale}: {job:<34} {run.seconds:7.1f} s {run.rows_read or 0:>12,} rows read", flush=True)
    finally:
        runner.close()
        spark.stop()
    return {
        "scale": scale,
        "days": days,
        "generate_seconds": generate_seconds,
        "landing_bytes": landing_bytes,
        "jobs": [asdict(t) for t in timings],
    }


def layer_totals(result: dict[str, Any]) -> dict[str, tuple[float, int]]:
    """Seconds and rows read per layer, and for "all" layers together."""
    totals = dict.fromkeys(LAYERS, (0.0, 0))
    for timing in result["jobs"]:
        seconds, rows = totals[timing["layer"]]
        totals[timing["layer"]] = (seconds + timing["seconds"], rows + timing["rows_read"])
    totals["all"] = (sum(t[0] for t in totals.values()), sum(t[1] for t in totals.values()))
    return totals


def report(results: list[dict[str, Any]]) -> None:
    scales = [r["scale"] for r in results]
    totals = [layer_totals(r) for r in results]
    print()
    print("per layer: seconds, rows read, rows/s (2 cores)")
    print(f"{'layer':<9}" + "".join(f" | scale {s:<5} s  rows read      rows/s" for s in scales))
    for layer in (*LAYERS, "all"):
        cells = "".join(
            f" | {seconds:9.1f} {rows:>12,} {rows / seconds if seconds else 0:>9,.0f}"
            for seconds, rows in (total[layer] for total in totals)
        )
        print(f"{layer:<9}{cells}")
    print()
    for before, after, t_before, t_after in zip(scales, scales[1:], totals, totals[1:], strict=False):
        print(f"scale {after} against scale {before} ({after / before:g}x the stores):")
        for layer in (*LAYERS, "all"):
            (s0, r0), (s1, r1) = t_before[layer], t_after[layer]
            print(f"  {layer:<9} time {s1 / s0:5.2f}x   rows read {r1 / max(r0, 1):5.2f}x")
    print()
    print("per job, seconds at each scale:")
    by_job = [{t["job"]: t for t in r["jobs"]} for r in results]
    for job in by_job[0]:
        cells = " ".join(f"{jobs[job]['seconds']:8.1f}" for jobs in by_job)
        ratio = by_job[-1][job]["seconds"] / max(by_job[-2][job]["seconds"], 0.01) if len(by_job) > 1 else 1.0
        print(f"  {job:<34} {cells}   last/before {ratio:5.2f}x")
    for r in results:
        megabytes = r["landing_bytes"] / 1e6
        print(f"scale {r['scale']}: generator {r['generate_seconds']:.1f} s, landing {megabytes:,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=float, nargs="+", default=[0.25, 1.0, 4.0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-scaling"))
    parser.add_argument(
        "--report", action="store_true", help="print the report of the scales an earlier run left in --work"
    )
    parser.add_argument("--one", type=float, help=argparse.SUPPRESS)  # a child process: one scale
    args = parser.parse_args()
    if args.report:
        report([json.loads((args.work / f"scale-{scale:g}.json").read_text()) for scale in args.scales])
        return
    if args.one is not None:
        result = run_one_scale(args.one, args.days, args.work / f"scale-{args.one:g}")
        (args.work / f"scale-{args.one:g}.json").write_text(json.dumps(result))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    results = []
    for scale in args.scales:
        print(f"scale {scale}, {args.days} days", flush=True)
        command = [sys.executable, __file__, "--one", str(scale), "--days", str(args.days), "--work", str(args.work)]
        subprocess.run(command, check=True, env=os.environ.copy())
        results.append(json.loads((args.work / f"scale-{scale:g}.json").read_text()))
        shutil.rmtree(args.work / f"scale-{scale:g}", ignore_errors=True)  # the disk, for the next scale
    report(results)


if __name__ == "__main__":
    main()
