"""The `lakehouse` command: the one entry point for the console script, spark-submit and wheel tasks.

Exit codes: 0 success; 1 a job failed; 2 a usage or configuration error (one line, no traceback).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from retail_lakehouse import __version__
from retail_lakehouse.config import LoadedConfig, load_config
from retail_lakehouse.config.loader import NO_JOBS
from retail_lakehouse.config.models import LAYERS
from retail_lakehouse.core.errors import EXIT_USAGE, ConfigError, LakehouseError, exit_code
from retail_lakehouse.runtime.logging import configure_logging


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line (and exit code 2), like every other user error."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _common_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "--env", default=default, help="environment overlay under conf/ (default: LAKEHOUSE_ENV or local)"
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        metavar="KEY=VALUE",
        default=default,
        help="override any configuration key, e.g. --set spark.shuffle_partitions=8 (repeatable)",
    )
    parser.add_argument(
        "--conf-dir",
        type=Path,
        default=default,
        help="configuration folder (default: LAKEHOUSE_CONF_DIR, ./conf, or the packaged one)",
    )
    parser.add_argument(
        "--remote",
        default=default,
        metavar="sc://HOST:PORT",
        help="run the Spark work on this Spark Connect server (default: spark.remote, or SPARK_REMOTE)",
    )


def _start_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got '{text}'") from None


def build_parser() -> OneLineParser:
    parser = OneLineParser(
        prog="lakehouse",
        description="Retail lakehouse: bronze, silver and gold Delta tables from a retailer's raw feeds.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _common_options(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=OneLineParser)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        _common_options(sub, suppress=True)
        return sub

    command("jobs", "list every job: name, layer, kind, inputs, outputs")
    command("validate", "check all configuration and analyse every SQL transform against its inputs, running no job")
    run = command("run", "run jobs in the order given")
    run.add_argument("jobs", nargs="+", metavar="JOB")
    pipeline = command("pipeline", "run a configured pipeline's jobs in dependency order")
    pipeline.add_argument("name", metavar="NAME")
    pipeline.add_argument(
        "--layer",
        choices=LAYERS,
        default=None,
        help="run only the pipeline's jobs writing this layer (a scheduler's task per layer)",
    )
    for runs_jobs in (run, pipeline):
        runs_jobs.add_argument(
            "--force",
            action="store_true",
            help="run every job, also those with nothing new since their last successful run (skipped otherwise)",
        )
    stream = command("stream", "run a streaming job")
    stream.add_argument("name", metavar="NAME")
    mode = stream.add_mutually_exclusive_group()
    mode.add_argument("--available-now", action="store_true", help="process what is there, then stop")
    mode.add_argument(
        "--trigger",
        type=float,
        metavar="SECONDS",
        default=5.0,
        help="micro-batch interval when running continuously (default 5)",
    )
    stream.add_argument(
        "--force", action="store_true", help="with --available-now: run even when nothing is new since the last run"
    )
    replay = command("replay", "publish a feed's landing-zone records to its Kafka topic or Event Hub")
    replay.add_argument("feed", metavar="FEED")
    replay.add_argument("--rate", type=float, default=None, help="records per second (default: as fast as possible)")
    replay.add_argument(
        "--date", dest="dates", action="append", metavar="YYYY-MM-DD", default=None, help="arrival date (repeatable)"
    )
    replay.add_argument(
        "--target",
        choices=("kafka", "eventhubs"),
        default="kafka",
        help="kafka: the Kafka protocol (a broker, or Event Hubs' Kafka endpoint); eventhubs: the azure-eventhub SDK",
    )
    serve = command("serve", "the dashboard and read API over the gold tables (no Spark)")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)"
    )
    serve.add_argument("--port", type=int, default=8050, help="port (default 8050)")
    serve.add_argument(
        "--workers", type=int, default=1, help="processes answering requests, each with its own copy of the tables"
    )
    status = command(
        "status", "last run per job, freshness per table against its SLA, open alerts (exit 4 when any needs attention)"
    )
    status.add_argument("--json", action="store_true", help="print JSON instead of tables")
    maintain = command(
        "maintain", "OPTIMIZE, VACUUM and checkpoint tables per their policy; archive committed landing files"
    )
    maintain.add_argument("tables", nargs="*", metavar="TABLE", help="LAYER/NAME (default: every table)")
    command("summary", "print a short summary of the gold tables: top stores, segments, rules, price moves")
    upload = command("upload", "copy the landing files DEST does not have yet (a local folder or abfss://) from SRC")
    upload.add_argument("source", metavar="SRC")
    upload.add_argument("destination", metavar="DEST")
    upload.add_argument(
        "--checksum", action="store_true", help="also compare the MD5 of files with the same name and size"
    )
    upload.add_argument(
        "--overwrite", action="store_true", help="replace files DEST holds with other content (else: refused)"
    )
    acl = command("acl", "POSIX ACLs per area and role (access.roles) on the landing zone and the lakehouse")
    acl.add_argument("action", choices=("apply", "show"), help="show: print the changes; apply: make them")
    grants = command(
        "grants", "print the Unity Catalog statements per role (tables, grants, column masks); --apply runs them"
    )
    grants.add_argument("--apply", action="store_true", help="run them on the session (a Unity Catalog one)")
    generate = command("generate", "write synthetic source feeds into the landing zone")
    generate.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="size; 1 = 50 stores, 5,000 products, 50,000 customers, ~11,000 POS lines a day",
    )
    generate.add_argument("--days", type=int, default=90, help="days of activity to write (default 90)")
    generate.add_argument(
        "--start-date", type=_start_date, default=dt.date(2025, 1, 1), help="first day, YYYY-MM-DD (default 2025-01-01)"
    )
    generate.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    generate.add_argument(
        "--dirty-rate",
        type=float,
        default=0.002,
        help="share of dirty records in the POS, customer and inventory change feeds (default 0.002)",
    )
    return parser


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    args = build_parser().parse_args(argv)
    loaded: LoadedConfig | None = None
    try:
        from retail_lakehouse import commands
        from retail_lakehouse.catalogue import catalogue  # the transforms: imported once the command is parsed

        overrides = [*(args.overrides or ()), *([f"spark.remote={args.remote}"] if args.remote else [])]
        transforms = catalogue()

        def load(secrets_for: Collection[str]) -> LoadedConfig:
            return load_config(
                transforms=transforms,
                env=args.env,
                conf_dir=args.conf_dir,
                set_overrides=overrides,
                secrets_for=secrets_for,
            )

        # First without secrets: which jobs the command runs depends on the configuration; then with the
        # secrets of those jobs only, before any Spark work (a missing one names the job that needs it).
        loaded = load(NO_JOBS)
        needed = commands.secrets_needed_by(args, loaded.config)
        if needed is not NO_JOBS:
            loaded = load(needed)
        configure_logging(loaded.config.logging, loaded.redactor, stderr)
        return commands.dispatch(args, loaded, stdout, stderr)
    except ConfigError as exc:
        stderr.write(f"lakehouse: configuration error: {exc}\n")
        return EXIT_USAGE
    except LakehouseError as exc:
        code = exit_code(exc)
        kind = "error: " if code == EXIT_USAGE else ""
        stderr.write(f"lakehouse: {kind}{_redact(loaded, str(exc))}\n")
        return code


def _redact(loaded: LoadedConfig | None, text: str) -> str:
    return loaded.redactor.redact(text) if loaded else text
