"""Benchmark: the inventory stream's trigger against the accelerator's full recompute, as history grows.

    .venv/bin/python bench/stream_history.py [--scale 0.1] [--histories 7 30 90 365] [--work DIR]

Generates max(histories) + 1 days once. For each history H, a lakehouse streams days 1..H in one
available-now run; then, in the same warm JVM, our run that takes day H + 1 (one trigger's worth: the new
events read, typed, deduplicated, added to the ledger and merged into the positions, with the run's records)
is timed against the accelerator's approach on the same data, two ways:

- its recompute alone: every position recomputed from all accepted events (ours, the new day's included) by
  the same rule (`batch_computation`) and the table overwritten, as the accelerator does each trigger;
- its whole trigger: the recompute after its own ingestion of the new day's files (read, typed and checked by
  the same rules, appended to its own events table, which held days 1..H before). Ours includes that work,
  so this is the like-for-like comparison; the first is kept to compare with earlier results.

Prints both, their ratios to ours per history and the crossovers (the shortest history from which ours is
faster). Goal (issue 23): ours at least as fast at 30 days and at least 10 times faster at 365. Results go
to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import tempfile
from pathlib import Path
from typing import NamedTuple

from inventory_stream import (
    START,
    TriggerTimes,
    accelerator_recompute,
    accelerator_trigger,
    configured,
    deliver,
    positions_differing,
    run_stream,
    run_stream_triggers,
    seed_accelerator_events,
)
from retail_lakehouse.generator.landing import generate_landing
from retail_lakehouse.generator.options import GeneratorOptions
from retail_lakehouse.runtime.spark import get_spark_session


class HistoryResult(NamedTuple):
    """Seconds of both sides for the day after `history` days."""

    history: int
    events: int
    our_run: float
    our_micro_batches: float
    recompute: float
    whole_trigger: float


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
    triggers = TriggerTimes()
    spark.streams.addListener(triggers)

    # A first small lakehouse warms the JVM (class loading, Delta's first commits) before anything is timed,
    # both sides' code included.
    warm = configured(work, "warm")
    deliver(staging, Path(warm.config.storage.landing), range(1, 3))
    run_stream(spark, warm)
    warm_events = seed_accelerator_events(spark, warm, work / "warm")
    deliver(staging, Path(warm.config.storage.landing), range(3, 4))
    run_stream(spark, warm)
    accelerator_trigger(spark, warm, work / "warm", warm_events, START + dt.timedelta(days=2))

    rows: list[HistoryResult] = []
    for history in histories:
        loaded = configured(work, f"history-{history}")
        deliver(staging, Path(loaded.config.storage.landing), range(1, history + 1))
        built, built_events = run_stream(spark, loaded)
        accelerator_events = seed_accelerator_events(spark, loaded, work / f"history-{history}")
        deliver(staging, Path(loaded.config.storage.landing), range(history + 1, history + 2))
        ours, new_events, ours_trigger = run_stream_triggers(spark, loaded, triggers)
        recompute, all_events = accelerator_recompute(spark, loaded, work / f"history-{history}")
        trigger, trigger_events = accelerator_trigger(
            spark, loaded, work / f"history-{history}", accelerator_events, START + dt.timedelta(days=history)
        )
        differing = positions_differing(spark, loaded, work / f"history-{history}")
        rows.append(HistoryResult(history, all_events, ours, ours_trigger, recompute, trigger))
        print(
            f"history {history} days: built from {built_events:,} events in {built:.1f} s; next day "
            f"{new_events:,} events: ours {ours:.1f} s (its micro-batches {ours_trigger:.1f} s); accelerator: "
            f"recompute of {all_events:,} events "
            f"{recompute:.1f} s ({recompute / ours:.2f} of ours), whole trigger (ingest, recompute of "
            f"{trigger_events:,}) {trigger:.1f} s ({trigger / ours_trigger:.2f} of our micro-batches); "
            f"positions differing from ours: {differing}",
            flush=True,
        )
    print()
    print(
        "| history (days) | events in history | ours: next-day run (s) | ours: its micro-batches (s) "
        "| accelerator: recompute (s) | accelerator: whole trigger (s) | recompute / our run "
        "| whole trigger / our micro-batches |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row.history} | {row.events:,} | {row.our_run:.1f} | {row.our_micro_batches:.1f} "
            f"| {row.recompute:.1f} | {row.whole_trigger:.1f} | {row.recompute / row.our_run:.2f} "
            f"| {row.whole_trigger / row.our_micro_batches:.2f} |"
        )
    crossovers = {
        "its recompute against our run": [row.history for row in rows if row.recompute >= row.our_run],
        "its whole trigger against our micro-batches": [
            row.history for row in rows if row.whole_trigger >= row.our_micro_batches
        ],
    }
    for name, faster in crossovers.items():
        print(f"crossover, {name}: " + (f"ours faster from {faster[0]} days" if faster else "not reached"))


if __name__ == "__main__":
    main()
