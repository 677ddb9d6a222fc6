"""Reference data of the real-time POS inventory accelerator that does not depend on the data set."""

from __future__ import annotations

import pandas as pd

INVENTORY_CHANGE_TYPES = pd.DataFrame(
    {"change_type_id": [1, 2, 3, 4, -1], "change_type": ["sale", "shrink", "restock", "bopis", "snapshot"]}
)
