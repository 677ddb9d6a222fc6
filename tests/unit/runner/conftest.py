"""A small lakehouse for runner tests: a feed of stores, bronze ingestion, and test transforms."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from retail_lakehouse.catalogue import catalogue
from retail_lakehouse.config import LoadedConfig, load_config
from retail_lakehouse.core.contracts import transform
from tests.conftest import FIXTURES
from tests.helpers import minimal_base, write_conf

FAKE_SECRET = "fake-secret-7f3a9c"
# The suffix of each call of `test.conform`: whether a run called its transform at all.
CONFORM_CALLS: list[str] = []


class RenameParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    suffix: str


@transform("test.conform", description="typed stores")
def conform(raw: DataFrame, params: RenameParams) -> DataFrame:
    CONFORM_CALLS.append(params.suffix)
    return raw.where(F.col("_corrupt_record").isNull()).select(
        "store_id", F.concat("name", F.lit(params.suffix)).alias("name")
    )


@transform("test.fail", description="always fails")
def fail(raw: DataFrame) -> DataFrame:
    raise ValueError(f"cannot reach the source with password {FAKE_SECRET}")


@transform("test.lose_rows", description="drops a row it should keep", preserves_rows=True)
def lose_rows(raw: DataFrame) -> DataFrame:
    return raw.where(F.col("store_id") != "0")


@transform("test.untyped", description="a column of bare nulls")
def untyped_column(raw: DataFrame) -> DataFrame:
    return raw.select("store_id", F.lit(None).alias("note"))


@transform("test.optional_input", description="stores, and whether the optional input was there")
def optional_input(raw: DataFrame, extra: DataFrame | None = None) -> DataFrame:
    return raw.select("store_id", F.lit(extra is not None).alias("had_extra"))


@transform("test.optional_beside_source", description="new stores, and whether the optional input was there")
def optional_beside_source(source: DataFrame, extra: DataFrame | None = None) -> DataFrame:
    return source.select("store_id", F.lit(extra is not None).alias("had_extra"))


TEST_TRANSFORMS = catalogue(
    conform.spec, fail.spec, lose_rows.spec, untyped_column.spec, optional_input.spec, optional_beside_source.spec
)


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    target = tmp_path / "landing"
    shutil.copytree(FIXTURES / "landing", target)
    return target


def lakehouse_config(
    tmp_path: Path,
    landing: Path,
    *,
    extra_jobs: dict[str, dict[str, object]] | None = None,
    pipelines: dict[str, object] | None = None,
    environ: dict[str, str] | None = None,
    feed_settings: dict[str, object] | None = None,
) -> LoadedConfig:
    base = minimal_base(tmp_path / "lake", landing)
    base["feeds"]["feeds"]["stores"].update(feed_settings or {})
    base["tables"]["tables"].update({"silver/stores": {}, "silver/broken": {}})
    base["jobs"]["jobs"].update(extra_jobs or {})
    if pipelines:
        base["pipelines"]["pipelines"] = pipelines
    conf = write_conf(tmp_path / "conf", base)
    return load_config(conf_dir=conf, environ=environ or {}, transforms=TEST_TRANSFORMS)


def silver_job(transform: str, output: str = "silver/stores", **extra: object) -> dict[str, object]:
    return {
        "description": transform,
        "transform": transform,
        "inputs": {"raw": "bronze/stores"},
        "output": output,
        "write": {"mode": "merge", "keys": ["store_id"]},
        **extra,
    }
