"""Writes the generated feeds into the landing zone, one folder per feed and arrival date, and the
manifest of what was planted.

The simulation always runs from the data set's first day (its origin), so a later call that appends
days continues the same stock levels, prices and customers; only the asked-for days are written.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from retail_lakehouse.core.errors import LandingConflictError
from retail_lakehouse.generator import activity, calendar, dirty, serialize
from retail_lakehouse.generator.demand import (
    WEEKDAY_FACTOR,
    DayPrices,
    next_prices,
    product_demand,
    typical_daily_lines,
)
from retail_lakehouse.generator.dimensions import Dimensions, department_of_subcategories, make_dimensions
from retail_lakehouse.generator.inventory import (
    MISSED_DELIVERY_PROBABILITY,
    StockLedger,
    censor_sales,
    employee_ids,
    opening_snapshot,
    reorder_points,
    restock,
    simulate_day,
)
from retail_lakehouse.generator.options import GeneratorOptions
from retail_lakehouse.generator.randomness import stream
from retail_lakehouse.generator.reference import INVENTORY_CHANGE_TYPES
from retail_lakehouse.generator.sales import Affinity, DaySales, day_sales, plant_affinities

MANIFEST = "_manifest.json"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass
class FileFacts:
    rows: int
    dirty: dict[str, int] = field(default_factory=dict)


@dataclass
class Delivery:
    """The files of one arrival date: relative path -> (bytes, facts)."""

    files: dict[str, tuple[bytes, FileFacts]] = field(default_factory=dict)

    def csv(self, relative: str, frame: pd.DataFrame, *, trailing_newline: bool = True) -> None:
        text = serialize.csv_text(frame, trailing_newline=trailing_newline)
        self.files[relative] = (text.encode(), FileFacts(rows=len(frame)))

    def lines(
        self, relative: str, lines: list[str], *, header: str | None = None, dirty_counts: dict[str, int] | None = None
    ) -> None:
        text = "".join(f"{line}\n" for line in ([header] if header else []) + lines)
        self.files[relative] = (text.encode(), FileFacts(rows=len(lines), dirty=dirty_counts or {}))


def write_delivery(landing: Path, delivery: Delivery) -> None:
    """Writes all files of a delivery, or none: a landed file that would change is refused up front."""
    for relative, (data, _) in delivery.files.items():
        target = landing / relative
        if target.exists() and target.read_bytes() != data:
            raise LandingConflictError(
                f"{target} already exists with other content; bronze ingests each file once, so write the new "
                "delivery under another --start-date, or clear the landing zone and the lakehouse"
            )
    for relative, (data, _) in delivery.files.items():
        target = landing / relative
        if not target.exists():  # the same delivery again changes nothing
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)


# Feed name -> its folder in the landing zone (each folder holds one subfolder per arrival date).
FEED_FOLDERS = {
    "stores": "stores",
    "categories": "categories",
    "suppliers": "suppliers",
    "products": "products",
    "customers": "customers",
    "pos_transactions": "pos_transactions",
    "ecommerce_orders": "ecommerce_orders",
    "loyalty_events": "loyalty_events",
    "competitor_prices": "competitor_prices",
    "inventory_store": "inventory/store",
    "inventory_item": "inventory/item",
    "inventory_reorder_points": "inventory/reorder_point",
    "inventory_change_type": "inventory/inventory_change_type",
    "inventory_changes": "inventory/changes",
    "inventory_snapshots": "inventory/snapshots",
    "weather": "weather",
}
_FEED_OF_FOLDER = {folder: feed for feed, folder in FEED_FOLDERS.items()}


def landing_path(feed: str, date: dt.date, file_name: str) -> str:
    return f"{FEED_FOLDERS[feed]}/{date.isoformat()}/{file_name}"


def feed_of(relative: str) -> str:
    """'inventory/changes/2025-01-01/x.jsonl' -> 'inventory_changes'."""
    return _FEED_OF_FOLDER["/".join(relative.split("/")[:-2])]


@dataclass
class AffinityCounts:
    """Baskets containing the antecedent, all consequents, and everything, summed over days."""

    affinity: Affinity
    antecedent: int = 0
    consequents: int = 0
    together: int = 0


@dataclass
class Day:
    """One simulated day: its sales (censored to the stock), prices, weather and morning deliveries."""

    number: int
    date: dt.date
    sales: DaySales
    prices: DayPrices
    weather: pd.DataFrame
    restocked: pd.DataFrame


@dataclass
class StockOutCounts:
    """Store-product-days whose demand exceeded the stock, and the units not sold for it."""

    store_product_days: int = 0
    lost_units: int = 0

    def add(self, stock_outs: np.ndarray, lost_units: int) -> None:
        self.store_product_days += int(stock_outs.sum())
        self.lost_units += lost_units


class Simulation:
    """The data set's state from its origin day on."""

    def __init__(self, options: GeneratorOptions, origin: dt.date) -> None:
        self.options = options
        self.origin = origin
        seed = options.seed
        self.dims: Dimensions = make_dimensions(seed, options.scale, origin)
        self.customers = self.dims.customers.copy()
        products = self.dims.products
        self.product_ids = products["product_id"].to_numpy()
        self.product_index = pd.Series(np.arange(len(products)), index=self.product_ids)
        departments = department_of_subcategories(self.dims.categories)
        self.demand = product_demand(seed, products, departments.loc[products["category_id"]].to_numpy())
        self.affinities = plant_affinities(seed, self.demand)
        self.affinity_counts = [AffinityCounts(a) for a in self.affinities]
        self.baskets = 0
        square_feet = self.dims.stores["square_feet"].to_numpy(dtype=float)[1:]
        self.store_weights = square_feet / square_feet.sum()
        loyalty = 1.0 / (stream(seed, "customer-loyalty").permutation(len(self.customers)) + 10.0) ** 0.5
        self.customer_weights = loyalty / loyalty.sum()
        self.ledger = StockLedger.opening(
            seed, len(self.dims.stores), products["safety_stock_quantity"].to_numpy(), self.product_ids
        )
        self.employees = employee_ids(seed, len(self.dims.stores))
        self.prices: DayPrices | None = None
        physical = self.dims.stores.iloc[1:]
        self.store_regions = physical["region"].to_numpy()
        self.weather = calendar.Weather.start(sorted(set(self.store_regions)))
        self.stock_outs = StockOutCounts()

    def store_factors(self, date: dt.date, weather: pd.DataFrame) -> np.ndarray:
        """The day's demand multiplier per physical store: public holiday and the region's weather."""
        physical = self.dims.stores.iloc[1:]
        holiday = calendar.store_holidays(physical["country"], physical["subdivision"], date)
        by_region = weather.set_index("region").loc[self.store_regions]
        weather_effect = calendar.weather_factor(
            by_region["temperature_c"].to_numpy(), by_region["precipitation_mm"].to_numpy()
        )
        factors: np.ndarray = np.where(holiday, calendar.HOLIDAY_UPLIFT, 1.0) * weather_effect
        return factors

    def days(self) -> Iterator[Day]:
        day = 0
        date = self.origin
        while date <= self.options.end_date:
            previous = None if self.prices is None else self.prices.list_price
            self.prices = next_prices(self.options.seed, day, self.demand, previous)
            weather = self.weather.next_day(self.options.seed, day, date)
            demanded = day_sales(
                self.options.seed,
                day,
                date,
                self.demand,
                self.prices,
                self.product_ids,
                self.store_weights,
                self.customer_weights,
                self.affinities,
                self.options.scale,
                self.store_factors(date, weather),
            )
            restocked = restock(self.options.seed, day, date, self.ledger)
            censored = censor_sales(demanded, self.ledger.quantity, self.product_index)
            self.stock_outs.add(censored.stock_outs, censored.lost_units)
            self._count_affinities(censored.sales)
            yield Day(day, date, censored.sales, self.prices, weather, restocked)
            day += 1
            date += dt.timedelta(days=1)

    def _count_affinities(self, sales: DaySales) -> None:
        baskets = sales.lines.groupby("transaction_id")["product"].agg(frozenset)
        self.baskets += len(baskets)
        for counts in self.affinity_counts:
            a = counts.affinity
            has_antecedent = baskets.map(lambda b, p=a.antecedent: p in b)
            has_consequents = baskets.map(lambda b, c=a.consequents: all(p in b for p in c))
            counts.antecedent += int(has_antecedent.sum())
            counts.consequents += int(has_consequents.sum())
            counts.together += int((has_antecedent & has_consequents).sum())

    def planted_affinities(self) -> list[dict[str, Any]]:
        planted = []
        for counts in self.affinity_counts:
            if not counts.antecedent or not counts.consequents:
                continue
            support = counts.together / self.baskets
            confidence = counts.together / counts.antecedent
            planted.append(
                {
                    "antecedent": [str(self.product_ids[counts.affinity.antecedent])],
                    "consequent": [str(self.product_ids[c]) for c in counts.affinity.consequents],
                    "support": round(support, 6),
                    "confidence": round(confidence, 6),
                    "lift": round(confidence / (counts.consequents / self.baskets), 4),
                }
            )
        return planted


