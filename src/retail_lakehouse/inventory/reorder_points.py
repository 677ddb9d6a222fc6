"""The reorder point of every store and item as a gold table, for replenishment and the inventory dashboard
(the stream reads the same feed as reference data; this is its typed, current form for readers)."""

from __future__ import annotations

from pyspark.sql import DataFrame

from retail_lakehouse.core.contracts import transform
from retail_lakehouse.inventory.positions import typed_reorder_points


@transform(
    "gold.inventory_reorder_points",
    description="bronze reorder-point files -> the reorder point per store and item (the largest if listed twice)",
)
def inventory_reorder_points(source: DataFrame) -> DataFrame:
    """One row per store and item with its reorder point, typed as the inventory stream types it."""
    return typed_reorder_points(source)
