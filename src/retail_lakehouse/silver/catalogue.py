"""Every silver transform, each marked to drop its helper columns (prefixed '_') before writing."""

from __future__ import annotations

from dataclasses import replace

from retail_lakehouse.silver.activity import SILVER_COMPETITOR_PRICES, SILVER_LOYALTY_EVENTS
from retail_lakehouse.silver.dimensions import (
    SILVER_CATEGORIES,
    SILVER_CUSTOMERS,
    SILVER_PRODUCTS,
    SILVER_STORES,
    SILVER_SUPPLIERS,
)
from retail_lakehouse.silver.inventory import SILVER_INVENTORY_CHANGES, SILVER_INVENTORY_SNAPSHOTS
from retail_lakehouse.silver.pos import SILVER_TRANSACTION_LINES, SILVER_TRANSACTIONS

HELPER_PREFIX = "_"

SILVER_TRANSFORMS = tuple(
    replace(spec, helper_prefix=HELPER_PREFIX)
    for spec in (
        SILVER_STORES,
        SILVER_SUPPLIERS,
        SILVER_CATEGORIES,
        SILVER_PRODUCTS,
        SILVER_CUSTOMERS,
        SILVER_TRANSACTIONS,
        SILVER_TRANSACTION_LINES,
        SILVER_LOYALTY_EVENTS,
        SILVER_COMPETITOR_PRICES,
        SILVER_INVENTORY_CHANGES,
        SILVER_INVENTORY_SNAPSHOTS,
    )
)
