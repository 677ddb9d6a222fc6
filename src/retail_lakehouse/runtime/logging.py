"""Structured logging: readable lines on a terminal, JSON lines otherwise; every line carries the run
context (pipeline run id, job run id, job) and passes through the secret redactor."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

from retail_lakehouse.config.models import LoggingSettings
from retail_lakehouse.config.secrets import SecretRedactor

LOGGER_NAME = "retail_lakehouse"
_run_context: ContextVar[dict[str, str]] = ContextVar("run_context", default={})  # noqa: B039 - never mutated


@contextlib.contextmanager
def log_context(**fields: str | None) -> Iterator[None]:
    """Adds fields (run_id, job, ...) to every log line written inside the block."""
    token = _run_context.set({**_run_context.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _run_context.reset(token)


class RunContextFilter(logging.Filter):
    """Attaches the run context and redacts secret values from the message and its arguments."""

    def __init__(self, redactor: SecretRedactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redactor.redact(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.redactor.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        record.context = dict(_run_context.get())  # read back by the formatters
        return True


class JsonLinesFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "context", {}),
        }
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str)


class TerminalFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        context = getattr(record, "context", {})
        job = f" [{context['job']}]" if "job" in context else ""
        line = f"{datetime.fromtimestamp(record.created).strftime('%H:%M:%S')} {record.levelname:<7}{job} "
        line += record.getMessage()
        if record.exc_text:
            line += "\n" + record.exc_text
        return line


class WithoutStack(logging.Formatter):
    """One line per event: another formatter's line without the stack trace (that is for the log file)."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        stack, record.exc_text = record.exc_text, None
        try:
            return self.inner.format(record)
        finally:
            record.exc_text = stack


LOG_FILE = "lakehouse.log"


def configure_logging(settings: LoggingSettings, redactor: SecretRedactor, stream: TextIO | None = None) -> None:
    """Sends the lakehouse's log lines to `stream` (stderr) in the configured format, and, with a log
    folder, every line with its stack trace to lakehouse.log there (stderr then carries no stacks, and
    py4j's own errors, the Python side of a failed micro-batch, go to the file only)."""
    stream = stream or sys.stderr
    as_json = settings.format == "json" or (settings.format == "auto" and not stream.isatty())
    redact = RunContextFilter(redactor)
    formatter: logging.Formatter = JsonLinesFormatter() if as_json else TerminalFormatter()
    handler = logging.StreamHandler(stream)
    handler.addFilter(redact)
    handlers: list[logging.Handler] = [handler]
    py4j = logging.getLogger("py4j")
    folder = settings.folder
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        file_handler = logging.FileHandler(folder / LOG_FILE, encoding="utf-8")
        file_handler.setFormatter(JsonLinesFormatter())
        file_handler.addFilter(redact)
        handlers.append(file_handler)
        formatter = WithoutStack(formatter)
        py4j.handlers[:] = [file_handler]
        py4j.propagate = False
    handler.setFormatter(formatter)
    logger = logging.getLogger(LOGGER_NAME)
    logger.handlers[:] = handlers
    logger.setLevel(settings.level)
    logger.propagate = False
    # py4j logs every JVM call at INFO; it is noise for a user.
    py4j.setLevel(logging.WARNING)


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(f"{LOGGER_NAME}.{name}")
