"""The inventory reference feeds in the real-time POS inventory accelerator's formats.

store: `store_id,name` (0 is the online store); item: `item_id,name,supplier_id,safety_stock_quantity`
with ids from 100001; inventory_change_type: `change_type_id,change_type`. All with a header line,
as the accelerator ships them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from retail_lakehouse.generator.options import GeneratorOptions

PHYSICAL_STORES_AT_SCALE_1 = 50
ITEMS_AT_SCALE_1 = 5000
FIRST_ITEM_ID = 100001
SUPPLIERS_AT_SCALE_1 = 1000
SAFETY_STOCK_LEVELS = np.array([5, 10, 15, 20, 25])

INVENTORY_CHANGE_TYPES = pd.DataFrame(
    {"change_type_id": [1, 2, 3, 4, -1], "change_type": ["sale", "shrink", "restock", "bopis", "snapshot"]}
)


@dataclass(frozen=True)
class ReferenceData:
    stores: pd.DataFrame
    items: pd.DataFrame
    change_types: pd.DataFrame


def scaled(count_at_scale_1: int, scale: float, minimum: int) -> int:
    return max(minimum, round(count_at_scale_1 * scale))


def make_stores(options: GeneratorOptions) -> pd.DataFrame:
    physical = scaled(PHYSICAL_STORES_AT_SCALE_1, options.scale, minimum=1)
    ids = np.arange(physical + 1)
    names = ["online", *(f"store_{i:03d}" for i in ids[1:])]
    return pd.DataFrame({"store_id": ids, "name": names})


def make_items(options: GeneratorOptions, rng: np.random.Generator) -> pd.DataFrame:
    count = scaled(ITEMS_AT_SCALE_1, options.scale, minimum=10)
    suppliers = scaled(SUPPLIERS_AT_SCALE_1, options.scale, minimum=2)
    offsets = np.arange(count)
    return pd.DataFrame(
        {
            "item_id": FIRST_ITEM_ID + offsets,
            "name": [f"item_{i:06d}" for i in offsets],
            "supplier_id": rng.integers(1, suppliers + 1, size=count),
            "safety_stock_quantity": rng.choice(SAFETY_STOCK_LEVELS, size=count),
        }
    )


def make_reference_data(options: GeneratorOptions) -> ReferenceData:
    rng = np.random.default_rng(options.seed)
    return ReferenceData(make_stores(options), make_items(options, rng), INVENTORY_CHANGE_TYPES.copy())
