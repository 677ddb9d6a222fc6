"""The conditions a run tells: hand-worked DQ scores, quarantine shares, freshness and stream lag."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from deltalake import DeltaTable
from pyspark.sql import SparkSession

from retail_lakehouse.config.models import LakehouseConfig
from retail_lakehouse.core.contracts import BatchCounts
from retail_lakehouse.ops.alerts import DQ_SCORE, FRESHNESS, JOB_FAILED, QUARANTINE_RATE, STREAM_LAG
from retail_lakehouse.ops.run_conditions import (
    BatchProgress,
    Freshness,
    freshness_with_spark,
    job_conditions,
    stream_conditions,
)


def config(**ops: object) -> LakehouseConfig:
    return LakehouseConfig.model_validate(
        {
            "env": "test",
            "conf_dir": "conf",
            "storage": {"landing": "/l", "root": "/r"},
            "quality": {
                "stores": {
                    "alert_below_score": 0.95,
                    "alert_above_quarantine_share": 0.01,
                    "rules": [{"name": "id", "expectation": "expect_column_values_to_not_be_null"}],
                }
            },
            "tables": {"silver/stores": {}},
            "jobs": {
                "silver_stores": {
                    "description": "d",
                    "transform": "silver.stores",
                    "inputs": {"source": "bronze/stores"},
                    "output": "silver/stores",
                    "write": {"mode": "merge", "keys": ["store_id"]},
                    "quality": "stores",
                }
            },
            "ops": ops,
        }
    )


def by_kind(conditions: list) -> dict:  # type: ignore[type-arg]
    return {c.kind: c for c in conditions}


def test_the_dq_score_is_passed_evaluations_over_all() -> None:
    # 200 rows x 4 rules = 800 evaluations; 12 rows broke one rule, 2 rows broke three: 18 failed.
    counts = BatchCounts(read=200, written=186, quarantined=14, rule_evaluations=800, rule_passes=782)
    found = by_kind(job_conditions(config(), "silver_stores", counts, None))
    assert found[DQ_SCORE].value == 782 / 800 == 0.9775
    assert found[DQ_SCORE].firing is False  # 0.9775 >= 0.95
    assert found[QUARANTINE_RATE].value == 14 / 200
    assert found[QUARANTINE_RATE].firing is True  # 7% > 1%
    assert found[JOB_FAILED].firing is False
    assert found[DQ_SCORE].message == (
        "DQ score of silver/stores is 0.9775 (782 of 800 rule evaluations passed); threshold 0.95"
    )


def test_below_the_threshold_fires_and_a_failed_run_tells_only_its_failure() -> None:
    low = BatchCounts(read=100, written=100, rule_evaluations=400, rule_passes=379)  # 0.9475
    assert by_kind(job_conditions(config(), "silver_stores", low, None))[DQ_SCORE].firing is True
    failed = job_conditions(config(), "silver_stores", None, "QualityGateError: boom")
    assert [(c.kind, c.firing, c.message) for c in failed] == [
        (JOB_FAILED, True, "job silver_stores failed: QualityGateError: boom")
    ]
    # Nothing read: no score to tell, so none is evaluated (an open DQ alert stays open).
    assert set(by_kind(job_conditions(config(), "silver_stores", BatchCounts(), None))) == {JOB_FAILED}


def test_freshness_against_the_sla() -> None:
    now = datetime(2026, 3, 2, 12, tzinfo=UTC)
    fresh = Freshness("gold/sales_daily", 26, datetime(2026, 3, 1, 10, 30, tzinfo=UTC))
    stale = Freshness("gold/sales_daily", 24, datetime(2026, 3, 1, 10, 30, tzinfo=UTC))
    assert fresh.age_hours(now) == 25.5 and not fresh.missed(now)
    assert stale.missed(now)
    condition = stale.condition(now)
    assert (condition.kind, condition.firing, condition.value, condition.threshold) == (FRESHNESS, True, 25.5, 24)
    assert condition.message == (
        "gold/sales_daily was last written 25.5 h ago (2026-03-01 10:30 UTC); its freshness SLA is 24 h"
    )
    assert Freshness("gold/x", 1, None).missed(now)


def batch(batch_id: int, arrived: float, processed: float, seconds: float) -> BatchProgress:
    return BatchProgress(batch_id, arrived, processed, seconds)


def test_a_stream_falls_behind_on_latency_or_on_rates() -> None:
    settings = config(streams={"latency_seconds": 5, "behind_batches": 3})
    keeping_up = [batch(1, 1000, 4000, 0.5), batch(2, 1000, 900, 1.1), batch(3, 1000, 800, 1.2)]
    (lag,) = stream_conditions(settings, "inventory", keeping_up)
    assert (lag.kind, lag.firing) == (STREAM_LAG, False)  # two slow batches in a row, not three
    behind = [*keeping_up, batch(4, 1000, 700, 1.4)]
    assert stream_conditions(settings, "inventory", behind)[0].firing is True
    slow = [batch(5, 10, 2000, 6.5)]
    (lag,) = stream_conditions(settings, "inventory", slow)
    assert lag.firing is True
    assert lag.message == "micro-batch 5 of inventory took 6.5 s (limit 5 s)"
    assert stream_conditions(settings, "inventory", []) == []


def test_freshness_reads_each_sla_tables_newest_commit_time_from_its_log(spark: SparkSession, tmp_path: Path) -> None:
    settings = LakehouseConfig.model_validate(
        {
            "env": "test",
            "conf_dir": "conf",
            "storage": {"landing": str(tmp_path / "landing"), "root": str(tmp_path)},
            "tables": {"gold/written": {"freshness_hours": 24}, "gold/never": {"freshness_hours": 6}, "gold/x": {}},
        }
    )
    path = settings.storage.table_path("gold/written")
    for value in (1, 2):
        spark.createDataFrame([(value,)], "v int").write.format("delta").mode("append").save(path)

    found = {f.table: f for f in freshness_with_spark(spark, settings)}

    # The time delta-rs reads from the newest commit: the writer's clock at commit 1, to the millisecond.
    newest = DeltaTable(path).history(1)[0]
    assert newest["version"] == 1
    assert found["gold/written"] == Freshness(
        "gold/written", 24, datetime.fromtimestamp(newest["timestamp"] / 1000, tz=UTC)
    )
    assert found["gold/never"] == Freshness("gold/never", 6, None)
    assert set(found) == {"gold/written", "gold/never"}  # gold/x has no SLA
