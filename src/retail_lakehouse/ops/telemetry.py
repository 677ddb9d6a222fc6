"""Run metrics to Azure Monitor (Application Insights) through OpenTelemetry: rows read and written, job
duration, DQ score, stream latency, alerts opened. Configured by an `azure_monitor` notification sink;
without one nothing is collected.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from retail_lakehouse.config.models import AzureMonitorSinkSettings, NotificationSettings
from retail_lakehouse.ops.alerts import AlertChange, AlertListener
from retail_lakehouse.ops.run_history import JobRun

# The exporter also reports its own usage to Microsoft ("statsbeat") unless told not to: a batch command
# sends the metrics it was configured for, nothing else. A user may set the variable to "false".
STATSBEAT_DISABLED = "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL"
METER = "retail_lakehouse"
# Metrics are exported when the command ends (`close`), and every minute while a stream runs.
EXPORT_INTERVAL_MILLIS = 60_000


class RunTelemetry(AlertListener):
    """OpenTelemetry instruments exported by `exporter` (Azure Monitor's, or any OTel metric exporter)."""

    def __init__(self, exporter: Any, env: str) -> None:
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
        from opentelemetry.sdk.resources import Resource

        reader = PeriodicExportingMetricReader(exporter, export_interval_millis=EXPORT_INTERVAL_MILLIS)
        resource = Resource.create({"service.name": "retail-lakehouse", "deployment.environment": env})
        self.provider = MeterProvider(metric_readers=[reader], resource=resource)
        meter = self.provider.get_meter(METER)
        self.rows_read = meter.create_counter("lakehouse.rows_read", unit="{row}", description="Rows a job read")
        self.rows_written = meter.create_counter("lakehouse.rows_written", unit="{row}", description="Rows a job wrote")
        self.duration = meter.create_histogram("lakehouse.job.duration", unit="s", description="Job run time")
        self.dq_score = meter.create_gauge(
            "lakehouse.dq_score", description="Passed rule evaluations / all rule evaluations of a run"
        )
        self.stream_latency = meter.create_histogram(
            "lakehouse.stream.latency", unit="s", description="Micro-batch trigger-to-commit time"
        )
        self.alerts_opened = meter.create_counter("lakehouse.alerts_opened", unit="{alert}")

    def record_run(self, run: JobRun, table: str) -> None:
        attributes = {"job": run.job, "table": table, "status": run.status, "env": run.env}
        self.rows_read.add(run.rows_read or 0, attributes)
        self.rows_written.add(run.rows_written or 0, attributes)
        self.duration.record(run.seconds, attributes)
        if run.quality_score is not None:
            self.dq_score.set(run.quality_score, {"job": run.job, "table": table, "env": run.env})

    def record_stream_latency(self, job: str, seconds: float) -> None:
        self.stream_latency.record(seconds, {"job": job})

    def alert_changed(self, change: AlertChange) -> None:
        if change.opened:
            alert = change.alert
            self.alerts_opened.add(1, {"kind": alert.kind, "subject": alert.subject, "severity": alert.severity})

    def close(self) -> None:
        """Exports what was recorded and stops (a failed export is logged by the exporter)."""
        self.provider.shutdown()


def azure_monitor_exporter(settings: AzureMonitorSinkSettings) -> Any:
    os.environ.setdefault(STATSBEAT_DISABLED, "true")
    from azure.monitor.opentelemetry.exporter import AzureMonitorMetricExporter

    # No offline storage: a command that ends cannot retry later from a local folder.
    return AzureMonitorMetricExporter(connection_string=settings.connection_string, disable_offline_storage=True)


def run_telemetry(notifications: Mapping[str, NotificationSettings], env: str) -> RunTelemetry | None:
    sinks = [s for s in notifications.values() if isinstance(s, AzureMonitorSinkSettings)]
    if not sinks:
        return None
    return RunTelemetry(azure_monitor_exporter(sinks[0]), env)
