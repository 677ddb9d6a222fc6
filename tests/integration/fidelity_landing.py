"""A tiny hand-written landing zone for the fidelity tests: every value is chosen so the expected silver
and gold figures can be worked out by hand, and each test adds the one awkward record it is about."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

from retail_lakehouse.catalogue import catalogue
from retail_lakehouse.config import LoadedConfig, load_config
from retail_lakehouse.ops.run_history import SUCCEEDED, JobRun
from retail_lakehouse.runner.jobs import JobRunner
from tests.conftest import REPO_ROOT

DAY = "2025-01-02"
CARD = "4111111111111111"
STORES = (
    "store_id,name,region,format,square_feet,city,opened_date,country,subdivision\n"
    "1,Store 1,North,Mall,1000,Madrid,2020-01-01,ES,MD\n"
)
CATEGORIES = "category_id,name,parent_id,level\nD1,Food,,department\nC1,Snacks,D1,category\n"
PRODUCTS_HEADER = "product_id,sku,name,category_id,cost,list_price,supplier_id,updated_at\n"
PRODUCTS = PRODUCTS_HEADER + "P1,SKU1,Chips,C1,1.25,2.50,S1,2025-01-01 00:00:00\n"
CUSTOMERS_HEADER = (
    "customer_id,first_name,last_name,email,phone,gender,birth_date,registration_date,segment,city,updated_at\n"
)
CUSTOMERS = (
    CUSTOMERS_HEADER
    + "C1,Ana,Lopez,ana.lopez@example.com,+34 600 111 222,F,1965-05-14,2024-01-01,Gold,Madrid,2025-01-01 00:00:00\n"
)

# The jobs from landing to the gold tables that count sales, in dependency order (loyalty events have no
# folder: customer 360 reads them as no events).
SALES_JOBS = (
    "bronze_stores", "bronze_categories", "bronze_products", "bronze_customers", "bronze_pos_transactions",
    "bronze_loyalty_events", "silver_stores", "silver_categories", "silver_products", "silver_customers",
    "silver_transactions", "silver_transaction_lines", "silver_loyalty_events", "gold_sales_daily",
    "gold_sales_by_gender_category", "gold_store_performance", "gold_customer_360",
)  # fmt: skip


TOLERANT_SUITES = ("stores", "categories", "products", "customers", "pos_transactions")


def pos_line(transaction_id: str, customer_id: str | None, lines: list[tuple[str, int, str]]) -> str:
    """A POS document as the generator writes it: numbers unquoted; `lines` are (product, quantity, price)."""
    body = ", ".join(
        f'{{"line_number": {n}, "product_id": "{product}", "quantity": {quantity}, "unit_price": {price}, '
        f'"discount": 0.00}}'
        for n, (product, quantity, price) in enumerate(lines, start=1)
    )
    customer = json.dumps(customer_id)
    return (
        f'{{"transaction_id": "{transaction_id}", "store_id": "1", "customer_id": {customer}, '
        f'"timestamp": "{DAY} 10:00:00", "channel": "Store", "payment_method": "card", "card_number": "{CARD}", '
        f'"lines": [{body}]}}'
    )


def write_landing(landing: Path, files: dict[str, str]) -> None:
    """`files`: feed folder -> file text; every file lands in the folder of DAY."""
    defaults = {"stores": STORES, "categories": CATEGORIES, "products": PRODUCTS, "customers": CUSTOMERS}
    for feed, text in {**defaults, **files}.items():
        folder = landing / feed / DAY
        folder.mkdir(parents=True, exist_ok=True)
        suffix = "jsonl" if feed == "pos_transactions" else "csv"
        (folder / f"{feed}.{suffix}").write_bytes(text.encode() if isinstance(text, str) else text)


def repo_config(tmp_path: Path, landing: Path, *overrides: str, **environ: str) -> LoadedConfig:
    """The repository's own configuration on a temporary lakehouse."""
    env = {
        "LAKEHOUSE_ROOT": str(tmp_path / "lakehouse"),
        "LAKEHOUSE_LANDING": str(landing),
        "LAKEHOUSE_SECRET_CARD_TOKEN_KEY": "fidelity-test-key",
        **environ,
    }
    # A handful of rows: one bad record is far above any suite's max_bad_share.
    tolerant = [f"quality.{suite}.max_bad_share=1" for suite in TOLERANT_SUITES]
    return load_config(
        transforms=catalogue(), conf_dir=REPO_ROOT / "conf", environ=env, set_overrides=[*tolerant, *overrides]
    )


def run_jobs(spark: SparkSession, loaded: LoadedConfig, jobs: tuple[str, ...] = SALES_JOBS) -> dict[str, JobRun]:
    runner = JobRunner(spark, loaded)
    runs = {job: runner.run(job) for job in jobs}
    runner.history.wait()
    failed = {job: run.error for job, run in runs.items() if run.status != SUCCEEDED}
    assert not failed, failed
    return runs


def table_rows(spark: SparkSession, loaded: LoadedConfig, table: str, *columns: str) -> list[dict[str, Any]]:
    df = spark.read.format("delta").load(loaded.config.storage.table_path(table))
    return [row.asDict() for row in df.select(*(columns or df.columns)).collect()]
