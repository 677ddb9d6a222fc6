"""What each CLI command does once configuration is loaded; prints results for people on stdout."""

from __future__ import annotations

import argparse
import contextlib
import tempfile
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pyspark.sql import SparkSession

from retail_lakehouse.config import LakehouseConfig, LoadedConfig
from retail_lakehouse.config.loader import NO_JOBS
from retail_lakehouse.config.models import feed_of
from retail_lakehouse.config.query_files import SQL_TRANSFORM
from retail_lakehouse.core.errors import EXIT_ATTENTION, EXIT_JOB_FAILED, EXIT_OK, ConfigError, UsageError
from retail_lakehouse.generator.landing import MANIFEST, generate_landing
from retail_lakehouse.generator.options import GeneratorOptions
from retail_lakehouse.io.file_stores import LocalFileStore
from retail_lakehouse.io.storage_files import check_writable
from retail_lakehouse.io.stores import store_for
from retail_lakehouse.ops.landing_upload import UploadOutcome, download
from retail_lakehouse.ops.landing_upload import upload as land_files
from retail_lakehouse.ops.leases import Leases, this_process
from retail_lakehouse.ops.maintenance import MAINTENANCE_TABLE, maintained_tables
from retail_lakehouse.ops.run_history import JOB_RUNS_TABLE
from retail_lakehouse.runner.jobs import JobRunner
from retail_lakehouse.runner.pipelines import PipelineOutcome, run_in_order, run_pipeline
from retail_lakehouse.runner.sql_analysis import SqlAnalysis, analyse_sql_jobs
from retail_lakehouse.runtime.spark import get_spark_session, owns_session

if TYPE_CHECKING:
    from fastapi import FastAPI


# The import string of one dashboard worker process (`lakehouse serve --workers N`).
DASHBOARD_WORKER = "retail_lakehouse.commands:dashboard_worker"


def dashboard_worker() -> FastAPI:
    """A `lakehouse serve` worker process: loads the configuration it was started with, no secret."""
    from retail_lakehouse.catalogue import catalogue
    from retail_lakehouse.config import load_config
    from retail_lakehouse.serve.server import worker_app

    def load(env: str, conf_dir: str, overrides: list[str]) -> LoadedConfig:
        return load_config(
            transforms=catalogue(), env=env, conf_dir=Path(conf_dir), set_overrides=overrides, secrets_for=NO_JOBS
        )

    return worker_app(load)


def secrets_needed_by(args: argparse.Namespace, config: LakehouseConfig) -> Collection[str]:
    """The jobs (and `feed:NAME` feeds) whose secrets the command needs; NO_JOBS for a command that runs no
    job (`jobs`, `generate`, `serve`, `validate`), which then works with no secret set. Unknown names are
    usage errors here, before any secret is asked for."""
    if args.command == "run":
        _check_known("job", args.jobs, list(config.jobs))
        return list(args.jobs)
    if args.command == "pipeline":
        _check_known("pipeline", [args.name], list(config.pipelines))
        return config.job_names_of(args.name, args.layer)
    if args.command == "stream":
        return [args.name]
    if args.command == "replay":
        return [f"feed:{args.feed}"]
    if args.command in ("summary", "maintain"):
        return []  # Spark reads and rewrites tables: the shared sections' secrets (storage), no job's
    return NO_JOBS


