"""How the dashboard tells a user to build a missing table, from the repository's configuration."""

from __future__ import annotations

from pathlib import Path

from retail_lakehouse.serve.builders import how_to_build
from tests.unit.serve.conftest import config_for


def commands(root: Path, tables: list[str], existing: set[str]) -> dict[str, str]:
    loaded = config_for(root)
    exists = {loaded.config.storage.table_path(table) for table in existing}.__contains__
    return {build.table: build.command for build in how_to_build(loaded, tables, exists)}


def test_the_smallest_pipeline_that_runs_what_is_still_missing(tmp_path: Path) -> None:
    tables = ["gold/association_rules", "gold/sales_daily", "gold/inventory_alerts", "gold/nothing"]
    assert commands(tmp_path, tables, existing=set()) == {
        "gold/association_rules": "lakehouse pipeline all",  # its silver inputs are missing too
        "gold/sales_daily": "lakehouse pipeline daily",
        "gold/inventory_alerts": "lakehouse stream inventory --available-now",  # a default of the stream's params
        "gold/nothing": "no configured job writes this table",
    }
    silver_built = {"silver/transaction_lines", "silver/transactions", "silver/products", "silver/categories"}
    assert commands(tmp_path, ["gold/association_rules"], existing=silver_built) == {
        "gold/association_rules": "lakehouse pipeline analytics"
    }
