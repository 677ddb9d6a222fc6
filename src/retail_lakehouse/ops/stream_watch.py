"""Watches a continuous stream's progress: each micro-batch's latency to Azure Monitor, and a stream_lag
alert while the stream falls behind (see run_conditions.stream_conditions)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pyspark.sql.streaming.query import StreamingQuery

from retail_lakehouse.config.models import LakehouseConfig
from retail_lakehouse.ops.alerts import AlertBook
from retail_lakehouse.ops.run_conditions import BatchProgress, stream_conditions
from retail_lakehouse.ops.telemetry import RunTelemetry
from retail_lakehouse.runtime.logging import get_logger

log = get_logger("stream")

# Progress a trigger reports when it ran a micro-batch, and its trigger-to-commit time.
TRIGGER_EXECUTION = "triggerExecution"
ADD_BATCH = "addBatch"
KEPT_BATCHES = 20


@dataclass
class StreamWatch:
    config: LakehouseConfig
    job_name: str
    run_id: str
    alerts: AlertBook
    telemetry: RunTelemetry | None = None
    recent: list[BatchProgress] = field(default_factory=list)

    def __call__(self, query: StreamingQuery) -> None:
        seen = self.recent[-1].batch_id if self.recent else -1
        new = []
        for update in query.recentProgress:
            durations = dict(update.durationMs or {})
            if int(update.batchId) <= seen or ADD_BATCH not in durations or int(update.numInputRows) == 0:
                continue
            new.append(
                BatchProgress(
                    batch_id=int(update.batchId),
                    input_rows_per_second=float(update.inputRowsPerSecond or 0.0),
                    processed_rows_per_second=float(update.processedRowsPerSecond or 0.0),
                    seconds=durations.get(TRIGGER_EXECUTION, 0) / 1000,
                )
            )
        if not new:
            return
        for batch in new:
            if self.telemetry is not None:
                self.telemetry.record_stream_latency(self.job_name, batch.seconds)
        self.recent = [*self.recent, *new][-KEPT_BATCHES:]
        try:
            self.alerts.evaluate(stream_conditions(self.config, self.job_name, self.recent), self.run_id)
        except Exception as exc:  # a watch must not stop the stream it watches
            log.error("could not record the stream's alerts: %s", exc)