def dispatch(args: argparse.Namespace, loaded: LoadedConfig, stdout: TextIO, stderr: TextIO) -> int:
    config = loaded.config
    if args.command == "jobs":
        return list_jobs(loaded, stdout)
    if args.command == "generate":
        return generate(loaded, args, stdout)
    if args.command == "validate":
        return validate(loaded, stdout)
    if args.command == "run":
        _check_known("job", args.jobs, list(config.jobs))
        with spark_session(loaded) as spark, job_runner(spark, loaded) as runner:
            check_sql_jobs(spark, loaded, args.jobs)
            outcome = run_in_order(runner, "run", args.jobs, progress_stream=stderr, force=args.force)
        return report(outcome, loaded, stdout, stderr)
    if args.command == "pipeline":
        _check_known("pipeline", [args.name], list(config.pipelines))
        pipeline = config.pipelines[args.name]
        with spark_session(loaded) as spark, job_runner(spark, loaded) as runner:
            check_sql_jobs(spark, loaded, config.job_names_of(args.name, args.layer))
            outcome = run_pipeline(runner, args.name, progress_stream=stderr, force=args.force, layer=args.layer)
            code = report(outcome, loaded, stdout, stderr)
            if pipeline.maintain and code == EXIT_OK:
                maintain(spark, loaded, maintained_tables(config, pipeline.maintain), stdout)
        return code
    if args.command == "stream":
        streams = [name for name, job in config.jobs.items() if job.kind == "stream"]
        _check_known("streaming job", [args.name], streams)
        trigger = None if args.available_now else args.trigger
        if trigger is not None and trigger <= 0:
            raise UsageError(f"--trigger must be a positive number of seconds, got {trigger}")
        with spark_session(loaded) as spark, job_runner(spark, loaded) as runner:
            unchanged = runner.nothing_new(args.name) if trigger is None and not args.force else None
            if unchanged is not None:  # writes nothing but its record: no lease needed
                run = runner.record_skipped(args.name, unchanged)
            else:
                # A stream never waits for another run of itself: it refuses at once, naming it.
                leases = Leases(spark, config.storage, config.ops.leases, this_process(f"lakehouse stream {args.name}"))
                with leases.held([args.name], wait_seconds=0, what=f"stream {args.name}"):
                    run = runner.run(args.name, trigger_seconds=trigger, force=args.force)
        return report(PipelineOutcome(pipeline_run_id=run.run_id, runs=[run]), loaded, stdout, stderr)
    if args.command == "replay":
        return replay_feed(loaded, args, stdout)
    if args.command == "serve":
        from retail_lakehouse.serve.server import serve

        if args.workers < 1:
            raise UsageError(f"--workers must be at least 1, got {args.workers}")
        overrides = list(args.overrides or ())
        serve(loaded, args.host, args.port, args.workers, stdout, worker_factory=DASHBOARD_WORKER, overrides=overrides)
        return EXIT_OK
    if args.command == "status":
        from retail_lakehouse.ops.status import gather_status, write_status

        found = gather_status(config)
        write_status(found, stdout, as_json=args.json)
        return EXIT_ATTENTION if found.needs_attention else EXIT_OK
    if args.command == "maintain":
        tables = list(args.tables) or list(config.tables)
        _check_known("table", tables, list(config.tables))
        with spark_session(loaded) as spark:
            maintain(spark, loaded, tables, stdout)
        return EXIT_OK
    if args.command == "upload":
        return upload_landing(args, stdout)
    if args.command == "acl":
        return apply_access_lists(config, args.action, stdout)
    if args.command == "grants":
        from retail_lakehouse.ops.grants import apply_statements, grant_statements

        statements = grant_statements(config)
        stdout.write("".join(f"{statement};\n" for statement in statements))
        if args.apply:
            with spark_session(loaded) as spark:
                ran = apply_statements(spark, statements)
            stdout.write(f"-- {ran} statements applied\n")
        return EXIT_OK
    if args.command == "summary":
        from retail_lakehouse.summary import summary_lines

        with spark_session(loaded) as spark:
            stdout.write("\n".join(summary_lines(spark, config)) + "\n")
        return EXIT_OK
    raise UsageError(f"unknown command {args.command}")


def _check_known(kind: str, names: Sequence[str], known: list[str]) -> None:
    for name in names:
        if name not in known:
            listed = ", ".join(known) if known else "none configured"
            raise UsageError(f"unknown {kind} '{name}' ({kind}s: {listed}; see `lakehouse jobs`)")


@contextlib.contextmanager
def job_runner(spark: SparkSession, loaded: LoadedConfig) -> Iterator[JobRunner]:
    runner = JobRunner(spark, loaded)
    try:
        yield runner
    finally:
        runner.close()


def maintain(spark: SparkSession, loaded: LoadedConfig, tables: Sequence[str], out: TextIO) -> None:
    """Maintains the tables, then cleans the landing zone of feeds with a landing_retention."""
    from retail_lakehouse.ops.landing_retention import clean_feed_landing
    from retail_lakehouse.runner.maintain import maintain_tables

    config = loaded.config
    out.write(f"{'TABLE':<40} {'FILES':>13} {'VACUUMED':>9} {'SECONDS':>8}  NOTE\n")
    for done in maintain_tables(spark, loaded, tables):
        files = "-" if done.files_before is None else f"{done.files_before} -> {done.files_after}"
        vacuumed = "-" if done.files_vacuumed is None else str(done.files_vacuumed)
        out.write(f"{done.table:<40} {files:>13} {vacuumed:>9} {done.seconds:>8.1f}  {done.note or ''}\n")
    for feed_name, feed in config.feeds.items():
        if feed.landing_retention is not None:
            cleaned = clean_feed_landing(spark, config, feed_name)
            verb = "deleted" if cleaned.action == "delete" else "archived"
            out.write(
                f"landing {feed_name}: {cleaned.removed} file(s) {verb}, {cleaned.kept_until_due} committed but "
                f"kept until {feed.landing_retention.after_days:g} days old\n"
            )
    out.write(f"maintenance history: {config.storage.ops_table(MAINTENANCE_TABLE)}\n")


