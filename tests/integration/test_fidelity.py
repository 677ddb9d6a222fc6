"""Nothing silently lost or altered, from landing to gold, on hand-written landing files (in process, on
the repository's own configuration): each test plants the awkward record it is about and checks every
table it reaches against figures worked out by hand."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from tests.integration.fidelity_landing import (
    CUSTOMERS_HEADER,
    PRODUCTS_HEADER,
    pos_line,
    repo_config,
    run_jobs,
    table_rows,
    write_landing,
)

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


CUSTOMERS = CUSTOMERS_HEADER + "".join(
    f"{row}\n"
    for row in (
        # A CRM export's US date (an accepted format in the repository's configuration).
        "C1,Ana,Lopez,ana.lopez@example.com,+34 600 111 222,F,5/14/1965,2024-01-01,Gold,Madrid,2025-01-01 00:00:00",
        # Known to CRM, gender not recorded.
        "C2,Bruno,Garcia,bruno.garcia@example.com,+34 600 333 444,,1970-01-31,2024-01-01,Gold,Sevilla,2025-01-01 00:00:00",  # noqa: E501
        # A birth date in no accepted format: quarantined, never a silent NULL.
        "C3,Carla,Ruiz,carla.ruiz@example.com,+34 600 555 666,F,04-08-1966,2024-01-01,Gold,Malaga,2025-01-01 00:00:00",
        # One column too many: the line does not parse and is kept whole.
        "C4,Dora,Marin,dora.marin@example.com,+34 600 777 888,F,1980-02-02,2024-01-01,Gold,Bilbao,2025-01-01 00:00:00,x",  # noqa: E501
    )
)
PII = ["Ana", "Lopez", "ana.lopez", "600 111 222", "Bruno", "Garcia", "bruno.garcia", "600 333 444", "Carla", "Ruiz",
       "carla.ruiz", "600 555 666", "Dora", "Marin", "dora.marin", "600 777 888"]  # fmt: skip
PRODUCTS_4DP = (
    PRODUCTS_HEADER
    + "P1,SKU1,Chips,C1,1.2345,33.6442,S1,2025-01-01 00:00:00\n"
    # Five decimals where the column keeps four: quarantined, never rounded.
    + "P2,SKU2,Dip,C1,0.5,12.34567,S1,2025-01-01 00:00:00\n"
)


def test_precision_dates_genders_and_pii_survive_from_landing_to_gold(spark: SparkSession, tmp_path: Path) -> None:
    pos = [
        pos_line("T1", "C1", [("P1", 3, "33.6442")]),
        pos_line("T2", "C2", [("P1", 1, "33.6442")]),
        pos_line("T3", None, [("P1", 1, "10.00")]),
        pos_line("T4", "C3", [("P1", 2, "1.50")]),
        pos_line("T5", "C1", [("P1", 1, "2.12345")]),
    ]
    landing = tmp_path / "landing"
    write_landing(
        landing, {"customers": CUSTOMERS, "products": PRODUCTS_4DP, "pos_transactions": "\n".join(pos) + "\n"}
    )
    loaded = repo_config(tmp_path, landing)
    run_jobs(spark, loaded)

    # Money at the source's precision through gold: 3 x 33.6442 = 100.9326, never 3 x 33.64.
    lines = table_rows(spark, loaded, "silver/transaction_lines", "transaction_id", "unit_price", "net_amount")
    assert sorted((r["transaction_id"], r["unit_price"], r["net_amount"]) for r in lines) == [
        ("T1", Decimal("33.6442"), Decimal("100.9326")),
        ("T2", Decimal("33.6442"), Decimal("33.6442")),
        ("T3", Decimal("10.0000"), Decimal("10.0000")),
        ("T4", Decimal("1.5000"), Decimal("3.0000")),
    ]
    (daily,) = table_rows(spark, loaded, "gold/sales_daily", "quantity_sold", "net_revenue")
    assert (daily["quantity_sold"], daily["net_revenue"]) == (7, Decimal("147.5768"))
    assert round(daily["net_revenue"], 2) == Decimal("147.58")  # presentation rounds; 33.64-based gave 147.56
    (c1,) = [r for r in table_rows(spark, loaded, "gold/customer_360") if r["customer_id"] == "C1"]
    assert c1["lifetime_value"] == Decimal("100.9326")
    products = table_rows(spark, loaded, "silver/products", "product_id", "cost", "list_price")
    assert products == [{"product_id": "P1", "cost": Decimal("1.2345"), "list_price": Decimal("33.6442")}]

    # Every rejected value is in quarantine under the rule it broke.
    def quarantined(table: str) -> list[tuple[str | None, list[str]]]:
        return sorted((r["record_key"], r["rules"]) for r in table_rows(spark, loaded, f"silver/{table}_quarantine"))

    assert quarantined("products") == [('{"product_id":"P2"}', ["values_parse"])]
    assert quarantined("transactions") == [('{"transaction_id":"T5"}', ["amounts_parse"])]
    customer_keys = [(key, rules) for key, rules in quarantined("customers")]
    assert [rules for _, rules in customer_keys] == [["values_parse"], ["record_parses"]]
    customers = table_rows(spark, loaded, "silver/customers", "customer_id", "gender", "birth_date")
    assert sorted((r["customer_id"], r["gender"], str(r["birth_date"])) for r in customers) == [
        ("C1", "F", "1965-05-14"),
        ("C2", None, "1970-01-31"),
    ]

    # Unknown (not in CRM, or no customer) and Not recorded (in CRM, no gender) stay apart.
    by_gender = table_rows(spark, loaded, "gold/sales_by_gender_category", "gender", "revenue", "customers")
    assert sorted((r["gender"], r["revenue"], r["customers"]) for r in by_gender) == [
        ("F", Decimal("100.9326"), 1),
        ("Not recorded", Decimal("33.6442"), 1),
        ("Unknown", Decimal("13.0000"), 1),
    ]

    # No personal value of the CRM file in clear in any quarantine table.
    root = Path(loaded.config.storage.root)
    quarantines = sorted(p.name for p in (root / "silver").iterdir() if p.name.endswith("_quarantine"))
    assert quarantines == ["customers_quarantine", "products_quarantine", "transaction_lines_quarantine",
                           "transactions_quarantine"]  # fmt: skip
    for table in quarantines:
        for row in table_rows(spark, loaded, f"silver/{table}"):
            text = " ".join(str(value) for value in row.values())
            assert not [value for value in PII if value in text], (table, text)
    records = sorted(r["record"] for r in table_rows(spark, loaded, "silver/customers_quarantine", "record"))
    assert records[0].startswith("C4,D***,M***,d***@example.com,+***,F,1980-02-02"), records
    assert '"first_name":"C***"' in records[1] and '"birth_date":"04-08-1966"' in records[1], records
