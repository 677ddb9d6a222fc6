"""SQL transforms analysed against their inputs' schemas without running a job: the schema of a table that
exists, of a file feed as declared, or of an earlier SQL job's result. Spark analyses each query over empty
DataFrames of those schemas, so a query that does not parse or names a column its inputs lack fails here,
before any job runs (`lakehouse validate`, and `run`/`pipeline` before their first job)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StructType

from retail_lakehouse.config import LoadedConfig
from retail_lakehouse.config.dag import execution_order, job_dependencies
from retail_lakehouse.config.loader import transform_params
from retail_lakehouse.config.models import feed_of
from retail_lakehouse.config.query_files import SQL_TRANSFORM
from retail_lakehouse.core.contracts import TransformContext
from retail_lakehouse.core.errors import JobError
from retail_lakehouse.io import delta_tables
from retail_lakehouse.io.readers import read_feed


@dataclass
class SqlAnalysis:
    """What analysing the SQL jobs found: one line per query that fails, one per query not checkable yet."""

    analysed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)


def analyse_sql_jobs(spark: SparkSession, loaded: LoadedConfig, jobs: Sequence[str] | None = None) -> SqlAnalysis:
    """Analyses the SQL jobs among `jobs` (default: every job), in dependency order."""
    config = loaded.config
    selected = list(config.jobs) if jobs is None else list(jobs)
    order = execution_order(job_dependencies(config.jobs), list(config.jobs))
    results: dict[str, StructType] = {}  # table -> the schema an analysed SQL job gives it
    found = SqlAnalysis()

    def schema_of(reference: str) -> StructType | None:
        feed_name = feed_of(reference)
        if feed_name is not None:
            feed = config.feeds[feed_name]
            if feed.format == "jdbc":
                return None  # the database says, when it is read
            landing = config.storage.landing_path(str(feed.path))
            return read_feed(spark, feed, landing, incremental=False, present=False).schema
        ref = config.storage.table_ref(reference)
        if delta_tables.exists(spark, ref):
            return delta_tables.read(spark, ref).schema
        return results.get(reference)

    for name in order:
        job = config.jobs[name]
        if job.transform != SQL_TRANSFORM:
            continue
        spec = loaded.transforms[job.transform]
        context = TransformContext("validate", datetime.now(UTC), transform_params(loaded, name))
        inputs: dict[str, DataFrame] = {}
        for alias, reference in job.inputs.items():
            schema = schema_of(reference)
            if schema is None:
                if name in selected:
                    found.deferred.append(f"job {name}: input {alias} ({reference}) is not built yet")
                break
            inputs[alias] = spark.createDataFrame([], schema)
        else:
            try:
                result = spec.apply(inputs, context)
            except JobError as exc:  # the SQL transform's: the query does not parse or analyse
                if name in selected:
                    found.problems.append(f"job {name}: {exc}")
                continue
            helpers = [c for c in result.columns if spec.helper_prefix and c.startswith(spec.helper_prefix)]
            results[job.output] = result.drop(*helpers).schema
            if name in selected:
                found.analysed.append(name)
    return found