@contextlib.contextmanager
def spark_session(loaded: LoadedConfig) -> Iterator[SparkSession]:
    """A session for the command; stopped afterwards only if this process started it."""
    config = loaded.config
    spark = get_spark_session(
        config.spark,
        warehouse_dir=f"{config.storage.root.rstrip('/')}/_warehouse",
        secret_values=loaded.redactor.values,
        log_folder=config.logging.folder,
    )
    try:
        check_writable(spark, config.storage.root)
        yield spark
    finally:
        if owns_session(config.spark):
            spark.stop()


def _sql_problems(analysis: SqlAnalysis) -> ConfigError:
    first, *rest = (ConfigError(problem) for problem in analysis.problems)
    return ConfigError(first.detail, also=rest)


def check_sql_jobs(spark: SparkSession, loaded: LoadedConfig, jobs: Sequence[str]) -> None:
    """A SQL query that does not analyse stops the command before its first job (a configuration error)."""
    if any(loaded.config.jobs[name].transform == SQL_TRANSFORM for name in jobs):
        analysis = analyse_sql_jobs(spark, loaded, jobs)
        if analysis.problems:
            raise _sql_problems(analysis)


def validate(loaded: LoadedConfig, out: TextIO) -> int:
    """Configuration loaded and checked (or main reported why not); then every SQL transform analysed
    against its inputs' schemas, with Spark, running no job."""
    config = loaded.config
    sql_jobs = [name for name, job in config.jobs.items() if job.transform == SQL_TRANSFORM]
    out.write(
        f"configuration {config.conf_dir} (env {config.env}): valid - {len(config.jobs)} jobs, "
        f"{len(config.pipelines)} pipelines, {len(config.tables)} tables, {len(config.feeds)} feeds\n"
    )
    if not sql_jobs:
        return EXIT_OK
    with spark_session(loaded) as spark:
        analysis = analyse_sql_jobs(spark, loaded)
    out.write(f"SQL transforms: {len(analysis.analysed)} of {len(sql_jobs)} analysed against their inputs\n")
    for note in analysis.deferred:
        out.write(f"  not checked yet, {note}: run `lakehouse validate` again once it is\n")
    if analysis.problems:
        raise _sql_problems(analysis)
    return EXIT_OK


def list_jobs(loaded: LoadedConfig, out: TextIO) -> int:
    config = loaded.config
    rows = [("JOB", "LAYER", "KIND", "INPUTS", "OUTPUTS")]
    for name, job in config.jobs.items():
        inputs = ", ".join(f"feed {feed_of(ref)}" if feed_of(ref) else ref for ref in job.inputs.values())
        rows.append((name, job.layer, job.kind, inputs, job.output))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() + "\n")
    out.write("\npipelines:\n")
    for name, pipeline in config.pipelines.items():
        jobs = "every batch job" if pipeline.jobs == "*" else ", ".join(pipeline.jobs)
        maintained = "every table" if pipeline.maintain == "*" else ", ".join(pipeline.maintain)
        then = f"; then maintains {maintained}" if pipeline.maintain else ""
        out.write(f"  {name}: {jobs or 'no job'}{then}\n")
    return EXIT_OK


