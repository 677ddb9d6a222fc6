from __future__ import annotations

import io
import json

from retail_lakehouse.config.models import LoggingSettings
from retail_lakehouse.config.secrets import SecretRedactor
from retail_lakehouse.runtime.logging import configure_logging, get_logger, log_context


def test_json_lines_carry_run_context_and_never_the_secret() -> None:
    redactor = SecretRedactor()
    redactor.register("hunter2-secret")
    stream = io.StringIO()
    configure_logging(LoggingSettings(format="auto"), redactor, stream)  # StringIO is not a terminal
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
    assert "bad password ***" in lines[1]["exception"]
    assert "hunter2-secret" not in stream.getvalue()


def test_text_format_for_people() -> None:
    stream = io.StringIO()
    configure_logging(LoggingSettings(format="text", level="WARNING"), SecretRedactor(), stream)
    log = get_logger("test")
    log.info("hidden below the level")
    with log_context(job="gold_sales"):
        log.warning("slow")
    (line,) = stream.getvalue().splitlines()
    assert line.endswith("WARNING [gold_sales] slow")
