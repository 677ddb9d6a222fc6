"""The explorer finds the configured tables that exist: a Delta table counts, a folder without a Delta log
(a table whose first write failed) and a missing folder do not, and a quarantine table counts beside the
output of a job with a quality suite."""

from __future__ import annotations

from pathlib import Path

from pyspark.sql import SparkSession

from retail_lakehouse.catalogue import catalogue
from retail_lakehouse.config.loader import NO_JOBS, load_config
from retail_lakehouse.explore.tables import Lakehouse
from tests.conftest import REPO_ROOT


def lakehouse(spark: SparkSession, tmp_path: Path) -> Lakehouse:
    settings = [f"storage.root={tmp_path / 'lakehouse'}", f"storage.landing={tmp_path / 'landing'}"]
    loaded = load_config(
        transforms=catalogue(), conf_dir=REPO_ROOT / "conf", set_overrides=settings, secrets_for=NO_JOBS
    )
    return Lakehouse(spark, loaded.config)


def test_only_delta_tables_count_as_existing(spark: SparkSession, tmp_path: Path) -> None:
    explored = lakehouse(spark, tmp_path)
    storage = explored.config.storage
    spark.range(3).write.format("delta").save(storage.table_path("gold/store_performance"))
    spark.range(2).write.format("delta").save(storage.table_path("silver/customers_quarantine"))
    Path(storage.table_path("gold/sales_daily")).mkdir(parents=True)  # a folder, no Delta log

    assert explored.exists("gold/store_performance")
    assert not explored.exists("gold/sales_daily")
    assert not explored.exists("gold/customer_360")
    assert explored.tables_of("gold") == ["gold/store_performance"]
    assert explored.quarantine_tables() == ["silver/customers_quarantine"]
    assert explored.table("gold/store_performance").count() == 3
