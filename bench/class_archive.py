"""Benchmark: local commands whose driver JVM starts from the class-data archive (`spark.class_archive: true`,
runtime/class_archive.py) against the same commands without it, side by side on the same data.

    .venv/bin/python bench/class_archive.py [--scale 0.03] [--days 2] [--work /tmp/bench-class-archive] [--repeat 2]

Needs the archive `make setup` builds. Generates the data set once; then, `--repeat` times, alternating with
and without the archive, each on a new lakehouse: the inventory stream (available-now: every table created),
the same command again (nothing new: skipped), and two batch jobs. Prints the median seconds per command and
their ratio. Results go to docs/benchmarks.md.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

from alternating import alternated, argument_parser, generated_once
from retail_lakehouse.runtime.class_archive import current_archive
from retail_lakehouse.runtime.jars import default_jars_dir, local_runtime_jars

COMMANDS = {
    "stream inventory, new lakehouse": ["stream", "inventory", "--available-now"],
    "stream inventory, nothing new": ["stream", "inventory", "--available-now"],
    "run bronze_stores silver_stores": ["run", "bronze_stores", "silver_stores"],
}
MODES = {"archive": [], "no archive": ["--set", "spark.class_archive=false"]}


def main() -> None:
    args = argument_parser(__doc__ or "", Path("/tmp/bench-class-archive")).parse_args()
    archive = current_archive(local_runtime_jars(default_jars_dir()))
    if archive is None or not archive.is_file():
        sys.exit(f"no class archive at {archive}: run `make setup`")
    seconds = alternated(generated_once(args), MODES, COMMANDS, args.repeat)

    print(f"archive: {archive} ({archive.stat().st_size / 2**20:.0f} MiB)")
    print(f"{'command':<36} {'no archive s':>13} {'archive s':>10} {'saved s':>8} {'ratio':>6}")
    for label in COMMANDS:
        without = statistics.median(seconds[(label, "no archive")])
        with_archive = statistics.median(seconds[(label, "archive")])
        print(
            f"{label:<36} {without:>13.1f} {with_archive:>10.1f} {without - with_archive:>8.1f}"
            f" {without / with_archive:>5.2f}x"
        )


if __name__ == "__main__":
    main()
