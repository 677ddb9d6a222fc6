"""Run metrics through Azure Monitor's OpenTelemetry exporter. Azure cannot be reached from tests: the
connection string points the exporter's ingestion endpoint at a local HTTP server, which receives the
exporter's real request; nothing was sent to Azure."""

from __future__ import annotations

from datetime import UTC, datetime

from retail_lakehouse.config.models import OpsSettings
from retail_lakehouse.ops.run_history import JobRun
from retail_lakehouse.ops.telemetry import run_telemetry
from tests.ops_servers import http_recorder

KEY = "00000000-0000-0000-0000-000000000001"


def test_metrics_reach_the_ingestion_endpoint() -> None:
    with http_recorder(answer=b'{"itemsReceived": 0, "itemsAccepted": 0, "errors": []}') as server:
        ops = OpsSettings.model_validate(
            {
                "notifications": {
                    "monitor": {
                        "kind": "azure_monitor",
                        "connection_string": f"InstrumentationKey={KEY};IngestionEndpoint={server.url}/",
                    }
                }
            }
        )
        telemetry = run_telemetry(ops.notifications, "prod")
        assert telemetry is not None
        started = datetime(2026, 3, 1, 6, tzinfo=UTC)
        run = JobRun(
            run_id="r1",
            pipeline_run_id=None,
            job="silver_customers",
            env="prod",
            status="succeeded",
            started_at=started,
            ended_at=started.replace(second=42),
            rows_read=1000,
            rows_written=990,
            error=None,
            quality_score=0.985,
        )
        telemetry.record_run(run, "silver/customers")
        telemetry.record_stream_latency("inventory", 2.5)
        telemetry.close()
    envelopes = [envelope for post in server.posts for envelope in post.json()]
    assert all(post.path == "/v2.1/track" for post in server.posts)
    metrics = {}
    for envelope in envelopes:
        assert envelope["iKey"] == KEY
        for point in envelope["data"]["baseData"]["metrics"]:
            metrics[point["name"]] = (point["value"], envelope["data"]["baseData"]["properties"])
    assert metrics["lakehouse.rows_read"] == (
        1000,
        {"job": "silver_customers", "table": "silver/customers", "status": "succeeded", "env": "prod"},
    )
    assert metrics["lakehouse.rows_written"][0] == 990
    assert metrics["lakehouse.job.duration"][0] == 42.0
    assert metrics["lakehouse.dq_score"][0] == 0.985
    assert metrics["lakehouse.stream.latency"] == (2.5, {"job": "inventory"})


def test_no_azure_monitor_sink_no_telemetry() -> None:
    assert run_telemetry({}, "dev") is None
