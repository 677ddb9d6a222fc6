"""Shared by the benchmarks that time the same CLI commands under two settings side by side: their common
arguments, the data set generated once, and the runs alternating between the settings on new lakehouses."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from noop import lakehouse


def argument_parser(description: str, work: Path) -> argparse.ArgumentParser:
    """`--scale`, `--days`, `--work` and `--repeat`; a benchmark adds its own before parsing."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.03)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--work", type=Path, default=work)
    parser.add_argument("--repeat", type=int, default=2)
    return parser


def generated_once(args: argparse.Namespace) -> Path:
    """The work folder, with the data set generated into it unless a run before left it there."""
    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    if not (work / "data" / "landing").exists():
        lakehouse(work, "generate", "--scale", str(args.scale), "--days", str(args.days))
    return work


def alternated(
    work: Path, modes: dict[str, list[str]], commands: dict[str, list[str]], repeat: int
) -> dict[tuple[str, str], list[float]]:
    """Seconds of each (command, mode): `repeat` rounds, each running every mode in turn on a new lakehouse,
    its commands in order with the mode's options, so that a drift of the machine's speed hits both modes."""
    seconds: dict[tuple[str, str], list[float]] = {}
    for _ in range(repeat):
        for mode, options in modes.items():
            shutil.rmtree(work / "lakehouse", ignore_errors=True)
            for label, command in commands.items():
                seconds.setdefault((label, mode), []).append(lakehouse(work, *command, *options))
    return seconds
