"""Pipeline progress: a live status line on a terminal, plain log lines otherwise."""

from __future__ import annotations

import threading
import time
from typing import TextIO

from retail_lakehouse.ops.run_history import JobRun
from retail_lakehouse.runtime.logging import get_logger

log = get_logger("progress")


class PipelineProgress:
    """Shows jobs done/total, the current job, elapsed time and rows written so far."""

    def __init__(self, pipeline: str, total: int, stream: TextIO, *, interactive: bool | None = None) -> None:
        self.pipeline = pipeline
        self.total = total
        self.stream = stream
        self.interactive = stream.isatty() if interactive is None else interactive
        self.done = 0
        self.rows_written = 0
        self.current: str | None = None
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def status_line(self) -> str:
        elapsed = int(time.monotonic() - self.started)
        current = f" | running {self.current}" if self.current else ""
        return (
            f"{self.pipeline}: {self.done}/{self.total} jobs done{current} | "
            f"{elapsed // 60:02d}:{elapsed % 60:02d} elapsed | {self.rows_written:,} rows written"
        )

    def job_started(self, job: str) -> None:
        self.current = job
        if self.interactive:
            self._draw()
            if self._ticker is None:
                self._ticker = threading.Thread(target=self._tick, daemon=True)
                self._ticker.start()
        else:
            log.info("%s: job %d/%d %s started", self.pipeline, self.done + 1, self.total, job)

    def job_finished(self, run: JobRun) -> None:
        self.done += 1
        self.rows_written += run.rows_written or 0
        self.current = None
        if self.interactive:
            self._draw()
        else:
            log.info(
                "%s: %d/%d jobs done, %s rows written", self.pipeline, self.done, self.total, f"{self.rows_written:,}"
            )

    def close(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        if self.interactive:
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self) -> None:
        self.stream.write("\r\033[K" + self.status_line())
        self.stream.flush()

    def _tick(self) -> None:
        while not self._stop.wait(1.0):
            self._draw()
