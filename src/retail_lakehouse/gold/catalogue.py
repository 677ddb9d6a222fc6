"""Every gold transform."""

from __future__ import annotations

from retail_lakehouse.gold.basket import (
    GOLD_ASSOCIATION_RULES,
    GOLD_FREQUENT_ITEMSETS,
    GOLD_FREQUENT_ITEMSETS_FROM_TEXT,
    GOLD_RECOMMENDATIONS,
)
from retail_lakehouse.gold.customers import GOLD_CUSTOMER_360
from retail_lakehouse.gold.inventory import InventoryParams, inventory_events
from retail_lakehouse.gold.performance import GOLD_PRODUCT_PERFORMANCE, GOLD_STORE_PERFORMANCE
from retail_lakehouse.gold.pricing import GOLD_PRICE_ELASTICITY, GOLD_PRICE_RECOMMENDATIONS
from retail_lakehouse.gold.sales import GOLD_CUSTOMER_CATEGORY_DAILY, GOLD_SALES_BY_GENDER_CATEGORY, GOLD_SALES_DAILY
from retail_lakehouse.registry import TransformSpec
from retail_lakehouse.runner.inventory import check_inventory_job, write_inventory_batch

GOLD_INVENTORY_POSITIONS = TransformSpec(
    name="gold.inventory_positions",
    description="IoT and POS deltas and counts -> inventory positions and alerts, one merge per micro-batch",
    inputs=("changes", "snapshots", "pos", "items", "reorder_points"),
    optional_inputs=("pos", "reorder_points"),
    reference_inputs=("items", "reorder_points"),
    apply=inventory_events,
    merge_batch=write_inventory_batch,
    params_model=InventoryParams,
    check_job=check_inventory_job,
)

GOLD_TRANSFORMS = (
    GOLD_SALES_DAILY,
    GOLD_SALES_BY_GENDER_CATEGORY,
    GOLD_CUSTOMER_CATEGORY_DAILY,
    GOLD_STORE_PERFORMANCE,
    GOLD_PRODUCT_PERFORMANCE,
    GOLD_CUSTOMER_360,
    GOLD_FREQUENT_ITEMSETS,
    GOLD_FREQUENT_ITEMSETS_FROM_TEXT,
    GOLD_ASSOCIATION_RULES,
    GOLD_RECOMMENDATIONS,
    GOLD_PRICE_ELASTICITY,
    GOLD_PRICE_RECOMMENDATIONS,
    GOLD_INVENTORY_POSITIONS,
)
