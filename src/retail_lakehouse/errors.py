"""Errors a user can cause, each carrying where it happened so the CLI can print one clear line."""

from __future__ import annotations

from collections.abc import Callable, Sequence

# Exit codes of the `lakehouse` command.
EXIT_OK = 0
EXIT_JOB_FAILED = 1  # a job failed: its name and error on stderr
EXIT_USAGE = 2  # a usage or configuration error: one line on stderr (one per problem found)


class LakehouseError(Exception):
    """Base class of every error the CLI turns into a one-line message."""


class ConfigError(LakehouseError):
    """Configuration is invalid: names the file and the dotted key, and what to do. Further problems found
    in the same pass come in `also`, each printed on a line of its own."""

    def __init__(
        self, message: str, *, source: str | None = None, key: str | None = None, also: Sequence[ConfigError] = ()
    ) -> None:
        self.source = source
        self.key = key
        self.detail = message
        self.also = tuple(also)
        where = ": ".join(part for part in (source, key) if part)
        first = f"{where}: {message}" if where else message
        super().__init__("\n".join([first, *(str(error) for error in self.also)]))

    def redacted(self, redact: Callable[[str], str]) -> ConfigError:
        """The same errors with `redact` applied to every message (a value echoed back may be a secret)."""
        return ConfigError(
            redact(self.detail), source=self.source, key=self.key, also=[e.redacted(redact) for e in self.also]
        )


class UsageError(LakehouseError):
    """The command line names something that does not exist (a job, a pipeline, a stream)."""


class RuntimeSetupError(LakehouseError):
    """The local runtime is not set up (for example the Delta Lake jars are missing)."""


class MissingFeedError(LakehouseError):
    """A feed marked required has no folder in the landing zone."""


class StorageNotWritableError(RuntimeSetupError):
    """The lakehouse root cannot be written (read-only, unreachable, or no permission)."""
