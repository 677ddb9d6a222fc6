"""The catalogue: every transform configuration may name. The only module that imports the layers'
transforms (bronze, silver, gold, inventory); nothing in them imports it. The CLI passes it to
configuration loading, which checks jobs against it, and through the loaded configuration to the runner.

Adding a transform: declare it with `@transform` beside its function (see `core.contracts`), list it here,
name it in a job (`conf/base/jobs.yaml`).
"""

from __future__ import annotations

from retail_lakehouse.bronze import ingestion
from retail_lakehouse.core.contracts import Catalogue, Transform, TransformSpec
from retail_lakehouse.gold import basket, customers, performance, pricing, sales
from retail_lakehouse.inventory import stream as inventory
from retail_lakehouse.silver import activity, dimensions, pos
from retail_lakehouse.silver import inventory as silver_inventory

DECLARED: tuple[Transform, ...] = (  # type: ignore[type-arg]
    ingestion.ingest,
    dimensions.stores,
    dimensions.suppliers,
    dimensions.categories,
    dimensions.products,
    dimensions.customers,
    pos.transactions,
    pos.transaction_lines,
    activity.loyalty_events,
    activity.competitor_prices,
    silver_inventory.inventory_changes,
    silver_inventory.inventory_snapshots,
    sales.sales_daily,
    sales.sales_by_gender_category,
    sales.customer_category_daily,
    performance.store_performance,
    performance.product_performance,
    customers.customer_360,
    basket.frequent_itemsets_of_lines,
    basket.frequent_itemsets_of_text,
    basket.association_rules,
    basket.recommendations,
    pricing.price_elasticity,
    pricing.price_recommendations,
    inventory.inventory_events,
)


def catalogue(*extra: TransformSpec) -> Catalogue:
    """The built-in transforms by name, with `extra` ones (a test's, a deployment's own) added."""
    specs = [declared.spec for declared in DECLARED] + list(extra)
    by_name: dict[str, TransformSpec] = {}
    for spec in specs:
        if spec.name in by_name:
            raise ValueError(f"two transforms are named {spec.name}")
        by_name[spec.name] = spec
    return by_name
