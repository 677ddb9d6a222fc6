"""A job's inputs as DataFrames: feeds (files, Kafka, a database) and tables, the incremental one as a stream."""

from __future__ import annotations

from collections.abc import Collection

from pyspark.sql import DataFrame, SparkSession

from retail_lakehouse.config.loader import LoadedConfig
from retail_lakehouse.config.models import INCREMENTAL_INPUT, JobSettings, feed_of
from retail_lakehouse.core.errors import MissingFeedError, MissingTableError
from retail_lakehouse.io import delta_tables, jdbc
from retail_lakehouse.io.readers import read_feed, read_table
from retail_lakehouse.io.storage_files import path_exists
from retail_lakehouse.runtime.logging import get_logger

log = get_logger("runner")


def read_inputs(
    spark: SparkSession,
    loaded: LoadedConfig,
    job: JobSettings,
    *,
    streaming: bool,
    only: Collection[str] | None = None,
    leave_out: Collection[str] = (),
) -> dict[str, DataFrame]:
    """The job's inputs by alias (those in `only`, if given, less those in `leave_out`); with `streaming`,
    the incremental input as a stream. A table not written yet is left out when its alias is one of the
    transform's optional inputs, and is an error naming the jobs that write it otherwise."""
    config = loaded.config
    optional = loaded.transforms[job.transform].optional_inputs
    inputs: dict[str, DataFrame] = {}
    for alias, reference in job.inputs.items():
        if (only is not None and alias not in only) or alias in leave_out:
            continue
        feed_name = feed_of(reference)
        as_stream = streaming and alias == INCREMENTAL_INPUT
        if feed_name is None and as_stream:
            inputs[alias] = delta_tables.read_stream(
                spark, config.storage.table_ref(reference), change_feed=config.tables[reference].change_data_feed
            )
        elif feed_name is None:
            ref = config.storage.table_ref(reference)
            if not delta_tables.is_present(spark, ref):
                if alias in optional:
                    log.info("input %s: table %s not written yet, read as absent", alias, reference)
                    continue
                writers = sorted(name for name, other in config.jobs.items() if other.output == reference)
                raise MissingTableError(
                    f"input {alias} reads {reference}, which does not exist yet ({ref}); run "
                    f"{' or '.join(writers) or 'the job that writes it'} first"
                )
            inputs[alias] = read_table(spark, ref)
        elif config.feeds[feed_name].format == "jdbc":
            inputs[alias] = jdbc.read_jdbc_table(spark, config.feeds[feed_name])
        else:
            feed = config.feeds[feed_name]
            path = config.storage.landing_path(str(feed.path))
            present = path_exists(spark, path)
            if not present and feed.required:
                raise MissingFeedError(f"feed {feed_name} is required, but its folder {path} does not exist")
            if not present:
                log.info("feed %s has no folder yet (%s): read as no rows", feed_name, path)
            # With nothing delivered there is nothing to stream: an empty batch stands in for the stream.
            inputs[alias] = read_feed(spark, feed, path, incremental=as_stream and present, present=present)
    return inputs
