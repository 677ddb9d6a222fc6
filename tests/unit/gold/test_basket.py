"""Market basket: exact itemsets and rules on hand-built baskets, and the Groceries reference results."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.ml.fpm import FPGrowth
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from retail_lakehouse.config.models import FeedSettings
from retail_lakehouse.gold.basket import (
    LineItemsetParams,
    RecommendationParams,
    RuleParams,
    TextItemsetParams,
    association_rules,
    baskets_from_lines,
    baskets_from_text,
    frequent_itemsets,
    recommendations,
)
from retail_lakehouse.io.readers import read_feed
from tests.unit.gold import silver_rows as rows

GROCERIES = Path(__file__).resolve().parents[4] / "shared" / "datasets" / "groceries" / "groceries.csv"


def test_itemsets_rules_and_recommendations_of_hand_built_baskets(spark: SparkSession) -> None:
    # Baskets: {A,B} x2, {A,B,C}, {A}, {C}; the repeated A in T1 counts once.
    sales: list[rows.Sale] = [
        ("T1", None, "2025-01-01 10:00:00", "Store", "1", [("A", 1, "1.00", "0"), ("B", 1, "1.00", "0"),
                                                            ("A", 2, "1.00", "0")]),
        ("T2", None, "2025-01-01 10:00:00", "Store", "1", [("A", 1, "1.00", "0"), ("B", 1, "1.00", "0")]),
        ("T3", None, "2025-01-01 10:00:00", "Store", "1", [("A", 1, "1.00", "0"), ("B", 1, "1.00", "0"),
                                                            ("C", 1, "1.00", "0")]),
        ("T4", None, "2025-01-01 10:00:00", "Store", "1", [("A", 1, "1.00", "0")]),
        ("T5", None, "2025-01-01 10:00:00", "Store", "1", [("C", 1, "1.00", "0")]),
    ]  # fmt: skip
    baskets = baskets_from_lines(rows.lines(spark, sales), rows.products(spark, []), rows.categories(spark), "product")
    itemsets = frequent_itemsets(baskets, LineItemsetParams(min_support=0.4)).localCheckpoint()
    rows.assert_rows(
        itemsets,
        [(["A"], 1, 4, 0.8, 5), (["B"], 1, 3, 0.6, 5), (["C"], 1, 2, 0.4, 5), (["A", "B"], 2, 3, 0.6, 5)],
        "items ARRAY<STRING>, size INT, freq LONG, support DOUBLE, basket_count LONG",
    )
    rules = association_rules(itemsets, RuleParams(min_confidence=0.5)).localCheckpoint()
    # A => B: 3/4 = 0.75, lift 0.75 / 0.6 = 1.25; B => A: 3/3 = 1, lift 1 / 0.8 = 1.25.
    rows.assert_rows(
        rules,
        [(["A"], ["B"], 0.75, 1.25, 0.6), (["B"], ["A"], 1.0, 1.25, 0.6)],
        "antecedent ARRAY<STRING>, consequent ARRAY<STRING>, confidence DOUBLE, lift DOUBLE, support DOUBLE",
    )
    rows.assert_rows(
        recommendations(rules, RecommendationParams(top_n=1)),
        [("A", "B", 1, 1.25), ("B", "A", 1, 1.25)],
        "item STRING, recommended_item STRING, rank INT, lift DOUBLE",
    )


def test_minimum_basket_size_leaves_small_baskets_out_of_the_support(spark: SparkSession) -> None:
    baskets = spark.createDataFrame([(["A", "B"],), (["A"],), (["B"],), (["A", "B"],)], "items ARRAY<STRING>")
    itemsets = frequent_itemsets(baskets, LineItemsetParams(min_support=0.5, min_basket_size=2))
    rows.assert_rows(
        itemsets,
        [(["A"], 2, 1.0, 2), (["B"], 2, 1.0, 2), (["A", "B"], 2, 1.0, 2)],
        "items ARRAY<STRING>, freq LONG, support DOUBLE, basket_count LONG",
    )


def test_items_at_department_level(spark: SparkSession) -> None:
    sales: list[rows.Sale] = [
        ("T1", None, "2025-01-01 10:00:00", "Store", "1", [("P1", 1, "1.00", "0"), ("P2", 1, "1.00", "0")]),
    ]
    products = rows.products(
        spark,
        [
            ("P1", "2", "1.00", "2.00", "2024-01-01 00:00:00", None),
            ("P2", "4", "1.00", "2.00", "2024-01-01 00:00:00", None),
        ],
    )
    baskets = baskets_from_lines(rows.lines(spark, sales), products, rows.categories(spark), "department")
    assert [r.items for r in baskets.collect()] == [["Bikes", "Clothing"]]


def test_groceries_reference_rules_from_a_plain_basket_file(spark: SparkSession) -> None:
    feed = FeedSettings(format="text", path=str(GROCERIES), schema="value STRING")
    params = TextItemsetParams(min_support=0.001)
    baskets = baskets_from_text(read_feed(spark, feed, str(GROCERIES), incremental=False), params)
    itemsets = frequent_itemsets(baskets, params).localCheckpoint()
    assert itemsets.count() == 13_492
    rules = association_rules(itemsets, RuleParams(min_confidence=0.5)).localCheckpoint()
    assert rules.count() == 5_668
    top = rules.orderBy(F.col("lift").desc()).first()
    assert top is not None
    assert (sorted(top.antecedent), top.consequent) == (["Instant food products", "soda"], ["hamburger meat"])
    assert top.lift == pytest.approx(18.9957, abs=0.001)
    assert top.support == pytest.approx(12 / 9835)

    # Spark's own rule generation from the fitted model gives the same rules, to the last digit.
    model = FPGrowth(itemsCol="items", minSupport=0.001, minConfidence=0.5).fit(baskets)
    theirs = model.associationRules.select(
        F.array_sort("antecedent").alias("antecedent"), "consequent", "confidence", "lift", "support"
    )
    ours = rules.select("antecedent", "consequent", "confidence", "lift", "support")
    assert ours.exceptAll(theirs).count() == 0
    assert theirs.exceptAll(ours).count() == 0
