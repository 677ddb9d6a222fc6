"""`lakehouse grants`: the exact statements for a small configuration, the three-level names they create
working against a local Spark catalog, and --apply's order and errors (a recording session stands in for
a Databricks Unity Catalog session, which cannot be reached from here)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from retail_lakehouse.catalogue import catalogue
from retail_lakehouse.config import LakehouseConfig, load_config
from retail_lakehouse.core.errors import ConfigError
from retail_lakehouse.ops.grants import GrantFailedError, apply_statements, grant_statements
from tests.helpers import minimal_base, write_conf


def small_config(
    tmp_path: Path, *, catalog: str | None = "shop", schemas: dict[str, str] | None = None, **access: Any
) -> LakehouseConfig:
    base = minimal_base(tmp_path / "lake", tmp_path / "landing")
    if catalog is not None:
        base["lakehouse"]["storage"]["catalog"] = catalog
    if schemas is not None:
        base["lakehouse"]["storage"]["schemas"] = schemas
    base["tables"]["tables"]["bronze/stores"]["columns"] = {
        "manager_email": {"classification": "Confidential-PII"},
        "opened_on": {"classification": "Confidential-PII", "type": "date"},
        "card_on_file": {"classification": "Restricted-PCI"},
        "name": {"classification": "Internal"},
    }
    base["tables"]["tables"]["gold/sales"] = {}
    base["lakehouse"]["access"] = {
        "roles": {
            "engineers": {"group": "eng", "sees_pii": True, "areas": {"bronze": "write", "gold": "write"}},
            "analysts": {"group": "ana", "areas": {"gold": "read"}},
            "auditors": {"group": "aud", "sees_pii": True, "areas": {}},
        },
        **access,
    }
    conf = write_conf(tmp_path / "conf", base)
    return load_config(transforms=catalogue(), conf_dir=conf, environ={}).config


def test_the_statements_are_exact(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    assert grant_statements(small_config(tmp_path)) == [
        "CREATE CATALOG IF NOT EXISTS `shop`",
        "CREATE SCHEMA IF NOT EXISTS `shop`.`bronze`",
        "CREATE SCHEMA IF NOT EXISTS `shop`.`silver`",
        "CREATE SCHEMA IF NOT EXISTS `shop`.`gold`",
        "CREATE SCHEMA IF NOT EXISTS `shop`.`ops`",
        f"CREATE TABLE IF NOT EXISTS `shop`.`bronze`.`stores` USING DELTA LOCATION '{lake}/bronze/stores'",
        f"CREATE TABLE IF NOT EXISTS `shop`.`gold`.`sales` USING DELTA LOCATION '{lake}/gold/sales'",
        "GRANT USE CATALOG ON CATALOG `shop` TO `eng`",
        "GRANT ALL PRIVILEGES ON SCHEMA `shop`.`bronze` TO `eng`",
        "GRANT ALL PRIVILEGES ON SCHEMA `shop`.`gold` TO `eng`",
        "GRANT USE CATALOG ON CATALOG `shop` TO `ana`",
        "GRANT USE SCHEMA, SELECT ON SCHEMA `shop`.`gold` TO `ana`",
        "CREATE OR REPLACE FUNCTION `shop`.`ops`.`mask_pci_string`(value STRING) RETURNS STRING "
        "RETURN concat(repeat('*', greatest(length(value) - 4, 0)), right(value, 4))",
        "CREATE OR REPLACE FUNCTION `shop`.`ops`.`mask_pii_date`(value DATE) RETURNS DATE RETURN CASE WHEN "
        "is_account_group_member('aud') OR is_account_group_member('eng') THEN value ELSE CAST(NULL AS DATE) END",
        "CREATE OR REPLACE FUNCTION `shop`.`ops`.`mask_pii_string`(value STRING) RETURNS STRING RETURN CASE WHEN "
        "is_account_group_member('aud') OR is_account_group_member('eng') THEN value ELSE CAST(NULL AS STRING) END",
        "ALTER TABLE `shop`.`bronze`.`stores` ALTER COLUMN `manager_email` SET MASK `shop`.`ops`.`mask_pii_string`",
        "ALTER TABLE `shop`.`bronze`.`stores` ALTER COLUMN `opened_on` SET MASK `shop`.`ops`.`mask_pii_date`",
        "ALTER TABLE `shop`.`bronze`.`stores` ALTER COLUMN `card_on_file` SET MASK `shop`.`ops`.`mask_pci_string`",
    ]


def test_without_any_pii_reader_pii_masks_read_null_for_everyone(tmp_path: Path) -> None:
    config = small_config(tmp_path, roles={"analysts": {"group": "ana", "areas": {"gold": "read"}}})
    assert (
        "CREATE OR REPLACE FUNCTION `shop`.`ops`.`mask_pii_string`(value STRING) RETURNS STRING "
        "RETURN CAST(NULL AS STRING)"
    ) in grant_statements(config)


def test_without_a_catalog_the_setting_to_set_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^storage\.catalog is not set: the Unity Catalog catalog"):
        grant_statements(small_config(tmp_path, catalog=None))


def test_a_role_with_areas_but_no_group_is_named(tmp_path: Path) -> None:
    config = small_config(tmp_path, roles={"analysts": {"areas": {"gold": "read"}}})
    with pytest.raises(ConfigError, match=r"access\.roles\.analysts\.group is not set"):
        grant_statements(config)


def test_the_three_level_names_read_the_tables_in_a_local_spark_catalog(spark: SparkSession, tmp_path: Path) -> None:
    """spark_catalog stands in for the Unity Catalog catalog (a local Spark has no CREATE CATALOG, GRANT or
    column masks): the schemas and external tables the statements create answer to their names."""
    suffix = uuid.uuid4().hex[:8]
    schemas = {"bronze": f"b_{suffix}", "silver": f"s_{suffix}", "gold": f"g_{suffix}", "_ops": f"o_{suffix}"}
    config = small_config(tmp_path, catalog="spark_catalog", schemas=schemas)
    stores = spark.createDataFrame([("S1", "North")], "store_id string, name string")
    stores.write.format("delta").save(str(tmp_path / "lake/bronze/stores"))
    spark.createDataFrame([("S1", 10.5)], "store_id string, revenue double").write.format("delta").save(
        str(tmp_path / "lake/gold/sales")
    )
    statements = [s for s in grant_statements(config) if s.startswith(("CREATE SCHEMA", "CREATE TABLE"))]
    try:
        assert apply_statements(spark, statements) == 6
        assert apply_statements(spark, statements) == 6  # idempotent
        assert [tuple(r) for r in spark.table(f"spark_catalog.b_{suffix}.stores").collect()] == [("S1", "North")]
        assert [tuple(r) for r in spark.sql(f"SELECT * FROM spark_catalog.g_{suffix}.sales").collect()] == [
            ("S1", 10.5)
        ]
        # A write through the path is seen through the name: tables written by path before stay readable.
        stores.write.format("delta").mode("append").save(str(tmp_path / "lake/bronze/stores"))
        assert spark.table(f"spark_catalog.b_{suffix}.stores").count() == 2
    finally:
        for schema in schemas.values():
            spark.sql(f"DROP SCHEMA IF EXISTS spark_catalog.{schema} CASCADE")


class RecordingSession:
    def __init__(self, fail_on: str | None = None) -> None:
        self.ran: list[str] = []
        self.fail_on = fail_on

    def sql(self, statement: str, /) -> None:
        if self.fail_on and statement.startswith(self.fail_on):
            raise RuntimeError("[PERMISSION_DENIED] User does not have MANAGE on Schema 'shop.gold'.\nstack")
        self.ran.append(statement)


def test_apply_runs_every_statement_in_order_and_names_the_one_that_failed(tmp_path: Path) -> None:
    statements = grant_statements(small_config(tmp_path))
    session = RecordingSession()
    assert apply_statements(session, statements) == len(statements)
    assert session.ran == statements
    failing = RecordingSession(fail_on="GRANT USE SCHEMA")
    with pytest.raises(GrantFailedError) as error:
        apply_statements(failing, statements)
    assert str(error.value) == (
        "statement 12 failed (11 ran before it): GRANT USE SCHEMA, SELECT ON SCHEMA `shop`.`gold` TO `ana`: "
        "[PERMISSION_DENIED] User does not have MANAGE on Schema 'shop.gold'."
    )