def store_reorder_points(sim: Simulation) -> pd.DataFrame:
    """The physical stores' reorder point of every item (the online store orders centrally: none)."""
    products, suppliers = sim.dims.products, sim.dims.suppliers.set_index("supplier_id")
    lead_time = suppliers.loc[products["supplier_id"], "lead_time_days"].to_numpy()
    points = reorder_points(
        products["safety_stock_quantity"].to_numpy(),
        lead_time,
        typical_daily_lines(sim.demand, sim.options.scale),
        sim.store_weights,
    )
    stores = sim.dims.stores["store_id"].to_numpy()[1:]
    return pd.DataFrame(
        {
            "store_id": np.repeat(stores, len(products)),
            "item_id": np.tile(sim.product_ids, len(stores)),
            "reorder_point_quantity": points.ravel(),
        }
    )


def origin_delivery(sim: Simulation, date: dt.date, opening_count: pd.DataFrame) -> Delivery:
    """Master data and the opening stock count, delivered on the first day."""
    d = date.isoformat()
    dims = sim.dims
    delivery = Delivery()
    delivery.csv(landing_path("stores", date, "stores.csv"), dims.stores)
    delivery.csv(landing_path("categories", date, "categories.csv"), dims.categories)
    delivery.csv(landing_path("suppliers", date, "suppliers.csv"), dims.suppliers)
    delivery.csv(
        landing_path("products", date, f"products_{d}.csv"),
        dims.products.drop(columns="safety_stock_quantity").assign(updated_at=f"{date} 00:00:00"),
    )
    header, rows = serialize.csv_rows(sim.customers)
    rng = stream(sim.options.seed, "dirty-customers", -1)
    bad, counts = dirty.dirty_customers(rng, header, rows, sim.options.dirty_rate, 10 * len(sim.customers))
    delivery.lines(
        landing_path("customers", date, f"customers_{d}.csv"),
        dirty.mix(rng, rows, bad),
        header=header,
        dirty_counts=counts,
    )
    stores = dims.stores.assign(name=["online", *(f"store_{i:03d}" for i in dims.stores["store_id"][1:])])
    delivery.csv(landing_path("inventory_store", date, "store.txt"), stores[["store_id", "name"]])
    items = dims.products.rename(columns={"product_id": "item_id"})
    delivery.csv(
        landing_path("inventory_item", date, "item.txt"),
        items[["item_id", "name", "supplier_id", "safety_stock_quantity"]],
    )
    delivery.csv(landing_path("inventory_reorder_points", date, "reorder_point.csv"), store_reorder_points(sim))
    # The accelerator's file has no trailing newline; keep that, readers must cope with it.
    delivery.csv(
        landing_path("inventory_change_type", date, "inventory_change_type.txt"),
        INVENTORY_CHANGE_TYPES,
        trailing_newline=False,
    )
    delivery.csv(landing_path("inventory_snapshots", date, f"inventory_snapshots_{d}_opening.csv"), opening_count)
    return delivery


