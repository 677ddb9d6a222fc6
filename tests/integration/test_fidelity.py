"""Nothing silently lost or altered, from landing to gold, on hand-written landing files (in process, on
the repository's own configuration): each test plants the awkward record it is about and checks every
table it reaches against figures worked out by hand."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from tests.integration.fidelity_landing import pos_line, repo_config, run_jobs, table_rows, write_landing

pytestmark = pytest.mark.integration


def test_a_truncated_redelivery_never_displaces_the_valid_copy_from_silver_or_gold(
    spark: SparkSession, tmp_path: Path
) -> None:
    valid = pos_line("T1", "C1", [("P1", 3, "2.50"), ("P1", 1, "2.50")])
    # Cut after a field name inside the lines: Spark's parser still returns the id, store and timestamp.
    cut = valid[: valid.index('"quantity": 3') + len('"quantity":')]
    other = pos_line("T2", "C1", [("P1", 2, "2.50")])
    landing = tmp_path / "landing"
    write_landing(landing, {"pos_transactions": "\n".join([valid, cut, other]) + "\n"})
    loaded = repo_config(tmp_path, landing)
    runs = run_jobs(spark, loaded)

    transactions = table_rows(spark, loaded, "silver/transactions", "transaction_id", "net_amount")
    assert sorted((r["transaction_id"], r["net_amount"]) for r in transactions) == [
        ("T1", Decimal("10.00")),
        ("T2", Decimal("5.00")),
    ]
    lines = table_rows(spark, loaded, "silver/transaction_lines", "transaction_id", "line_number")
    assert sorted((r["transaction_id"], r["line_number"]) for r in lines) == [("T1", 1), ("T1", 2), ("T2", 1)]
    for table in ("silver/transactions_quarantine", "silver/transaction_lines_quarantine"):
        (quarantined,) = table_rows(spark, loaded, table, "rules", "record")
        assert quarantined["rules"] == ["has_lines", "record_parses"], quarantined
        assert quarantined["record"] == cut.replace("4111111111111111", "************1111")
    for job in ("silver_transactions", "silver_transaction_lines"):
        run = runs[job]
        assert (run.rows_quarantined, run.duplicates_dropped) == (1, 0), job
        assert run.rows_read == run.rows_written + run.rows_quarantined + run.duplicates_dropped

    (customer,) = table_rows(spark, loaded, "gold/customer_360", "customer_id", "total_transactions", "lifetime_value")
    assert (customer["total_transactions"], customer["lifetime_value"]) == (2, Decimal("15.00"))
    (store,) = table_rows(spark, loaded, "gold/store_performance", "net_revenue", "transactions")
    assert (store["net_revenue"], store["transactions"]) == (Decimal("15.00"), 2)
    (daily,) = table_rows(spark, loaded, "gold/sales_daily", "net_revenue", "quantity_sold", "transaction_count")
    assert (daily["net_revenue"], daily["quantity_sold"], daily["transaction_count"]) == (Decimal("15.00"), 6, 2)
