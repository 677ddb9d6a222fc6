"""Benchmark: local commands whose driver JVM runs the throughput collector (`spark.garbage_collector:
parallel`, the default) against the same commands with G1 (the JDK's default), side by side on the same data.

    .venv/bin/python bench/garbage_collector.py [--scale 0.03] [--days 2] [--work /tmp/bench-gc] [--repeat 2]
        [--pipeline daily]

Generates the data set once; then, `--repeat` times, alternating the collectors, each on a new lakehouse:
the inventory stream (available-now) and the pipeline, as a user runs them through the CLI. Prints the
median seconds per command and their ratio. Results go to docs/benchmarks.md.
"""

from __future__ import annotations

import statistics
from pathlib import Path

from alternating import alternated, argument_parser, generated_once

MODES = {"parallel": [], "g1": ["--set", "spark.garbage_collector=g1"]}


def main() -> None:
    parser = argument_parser(__doc__ or "", Path("/tmp/bench-gc"))
    parser.add_argument("--pipeline", default="daily", help="the pipeline run after the stream (daily, all)")
    args = parser.parse_args()
    work = generated_once(args)
    commands = {
        "stream inventory --available-now": ["stream", "inventory", "--available-now"],
        f"pipeline {args.pipeline}": ["pipeline", args.pipeline],
    }
    seconds = alternated(work, MODES, commands, args.repeat)

    print(f"scale {args.scale}, {args.days} days, {args.repeat} runs each, alternating; medians")
    print(f"{'command, new lakehouse':<36} {'g1 s':>7} {'parallel s':>11} {'g1 / parallel':>14}")
    for label in commands:
        g1 = statistics.median(seconds[(label, "g1")])
        parallel = statistics.median(seconds[(label, "parallel")])
        pairs = zip(seconds[(label, "g1")], seconds[(label, "parallel")], strict=True)
        runs = ", ".join(f"{g:.1f}/{p:.1f}" for g, p in pairs)
        print(f"{label:<36} {g1:>7.1f} {parallel:>11.1f} {g1 / parallel:>13.2f}x   (runs g1/parallel: {runs})")


if __name__ == "__main__":
    main()
