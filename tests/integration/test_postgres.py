"""Database sources against a real PostgreSQL server started by the tests (not a mock): full extraction,
incremental extraction by a watermark column, and a large table read in parallel range queries; the
password comes from the secret backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from retail_lakehouse.catalogue import catalogue
from retail_lakehouse.config import LoadedConfig, load_config
from retail_lakehouse.io.jdbc import read_jdbc_table
from retail_lakehouse.ops.run_history import SUCCEEDED
from retail_lakehouse.runner.jobs import JobRunner
from tests.helpers import write_conf
from tests.integration.postgres import PASSWORD, USER, Postgres, postgres_server

pytestmark = pytest.mark.integration

CUSTOMERS = """
CREATE TABLE customers (
    customer_id integer PRIMARY KEY,
    name varchar(40) NOT NULL,
    segment varchar(10) NOT NULL,
    updated_at timestamp NOT NULL
);
INSERT INTO customers
SELECT i, 'customer ' || i, (ARRAY['Bronze', 'Silver', 'Gold'])[1 + i % 3],
       TIMESTAMP '2025-01-01' + i * INTERVAL '1 minute'
FROM generate_series(1, 1000) AS i;
"""


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    with postgres_server() as server:
        server.psql("postgres", "CREATE DATABASE crm;")
        server.psql("crm", CUSTOMERS)
        yield server


def crm_config(tmp_path: Path, postgres: Postgres, **feed: Any) -> LoadedConfig:
    ingest = {"transform": "bronze.ingest", "inputs": {"source": "feed:crm_customers"}}
    base: dict[str, dict[str, Any]] = {
        "lakehouse": {"storage": {"landing": str(tmp_path / "landing"), "root": str(tmp_path / "lake")}},
        "feeds": {
            "feeds": {
                "crm_customers": {
                    "format": "jdbc",
                    "url": postgres.jdbc_url("crm"),
                    "table": "public.customers",
                    "user": USER,
                    "password": "${secret:CRM_PASSWORD}",
                    "watermark_column": "updated_at",
                    **feed,
                }
            }
        },
        "tables": {"tables": {"bronze/crm_customers": {}, "bronze/crm_customers_full": {}}},
        "jobs": {
            "jobs": {
                "bronze_crm_customers": {
                    "description": "new and changed rows",
                    **ingest,
                    "output": "bronze/crm_customers",
                    "incremental": True,
                    "write": {"mode": "append"},
                },
                "bronze_crm_customers_full": {
                    "description": "the whole table",
                    **ingest,
                    "output": "bronze/crm_customers_full",
                    "write": {"mode": "overwrite"},
                },
            }
        },
    }
    conf = write_conf(tmp_path / "conf", base)
    return load_config(transforms=catalogue(), conf_dir=conf, environ={"LAKEHOUSE_SECRET_CRM_PASSWORD": PASSWORD})


def table(spark: SparkSession, loaded: LoadedConfig, name: str) -> list[tuple[Any, ...]]:
    rows = spark.read.format("delta").load(loaded.config.storage.table_path(name)).collect()
    return sorted((r.customer_id, r.segment) for r in rows)


def test_full_then_incremental_extraction(spark: SparkSession, tmp_path: Path, postgres: Postgres) -> None:
    loaded = crm_config(tmp_path, postgres)
    runner = JobRunner(spark, loaded)
    full = runner.run("bronze_crm_customers_full")
    assert (full.status, full.rows_read, full.rows_written) == (SUCCEEDED, 1000, 1000), full.error
    first = runner.run("bronze_crm_customers")
    assert (first.status, first.rows_written) == (SUCCEEDED, 1000), first.error
    assert runner.run("bronze_crm_customers").rows_read == 0  # nothing changed since

    postgres.psql(
        "crm",
        "UPDATE customers SET segment = 'Platinum', updated_at = TIMESTAMP '2025-02-01' WHERE customer_id IN (1, 2);"
        "INSERT INTO customers VALUES (1001, 'new one', 'Bronze', TIMESTAMP '2025-02-01 00:00:01');",
    )
    changed = runner.run("bronze_crm_customers")
    assert (changed.rows_read, changed.rows_written) == (3, 3)
    bronze = table(spark, loaded, "bronze/crm_customers")
    assert len(bronze) == 1003  # the first extraction and the three changed rows, each as received
    assert [row for row in bronze if row[0] in (1, 2, 1001)] == [
        (1, "Platinum"),
        (1, "Silver"),
        (2, "Gold"),
        (2, "Platinum"),
        (1001, "Bronze"),
    ]
    assert runner.run("bronze_crm_customers").rows_read == 0


def test_a_large_table_is_read_in_parallel_range_queries(
    spark: SparkSession, tmp_path: Path, postgres: Postgres
) -> None:
    loaded = crm_config(tmp_path, postgres, partition_column="customer_id", num_partitions=4)
    feed = loaded.config.feeds["crm_customers"]
    parallel = read_jdbc_table(spark, feed)
    assert parallel.rdd.getNumPartitions() == 4
    per_query = sorted(len(rows) for rows in parallel.rdd.glom().collect())
    assert sum(per_query) == parallel.count() == len({r.customer_id for r in parallel.collect()})
    assert min(per_query) > 0  # the bounds came from the table (min and max of customer_id)
    narrow = crm_config(
        tmp_path / "narrow",
        postgres,
        partition_column="customer_id",
        num_partitions=4,
        lower_bound="1",
        upper_bound="10",
    )
    # Bounds only set the ranges' width: rows beyond them are read by the first and last query.
    assert read_jdbc_table(spark, narrow.config.feeds["crm_customers"]).count() == parallel.count()
    run = JobRunner(spark, loaded).run("bronze_crm_customers_full")
    assert (run.status, run.rows_written) == (SUCCEEDED, parallel.count())
