"""A lakehouse opened for exploration: its configuration and the Spark session that reads its tables."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession

from retail_lakehouse.catalogue import catalogue
from retail_lakehouse.config import load_config
from retail_lakehouse.config.loader import NO_JOBS
from retail_lakehouse.config.models import LakehouseConfig
from retail_lakehouse.core.columns import QUARANTINE_SUFFIX
from retail_lakehouse.io import delta_tables


@dataclass(frozen=True)
class Lakehouse:
    spark: SparkSession
    config: LakehouseConfig

    def table(self, name: str) -> DataFrame:
        """A table by its LAYER/NAME (or an `_ops/NAME` record table)."""
        return delta_tables.read(self.spark, self.config.storage.table_ref(name))

    def exists(self, name: str) -> bool:
        return delta_tables.exists(self.spark, self.config.storage.table_ref(name))

    def tables_of(self, layer: str) -> list[str]:
        """The configured tables of a layer that exist, in configuration order."""
        return [name for name in self.config.tables if name.startswith(f"{layer}/") and self.exists(name)]

    def quarantine_tables(self) -> list[str]:
        """Every quarantine table that exists: one beside each output of a job with a quality suite."""
        outputs = {job.output for job in self.config.jobs.values() if job.quality}
        candidates = sorted(f"{output}{QUARANTINE_SUFFIX}" for output in outputs)
        return [name for name in candidates if self.exists(name)]


def open_lakehouse(spark: SparkSession, env: str, conf_dir: str | None = None) -> Lakehouse:
    """The lakehouse of environment `env` (conf/<env>), without resolving any secret: exploring reads
    tables only."""
    loaded = load_config(
        transforms=catalogue(), env=env, conf_dir=Path(conf_dir) if conf_dir else None, secrets_for=NO_JOBS
    )
    return Lakehouse(spark, loaded.config)
