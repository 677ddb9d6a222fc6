"""Benchmark: `lakehouse pipeline all` and `lakehouse stream inventory --available-now` when nothing is new,
skipped (ours) against every job run all the same (`--force`: what every run cost before skipping).

    .venv/bin/python bench/noop.py [--scale 1] [--days 90] [--work /tmp/bench-noop] [--repeat 2]

Generates the data set and runs the stream and `pipeline all` once, unless the work folder holds a
lakehouse already (then it is reused as it is), then times, through the CLI as a user runs it, each command
forced and not, `--repeat` times each, alternating. Prints the median seconds and their ratio, and checks that
the skipped runs committed nothing to any table. Results go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
ENV = {"LAKEHOUSE_SECRET_CARD_TOKEN_KEY": "bench-only-card-token-key"}
COMMANDS = {
    "pipeline all": ["pipeline", "all"],
    "stream inventory --available-now": ["stream", "inventory", "--available-now"],
}


def lakehouse(work: Path, *args: str) -> float:
    """Runs the CLI in `work` (the local configuration's relative roots land there); seconds taken."""
    started = time.perf_counter()
    done = subprocess.run(
        [str(BIN / "lakehouse"), *args],
        cwd=work,
        env={**os.environ, **ENV},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"lakehouse {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return time.perf_counter() - started


def table_versions(root: Path) -> dict[str, int]:
    """Each table's latest commit number, from the file names of its Delta log."""
    versions = {}
    for log in sorted(root.glob("*/*/_delta_log")):
        commits = [int(p.stem) for p in log.glob("*.json") if p.stem.isdigit()]
        versions[str(log.parent.relative_to(root))] = max(commits)
    return versions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-noop"))
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    root = work / "lakehouse"
    if not root.exists():
        print(f"generating scale {args.scale}, {args.days} days, and running everything once in {work}")
        lakehouse(work, "generate", "--scale", str(args.scale), "--days", str(args.days))
        lakehouse(work, "stream", "inventory", "--available-now")
        lakehouse(work, "pipeline", "all")
    # One plain run first: jobs last run by a version that recorded no state run once more.
    for command in COMMANDS.values():
        lakehouse(work, *command)

    print(f"{'command, nothing new':<36} {'forced s':>9} {'skipped s':>10} {'ratio':>7}")
    for label, command in COMMANDS.items():
        forced, skipped = [], []
        for _ in range(args.repeat):
            forced.append(lakehouse(work, *command, "--force"))
            before = table_versions(root)
            skipped.append(lakehouse(work, *command))
            changed = {t: v for t, v in table_versions(root).items() if before.get(t) != v and t[0] != "_"}
            if changed:
                raise SystemExit(f"a skipped run committed to {changed}")
        f, s = statistics.median(forced), statistics.median(skipped)
        print(f"{label:<36} {f:>9.1f} {s:>10.1f} {f / s:>6.1f}x")


if __name__ == "__main__":
    main()
