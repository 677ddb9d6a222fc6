"""`transform: sql`: a Spark SQL query, written in configuration (inline, or a `.sql` file beside the YAML),
over the job's inputs registered as views under their names. Typed parameters are bound as named SQL
parameters (`:name`), never pasted into the text. The runner treats it as any transform: every write mode,
incremental inputs, quality suites, quarantine and reconciliation.

Columns whose names start with `_` are helpers, as in the built-in transforms: quality rules may read
them (`_corrupt_record`), and they are dropped before the table is written. A rejected row reaches the
quarantine as JSON of the query's columns, with the `pii` columns masked."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pyspark.errors import AnalysisException, ParseException
from pyspark.sql import DataFrame

from retail_lakehouse.config.query_files import SQL_TRANSFORM
from retail_lakehouse.core.columns import HELPER_PREFIX, RAW_RECORD
from retail_lakehouse.core.contracts import transform
from retail_lakehouse.core.errors import JobError
from retail_lakehouse.silver.standardize import raw_record

SqlType = Literal["string", "int", "long", "double", "decimal", "boolean", "date", "timestamp"]


class SqlQueryError(JobError):
    """The query does not parse, or does not analyse against its inputs."""


def _typed(kind: SqlType, value: Any) -> object:
    """The value as the Python type Spark binds as that SQL type (a ValueError names what is wrong)."""
    if value is None:
        return None
    if kind == "string":
        return str(value)
    if kind in ("int", "long"):
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError(f"expected a whole number, got {value!r}")
        return int(value)
    if kind == "double":
        return float(value)
    if kind == "decimal":
        return decimal.Decimal(str(value))
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {value!r}")
        return value
    if kind == "date":
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


class SqlParameter(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: SqlType = Field(description="The SQL type the value is bound as.")
    value: Any = Field(description="The value; dates and timestamps in ISO form.")

    @model_validator(mode="after")
    def _value_has_its_type(self) -> SqlParameter:
        try:
            _typed(self.type, self.value)
        except (ValueError, decimal.InvalidOperation) as exc:
            raise ValueError(f"value {self.value!r} is not a {self.type}: {exc}") from None
        return self

    @property
    def bound(self) -> object:
        return _typed(self.type, self.value)


class SqlParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    query: str | None = Field(None, description="The query, inline.")
    query_file: str | None = Field(
        None, description="A .sql file holding the query, relative to the YAML file that names it."
    )
    parameters: dict[str, SqlParameter] = Field(
        default_factory=dict, description="Named parameters, :name in the query, each with its type and value."
    )
    pii: list[str] = Field(
        default_factory=list, description="Columns of the query masked in the quarantine's copy of a rejected row."
    )

    @model_validator(mode="after")
    def _one_query(self) -> SqlParams:
        # Configuration loading reads query_file into query; a job names one of the two.
        if not (self.query or "").strip():
            raise ValueError("give the query: query (inline) or query_file (a .sql file beside the YAML)")
        return self

    @property
    def source(self) -> str:
        """Where the query comes from, for messages."""
        return self.query_file or "the inline query"

    @property
    def bound(self) -> dict[str, object]:
        return {name: parameter.bound for name, parameter in self.parameters.items()}


def run_query(inputs: Mapping[str, DataFrame], params: SqlParams) -> DataFrame:
    """The query's DataFrame over `inputs` registered as views (analysed now: a query that does not parse or
    analyse raises SqlQueryError with Spark's message)."""
    if not inputs:
        raise SqlQueryError(f"the query in {params.source} has no input to read")
    spark = next(iter(inputs.values())).sparkSession
    for alias, frame in inputs.items():
        frame.createOrReplaceTempView(alias)
    try:
        result = spark.sql(params.query or "", args=params.bound)
        result.schema  # noqa: B018 - analysis happens here under Spark Connect, which builds plans lazily
    except (ParseException, AnalysisException) as exc:
        # Spark's first line says what and where (error class, column, line and position); the plan that
        # follows is for Spark's developers.
        message = str(exc).strip().split("\n", 1)[0].rstrip(";")
        raise SqlQueryError(f"the query in {params.source} does not analyse: {message}") from None
    return result


@transform(
    SQL_TRANSFORM,
    description="a Spark SQL query from configuration over the job's inputs, named as views",
    helper_prefix=HELPER_PREFIX,
)
def sql(inputs: Mapping[str, DataFrame], params: SqlParams) -> DataFrame:
    """The query's rows, with the record a quarantine keeps of each (unless the query gives its own)."""
    result = run_query(inputs, params)
    if RAW_RECORD in result.columns:
        return result
    return result.withColumn(RAW_RECORD, raw_record(result.columns, params.pii))
