"""Gold analyses recover what the generator planted: elasticities and product affinities.

Generated data (no dirty records) goes through the real readers, bronze metadata and silver transforms
in this process, so the baskets and daily prices are exactly those the generator recorded in its manifest.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import SecretStr
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from retail_lakehouse.bronze.ingestion import add_ingestion_metadata
from retail_lakehouse.catalogue import catalogue
from retail_lakehouse.config import load_config
from retail_lakehouse.generator.landing import generate_landing
from retail_lakehouse.generator.options import GeneratorOptions
from retail_lakehouse.gold.basket import (
    LineItemsetParams,
    RuleParams,
    association_rules,
    baskets_from_lines,
    frequent_itemsets,
)
from retail_lakehouse.gold.pricing import ElasticityParams, price_elasticity
from retail_lakehouse.io.readers import read_feed
from retail_lakehouse.silver.dimensions import products
from retail_lakehouse.silver.pos import PosParams, transaction_lines
from retail_lakehouse.silver.standardize import SourceFormats
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Generated:
    manifest: dict[str, Any]
    lines: DataFrame
    products: DataFrame


@pytest.fixture(scope="module")
def generated(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Generated:
    landing = tmp_path_factory.mktemp("landing")
    generate_landing(landing, GeneratorOptions(scale=0.1, days=90, seed=42, dirty_rate=0.0))
    feeds = load_config(
        transforms=catalogue(), conf_dir=REPO_ROOT / "conf", environ={"LAKEHOUSE_SECRET_CARD_TOKEN_KEY": "k"}
    ).config.feeds

    def bronze(feed: str) -> DataFrame:
        settings = feeds[feed]
        raw = read_feed(spark, settings, str(landing / str(settings.path)), incremental=False)
        return add_ingestion_metadata(raw, run_id="test", ingested_at=dt.datetime(2026, 1, 1))

    versions = products(bronze("products"), SourceFormats()).localCheckpoint()
    lines = transaction_lines(bronze("pos_transactions"), versions, PosParams(card_token_key=SecretStr("k")))
    return Generated(json.loads((landing / "_manifest.json").read_text()), lines.localCheckpoint(), versions)


def test_elasticities_recover_the_planted_ones(generated: Generated) -> None:
    fits = price_elasticity(generated.lines, ElasticityParams()).collect()
    planted = generated.manifest["planted"]["elasticity"]
    dynamic = set(generated.manifest["planted"]["dynamic_pricing"])
    # Only dynamically priced products change price often enough to qualify (20 at this scale).
    assert {fit.product_id for fit in fits} <= dynamic
    assert len(fits) >= 15
    errors = [abs(fit.elasticity - planted[fit.product_id]) for fit in fits]
    assert statistics.median(errors) < 0.15
    # The standard errors are honest: nearly every estimate lies within three of them of the truth.
    assert sum(e <= 3 * fit.std_error for e, fit in zip(errors, fits, strict=True)) >= len(fits) - 1


def test_fp_growth_finds_every_planted_affinity_with_its_exact_support_confidence_and_lift(
    generated: Generated,
) -> None:
    planted = generated.manifest["planted"]["affinities"]
    assert len(planted) == 11  # 8 pairs and 3 triples
    min_support = min(a["support"] for a in planted) / 2
    empty_categories = generated.lines.sparkSession.createDataFrame([], "category_id STRING, name STRING")
    baskets = baskets_from_lines(generated.lines, generated.products, empty_categories, "product")
    itemsets = frequent_itemsets(baskets, LineItemsetParams(min_support=min_support)).localCheckpoint()
    rules = association_rules(itemsets, RuleParams(min_confidence=0.3)).localCheckpoint()
    freq = {tuple(r["items"]): r["freq"] for r in itemsets.collect()}
    baskets_total = itemsets.first()["basket_count"]  # type: ignore[index]

    for affinity in planted:
        antecedent, consequent = affinity["antecedent"], affinity["consequent"]
        together = freq[tuple(sorted(antecedent + consequent))]
        confidence = together / freq[tuple(antecedent)]
        lift = confidence / (freq[tuple(sorted(consequent))] / baskets_total)
        assert round(together / baskets_total, 6) == affinity["support"], affinity
        assert round(confidence, 6) == affinity["confidence"], affinity
        assert round(lift, 4) == affinity["lift"], affinity
        for item in consequent:  # and every consequent is a rule of the antecedent
            rule = rules.where(
                (F.col("antecedent") == F.array(F.lit(antecedent[0]))) & (F.col("consequent") == F.array(F.lit(item)))
            ).collect()
            assert len(rule) == 1 and rule[0]["lift"] > 10, (affinity, item)
