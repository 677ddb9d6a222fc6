"""How configuration addresses tables: by path, or by catalog name when `storage.catalog` is set."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from retail_lakehouse.config.models import StorageSettings
from retail_lakehouse.core.table_refs import TableRef


def test_without_a_catalog_tables_are_addressed_by_path() -> None:
    storage = StorageSettings(landing="/data/landing", root="/data/lake/")
    assert storage.table_ref("gold/sales_daily") == TableRef("/data/lake/gold/sales_daily")
    assert storage.ops_table("job_runs") == TableRef("/data/lake/_ops/job_runs")


def test_with_a_catalog_each_area_has_its_schema_and_the_path_stays_the_location() -> None:
    root = "abfss://lakehouse@acct.dfs.core.windows.net/retail"
    storage = StorageSettings(
        landing="/l",
        root=root,
        catalog="retail",
        schemas={"bronze": "raw", "silver": "silver", "gold": "gold", "_ops": "ops"},
    )
    assert storage.table_ref("bronze/pos") == TableRef(f"{root}/bronze/pos", "retail.raw.pos")
    assert storage.table_ref("silver/x_quarantine") == TableRef(
        f"{root}/silver/x_quarantine", "retail.silver.x_quarantine"
    )
    assert storage.ops_table("job_runs") == TableRef(f"{root}/_ops/job_runs", "retail.ops.job_runs")


@pytest.mark.parametrize(
    ("schemas", "message"),
    [
        ({"bronze": "b", "silver": "s", "gold": "g"}, r"missing: \['_ops'\]"),
        ({"bronze": "b", "silver": "s", "gold": "g", "_ops": "o", "platinum": "p"}, r"unknown: \['platinum'\]"),
        (
            {"bronze": "b", "silver": "s", "gold": "g-old", "_ops": "o"},
            "schema 'g-old' of gold is not",
        ),
    ],
)
def test_schemas_name_every_area_with_a_plain_identifier(schemas: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        StorageSettings(landing="/l", root="/r", catalog="retail", schemas=schemas)


def test_a_catalog_must_be_a_plain_identifier() -> None:
    with pytest.raises(ValidationError, match="catalog"):
        StorageSettings(landing="/l", root="/r", catalog="retail; DROP")
