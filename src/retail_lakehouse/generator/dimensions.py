"""Master data: stores, the category hierarchy, suppliers, products and customers (with PII)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from retail_lakehouse.generator.randomness import stream

PHYSICAL_STORES_AT_SCALE_1 = 50
PRODUCTS_AT_SCALE_1 = 5000
SUPPLIERS_AT_SCALE_1 = 200
CUSTOMERS_AT_SCALE_1 = 50_000
FIRST_PRODUCT_ID = 100001
ONLINE_STORE_ID = 0

REGIONS = np.array(["North", "South", "East", "West", "Central"])
STORE_FORMATS = np.array(["Flagship", "Standard", "Standard", "Outlet"])
CITIES = np.array(
    [
        "Amsterdam",
        "Berlin",
        "Copenhagen",
        "Dublin",
        "Edinburgh",
        "Frankfurt",
        "Geneva",
        "Hamburg",
        "Lyon",
        "Madrid",
        "Milan",
        "Munich",
        "Oslo",
        "Paris",
        "Prague",
        "Rotterdam",
        "Stockholm",
        "Utrecht",
        "Vienna",
        "Zurich",
    ]
)
FIRST_NAMES = np.array(
    [
        "Alex",
        "Anna",
        "Ben",
        "Chloe",
        "David",
        "Emma",
        "Finn",
        "Grace",
        "Hugo",
        "Isla",
        "Jack",
        "Julia",
        "Leo",
        "Lena",
        "Liam",
        "Maya",
        "Noah",
        "Olivia",
        "Paul",
        "Sara",
        "Tom",
        "Zoe",
    ]
)
LAST_NAMES = np.array(
    [
        "Andersen",
        "Bakker",
        "Costa",
        "Dubois",
        "Eriksen",
        "Fischer",
        "Garcia",
        "Hansen",
        "Jansen",
        "Keller",
        "Larsen",
        "Meyer",
        "Novak",
        "Olsen",
        "Peeters",
        "Rossi",
        "Schmidt",
        "Weber",
    ]
)
# city -> (ISO country, subdivision for the `holidays` package: regional public holidays)
CITY_LOCATIONS: dict[str, tuple[str, str]] = {
    "Amsterdam": ("NL", ""),
    "Berlin": ("DE", "BE"),
    "Copenhagen": ("DK", ""),
    "Dublin": ("IE", ""),
    "Edinburgh": ("GB", "SCT"),
    "Frankfurt": ("DE", "HE"),
    "Geneva": ("CH", "GE"),
    "Hamburg": ("DE", "HH"),
    "Lyon": ("FR", ""),
    "Madrid": ("ES", "MD"),
    "Milan": ("IT", "MI"),
    "Munich": ("DE", "BY"),
    "Oslo": ("NO", ""),
    "Paris": ("FR", ""),
    "Prague": ("CZ", ""),
    "Rotterdam": ("NL", ""),
    "Stockholm": ("SE", ""),
    "Utrecht": ("NL", ""),
    "Vienna": ("AT", "9"),
    "Zurich": ("CH", "ZH"),
}
GENDERS = np.array(["F", "M", "O"])
SEGMENTS = np.array(["Consumer", "Enthusiast", "Professional", "Team"])
COUNTRIES = np.array(["DE", "NL", "IT", "TW", "CN", "US", "FR"])
SAFETY_STOCK_LEVELS = np.array([5, 10, 15, 20, 25])

# department -> category -> subcategories (cycling retail, as in the reference architecture)
CATEGORY_TREE: dict[str, dict[str, list[str]]] = {
    "Bikes": {
        "Road Bikes": ["Race", "Endurance"],
        "Mountain Bikes": ["Hardtail", "Full Suspension"],
        "City Bikes": ["Commuter", "E-Bike"],
    },
    "Accessories": {
        "Helmets": ["Road Helmets", "MTB Helmets"],
        "Lights": ["Front Lights", "Rear Lights"],
        "Locks": ["U-Locks", "Chain Locks"],
        "Bags": ["Panniers", "Saddle Bags"],
    },
    "Clothing": {
        "Jerseys": ["Short Sleeve", "Long Sleeve"],
        "Shorts": ["Bib Shorts", "Baggy Shorts"],
        "Gloves": ["Summer Gloves", "Winter Gloves"],
    },
    "Components": {
        "Drivetrain": ["Chains", "Cassettes"],
        "Brakes": ["Disc Brakes", "Rim Brakes"],
        "Wheels": ["Road Wheels", "MTB Wheels"],
        "Tires": ["Road Tires", "MTB Tires"],
    },
    "Nutrition": {"Energy": ["Gels", "Bars"], "Hydration": ["Bottles", "Electrolytes"]},
}
# Typical price range per department (list price), and cost as a share of it.
DEPARTMENT_PRICES = {
    "Bikes": (450.0, 4500.0),
    "Accessories": (12.0, 180.0),
    "Clothing": (20.0, 160.0),
    "Components": (15.0, 900.0),
    "Nutrition": (2.0, 30.0),
}


def scaled(count_at_scale_1: int, scale: float, minimum: int) -> int:
    return max(minimum, round(count_at_scale_1 * scale))


@dataclass(frozen=True)
class Dimensions:
    stores: pd.DataFrame
    categories: pd.DataFrame
    suppliers: pd.DataFrame
    products: pd.DataFrame
    customers: pd.DataFrame


def make_stores(seed: int, scale: float, origin: dt.date) -> pd.DataFrame:
    rng = stream(seed, "stores")
    physical = scaled(PHYSICAL_STORES_AT_SCALE_1, scale, minimum=1)
    ids = np.arange(physical + 1)
    formats = np.concatenate([["Online"], rng.choice(STORE_FORMATS, physical)])
    sqft = np.where(
        formats == "Flagship",
        rng.integers(15_000, 30_000, physical + 1),
        np.where(
            formats == "Outlet", rng.integers(4_000, 8_000, physical + 1), rng.integers(6_000, 14_000, physical + 1)
        ),
    )
    opened = [origin - dt.timedelta(days=int(d)) for d in rng.integers(200, 5000, physical + 1)]
    regions = np.concatenate([["Online"], rng.choice(REGIONS, physical)])
    cities = np.concatenate([["Online"], rng.choice(CITIES, physical)])
    located = [CITY_LOCATIONS.get(str(c), ("", "")) for c in cities]
    return pd.DataFrame(
        {
            "store_id": ids,
            "name": ["Online Store", *(f"Store {i:03d}" for i in ids[1:])],
            "region": regions,
            "format": formats,
            "square_feet": np.where(ids == ONLINE_STORE_ID, 0, sqft),
            "city": cities,
            "opened_date": [d.isoformat() for d in opened],
            "country": [country for country, _ in located],
            "subdivision": [subdivision for _, subdivision in located],
        }
    )


def make_categories() -> pd.DataFrame:
    rows: list[tuple[int, str, int | None, str]] = []
    next_id = 1
    for department, categories in CATEGORY_TREE.items():
        department_id = next_id
        rows.append((department_id, department, None, "department"))
        next_id += 1
        for category, subcategories in categories.items():
            category_id = next_id
            rows.append((category_id, category, department_id, "category"))
            next_id += 1
            for subcategory in subcategories:
                rows.append((next_id, subcategory, category_id, "subcategory"))
                next_id += 1
    frame = pd.DataFrame(rows, columns=["category_id", "name", "parent_id", "level"])
    frame["parent_id"] = frame["parent_id"].astype("Int64")
    return frame


def make_suppliers(seed: int, scale: float) -> pd.DataFrame:
    rng = stream(seed, "suppliers")
    count = scaled(SUPPLIERS_AT_SCALE_1, scale, minimum=3)
    return pd.DataFrame(
        {
            "supplier_id": np.arange(1, count + 1),
            "name": [f"Supplier {i:04d}" for i in range(1, count + 1)],
            "country": rng.choice(COUNTRIES, count),
            "lead_time_days": rng.integers(2, 30, count),
        }
    )


def department_of_subcategories(categories: pd.DataFrame) -> pd.Series:
    """For every subcategory id, its department's name."""
    by_id = categories.set_index("category_id")
    subcategories = categories[categories["level"] == "subcategory"]
    parents = by_id.loc[subcategories["parent_id"].astype(int), "parent_id"].astype(int).to_numpy()
    return pd.Series(by_id.loc[parents, "name"].to_numpy(), index=subcategories["category_id"].to_numpy())


