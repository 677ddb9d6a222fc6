"""Store stock that moves the way a store's does: restock when low, sales, shrink, cycle counts.

Produces the accelerator's two feeds: change events (sale, shrink, restock, bopis; one event per
transaction with its items, signed quantities) and snapshots (counted quantity per item and store).
Every count equals the stock the events imply at its time, except a planted 1% of recounts that find
one unit less (shrinkage nobody recorded), which then becomes the stock.

A store never sells what it does not have: a planted share of due deliveries is missed, the stock of a
fast seller can run out, and the sale lines beyond the stock are not made (censored demand; the manifest
counts them).
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
MISSED_DELIVERY_PROBABILITY = 0.08


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


def stock_store_of_lines(sales: DaySales) -> np.ndarray:
    """The store whose stock each line draws on: the sale's store, or the pickup store of a BOPIS order."""
    header = sales.transactions.set_index("transaction_id")
    lines = sales.lines
    pickup = header["pickup_store_id"].reindex(lines["transaction_id"]).to_numpy(dtype="float", na_value=np.nan)
    store = header["store_id"].reindex(lines["transaction_id"]).to_numpy()
    stores: np.ndarray = np.where(np.isnan(pickup), store, pickup).astype(int)
    return stores


def sold_quantities(sales: DaySales, stores: int, products: int, product_index: pd.Series) -> np.ndarray:
    """Units leaving each store's stock: in-store and shipped sales, and BOPIS at the pickup store."""
    lines = sales.lines
    sold = np.zeros((stores, products), dtype=np.int64)
    np.add.at(
        sold,
        (stock_store_of_lines(sales), product_index.loc[lines["product_id"]].to_numpy()),
        lines["quantity"].to_numpy(),
    )
    return sold


@dataclass(frozen=True)
class CensoredSales:
    sales: DaySales
    stock_outs: np.ndarray  # bool per (store, product): demand exceeded the stock this day
    lost_units: int


def censor_sales(sales: DaySales, stock: np.ndarray, product_index: pd.Series) -> CensoredSales:
    """The day's sales a store could serve: per store and product, lines in time order while the stock
    lasts; the line that meets the last units gets those (its discount in proportion), later lines none.
    A transaction left without lines is not made either. A censored day therefore ends with no stock."""
    lines = sales.lines
    store = stock_store_of_lines(sales)
    product = product_index.loc[lines["product_id"]].to_numpy()
    time = sales.transactions.set_index("transaction_id")["timestamp"].reindex(lines["transaction_id"]).to_numpy()
    frame = pd.DataFrame(
        {"store": store, "product": product, "time": time, "quantity": lines["quantity"].to_numpy()},
        index=lines.index,
    ).sort_values(["store", "product", "time"], kind="stable")
    served_before = frame.groupby(["store", "product"])["quantity"].cumsum() - frame["quantity"]
    available = stock[frame["store"], frame["product"]]
    frame["served"] = np.clip(available - served_before.to_numpy(), 0, frame["quantity"].to_numpy())
    short = frame[frame["served"] < frame["quantity"]]
    stock_outs = np.zeros(stock.shape, dtype=bool)
    stock_outs[short["store"], short["product"]] = True
    if short.empty:
        return CensoredSales(sales=sales, stock_outs=stock_outs, lost_units=0)
    served = frame["served"].reindex(lines.index).to_numpy()
    kept = lines.assign(quantity=served)[served > 0].copy()
    ordered = lines["quantity"].to_numpy()[served > 0]
    kept["discount"] = np.round(kept["discount"].to_numpy() * kept["quantity"].to_numpy() / ordered, 2)
    kept["line_number"] = kept.groupby("transaction_id").cumcount() + 1
    transactions = sales.transactions[sales.transactions["transaction_id"].isin(kept["transaction_id"])]
    return CensoredSales(
        sales=DaySales(transactions=transactions.reset_index(drop=True), lines=kept.reset_index(drop=True)),
        stock_outs=stock_outs,
        lost_units=int((short["quantity"] - short["served"]).sum()),
    )


def restock(seed: int, day: int, date: dt.date, ledger: StockLedger) -> pd.DataFrame:
    """The morning's deliveries: stock below safety is refilled to 4x safety, unless the delivery is missed."""
    rng = stream(seed, "deliveries", day)
    low = ledger.quantity < ledger.safety[None, :]
    delivered = low & (rng.random(ledger.quantity.shape) >= MISSED_DELIVERY_PROBABILITY)
    refill = np.where(delivered, 4 * ledger.safety[None, :] - ledger.quantity, 0)
    events = _pair_events(ledger, delivered, refill, date, "R", RESTOCK, RESTOCK_TIME)
    ledger.quantity += refill
    return events


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
    restocked: pd.DataFrame,
) -> DayInventory:
    """Moves the ledger through the rest of a day whose deliveries (`restock`) came and whose sales were
    censored to the stock, and returns the day's change events and counts."""
    rng = stream(seed, "inventory", day)
    stores, products = ledger.quantity.shape
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
    changes = pd.concat([restocked, sale_events(sales), shrink], ignore_index=True)
    return DayInventory(changes=changes, snapshots=snapshots)