def generate(loaded: LoadedConfig, args: argparse.Namespace, out: TextIO) -> int:
    landing = loaded.config.storage.landing
    try:
        options = GeneratorOptions(
            scale=args.scale, days=args.days, start_date=args.start_date, seed=args.seed, dirty_rate=args.dirty_rate
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if "://" not in landing:
        manifest = generate_landing(Path(landing), options)
        shown = str(Path(landing).resolve())
    else:
        copied, manifest = generate_remote(landing, options)
        shown = landing
        out.write(f"uploaded {copied.copied:,} files ({copied.present:,} already there)\n")
    period = manifest["generator"]
    out.write(f"landing zone: {shown} ({period['origin']} to {period['end_date']})\n")
    for feed, facts in manifest["feeds"].items():
        dirty = sum(facts["dirty"].values())
        dirty_note = f", {dirty:,} of them dirty" if dirty else ""
        out.write(f"  {feed}: {facts['rows']:,} records in {len(facts['files'])} files{dirty_note}\n")
    out.write(f"manifest: {shown.rstrip('/')}/{MANIFEST}\n")
    return EXIT_OK


def generate_remote(landing: str, options: GeneratorOptions) -> tuple[UploadOutcome, dict[str, Any]]:
    """A remote landing zone (abfss://): the delivery is generated on this disk, then uploaded. The remote
    manifest comes first, so that a later call continues the data set as it does locally; the checksum
    comparison refuses a landed file that would change, as the local writer does; the manifest, the
    generator's own record, is replaced last."""
    remote = store_for(landing)
    with tempfile.TemporaryDirectory(prefix="lakehouse-generate-") as folder:
        staging = Path(folder)
        if remote.is_file(MANIFEST):
            (staging / MANIFEST).write_bytes(remote.read_bytes(MANIFEST))
        manifest = generate_landing(staging, options)
        written = (staging / MANIFEST).read_bytes()
        (staging / MANIFEST).unlink()
        copied = land_files(LocalFileStore(staging), remote, checksum=True)
        remote.write_atomically(MANIFEST, written)
    return copied, manifest


def upload_landing(args: argparse.Namespace, out: TextIO) -> int:
    source = store_for(args.source)
    if "://" not in args.source and not Path(args.source).is_dir():
        raise UsageError(f"upload: {args.source} is not a folder")
    done = land_files(source, store_for(args.destination), checksum=args.checksum, overwrite=args.overwrite)
    replaced = f", {done.overwritten:,} of them replaced" if done.overwritten else ""
    out.write(
        f"{args.destination}: {done.copied:,} files copied ({done.bytes_copied / 1e6:,.1f} MB{replaced}), "
        f"{done.present:,} already there, in {done.seconds:.1f} s\n"
    )
    return EXIT_OK


def apply_access_lists(config: LakehouseConfig, action: str, out: TextIO) -> int:
    from retail_lakehouse.ops.access_lists import acl_changes, apply_acl_changes

    changes = acl_changes(config)
    for change in changes:
        out.write(f"{change.describe()}\n")
    if action == "apply":
        stores = {"landing": store_for(config.storage.landing), "lakehouse": store_for(config.storage.root)}
        apply_acl_changes(changes, stores)
        out.write(f"{len(changes)} ACL changes applied\n")
    return EXIT_OK


def report(outcome: PipelineOutcome, loaded: LoadedConfig, out: TextIO, err: TextIO) -> int:
    """A summary table on stdout; the failed job and its error on stderr."""
    config = loaded.config
    out.write(f"{'JOB':<32} {'STATUS':<10} {'READ':>10} {'WRITTEN':>10} {'SECONDS':>8}  TABLE\n")
    for run in outcome.runs:
        table = config.storage.table_ref(config.jobs[run.job].output)
        read = "-" if run.rows_read is None else f"{run.rows_read:,}"
        written = "-" if run.rows_written is None else f"{run.rows_written:,}"
        out.write(f"{run.job:<32} {run.status:<10} {read:>10} {written:>10} {run.seconds:>8.1f}  {table}\n")
    for name in outcome.not_run:
        out.write(f"{name:<32} {'not run':<10}\n")
    out.write(f"run history: {config.storage.ops_table(JOB_RUNS_TABLE)} (run {outcome.pipeline_run_id})\n")
    failed = outcome.failed
    if failed is None:
        return EXIT_OK
    err.write(f"lakehouse: job {failed.job} failed: {failed.error}\n")
    return EXIT_JOB_FAILED


def replay_feed(loaded: LoadedConfig, args: argparse.Namespace, out: TextIO) -> int:
    from retail_lakehouse.replay import landing_records, publisher_for, replay

    config = loaded.config
    _check_known("feed", [args.feed], list(config.feeds))
    feed = config.feeds[args.feed]
    if args.rate is not None and args.rate <= 0:
        raise UsageError(f"--rate must be a positive number of records per second, got {args.rate}")
    folder = config.storage.landing_path(str(feed.path))
    publisher = publisher_for(args.feed, feed, args.target)
    with tempfile.TemporaryDirectory(prefix="lakehouse-replay-") as staging:
        if "://" in folder:
            # A remote landing zone: the feed's folders (those of --date, when given) are read first.
            local = Path(staging)
            download(store_for(folder), local, set(args.dates or ()))
        else:
            local = Path(folder)
        outcome = replay(landing_records(local, args.dates or ()), publisher, rate=args.rate)
    assert feed.kafka is not None  # publisher_for checked it
    out.write(
        f"{args.feed}: published {outcome.records:,} records to {feed.kafka.topic} in {outcome.seconds:.1f} s "
        f"({outcome.rate:,.0f}/s)\n"
    )
    return EXIT_OK
