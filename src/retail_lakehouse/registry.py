"""The transforms a job can name in configuration, by name.

A transform is a pure function: named input DataFrames and a context (run id, typed parameters) in,
one DataFrame out. The registry is built explicitly (no import-time registration), so a test can run
the runner with transforms of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel, ConfigDict
from pyspark.sql import DataFrame


class NoParams(BaseModel):
    """Parameters of a transform that takes none: any key given is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class TransformContext:
    """What a transform may know about the run besides its inputs."""

    run_id: str
    run_started_at: datetime
    params: BaseModel


TransformFunction = Callable[[Mapping[str, DataFrame], TransformContext], DataFrame]

JobCheck = Callable[[BaseModel, Mapping[str, str], set[str]], "tuple[str, tuple[str, ...]] | None"]

if TYPE_CHECKING:
    from retail_lakehouse.runner.batches import BatchCounts
    from retail_lakehouse.runner.streams import MicroBatch


@dataclass(frozen=True)
class TransformSpec:
    name: str
    description: str
    inputs: tuple[str, ...]
    apply: TransformFunction
    params_model: type[BaseModel] = NoParams
    # Every input row becomes exactly one output row, so rows read must equal rows written; the runner
    # fails the run when they differ (nothing may be lost silently).
    preserves_rows: bool = False
    # Output columns starting with this prefix help the rules, deduplication and quarantine (the raw
    # record, its file, ingestion time) and are dropped before the table is written.
    helper_prefix: str | None = None
    # Inputs a job may leave out (the transform's parameters say when it needs them).
    optional_inputs: tuple[str, ...] = ()
    # A streaming transform that merges each micro-batch itself: `apply` turns the input streams into one
    # stream, `merge_batch` writes a micro-batch of it. Inputs in `reference_inputs` are read whole.
    merge_batch: Callable[[MicroBatch], BatchCounts] | None = None
    reference_inputs: tuple[str, ...] = ()
    # Checks what the parameters imply about the job (an input they need, a table they name): a message and
    # the key under the job, or None.
    check_job: JobCheck | None = None


TransformRegistry = Mapping[str, TransformSpec]
P = TypeVar("P", bound=BaseModel)


def of_source(function: Callable[[DataFrame], DataFrame]) -> TransformFunction:
    """A transform of the single input `source` that takes no parameters."""

    def apply(inputs: Mapping[str, DataFrame], context: TransformContext) -> DataFrame:
        return function(inputs["source"])

    return apply


def of_source_with(function: Callable[[DataFrame, P], DataFrame], params_model: type[P]) -> TransformFunction:
    """A transform of the single input `source` and its typed parameters."""

    def apply(inputs: Mapping[str, DataFrame], context: TransformContext) -> DataFrame:
        assert isinstance(context.params, params_model)
        return function(inputs["source"], context.params)

    return apply


def builtin_transforms() -> dict[str, TransformSpec]:
    from retail_lakehouse.bronze.ingestion import BRONZE_INGESTION
    from retail_lakehouse.gold.catalogue import GOLD_TRANSFORMS
    from retail_lakehouse.silver.catalogue import SILVER_TRANSFORMS

    return {spec.name: spec for spec in (BRONZE_INGESTION, *SILVER_TRANSFORMS, *GOLD_TRANSFORMS)}
