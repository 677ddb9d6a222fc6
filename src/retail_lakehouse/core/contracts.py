"""The contract between the layers and the runner: how a transform is declared, what it is given, what a
streaming micro-batch offers and what a write reports. Imports only pyspark and pydantic, so every layer
can import it and it imports none.

A transform is a pure function declared where it is defined, with `@transform`: its DataFrame arguments
are its inputs by name (an argument defaulting to None is an optional input), an argument `params` takes
its typed parameters (the model is the argument's annotation), an argument `context` the run's context.
A transform whose inputs are whatever the job configures (the SQL transform) takes them all as one
argument `inputs: Mapping[str, DataFrame]`.

    @transform("gold.sales_daily", description="transaction lines -> sales by date, store and product")
    def sales_daily(source: DataFrame, lines: DataFrame) -> DataFrame: ...

The catalogue (`retail_lakehouse.catalogue`) collects the declared transforms; configuration names them.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, ParamSpec, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict
from pyspark.sql import DataFrame, SparkSession

from retail_lakehouse.core.table_refs import TableRef


class NoParams(BaseModel):
    """Parameters of a transform that takes none: any key given is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


P = TypeVar("P", bound=BaseModel)
P_co = TypeVar("P_co", bound=BaseModel, covariant=True)


@dataclass(frozen=True)
class TransformContext(Generic[P_co]):
    """What a transform may know about the run besides its inputs: its parameters arrive typed."""

    run_id: str
    run_started_at: datetime
    params: P_co


@dataclass
class BatchCounts:
    """What one write (a batch, a micro-batch, a job) read, wrote, quarantined and dropped as duplicates;
    read = written + quarantined + duplicates for every transform that keeps its source rows."""

    read: int = 0
    written: int = 0
    quarantined: int = 0
    duplicates: int = 0
    alerts: list[str] = field(default_factory=list)
    # Quality rules: each rule checked on each row is one evaluation; those the row passed are passes.
    rule_evaluations: int = 0
    rule_passes: int = 0

    def add(self, other: BatchCounts) -> None:
        self.read += other.read
        self.written += other.written
        self.quarantined += other.quarantined
        self.duplicates += other.duplicates
        self.alerts += other.alerts
        self.rule_evaluations += other.rule_evaluations
        self.rule_passes += other.rule_passes

    @property
    def quality_score(self) -> float | None:
        """The DQ score: passed rule evaluations / all rule evaluations (None when no rule ran on a row)."""
        return self.rule_passes / self.rule_evaluations if self.rule_evaluations else None

    @property
    def quarantine_share(self) -> float | None:
        """Rows sent to quarantine / rows read."""
        return self.quarantined / self.read if self.read else None


class TableLayout(Protocol):
    """How a table is laid out and described (configuration's `tables.<name>`), as writers need it."""

    @property
    def description(self) -> str: ...

    @property
    def partition_by(self) -> list[str]: ...

    @property
    def properties(self) -> dict[str, str]: ...

    @property
    def schema_evolution(self) -> str: ...


@dataclass(frozen=True)
class OutputTable:
    """A table a job writes: its name in configuration, where it is (path, or catalog name), its layout."""

    name: str
    ref: TableRef
    layout: TableLayout


class MicroBatch(Protocol[P_co]):
    """One micro-batch of a stream whose transform writes each batch itself (foreachBatch), exactly once.

    The writer id (the checkpoint's query id) and the batch id name the batch: a batch repeated after a
    crash gets the same ids and the same input, so its writes can be found and not repeated.
    """

    @property
    def spark(self) -> SparkSession: ...

    @property
    def events(self) -> DataFrame:
        """The batch's rows, as the transform's `apply` shaped the stream."""

    @property
    def references(self) -> Mapping[str, DataFrame]:
        """Inputs read whole once per run (reference data)."""

    @property
    def context(self) -> TransformContext[P_co]: ...

    @property
    def writer_id(self) -> str: ...

    @property
    def batch_id(self) -> int: ...

    @property
    def commit_marker(self) -> str:
        """What each commit of this batch carries (userMetadata), so a repeat finds what already landed."""

    @property
    def may_repeat(self) -> bool:
        """Whether this batch can be one an interrupted run had started: the one the checkpoint plans
        again (where the checkpoint cannot be listed, a run's first)."""

    @property
    def run_cache(self) -> dict[str, DataFrame]:
        """What the transform keeps for the whole run (reference data typed once)."""

    @property
    def existing_tables(self) -> set[TableRef]:
        """The tables known to exist, shared by the run's batches."""

    @property
    def output(self) -> OutputTable:
        """The job's output table."""

    @property
    def write_keys(self) -> tuple[str, ...]:
        """The output's merge keys (configuration's `write.keys`)."""

    def table(self, name: str) -> OutputTable:
        """Another table the job writes (named by its parameters and checked when configuration loads)."""


# A check of what a job's parameters imply (an input they need, a table they name): a message and the key
# under the job, or None. Given the parameters, the job's inputs (alias -> reference) and the declared tables.
JobCheck = Callable[[Any, Mapping[str, str], set[str]], "tuple[str, tuple[str, ...]] | None"]