def daily_delivery(
    sim: Simulation,
    today: Day,
    changed_customers: pd.DataFrame,
    changes: pd.DataFrame,
    snapshots: pd.DataFrame,
) -> Delivery:
    seed, rate = sim.options.seed, sim.options.dirty_rate
    day, date, sales, prices = today.number, today.date, today.sales, today.prices
    d = date.isoformat()
    delivery = Delivery()
    rng = stream(seed, "dirty", day)

    header, line_fields = serialize.pos_fields(sales.transactions, sales.lines)
    clean = serialize.pos_json_lines(header, line_fields)
    bad, counts = dirty.dirty_pos(rng, date, header, line_fields, clean, rate)
    delivery.lines(
        landing_path("pos_transactions", date, f"pos_transactions_{d}.jsonl"),
        dirty.mix(rng, list(clean), bad),
        dirty_counts=counts,
    )
    delivery.lines(
        landing_path("ecommerce_orders", date, f"ecommerce_orders_{d}.jsonl"),
        serialize.records_json_lines(activity.ecommerce_orders(sales)),
    )
    delivery.csv(
        landing_path("loyalty_events", date, f"loyalty_events_{d}.csv"), activity.loyalty_events(seed, day, date, sales)
    )
    if day == 0 or date.weekday() == 0:
        delivery.csv(
            landing_path("competitor_prices", date, f"competitor_prices_{d}.csv"),
            activity.competitor_prices(seed, day, date, sim.product_ids, prices),
        )
    if day > 0:
        changed_products = activity.product_changes(date, sim.dims.products, prices)
        if len(changed_products):
            delivery.csv(
                landing_path("products", date, f"products_{d}.csv"),
                changed_products.drop(columns="safety_stock_quantity"),
            )
        if len(changed_customers):
            delivery.csv(landing_path("customers", date, f"customers_{d}.csv"), changed_customers)
    clean_changes = list(serialize.inventory_change_json_lines(changes))
    bad, counts = dirty.dirty_inventory_changes(rng, clean_changes, rate)
    delivery.lines(
        landing_path("inventory_changes", date, f"inventory_changes_{d}.jsonl"),
        dirty.mix(rng, clean_changes, bad),
        dirty_counts=counts,
    )
    delivery.csv(landing_path("inventory_snapshots", date, f"inventory_snapshots_{d}.csv"), snapshots)
    delivery.csv(landing_path("weather", date, f"weather_{d}.csv"), today.weather)
    return delivery


