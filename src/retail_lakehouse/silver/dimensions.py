"""Master data: customers (with PII protected) and products as SCD2 versions, stores, suppliers, and the
category hierarchy flattened into paths."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from retail_lakehouse.core.columns import HELPER_PREFIX, INGESTED_AT, SOURCE
from retail_lakehouse.core.contracts import transform
from retail_lakehouse.silver.standardize import (
    SourceFormats,
    code,
    identifier,
    text,
    typed_integer,
    typed_rows,
)

# The CRM fields that identify a person: never in clear in silver, quarantine included. The birth date is in
# the table, so quarantine keeps it too: a date in a format nobody expected must be seen to be fixed.
CUSTOMER_PII = ("first_name", "last_name", "email", "phone")


@transform(
    "silver.customers",
    description="CRM rows -> customer versions, email hashed and masked, phone masked, names left out",
    helper_prefix=HELPER_PREFIX,
)
def customers(source: DataFrame, params: SourceFormats) -> DataFrame:
    """Customer versions. Analysts never see a clear email or phone: the email is kept as a SHA-256 of its
    normalised form (to match customers across systems) and masked; the phone only as its last digits;
    names are left out. The raw record kept for quarantine has every personal field masked."""
    email = F.lower(text("email"))
    phone_digits = F.regexp_replace(text("phone"), r"[^0-9]", "")
    return typed_rows(
        source,
        {
            "customer_id": identifier("customer_id"),
            "gender": code("gender"),
            "birth_date": params.date("birth_date"),
            "registration_date": params.date("registration_date"),
            "segment": F.initcap(text("segment")),
            "city": text("city"),
            "email_sha256": F.sha2(email, 256),
            "email_masked": F.regexp_replace(email, r"^(.)[^@]*(@.*)$", "$1***$2"),
            "phone_masked": F.when(
                F.length(phone_digits) >= 4, F.concat(F.lit("***"), F.substring(phone_digits, -4, 4))
            ),
            "valid_from": params.timestamp("valid_from", "updated_at"),
        },
        params,
        pii=CUSTOMER_PII,
    )


@transform(
    "silver.products",
    description="product rows -> typed product versions (cost and list price as decimals)",
    helper_prefix=HELPER_PREFIX,
)
def products(source: DataFrame, params: SourceFormats) -> DataFrame:
    return typed_rows(
        source,
        {
            "product_id": identifier("product_id"),
            "sku": code("sku"),
            "name": text("name"),
            "category_id": identifier("category_id"),
            "supplier_id": identifier("supplier_id"),
            "cost": params.money("cost"),
            "list_price": params.money("list_price"),
            "valid_from": params.timestamp("valid_from", "updated_at"),
        },
        params,
    )


@transform(
    "silver.stores",
    description="store rows -> typed stores",
    helper_prefix=HELPER_PREFIX,
)
def stores(source: DataFrame, params: SourceFormats) -> DataFrame:
    return typed_rows(
        source,
        {
            "store_id": identifier("store_id"),
            "name": text("name"),
            "region": text("region"),
            "format": text("format"),
            "square_feet": typed_integer("square_feet"),
            "city": text("city"),
            "opened_date": params.date("opened_date"),
            "country": code("country"),
            "subdivision": code("subdivision"),
            "is_online": F.coalesce(F.lower(text("format")) == "online", F.lit(False)),
        },
        params,
    )


@transform(
    "silver.suppliers",
    description="supplier rows -> typed suppliers",
    helper_prefix=HELPER_PREFIX,
)
def suppliers(source: DataFrame, params: SourceFormats) -> DataFrame:
    return typed_rows(
        source,
        {
            "supplier_id": identifier("supplier_id"),
            "name": text("name"),
            "country": code("country"),
            "lead_time_days": typed_integer("lead_time_days"),
        },
        params,
    )


class CategoryParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_depth: int = Field(5, ge=1, le=20, description="Deepest hierarchy level followed.")
    path_separator: str = " > "


@transform(
    "silver.categories",
    description="category rows -> categories with department, depth and path from the top",
    helper_prefix=HELPER_PREFIX,
)
def categories(source: DataFrame, params: CategoryParams) -> DataFrame:
    """Each category with its department (top ancestor), depth and path from the top. Reads every bronze
    row, because a parent's name change changes its descendants' paths; the latest row per id wins."""
    rows = typed_rows(
        source,
        {
            "category_id": identifier("category_id"),
            "name": text("name"),
            "parent_id": identifier("parent_id"),
            "level": F.lower(text("level")),
        },
    )
    latest = Window.partitionBy("category_id").orderBy(F.col(INGESTED_AT).desc(), F.col(SOURCE).desc())
    current = rows.withColumn("_rank", F.row_number().over(latest)).where(
        F.col("category_id").isNull() | (F.col("_rank") == 1)
    )
    links = current.where(F.col("category_id").isNotNull()).select(
        F.col("category_id").alias("_id"), F.col("name").alias("_name"), F.col("parent_id").alias("_parent")
    )
    walk = current.withColumns({"_path": F.array(F.col("name")), "_next": F.col("parent_id"), "depth": F.lit(1)})
    for _ in range(params.max_depth - 1):
        walk = (
            walk.join(F.broadcast(links), walk["_next"] == links["_id"], "left")
            .withColumns(
                {
                    "_path": F.when(F.col("_id").isNotNull(), F.concat(F.array("_name"), "_path")).otherwise(
                        F.col("_path")
                    ),
                    "depth": F.col("depth") + F.col("_id").isNotNull().cast("int"),
                    # A parent not found keeps the walk pointing at it, so the path stays open.
                    "_next": F.when(F.col("_id").isNotNull(), F.col("_parent")).otherwise(F.col("_next")),
                }
            )
            .drop("_id", "_name", "_parent")
        )
    return walk.withColumns(
        {
            "department": F.col("_path")[0],
            "path": F.array_join("_path", params.path_separator),
            # A parent that never arrives, or a chain deeper than max_depth, leaves the path open.
            "_path_complete": F.col("_next").isNull(),
        }
    ).drop("_path", "_next", "_rank")
