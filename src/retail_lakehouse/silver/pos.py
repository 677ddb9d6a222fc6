"""POS transactions: headers and lines, typed, with the card number replaced by a token.

Both silver tables come from one line-level view of each bronze record, so they are judged by the same
rules: a transaction with one bad line is quarantined whole, in both tables, and no sale appears in one
table but not the other. Line problems are counted per transaction (`_lines_*` columns) for the rules.
"""

from __future__ import annotations

from pydantic import SecretStr
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from retail_lakehouse.core.columns import HELPER_PREFIX, RAW_RECORD
from retail_lakehouse.core.contracts import transform
from retail_lakehouse.silver.cards import card_brand, card_digits, card_last4, card_token
from retail_lakehouse.silver.standardize import (
    DELIVERED_BY,
    UNPARSED,
    UNPARSED_FLAG,
    SourceFormats,
    bronze_lineage,
    delivered_by,
    identifier,
    text,
    typed_integer,
    unparsed_fields,
    with_raw,
)

_RECORD = "_record"
_LINE_INDEX = "_line_index"


def line_problems(line: Column) -> dict[str, Column]:
    """What can be wrong with one line (a struct of its typed fields); per transaction, the rules see how
    many of its lines have each problem."""
    return {
        "_lines_quantity_not_a_number": line["quantity_text"].isNotNull() & line["quantity"].isNull(),
        "_lines_quantity_not_positive": line["quantity"] <= 0,
        "_lines_price_not_positive": line["unit_price"] <= 0,
        "_lines_discount_above_amount": line["discount"] > line["unit_price"] * line["quantity"],
        "_lines_product_unknown": ~line["product_known"],
        "_lines_amount_unparsed": line["amount_unparsed"],
    }


# Amounts of a line and of a transaction: quantity x price at the price's full precision, never rounded.
AMOUNT = "decimal(28,4)"


class PosParams(SourceFormats):
    card_token_key: SecretStr


def pos_line_rows(source: DataFrame, products: DataFrame, params: PosParams) -> DataFrame:
    """One row per line of each bronze record (one row for a record without lines), header fields typed
    on every row, and per record the count of lines with each problem."""
    key = params.card_token_key.get_secret_value().encode()
    known_products = products.select(F.col("product_id").alias("_known_product")).distinct()
    records = with_raw(source).withColumn(_RECORD, F.monotonically_increasing_id())
    digits = card_digits(F.col("card_number"))
    header_ts = params.timestamp("transaction_ts", "timestamp")
    header_unparsed = unparsed_fields({"transaction_ts": header_ts})
    flagged = params.unparsed_values == "flag"
    exploded = records.select(
        F.col(_RECORD),
        F.col(RAW_RECORD),
        *bronze_lineage(),
        delivered_by().alias(DELIVERED_BY),
        F.col("_corrupt_record"),
        identifier("transaction_id").alias("transaction_id"),
        identifier("store_id").alias("store_id"),
        identifier("customer_id").alias("customer_id"),
        header_ts.value.alias("transaction_ts"),
        (F.lit(None).cast("array<string>") if flagged else header_unparsed).alias(UNPARSED),
        *([header_unparsed.alias(UNPARSED_FLAG)] if flagged else []),
        F.initcap(text("channel")).alias("channel"),
        F.lower(text("payment_method")).alias("payment_method"),
        card_token(digits, key).alias("card_token"),
        card_last4(digits).alias("card_last4"),
        card_brand(digits).alias("card_brand"),
        F.posexplode_outer("lines").alias(_LINE_INDEX, "line"),
    )
    line_number = typed_integer("line.line_number")
    unit_price = params.money("unit_price", "line.unit_price")
    discount = params.money("discount", "line.discount")
    lines = exploded.select(
        "*",
        line_number.value.alias("line_number"),
        F.trim(F.col("line.product_id")).alias("product_id"),
        text("line.quantity").alias("_quantity_text"),
        typed_integer("line.quantity").value.alias("quantity"),
        unit_price.value.alias("unit_price"),
        discount.value.alias("discount"),
        (line_number.unparsed | unit_price.unparsed | discount.unparsed).alias("_amount_unparsed"),
    ).drop("line")
    lines = lines.join(F.broadcast(known_products), lines["product_id"] == F.col("_known_product"), "left")
    per_record = Window.partitionBy(_RECORD)
    line_present = F.col(_LINE_INDEX).isNotNull()
    line = F.struct(
        F.col("_quantity_text").alias("quantity_text"),
        F.col("quantity"),
        F.col("unit_price"),
        F.col("discount"),
        F.col("_known_product").isNotNull().alias("product_known"),
        F.col("_amount_unparsed").alias("amount_unparsed"),
    )
    problems = {
        name: F.sum(F.when(line_present & F.coalesce(problem, F.lit(False)), 1).otherwise(0)).over(per_record)
        for name, problem in line_problems(line).items()
    }
    return (
        lines.withColumns(problems)
        .withColumn("line_count", F.count(F.col(_LINE_INDEX)).over(per_record))
        .withColumn("sale_date", F.to_date("transaction_ts"))
        .drop("_known_product", "_quantity_text", "_amount_unparsed")
    )


def _amounts(quantity: Column, unit_price: Column, discount: Column) -> dict[str, Column]:
    gross = (quantity * unit_price).cast(AMOUNT)
    return {
        "gross_amount": gross,
        "discount_amount": discount.cast(AMOUNT),
        "net_amount": (gross - discount).cast(AMOUNT),
    }


HEADER_COLUMNS = (
    "transaction_id",
    "store_id",
    "customer_id",
    "transaction_ts",
    "sale_date",
    "channel",
    "payment_method",
    "card_token",
    "card_last4",
    "card_brand",
)


@transform(
    "silver.transactions",
    description="POS records -> one typed row per transaction (amounts, card token, line problem counts)",
    helper_prefix=HELPER_PREFIX,
)
def transactions(source: DataFrame, products: DataFrame, params: PosParams) -> DataFrame:
    """One row per transaction, with its line count, quantity and amounts."""
    rows = pos_line_rows(source, products, params)
    amounts = _amounts(F.col("quantity"), F.col("unit_price"), F.coalesce(F.col("discount"), F.lit(0)))
    per_record = Window.partitionBy(_RECORD)
    totals = {name: F.sum(value).over(per_record).cast(AMOUNT) for name, value in amounts.items()}
    return (
        rows.withColumns({**totals, "total_quantity": F.sum("quantity").over(per_record)})
        .where(F.coalesce(F.col(_LINE_INDEX), F.lit(0)) == 0)
        .drop(_LINE_INDEX, _RECORD, "line_number", "product_id", "quantity", "unit_price", "discount")
    )


@transform(
    "silver.transaction_lines",
    description="POS records -> one typed row per line, with header fields and line problem counts",
    helper_prefix=HELPER_PREFIX,
)
def transaction_lines(source: DataFrame, products: DataFrame, params: PosParams) -> DataFrame:
    """One row per transaction line, with the header fields analyses group by."""
    rows = pos_line_rows(source, products, params)
    amounts = _amounts(F.col("quantity"), F.col("unit_price"), F.coalesce(F.col("discount"), F.lit(0)))
    return rows.withColumns(amounts).drop(
        _LINE_INDEX, _RECORD, "payment_method", "card_token", "card_last4", "card_brand"
    )
