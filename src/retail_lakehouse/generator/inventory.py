"""Store stock that moves the way a store's does: restock when low, sales, shrink, cycle counts.

Produces the accelerator's two feeds: change events (sale, shrink, restock, bopis; one event per
transaction with its items, signed quantities) and snapshots (counted quantity per item and store).
Every count equals the stock the events imply at its time, except a planted 1% of recounts that find
one unit less (shrinkage nobody recorded), which then becomes the stock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from retail_lakehouse.generator.randomness import stream
from retail_lakehouse.generator.sales import DaySales

SALE, SHRINK, RESTOCK, BOPIS = 1, 2, 3, 4
RESTOCK_TIME = "06:00:00"
SHRINK_TIME = "21:05:00"
COUNT_TIME = "22:00:00"
INITIAL_COUNT_TIME = "05:00:00"
CYCLE_DAYS = 30  # every item of every store is counted once in this many days
UNITS_PER_LINE = 1.4  # a POS line sells 1 + Poisson(0.4) units


@dataclass
class StockLedger:
    """Stock per (store, product): rows are store ids 0..n (0 is the online store's warehouse)."""

    quantity: np.ndarray
    safety: np.ndarray
    product_ids: np.ndarray

    @classmethod
    def opening(cls, seed: int, stores: int, safety: np.ndarray, product_ids: np.ndarray) -> StockLedger:
        rng = stream(seed, "opening-stock")
        quantity = safety[None, :] * rng.integers(3, 7, (stores, len(safety)))
        return cls(quantity=quantity.astype(np.int64), safety=safety.astype(np.int64), product_ids=product_ids)


def reorder_points(
    safety: np.ndarray, lead_time_days: np.ndarray, daily_lines: np.ndarray, store_weights: np.ndarray
) -> np.ndarray:
    """Reorder point per (physical store, product): safety stock plus the units the store expects to sell
    while the supplier delivers (expected daily units at that store x the supplier's lead time), rounded up.

    `daily_lines`: expected POS lines per product and day over all stores; `store_weights`: each physical
    store's share of them."""
    daily_units = store_weights[:, None] * (daily_lines * UNITS_PER_LINE)[None, :]
    points: np.ndarray = safety[None, :] + np.ceil(daily_units * lead_time_days[None, :]).astype(np.int64)
    return points


@dataclass(frozen=True)
class DayInventory:
    changes: pd.DataFrame  # trans_id, store_id, date_time, change_type_id, item_id, quantity (one row per item)
    snapshots: pd.DataFrame  # item_id, employee_id, store_id, date_time, quantity


def _events(
    trans_id: np.ndarray, store: np.ndarray, time: np.ndarray, change_type: int, item: np.ndarray, quantity: np.ndarray
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "trans_id": trans_id,
            "store_id": store,
            "date_time": time,
            "change_type_id": change_type,
            "item_id": item,
            "quantity": quantity,
        }
    )


def _pair_events(
    ledger: StockLedger, mask: np.ndarray, quantity: np.ndarray, date: dt.date, kind: str, change_type: int, time: str
) -> pd.DataFrame:
    """One event per store with every product selected by `mask`."""
    stores, products = np.nonzero(mask)
    trans_id = np.array([f"{kind}-{date:%Y%m%d}-{s:03d}" for s in stores], dtype=object)
    return _events(
        trans_id,
        stores,
        np.full(len(stores), f"{date} {time}"),
        change_type,
        ledger.product_ids[products],
        quantity[stores, products],
    )


def employee_ids(seed: int, stores: int) -> np.ndarray:
    return stream(seed, "employees").integers(1000, 9999, stores)


def opening_snapshot(ledger: StockLedger, date: dt.date, employees: np.ndarray) -> pd.DataFrame:
    stores, products = np.indices(ledger.quantity.shape).reshape(2, -1)
    return pd.DataFrame(
        {
            "item_id": ledger.product_ids[products],
            "employee_id": employees[stores],
            "store_id": stores,
            "date_time": f"{date} {INITIAL_COUNT_TIME}",
            "quantity": ledger.quantity[stores, products],
        }
    )