def read_manifest(landing: Path) -> dict[str, Any] | None:
    path = landing / MANIFEST
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def origin_for(options: GeneratorOptions, previous: dict[str, Any] | None) -> dt.date:
    """The data set's first day: the previous manifest's, when this call continues that data set."""
    if previous is None:
        return options.start_date
    before = previous["generator"]
    same = {k: before.get(k) for k in ("seed", "scale", "dirty_rate")}
    now = {"seed": options.seed, "scale": options.scale, "dirty_rate": options.dirty_rate}
    origin = dt.date.fromisoformat(before["origin"])
    end = dt.date.fromisoformat(before["end_date"])
    if same != now:
        raise LandingConflictError(
            f"the landing zone holds a data set generated with {same}; generate into an empty landing zone for {now}"
        )
    if not origin <= options.start_date <= end + dt.timedelta(days=1):
        raise LandingConflictError(
            f"the landing zone holds {origin}..{end}; continue it with --start-date {end + dt.timedelta(days=1)}"
        )
    return origin


def generate_landing(landing: Path, options: GeneratorOptions) -> dict[str, Any]:
    """Writes the feeds for the asked-for days and `_manifest.json`; returns the manifest."""
    previous = read_manifest(landing)
    origin = origin_for(options, previous)
    sim = Simulation(options, origin)
    files: dict[str, dict[str, Any]] = {
        path: facts
        for path, facts in (previous or {}).get("files", {}).items()
        if dt.date.fromisoformat(path.split("/")[-2]) < options.start_date
    }
    for today in sim.days():
        day, date = today.number, today.date
        changed_customers = activity.customer_changes(options.seed, day, date, sim.customers) if day else None
        # Opening stock is at least 3x safety, so the first morning brings no delivery before this count.
        opening_count = opening_snapshot(sim.ledger, date, sim.employees) if day == 0 else None
        inventory = simulate_day(
            options.seed, day, date, sim.ledger, today.sales, sim.product_index, sim.employees, today.restocked
        )
        if date < options.start_date:
            continue
        delivery = Delivery() if opening_count is None else origin_delivery(sim, date, opening_count)
        empty = sim.customers.iloc[0:0]
        delivery.files |= daily_delivery(
            sim,
            today,
            empty if changed_customers is None else changed_customers,
            inventory.changes,
            inventory.snapshots,
        ).files
        write_delivery(landing, delivery)
        files |= {path: asdict(facts) for path, (_, facts) in delivery.files.items()}

    manifest = build_manifest(options, origin, files, sim)
    (landing / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest


def build_manifest(
    options: GeneratorOptions, origin: dt.date, files: dict[str, dict[str, Any]], sim: Simulation
) -> dict[str, Any]:
    feeds: dict[str, dict[str, Any]] = {}
    for path in sorted(files):
        facts = files[path]
        feed = feeds.setdefault(feed_of(path), {"files": [], "rows": 0, "dirty": {}})
        feed["files"].append(path)
        feed["rows"] += facts["rows"]
        for kind, count in facts["dirty"].items():
            feed["dirty"][kind] = feed["dirty"].get(kind, 0) + count
    for feed in feeds.values():
        feed["clean_rows"] = feed["rows"] - sum(feed["dirty"].values())
    products = sim.dims.products["product_id"].astype(str)
    return {
        "generator": {
            "seed": options.seed,
            "scale": options.scale,
            "dirty_rate": options.dirty_rate,
            "origin": origin.isoformat(),
            "end_date": options.end_date.isoformat(),
        },
        "feeds": feeds,
        "planted": {
            "elasticity": dict(zip(products, sim.demand.elasticity.tolist(), strict=True)),
            "dynamic_pricing": products[sim.demand.dynamic].tolist(),
            "affinities": sim.planted_affinities(),
            "demand": {
                **calendar.planted_effects(),
                "weekday_factor": dict(zip(WEEKDAYS, WEEKDAY_FACTOR.tolist(), strict=True)),
                "missed_delivery_probability": MISSED_DELIVERY_PROBABILITY,
                "stock_outs": asdict(sim.stock_outs),
            },
        },
        "files": files,
    }
