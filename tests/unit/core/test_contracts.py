"""A transform's declaration comes from its function's signature; the runner's call passes exactly the
inputs, parameters and context the function names."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from pydantic import BaseModel, ConfigDict
from pyspark.sql import DataFrame

from retail_lakehouse.catalogue import catalogue
from retail_lakehouse.core.contracts import DeclarationError, NoParams, TransformContext, transform


class Threshold(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    minimum: int = 1
    with_extra: bool = False


def uses_extra(params: Threshold) -> Collection[str]:
    return ("extra",) if params.with_extra else ()


CALLS: list[dict[str, Any]] = []


@transform("test.record_call", description="records what it was called with", optional_inputs_used=uses_extra)
def record_call(
    source: DataFrame,
    lookup: DataFrame,
    params: Threshold,
    context: TransformContext[Threshold],
    extra: DataFrame | None = None,
) -> DataFrame:
    CALLS.append({"source": source, "lookup": lookup, "params": params, "run_id": context.run_id, "extra": extra})
    return source


def frame(name: str) -> DataFrame:
    return cast(DataFrame, name)  # the function under test only passes its inputs on


def context(params: BaseModel) -> TransformContext[BaseModel]:
    return TransformContext("run-7", datetime(2025, 1, 1, tzinfo=UTC), params)


def test_the_declaration_is_read_from_the_signature() -> None:
    spec = record_call.spec
    assert (spec.name, spec.inputs, spec.optional_inputs, spec.params_model) == (
        "test.record_call",
        ("source", "lookup", "extra"),
        ("extra",),
        Threshold,
    )
    assert (spec.takes_params, spec.takes_context, spec.helper_prefix, spec.preserves_rows) == (True, True, None, False)


def test_apply_passes_inputs_by_name_and_an_optional_one_only_when_configured_and_used() -> None:
    CALLS.clear()
    inputs = {"source": frame("s"), "lookup": frame("l"), "extra": frame("e")}
    record_call.spec.apply(inputs, context(Threshold(with_extra=True)))
    record_call.spec.apply(inputs, context(Threshold(with_extra=False)))
    record_call.spec.apply({"source": frame("s"), "lookup": frame("l")}, context(Threshold(with_extra=True)))
    assert [(c["source"], c["lookup"], c["extra"], c["run_id"]) for c in CALLS] == [
        ("s", "l", "e", "run-7"),
        ("s", "l", None, "run-7"),
        ("s", "l", None, "run-7"),
    ]
    assert CALLS[0]["params"] == Threshold(with_extra=True)


def test_the_decorated_function_is_still_the_plain_function() -> None:
    CALLS.clear()
    assert record_call(frame("s"), frame("l"), Threshold(), context(Threshold())) == "s"
    assert record_call.__name__ == "record_call"


def test_an_argument_that_is_no_input_params_or_context_is_refused() -> None:
    with pytest.raises(DeclarationError, match="argument limit is neither an input"):

        @transform("test.bad", description="takes a bare number")
        def bad(source: DataFrame, limit: int) -> DataFrame:
            return source


def test_params_must_be_a_pydantic_model() -> None:
    with pytest.raises(DeclarationError, match="`params` must be annotated with a pydantic model"):

        @transform("test.bad_params", description="untyped params")
        def bad(source: DataFrame, params: dict[str, int]) -> DataFrame:
            return source


def test_a_transform_without_params_takes_none() -> None:
    @transform("test.plain", description="no params")
    def plain(source: DataFrame) -> DataFrame:
        return source

    assert (plain.spec.params_model, plain.spec.takes_params) == (NoParams, False)
    assert plain.spec.apply({"source": frame("s")}, context(NoParams())) == "s"


def test_the_catalogue_lists_every_builtin_transform_once_and_refuses_a_second_of_one_name() -> None:
    builtin = catalogue()
    assert len(builtin) == 33
    assert {"bronze.ingest", "silver.transactions", "gold.sales_daily", "gold.inventory_positions"} <= set(builtin)
    with pytest.raises(ValueError, match=r"two transforms are named gold\.sales_daily"):
        catalogue(builtin["gold.sales_daily"])
