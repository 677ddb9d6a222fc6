"""The transforms a job can name in configuration, by name.

A transform is a pure function: named input DataFrames and a context (run id, typed parameters) in,
one DataFrame out. The registry is built explicitly (no import-time registration), so a test can run
the runner with transforms of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

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


TransformRegistry = Mapping[str, TransformSpec]


def builtin_transforms() -> dict[str, TransformSpec]:
    from retail_lakehouse.bronze.ingestion import BRONZE_INGESTION

    return {spec.name: spec for spec in (BRONZE_INGESTION,)}