def make_products(seed: int, scale: float, categories: pd.DataFrame, suppliers: pd.DataFrame) -> pd.DataFrame:
    rng = stream(seed, "products")
    count = scaled(PRODUCTS_AT_SCALE_1, scale, minimum=20)
    departments = department_of_subcategories(categories)
    subcategory = rng.choice(departments.index.to_numpy(), count)
    department = departments.loc[subcategory].to_numpy()
    low = np.array([DEPARTMENT_PRICES[d][0] for d in department])
    high = np.array([DEPARTMENT_PRICES[d][1] for d in department])
    # Log-uniform prices inside the department's range, ending in .99.
    list_price = np.floor(np.exp(rng.uniform(np.log(low), np.log(high)))) + 0.99
    cost = np.round(list_price * rng.uniform(0.45, 0.7, count), 2)
    ids = FIRST_PRODUCT_ID + np.arange(count)
    names = categories.set_index("category_id").loc[subcategory, "name"].to_numpy()
    return pd.DataFrame(
        {
            "product_id": ids,
            "sku": [f"SKU-{i:06d}" for i in ids],
            "name": [f"{n} {i:06d}" for n, i in zip(names, ids, strict=True)],
            "category_id": subcategory,
            "cost": cost,
            "list_price": list_price,
            "supplier_id": rng.integers(1, len(suppliers) + 1, count),
            "safety_stock_quantity": rng.choice(SAFETY_STOCK_LEVELS, count),
        }
    )


