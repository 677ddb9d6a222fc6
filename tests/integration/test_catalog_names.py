"""`storage.catalog`: the inventory stream and the daily pipeline address every table as
catalog.schema.table, across processes, through a persistent catalog (Spark's Hive metastore on Derby,
standing in for Unity Catalog), and write exactly what a run by path writes (the shared local run,
reference_runs.py), read back by path by an independent reader (deltalake). Every table is registered under
its name as an external table at its path."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from deltalake import DeltaTable

from tests.conftest import REPO_ROOT
from tests.integration.conftest import Workspace
from tests.integration.lakehouse_tables import rows_without_run_columns, run_counts, tables
from tests.integration.reference_runs import DAILY, STREAM_AND_DAILY, ReferenceRuns

pytestmark = [pytest.mark.integration, pytest.mark.long, pytest.mark.longest]

CATALOG = "spark_catalog"
SCHEMAS = {"bronze": "bronze", "silver": "silver", "gold": "gold", "_ops": "ops"}


def hive_conf(metastore: Path) -> dict[str, str]:
    """A local session whose catalog outlives the process: Hive's metastore in an embedded Derby database."""
    return {
        "spark.sql.catalogImplementation": "hive",
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={metastore};create=true",
        "spark.sql.warehouse.dir": str(metastore.parent / "warehouse"),
    }


def catalog_conf_dir(target: Path, metastore: Path) -> Path:
    """The project's configuration, with the local environment addressing tables by name."""
    shutil.copytree(REPO_ROOT / "conf", target)
    local = target / "local" / "lakehouse.yaml"
    overlay = yaml.safe_load(local.read_text(encoding="utf-8")) or {}
    overlay.setdefault("storage", {}).update({"catalog": CATALOG, "schemas": SCHEMAS})
    overlay.setdefault("spark", {})["conf"] = hive_conf(metastore)
    local.write_text(yaml.safe_dump(overlay), encoding="utf-8")
    return target


def registered_tables(metastore: Path, work_dir: Path) -> dict[str, str]:
    """Name -> location of every table the metastore holds, asked by a Spark session of its own."""
    script = textwrap.dedent(
        f"""
        import json
        from retail_lakehouse.config.models import SparkSettings
        from retail_lakehouse.runtime.spark import get_spark_session
        spark = get_spark_session(SparkSettings(conf=json.loads({json.dumps(json.dumps(hive_conf(metastore)))})))
        found = {{}}
        for schema in {sorted(SCHEMAS.values())!r}:
            if not spark.catalog.databaseExists(f"{CATALOG}.{{schema}}"):
                continue
            for table in spark.catalog.listTables(f"{CATALOG}.{{schema}}"):
                name = f"{CATALOG}.{{schema}}.{{table.name}}"
                detail = spark.sql(f"DESCRIBE DETAIL {{name}}").first()
                kind = spark.sql(f"DESCRIBE TABLE EXTENDED {{name}}").where("col_name = 'Type'").first()
                found[name] = f"{{kind['data_type']}} {{detail['location']}}"
        print(json.dumps(found))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=work_dir, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_daily_pipeline_and_stream_by_catalog_name_equal_a_run_by_path(
    workspace: Workspace, reference_runs: ReferenceRuns, tmp_path: Path
) -> None:
    metastore = tmp_path / "metastore" / "db"
    metastore.parent.mkdir()
    by_name_conf = catalog_conf_dir(tmp_path / "conf", metastore)
    name_root = tmp_path / "by_name"
    env = {
        "LAKEHOUSE_ROOT": str(name_root),
        "LAKEHOUSE_CONF_DIR": str(by_name_conf),
        "LAKEHOUSE_LANDING": str(reference_runs.landing),
    }
    for command in STREAM_AND_DAILY:
        run = workspace.run(*command, extra_env=env)
        assert run.returncode == 0, run.stderr[-3000:]
    # The daily run (the last) reports the tables by the names the jobs address them by.
    assert f" {CATALOG}.gold.sales_daily\n" in run.stdout
    path_root = reference_runs.stream_and_daily()

    written = tables(name_root)
    assert written == tables(path_root)
    assert len(written) >= 40  # bronze, silver, gold, quarantines and _ops, all compared below
    different = [
        table
        for table in sorted(written)
        if rows_without_run_columns(path_root, table) != rows_without_run_columns(name_root, table)
    ]
    assert different == []
    assert run_counts(name_root) == run_counts(path_root)

    # Every table written was written through its name: the catalog holds each, external, at its path.
    expected = {
        f"{CATALOG}.{SCHEMAS[table.split('/')[0]]}.{table.split('/')[1]}": f"EXTERNAL file:{name_root}/{table}"
        for table in written
    }
    assert registered_tables(metastore, tmp_path) == expected

    # A second daily run, in new processes, finds the tables by name and has nothing new to write.
    data_tables = sorted(t for t in written if not t.startswith("_ops/"))
    versions = {t: DeltaTable(str(name_root / t)).version() for t in data_tables}
    again = workspace.run(*DAILY, extra_env=env)
    assert again.returncode == 0, again.stderr[-3000:]
    assert {t: DeltaTable(str(name_root / t)).version() for t in data_tables} == versions
