"""Benchmark: the inventory stream's trigger against the accelerator's full recompute, as history grows.

    .venv/bin/python bench/stream_history.py [--scale 0.1] [--histories 7 30 90 365] [--work DIR]

Generates max(histories) + 1 days once. For each history H, a lakehouse streams days 1..H in one
available-now run; then, in the same warm JVM, our run that takes day H + 1 (one trigger's worth: the new
events merged into the positions) is timed, and so is the accelerator's approach on the same lakehouse -
every position recomputed from all accepted events by the same rule (`batch_computation`) and the table
overwritten, as the accelerator does each trigger. Prints both, their ratio per history and the crossover
(the shortest history from which ours is faster). Goal (issue 23): ours at least as fast at 30 days and at
least 10 times faster at 365. Results go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from inventory_stream import START, accelerator_recompute, configured, deliver, run_stream
from retail_lakehouse.generator.landing import generate_landing
from retail_lakehouse.generator.options import GeneratorOptions
from retail_lakehouse.runtime.spark import get_spark_session


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--histories", type=int, nargs="+", default=[7, 30, 90, 365])
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-stream-history-"))
    shutil.rmtree(work, ignore_errors=True)
    staging = work / "staging"
    histories = sorted(args.histories)
    generate_landing(staging, GeneratorOptions(scale=args.scale, days=histories[-1] + 1, start_date=START))
    spark = get_spark_session(configured(work, "warm").config.spark, warehouse_dir=str(work / "warehouse"))

    # A first small lakehouse warms the JVM (class loading, Delta's first commits) before anything is timed.
    warm = configured(work, "warm")
    deliver(staging, Path(warm.config.storage.landing), range(1, 3))
    run_stream(spark, warm)

    rows = []
    for history in histories:
        loaded = configured(work, f"history-{history}")
        deliver(staging, Path(loaded.config.storage.landing), range(1, history + 1))
        built, built_events = run_stream(spark, loaded)
        deliver(staging, Path(loaded.config.storage.landing), range(history + 1, history + 2))
        ours, new_events = run_stream(spark, loaded)
        accelerator, all_events = accelerator_recompute(spark, loaded, work / f"history-{history}")
        rows.append((history, built_events, built, new_events, ours, all_events, accelerator))
        print(
            f"history {history} days: built from {built_events:,} events in {built:.1f} s; next day "
            f"{new_events:,} events: ours {ours:.1f} s; accelerator (recompute {all_events:,} events, overwrite) "
            f"{accelerator:.1f} s; accelerator / ours {accelerator / ours:.2f}",
            flush=True,
        )
    print()
    print("| history (days) | events in history | ours: next-day run (s) | accelerator: recompute (s) | ratio |")
    print("|---|---|---|---|---|")
    for history, _, _, _, ours, all_events, accelerator in rows:
        print(f"| {history} | {all_events:,} | {ours:.1f} | {accelerator:.1f} | {accelerator / ours:.2f} |")
    faster = [history for history, *_, ours, _, accelerator in rows if accelerator >= ours]
    print(f"crossover: ours faster from {faster[0]} days of history" if faster else "crossover: not reached")


if __name__ == "__main__":
    main()
