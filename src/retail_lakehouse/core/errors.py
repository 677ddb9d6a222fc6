"""Errors a user can cause, one hierarchy, each mapped to the `lakehouse` command's exit code:

    LakehouseError
      ConfigError              configuration is invalid                        exit 2
      UsageError               the command line names what does not exist     exit 2
        LandingConflictError   (generator) the landing zone holds other data  exit 2
      RuntimeSetupError        the runtime is not set up                       exit 2
        StorageNotWritableError
      JobError                 a job failed on its data; recorded in the run   exit 1
        MissingFeedError, ReconciliationError, QualityGateError, SchemaChangeError,
        UntypedColumnError, QualityRuleError, WatermarkTypeError
      LeaseHeldError           another run holds a job's lease                exit 3

`lakehouse status` exits 4 when a freshness SLA is missed or an alert is open.

Each carries where it happened (file, key, table, row) so the CLI prints one clear line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

# Exit codes of the `lakehouse` command.
EXIT_OK = 0
EXIT_JOB_FAILED = 1  # a job failed: its name and error on stderr
EXIT_USAGE = 2  # a usage or configuration error: one line on stderr (one per problem found)
EXIT_LEASE_HELD = 3  # another run of the same job is under way: nothing was run
EXIT_ATTENTION = 4  # `lakehouse status`: an SLA is missed or an alert is open


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


class JobError(LakehouseError):
    """A job failed on what it read or would write; the run is recorded as failed with this message."""


class MissingFeedError(JobError):
    """A feed marked required has no folder in the landing zone."""


class MissingTableError(JobError):
    """A job reads a table no job has written yet."""


class ReconciliationError(JobError):
    """Rows read do not add up to rows written, quarantined and dropped as duplicates."""


class QualityGateError(JobError):
    """A critical quality rule failed, or too large a share of the rows was rejected."""


class QualityRuleError(JobError):
    """A quality rule could not be evaluated (a column it names is missing, a value of the wrong type)."""


class SchemaChangeError(JobError):
    """The data written no longer fits the table's schema (a column's type changed, or new columns where the
    table's schema_evolution is fail)."""


class UntypedColumnError(JobError):
    """A transform gives a column without a type (a bare null literal): Delta cannot store it."""


class WatermarkTypeError(JobError):
    """A database feed's watermark column holds values of a type extraction cannot compare."""


class LeaseHeldError(LakehouseError):
    """Another run holds the lease of a job this run would run (see ops.leases)."""


EXIT_CODES: tuple[tuple[type[LakehouseError], int], ...] = (
    (LeaseHeldError, EXIT_LEASE_HELD),
    (ConfigError, EXIT_USAGE),
    (UsageError, EXIT_USAGE),
    (RuntimeSetupError, EXIT_USAGE),
    (JobError, EXIT_JOB_FAILED),
)


def exit_code(error: LakehouseError) -> int:
    """The exit code of the `lakehouse` command for an error it reports."""
    return next((code for kind, code in EXIT_CODES if isinstance(error, kind)), EXIT_JOB_FAILED)


class StorageNotWritableError(RuntimeSetupError):
    """The lakehouse root cannot be written (read-only, unreachable, or no permission)."""


class LandingConflictError(UsageError):
    """(generator) A landed file would change: landed files are immutable, ingestion takes each path once."""
