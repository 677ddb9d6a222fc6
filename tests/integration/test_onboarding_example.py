"""docs/onboarding.md, run as written: its `file:` blocks become the source database (in a real PostgreSQL
server) and a configuration folder; `lakehouse validate` and `lakehouse pipeline customer_insights` run on
it, and the gold KPIs equal the same figures computed by PostgreSQL itself from the source tables."""

from __future__ import annotations

import re
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable
from fastapi.testclient import TestClient

from retail_lakehouse.catalogue import catalogue
from retail_lakehouse.config import load_config
from retail_lakehouse.config.loader import NO_JOBS
from retail_lakehouse.serve.app import app_for
from tests.conftest import REPO_ROOT
from tests.integration.conftest import LAKEHOUSE, Workspace
from tests.integration.postgres import PASSWORD, Postgres, postgres_server

pytestmark = [pytest.mark.integration, pytest.mark.long]

GUIDE = REPO_ROOT / "docs" / "onboarding.md"
BLOCK = re.compile(r"```(?:sql|yaml)\n(?:--|#) file: (\S+)\n(.*?)```", re.DOTALL)

# The KPIs straight from the OLTP tables, in PostgreSQL's own SQL: the independent computation.
EXPECTED_KPIS = """
WITH facts AS (
  SELECT h.order_date AS sale_date,
         CASE WHEN c.cust_no IS NULL THEN 'Unknown'
              WHEN upper(trim(c.sex)) IN ('F', 'FEMALE') THEN 'F'
              WHEN upper(trim(c.sex)) IN ('M', 'MALE') THEN 'M'
              ELSE 'Not recorded' END AS gender,
         coalesce(cat.cat_name, 'Unknown') AS category,
         c.cust_no, l.qty, l.qty * l.unit_price AS revenue
  FROM sales.order_line l
  JOIN sales.order_header h USING (order_no)
  LEFT JOIN crm.customer c ON c.cust_no = h.cust_no
  LEFT JOIN catalog.product p ON p.prod_no = l.prod_no
  LEFT JOIN catalog.subcategory s ON s.subcat_no = p.subcat_no
  LEFT JOIN catalog.category cat ON cat.cat_no = s.cat_no)
SELECT sale_date, gender, category, sum(qty), sum(revenue), count(DISTINCT cust_no)
FROM facts GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
"""


def write_guide_files(target: Path, postgres: Postgres) -> dict[str, str]:
    files = dict(BLOCK.findall(GUIDE.read_text(encoding="utf-8")))
    assert {"source.sql", "conf/base/feeds.yaml", "conf/base/jobs.yaml", "conf/base/silver_customers.sql"} <= set(files)
    for name, body in files.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        # The guide's server is localhost:5432; the test's listens on a port of its own.
        path.write_text(body.replace("localhost:5432", f"127.0.0.1:{postgres.port}"), encoding="utf-8")
    return files


def lakehouse(workspace: Workspace, conf: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**workspace.env, "LAKEHOUSE_CONF_DIR": str(conf), "LAKEHOUSE_SECRET_INSIGHTS_DB_PASSWORD": PASSWORD}
    return subprocess.run(
        [str(LAKEHOUSE), *argv], cwd=workspace.cwd, env=env, capture_output=True, text=True, timeout=1800
    )


def rows(root: Path, table: str) -> list[dict[str, Any]]:
    return list(DeltaTable(str(root / table)).to_pyarrow_table().to_pylist())


def test_the_guide_onboards_a_postgresql_database_with_configuration_only(workspace: Workspace, tmp_path: Path) -> None:
    with postgres_server() as postgres:
        postgres.psql("postgres", "CREATE DATABASE insights;")
        example = tmp_path / "example"
        files = write_guide_files(example, postgres)
        postgres.psql("insights", files["source.sql"])
        conf = example / "conf"

        before = lakehouse(workspace, conf, "validate")
        assert before.returncode == 0, before.stderr
        assert "SQL transforms: 0 of 5 analysed against their inputs" in before.stdout

        run = lakehouse(workspace, conf, "pipeline", "customer_insights")
        assert run.returncode == 0, run.stderr + run.stdout
        after = lakehouse(workspace, conf, "validate")
        assert "SQL transforms: 5 of 5 analysed against their inputs" in after.stdout, after.stderr

        expected = [
            (date, gender, category, int(units), Decimal(revenue), int(customers))
            for date, gender, category, units, revenue, customers in (
                line.split("|") for line in postgres.psql("insights", EXPECTED_KPIS).splitlines() if line
            )
        ]

    root = workspace.root
    kpis = sorted(
        (str(r["sale_date"]), r["gender"], r["category"], r["products_sold"], r["revenue"], r["customers"])
        for r in rows(root, "gold/insights_kpis")
    )
    assert [(d, g, c, n, Decimal(v).quantize(Decimal("0.01")), k) for d, g, c, n, v, k in kpis] == expected
    # By hand, for 2025-03-01: Bikes F 1200.00 (Ann), Clothing F 39.80 (Ann's gloves), Clothing M 135.00 (Bo),
    # Clothing Unknown 19.90 (order 5003 names a customer CRM does not know).
    assert [k for k in kpis if k[0] == "2025-03-01"] == [
        ("2025-03-01", "F", "Bikes", 1, Decimal("1200.0000"), 1),
        ("2025-03-01", "F", "Clothing", 2, Decimal("39.8000"), 1),
        ("2025-03-01", "M", "Clothing", 3, Decimal("135.0000"), 1),
        ("2025-03-01", "Unknown", "Clothing", 1, Decimal("19.9000"), 0),
    ]
    shares = {
        (str(r["sale_date"]), r["gender"], r["category"]): r["revenue_share_pct"]
        for r in rows(root, "gold/insights_kpis")
    }
    assert shares[("2025-03-01", "M", "Clothing")] == Decimal("69.34")  # 135 / (39.80 + 135 + 19.90)

    customers = {r["customer_id"]: r for r in rows(root, "silver/customers")}
    assert {k: (v["gender"], str(v["birth_date"]), v["deleted"]) for k, v in customers.items()} == {
        1: ("F", "1984-03-02", False),
        2: ("M", "1979-11-02", False),
        3: ("F", "1992-07-15", False),
        4: (None, "1990-12-31", False),
        5: ("F", "2001-01-31", True),
    }
    # The gift card has no category; order 5003's customer is unknown: both kept.
    daily = rows(root, "gold/customer_category_daily")
    assert sum(r["revenue"] for r in daily) == Decimal("4048.70")
    assert {("2025-03-02", "Not recorded")} <= {(str(r["sale_date"]), r["gender"]) for r in daily}

    # The dashboard's insights page, pointed at this lakehouse, shows the same totals.
    loaded = load_config(
        transforms=catalogue(), conf_dir=conf, secrets_for=NO_JOBS, set_overrides=[f"storage.root={root}"]
    )
    with TestClient(app_for(loaded)) as client:
        cards = client.get("/api/insights/cards").json()
    assert (cards["products_sold"], cards["revenue"], cards["customers"]) == (18, 4048.7, 5)