def make_customers(seed: int, scale: float, origin: dt.date) -> pd.DataFrame:
    rng = stream(seed, "customers")
    count = scaled(CUSTOMERS_AT_SCALE_1, scale, minimum=50)
    ids = np.arange(1, count + 1)
    first = rng.choice(FIRST_NAMES, count)
    last = rng.choice(LAST_NAMES, count)
    birth = pd.to_datetime(origin) - pd.to_timedelta(rng.integers(18 * 365, 80 * 365, count), unit="D")
    registered = pd.to_datetime(origin) - pd.to_timedelta(rng.integers(1, 6 * 365, count), unit="D")
    return pd.DataFrame(
        {
            "customer_id": ids,
            "first_name": first,
            "last_name": last,
            "email": [f"{f.lower()}.{s.lower()}{i}@example.com" for f, s, i in zip(first, last, ids, strict=True)],
            "phone": [f"+31 6 {n:08d}" for n in rng.integers(0, 10**8, count)],
            "gender": rng.choice(GENDERS, count, p=[0.47, 0.48, 0.05]),
            "birth_date": birth.strftime("%Y-%m-%d"),
            "registration_date": registered.strftime("%Y-%m-%d"),
            "segment": rng.choice(SEGMENTS, count, p=[0.6, 0.25, 0.1, 0.05]),
            "city": rng.choice(CITIES, count),
            "updated_at": registered.strftime("%Y-%m-%d 00:00:00"),
        }
    )


def make_dimensions(seed: int, scale: float, origin: dt.date) -> Dimensions:
    categories = make_categories()
    suppliers = make_suppliers(seed, scale)
    return Dimensions(
        stores=make_stores(seed, scale, origin),
        categories=categories,
        suppliers=suppliers,
        products=make_products(seed, scale, categories, suppliers),
        customers=make_customers(seed, scale, origin),
    )
