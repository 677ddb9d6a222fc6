"""Errors a user can cause, each carrying where it happened so the CLI can print one clear line."""

from __future__ import annotations

# Exit codes of the `lakehouse` command.
EXIT_OK = 0
EXIT_JOB_FAILED = 1  # a job failed: its name and error on stderr
EXIT_USAGE = 2  # a usage or configuration error: one line on stderr


class LakehouseError(Exception):
    """Base class of every error the CLI turns into a one-line message."""


class ConfigError(LakehouseError):
    """Configuration is invalid: names the file and the dotted key, and what to do."""

    def __init__(self, message: str, *, source: str | None = None, key: str | None = None) -> None:
        self.source = source
        self.key = key
        self.detail = message
        where = ": ".join(part for part in (source, key) if part)
        super().__init__(f"{where}: {message}" if where else message)


class UsageError(LakehouseError):
    """The command line names something that does not exist (a job, a pipeline, a stream)."""


class RuntimeSetupError(LakehouseError):
    """The local runtime is not set up (for example the Delta Lake jars are missing)."""
