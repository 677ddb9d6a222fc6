from __future__ import annotations

import io
import json
from pathlib import Path

from retail_lakehouse.config.models import LoggingSettings
from retail_lakehouse.config.secrets import SecretRedactor
from retail_lakehouse.runtime.logging import configure_logging, get_logger, log_context


def test_json_lines_carry_run_context_and_never_the_secret(tmp_path: Path) -> None:
    redactor = SecretRedactor()
    redactor.register("hunter2-secret")
    stream = io.StringIO()
    configure_logging(LoggingSettings(format="auto", dir=str(tmp_path)), redactor, stream)  # not a terminal
    log = get_logger("test")
    with log_context(run_id="r1", job="bronze_x"):
        log.info("connecting with %s", "hunter2-secret")
        try:
            raise ValueError("bad password hunter2-secret")
        except ValueError:
            log.exception("failed")
    log.warning("outside")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(e["level"], e["message"], e.get("run_id"), e.get("job")) for e in lines] == [
        ("INFO", "connecting with ***", "r1", "bronze_x"),
        ("ERROR", "failed", "r1", "bronze_x"),
        ("WARNING", "outside", None, None),
    ]
    # stderr: one line per event; the stack trace is in the log file, with the same context.
    assert "exception" not in lines[1]
    logged = [json.loads(line) for line in (tmp_path / "lakehouse.log").read_text().splitlines()]
    assert [(e["level"], e["message"], e.get("run_id")) for e in logged] == [
        ("INFO", "connecting with ***", "r1"),
        ("ERROR", "failed", "r1"),
        ("WARNING", "outside", None),
    ]
    assert "Traceback" in logged[1]["exception"] and "bad password ***" in logged[1]["exception"]
    assert "hunter2-secret" not in stream.getvalue() + (tmp_path / "lakehouse.log").read_text()


def test_without_a_log_folder_the_stack_trace_stays_on_stderr() -> None:
    stream = io.StringIO()
    configure_logging(LoggingSettings(format="json", dir=""), SecretRedactor(), stream)
    try:
        raise ValueError("boom")
    except ValueError:
        get_logger("test").exception("failed")
    (line,) = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert "ValueError: boom" in line["exception"]


def test_text_format_for_people() -> None:
    stream = io.StringIO()
    configure_logging(LoggingSettings(format="text", level="WARNING", dir=""), SecretRedactor(), stream)
    log = get_logger("test")
    log.info("hidden below the level")
    with log_context(job="gold_sales"):
        log.warning("slow")
    (line,) = stream.getvalue().splitlines()
    assert line.endswith("WARNING [gold_sales] slow")