def sold_quantities(sales: DaySales, stores: int, products: int, product_index: pd.Series) -> np.ndarray:
    """Units leaving each store's stock: in-store and shipped sales, and BOPIS at the pickup store."""
    header = sales.transactions.set_index("transaction_id")
    lines = sales.lines
    pickup = header["pickup_store_id"].reindex(lines["transaction_id"]).to_numpy(dtype="float", na_value=np.nan)
    store = header["store_id"].reindex(lines["transaction_id"]).to_numpy()
    store = np.where(np.isnan(pickup), store, pickup).astype(int)
    sold = np.zeros((stores, products), dtype=np.int64)
    np.add.at(sold, (store, product_index.loc[lines["product_id"]].to_numpy()), lines["quantity"].to_numpy())
    return sold


def sale_events(sales: DaySales) -> pd.DataFrame:
    """The IoT feed's view of the day's sales: sale events, and BOPIS at the pickup store and online."""
    lines = sales.lines.merge(sales.transactions, on="transaction_id")
    bopis = lines["fulfillment"] == "bopis"
    sold = lines[~bopis]
    picked = lines[bopis]
    return pd.concat(
        [
            _events(
                sold["transaction_id"].to_numpy(),
                sold["store_id"].to_numpy(),
                sold["timestamp"].to_numpy(),
                SALE,
                sold["product_id"].to_numpy(),
                -sold["quantity"].to_numpy(),
            ),
            _events(
                picked["transaction_id"].to_numpy(),
                picked["pickup_store_id"].to_numpy(dtype=int),
                picked["timestamp"].to_numpy(),
                BOPIS,
                picked["product_id"].to_numpy(),
                -picked["quantity"].to_numpy(),
            ),
            # The online store records the BOPIS order too; the position rule leaves these out.
            _events(
                (picked["transaction_id"] + "-ONLINE").to_numpy(),
                np.zeros(len(picked), dtype=int),
                picked["timestamp"].to_numpy(),
                BOPIS,
                picked["product_id"].to_numpy(),
                -picked["quantity"].to_numpy(),
            ),
        ],
        ignore_index=True,
    )


def simulate_day(
    seed: int,
    day: int,
    date: dt.date,
    ledger: StockLedger,
    sales: DaySales,
    product_index: pd.Series,
    employees: np.ndarray,
) -> DayInventory:
    """Moves the ledger through one day and returns the day's change events and counts."""
    rng = stream(seed, "inventory", day)
    stores, products = ledger.quantity.shape
    low = ledger.quantity < ledger.safety[None, :]
    refill = np.where(low, 4 * ledger.safety[None, :] - ledger.quantity, 0)
    restock = _pair_events(ledger, low, refill, date, "R", RESTOCK, RESTOCK_TIME)
    ledger.quantity += refill

    ledger.quantity -= sold_quantities(sales, stores, products, product_index)

    shrink_mask = (rng.random((stores, products)) < 0.001) & (ledger.quantity > 0)
    shrink = _pair_events(ledger, shrink_mask, np.full((stores, products), -1), date, "S", SHRINK, SHRINK_TIME)
    ledger.quantity -= shrink_mask

    store_index, product_idx = np.indices((stores, products))
    counted = (product_idx + 7 * store_index) % CYCLE_DAYS == day % CYCLE_DAYS
    missing = counted & (rng.random((stores, products)) < 0.01) & (ledger.quantity > 0)
    ledger.quantity -= missing
    s, p = np.nonzero(counted)
    snapshots = pd.DataFrame(
        {
            "item_id": ledger.product_ids[p],
            "employee_id": employees[s],
            "store_id": s,
            "date_time": f"{date} {COUNT_TIME}",
            "quantity": ledger.quantity[s, p],
        }
    )
    changes = pd.concat([restock, sale_events(sales), shrink], ignore_index=True)
    return DayInventory(changes=changes, snapshots=snapshots)
