"""Builds the local driver JVM's class-data archive (runtime/class_archive.py) for this java and these jars,
once: `make setup` runs `python -m retail_lakehouse.jvm_archive`.

The training is the CLI's own commands (the inventory stream and the daily pipeline on a tiny generated data
set) run in one JVM started with the option to write the classes it loaded as it exits; so this module sits
above the CLI.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from pyspark import SparkConf, SparkContext
from pyspark.java_gateway import launch_gateway

from retail_lakehouse import cli
from retail_lakehouse.config.models import SparkSettings
from retail_lakehouse.config.sources import packaged_conf_dir
from retail_lakehouse.core.errors import RuntimeSetupError
from retail_lakehouse.runtime.class_archive import ARCHIVE_SUFFIX, current_archive, write_options
from retail_lakehouse.runtime.jars import default_jars_dir, local_runtime_jars
from retail_lakehouse.runtime.spark import JVM_OPTIONS_SETTING, local_session_conf

# What the training run does, in one JVM (the CLI's own commands, on a tiny data set).
TRAINING_DATA = ("generate", "--scale", "0.01", "--days", "2")
TRAINING_COMMANDS = (("stream", "inventory", "--available-now"), ("pipeline", "daily"))
TRAINING_CARD_TOKEN_KEY = "class-archive-training-only-key"
JVM_EXIT_SECONDS = 600


def build(jars_dir: Path, folder: Path | None = None) -> tuple[Path, bool]:
    """The archive for this java and these jars, trained now unless it exists; True when built now.

    Written under a temporary name and renamed when the JVM has exited: a command starting meanwhile finds
    no archive rather than half of one. Archives of earlier jars are removed (each is some 200 MB).
    """
    runtime_jars = local_runtime_jars(jars_dir)
    target = current_archive(runtime_jars, folder)
    if target is None:
        raise RuntimeSetupError("no java found (JAVA_HOME or the PATH): local Spark needs a JDK 17")
    if target.is_file():
        return target, False
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    try:
        with tempfile.TemporaryDirectory(prefix="class-archive-") as work:
            _train(Path(work), runtime_jars, partial)
        if not partial.is_file():
            raise RuntimeSetupError(f"the training JVM exited without writing its class archive {partial}")
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    for earlier in target.parent.glob(f"classes-*{ARCHIVE_SUFFIX}*"):
        if earlier != target:
            earlier.unlink(missing_ok=True)
    return target, True


def _train(work: Path, runtime_jars: Sequence[Path], archive: Path) -> None:
    """Runs the training commands in one JVM that writes `archive` as it exits, and waits for that exit.
    Everything runs in `work`: what the JVM or a command writes relative to its folder lands there."""
    with contextlib.chdir(work):
        _train_here(work, runtime_jars, archive)


def _train_here(work: Path, runtime_jars: Sequence[Path], archive: Path) -> None:
    os.environ.update(
        LAKEHOUSE_CONF_DIR=str(packaged_conf_dir()),
        LAKEHOUSE_ROOT=str(work / "lakehouse"),
        LAKEHOUSE_LANDING=str(work / "landing"),
        LAKEHOUSE_SECRET_CARD_TOKEN_KEY=TRAINING_CARD_TOKEN_KEY,
        PYSPARK_PYTHON=sys.executable,
    )
    # The JVM's own log goes to a file in `work`, not to the terminal of `make setup`.
    conf = local_session_conf(SparkSettings(), list(runtime_jars), str(work / "warehouse"), log_folder=work)
    conf[JVM_OPTIONS_SETTING] = " ".join([conf[JVM_OPTIONS_SETTING], *write_options(archive)])
    # The JVM is started here, with the option to write the archive; every command's session after this
    # one runs in the same JVM (pyspark keeps one gateway per process), whatever its own settings say.
    spark_conf = SparkConf().setAll(list(conf.items()))
    gateway = launch_gateway(spark_conf)  # type: ignore[no-untyped-call]
    SparkContext(conf=spark_conf, gateway=gateway).stop()
    output = work / "training.log"
    try:
        with output.open("w", encoding="utf-8") as log:
            for argv in (TRAINING_DATA, *TRAINING_COMMANDS):
                if cli.main(list(argv), stdout=log, stderr=log) != 0:
                    log.flush()
                    tail = output.read_text(encoding="utf-8")[-3000:]
                    command = " ".join(argv)
                    raise RuntimeSetupError(f"the class archive's training `lakehouse {command}` failed:\n{tail}")
    except BaseException:
        gateway.proc.kill()  # killed, the JVM writes no archive of a run that did not finish
        raise
    # The JVM stops when its standard input closes, and writes the archive as it exits.
    gateway.proc.stdin.close()
    gateway.proc.wait(timeout=JVM_EXIT_SECONDS)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Build the local driver JVM's class-data archive for this java and these jars (once)."
    )
    parser.add_argument(
        "--jars-dir", type=Path, default=None, help="the jars `make setup` fetched (default: the venv's)"
    )
    args = parser.parse_args(argv)
    try:
        archive, built = build(args.jars_dir or default_jars_dir())
    except RuntimeSetupError as exc:
        print(f"jvm_archive: {exc}", file=sys.stderr)
        return 2
    print(f"{'built' if built else 'up to date'}: {archive} ({archive.stat().st_size / 2**20:.0f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
