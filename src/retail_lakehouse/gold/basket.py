"""Market basket analysis: FP-Growth frequent itemsets, association rules, and recommendations by lift.

Baskets come from transaction lines (items at product, category or department level) or from a plain text
feed with one basket per line. Rules are derived from the stored itemsets (the standard construction
FP-Growth's own rule generation uses), so the rules job reads a table instead of fitting the model twice:
for every frequent itemset S and item c in it, the rule S - {c} => {c} has
    support = freq(S) / baskets, confidence = freq(S) / freq(S - {c}), lift = confidence / support({c}).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pyspark.ml.fpm import FPGrowth
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from retail_lakehouse.core.contracts import transform
from retail_lakehouse.gold.versions import current

ITEMS = "items"


class ItemsetParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min_support: float = Field(0.01, gt=0, le=1, description="Share of baskets an itemset must appear in.")
    min_basket_size: int = Field(
        1, ge=1, description="Baskets with fewer distinct items are left out (and not counted in support)."
    )
    num_partitions: int | None = Field(None, ge=1, description="FP-Growth's partitions; default: the input's.")


class LineItemsetParams(ItemsetParams):
    item_level: Literal["product", "category", "department"] = Field(
        "product", description="What an item is: the product, its own category, or its top-level department."
    )


class TextItemsetParams(ItemsetParams):
    separator: str = Field(",", min_length=1, description="Between the items of a basket line.")
    trim_items: bool = Field(False, description="Strip spaces around items (off: items are kept exactly as written).")


class RuleParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min_confidence: float = Field(0.3, ge=0, le=1)


class RecommendationParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    top_n: int = Field(5, ge=1, description="Recommendations per item.")
    min_lift: float = Field(1.0, ge=0, description="Only rules that make the item more likely than chance.")


def baskets_from_lines(lines: DataFrame, products: DataFrame, categories: DataFrame, item_level: str) -> DataFrame:
    """One row per transaction: the distinct items bought."""
    if item_level == "product":
        items = lines.select("transaction_id", F.col("product_id").alias("item"))
    else:
        level = "name" if item_level == "category" else "department"
        item_of_product = (
            current(products)
            .select("product_id", "category_id")
            .join(categories.select("category_id", F.col(level).alias("item")), "category_id")
            .select("product_id", "item")
        )
        items = lines.join(F.broadcast(item_of_product), "product_id").select("transaction_id", "item")
    return (
        items.where(F.col("item").isNotNull())
        .groupBy("transaction_id")
        .agg(F.array_sort(F.collect_set("item")).alias(ITEMS))
    )


def baskets_from_text(text_lines: DataFrame, params: TextItemsetParams) -> DataFrame:
    """One basket per line of a text feed (column `value`); empty items and repeats within a line dropped."""
    items = F.split(F.col("value"), _literal_pattern(params.separator))
    if params.trim_items:
        items = F.transform(items, F.trim)
    return text_lines.select(F.array_sort(F.array_distinct(F.filter(items, lambda i: i != ""))).alias(ITEMS))


def _literal_pattern(separator: str) -> str:
    return "".join(f"\\{c}" if not c.isalnum() else c for c in separator)


@transform(
    "gold.frequent_itemsets_from_text",
    description="a text feed, one basket per line -> FP-Growth frequent itemsets",
)
def frequent_itemsets_of_text(source: DataFrame, params: TextItemsetParams) -> DataFrame:
    return frequent_itemsets(baskets_from_text(source, params), params)


@transform(
    "gold.frequent_itemsets",
    description="transaction lines -> FP-Growth frequent itemsets of products, categories or departments",
)
def frequent_itemsets_of_lines(
    source: DataFrame, products: DataFrame, categories: DataFrame, params: LineItemsetParams
) -> DataFrame:
    return frequent_itemsets(baskets_from_lines(source, products, categories, params.item_level), params)


def frequent_itemsets(baskets: DataFrame, params: ItemsetParams) -> DataFrame:
    """FP-Growth over the baskets: every itemset in at least min_support of them, with its frequency,
    support, size, and the number of baskets (which the rules need)."""
    eligible = baskets.where(F.size(ITEMS) >= params.min_basket_size).select(ITEMS).localCheckpoint(eager=True)
    basket_count = eligible.count()
    growth = FPGrowth(itemsCol=ITEMS, minSupport=params.min_support, minConfidence=0.0)
    if params.num_partitions is not None:
        growth = growth.setNumPartitions(params.num_partitions)
    if basket_count == 0:
        found = eligible.select(F.col(ITEMS), F.lit(0).cast("long").alias("freq")).limit(0)
    else:
        found = growth.fit(eligible).freqItemsets
    return found.select(
        F.array_sort(ITEMS).alias(ITEMS),
        F.size(ITEMS).alias("size"),
        F.col("freq").cast("long").alias("freq"),
        (F.col("freq") / F.lit(max(basket_count, 1))).alias("support"),
        F.lit(basket_count).cast("long").alias("basket_count"),
    )


@transform(
    "gold.association_rules",
    description="frequent itemsets -> association rules with one consequent (confidence, lift, support)",
)
def association_rules(source: DataFrame, params: RuleParams) -> DataFrame:
    """Rules with one consequent from the frequent itemsets (see the module docstring)."""
    frequency = source.select(F.col(ITEMS).alias("antecedent"), F.col("freq").alias("antecedent_freq"))
    singles = source.where(F.col("size") == 1).select(
        F.col(ITEMS)[0].alias("_consequent_item"), F.col("support").alias("consequent_support")
    )
    candidates = source.where(F.col("size") >= 2).select(
        F.col(ITEMS), "freq", "support", "basket_count", F.explode(ITEMS).alias("_consequent_item")
    )
    rules = (
        candidates.withColumn("antecedent", F.array_sort(F.array_remove(ITEMS, F.col("_consequent_item"))))
        .join(frequency, "antecedent")
        .join(singles, "_consequent_item")
        .select(
            "antecedent",
            F.array(F.col("_consequent_item")).alias("consequent"),
            (F.col("freq") / F.col("antecedent_freq")).alias("confidence"),
            "support",
            "consequent_support",
            "freq",
        )
        .withColumn("lift", F.col("confidence") / F.col("consequent_support"))
        .where(F.col("confidence") >= params.min_confidence)
    )
    return rules.select(
        "antecedent",
        "consequent",
        "confidence",
        "lift",
        "support",
        F.col("freq").alias("baskets"),
        F.size("antecedent").alias("antecedent_size"),
    )


@transform(
    "gold.recommendations",
    description="association rules -> top-N items to recommend with each item, by lift",
)
def recommendations(source: DataFrame, params: RecommendationParams) -> DataFrame:
    """For every item, the items most likely to join it in a basket: rules whose antecedent is that single
    item, best lift first (ties: confidence, then item), at most top_n."""
    single = source.where((F.col("antecedent_size") == 1) & (F.col("lift") >= params.min_lift)).select(
        F.col("antecedent")[0].alias("item"),
        F.col("consequent")[0].alias("recommended_item"),
        "lift",
        "confidence",
        "support",
    )
    ranked = single.withColumn(
        "rank",
        F.row_number().over(
            Window.partitionBy("item").orderBy(
                F.col("lift").desc(), F.col("confidence").desc(), F.col("recommended_item")
            )
        ),
    )
    return ranked.where(F.col("rank") <= params.top_n)