@dataclass(frozen=True)
class TransformSpec:
    """A declared transform: what configuration may name and the runner calls."""

    name: str
    description: str
    function: Callable[..., DataFrame]
    inputs: tuple[str, ...]
    optional_inputs: tuple[str, ...] = ()
    params_model: type[BaseModel] = NoParams
    takes_params: bool = False
    takes_context: bool = False
    # Every input row becomes exactly one output row, so rows read must equal rows written; the runner
    # fails the run when they differ (nothing may be lost silently).
    preserves_rows: bool = False
    # Output columns starting with this prefix help the rules, deduplication and quarantine (the raw
    # record, its file, ingestion time) and are dropped before the table is written.
    helper_prefix: str | None = None
    # Which optional inputs the parameters use (default: every one the job configures); one they leave out
    # is neither passed nor read.
    optional_inputs_used: Callable[[Any], Collection[str]] | None = None
    # A streaming transform that writes each micro-batch itself: the function turns the input streams into
    # one stream, `merge_batch` writes a micro-batch of it. Inputs in `reference_inputs` are read whole,
    # once per run, and reach the micro-batches, not the function.
    merge_batch: Callable[[MicroBatch[Any]], BatchCounts] | None = None
    reference_inputs: tuple[str, ...] = ()
    check_job: JobCheck | None = None
    # The function takes every input the job configures, whatever their names, as `inputs`.
    any_inputs: bool = False

    def inputs_read(self, params: BaseModel, configured: Collection[str]) -> tuple[str, ...]:
        """The inputs a run passes to the function: the required ones and the optional ones configured and
        used by the parameters (every configured one for a transform of any inputs)."""
        if self.any_inputs:
            return tuple(configured)
        used = set(self.optional_inputs if self.optional_inputs_used is None else self.optional_inputs_used(params))
        return tuple(
            alias
            for alias in self.inputs
            if alias not in self.optional_inputs or (alias in configured and alias in used)
        )

    def apply(self, inputs: Mapping[str, DataFrame], context: TransformContext[BaseModel]) -> DataFrame:
        """Calls the function with its inputs by name (the stream's inputs only, for a merging stream), its
        typed parameters and the context. Of `inputs` only the keys are listed and only the values passed
        are taken (a lazy mapping opens a stream only when asked)."""
        given = {
            alias: inputs[alias]
            for alias in self.inputs_read(context.params, list(inputs))
            if alias not in self.reference_inputs
        }
        arguments: dict[str, Any] = {"inputs": given} if self.any_inputs else dict(given)
        if self.takes_params:
            arguments["params"] = context.params
        if self.takes_context:
            arguments["context"] = context
        return self.function(**arguments)


# The transforms configuration may name, by name (see retail_lakehouse.catalogue).
Catalogue = Mapping[str, TransformSpec]

A = ParamSpec("A")


class Transform(Generic[A]):
    """A function declared as a transform: called as the function itself (what unit tests do), with its
    declaration in `spec`."""

    def __init__(self, function: Callable[A, DataFrame], spec: TransformSpec) -> None:
        self._function = function
        self.spec = spec
        self.__doc__ = function.__doc__
        self.__name__ = function.__name__

    def __call__(self, *args: A.args, **kwargs: A.kwargs) -> DataFrame:
        return self._function(*args, **kwargs)


class DeclarationError(TypeError):
    """A transform's declaration does not follow the contract (a developer's error, raised at import)."""


def transform(
    name: str,
    *,
    description: str,
    preserves_rows: bool = False,
    helper_prefix: str | None = None,
    optional_inputs_used: Callable[[Any], Collection[str]] | None = None,
    merge_batch: Callable[[MicroBatch[Any]], BatchCounts] | None = None,
    reference_inputs: tuple[str, ...] = (),
    optional_reference_inputs: tuple[str, ...] = (),
    check_job: JobCheck | None = None,
) -> Callable[[Callable[A, DataFrame]], Transform[A]]:
    """Declares the decorated function as the transform `name` (see the module's docstring)."""

    def declare(function: Callable[A, DataFrame]) -> Transform[A]:
        hints = typing.get_type_hints(function)
        inputs: list[str] = []
        optional: list[str] = []
        params_model: type[BaseModel] = NoParams
        takes_params = takes_context = any_inputs = False
        for argument in inspect.signature(function).parameters.values():
            hint = hints.get(argument.name)
            if argument.name == "inputs" and hint == Mapping[str, DataFrame]:
                any_inputs = True
            elif argument.name == "params":
                if not (isinstance(hint, type) and issubclass(hint, BaseModel)):
                    raise DeclarationError(f"{name}: `params` must be annotated with a pydantic model")
                params_model, takes_params = hint, True
            elif argument.name == "context":
                takes_context = True
            elif hint is DataFrame:
                inputs.append(argument.name)
            elif hint == DataFrame | None and argument.default is None:
                inputs.append(argument.name)
                optional.append(argument.name)
            else:
                raise DeclarationError(
                    f"{name}: argument {argument.name} is neither an input (DataFrame), `params` nor `context`"
                )
        # A merging stream's reference data is read by its micro-batch writer, not by the function.
        inputs += [*reference_inputs, *optional_reference_inputs]
        optional += optional_reference_inputs
        spec = TransformSpec(
            name=name,
            description=description,
            function=function,
            inputs=tuple(inputs),
            optional_inputs=tuple(optional),
            params_model=params_model,
            takes_params=takes_params,
            takes_context=takes_context,
            preserves_rows=preserves_rows,
            helper_prefix=helper_prefix,
            optional_inputs_used=optional_inputs_used,
            merge_batch=merge_batch,
            reference_inputs=(*reference_inputs, *optional_reference_inputs),
            check_job=check_job,
            any_inputs=any_inputs,
        )
        return Transform(function, spec)

    return declare
