"""The inventory stream's parameters (configuration's `jobs.<job>.params`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class InventoryParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sales_feed: Literal["pos", "iot"] = Field(
        "pos",
        description="Which feed supplies sales: pos (POS lines; the IoT feed gives restock, shrink, BOPIS) or "
        "iot (the IoT feed carries sales too, as the accelerator's does; POS is not read).",
    )
    online_store_id: str = Field("0", description="The online store: its BOPIS events are left out.")
    source_time_zone: str = Field("UTC", description="Time zone of the feeds' local timestamps.")
    events_table: str = Field(
        "silver/inventory_events",
        description="Every accepted event (deduplicated), the ledger a newer snapshot re-counts deltas from; "
        "rejected events go to <events_table>_quarantine.",
    )
    alerts_table: str = Field(
        "gold/inventory_alerts", description="One row per fall below safety stock or below the reorder point."
    )
