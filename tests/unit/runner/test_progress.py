from __future__ import annotations

import io
from datetime import UTC, datetime

from retail_lakehouse.ops.run_history import SUCCEEDED, JobRun
from retail_lakehouse.runner.progress import PipelineProgress


def run(job: str, written: int) -> JobRun:
    now = datetime.now(UTC)
    return JobRun("r", "p", job, "local", SUCCEEDED, now, now, written, written, None)


def test_terminal_progress_redraws_one_line_with_counts() -> None:
    stream = io.StringIO()
    progress = PipelineProgress("pipeline daily", 2, stream, interactive=True)
    progress.job_started("bronze_a")
    assert progress.status_line().startswith("pipeline daily: 0/2 jobs done | running bronze_a | 00:0")
    progress.job_finished(run("bronze_a", 1500))
    progress.job_started("bronze_b")
    progress.job_finished(run("bronze_b", 25))
    progress.close()
    assert progress.status_line().endswith("| 1,525 rows written")
    assert progress.status_line().startswith("pipeline daily: 2/2 jobs done |")
    assert stream.getvalue().count("\r\033[K") >= 4
    assert stream.getvalue().endswith("\n")


def test_without_a_terminal_progress_goes_to_the_log_only() -> None:
    stream = io.StringIO()
    progress = PipelineProgress("pipeline daily", 1, stream, interactive=False)
    progress.job_started("bronze_a")
    progress.job_finished(run("bronze_a", 3))
    progress.close()
    assert stream.getvalue() == ""
