"""The worked example of docs/architecture.md, taken from the page as written: its module declares a
transform the catalogue accepts, its YAML configures a job that loads, a wrong parameter is one line naming
the file and key, and the transform computes what it says."""

from __future__ import annotations

import re
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from pyspark.sql import SparkSession

from retail_lakehouse.catalogue import catalogue
from retail_lakehouse.config import load_config
from retail_lakehouse.core.contracts import Transform
from retail_lakehouse.core.errors import ConfigError
from tests.conftest import REPO_ROOT

PAGE = (REPO_ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
SECRETS = {"LAKEHOUSE_SECRET_CARD_TOKEN_KEY": "example-key"}


def code_block(language: str) -> str:
    section = PAGE[PAGE.index("### Worked example") :]
    match = re.search(rf"```{language}\n(.*?)```", section, re.S)
    assert match is not None, f"no {language} block in the worked example"
    return match.group(1)


def example_transform() -> Transform:  # type: ignore[type-arg]
    namespace: dict[str, Any] = {"__name__": "docs_example"}
    exec(compile(code_block("python"), "docs/architecture.md", "exec"), namespace)
    declared = namespace["store_days"]
    assert isinstance(declared, Transform)
    return declared


def conf_with_example(tmp_path: Path, params: dict[str, Any] | None = None) -> Path:
    conf = tmp_path / "conf"
    shutil.copytree(REPO_ROOT / "conf", conf)
    example = yaml.safe_load(code_block("yaml"))
    if params is not None:
        example["jobs"]["gold_store_days"]["params"] = params
    for name in ("tables", "jobs"):
        path = conf / "base" / f"{name}.yaml"
        layer = yaml.safe_load(path.read_text(encoding="utf-8"))
        layer[name].update(example[name])
        path.write_text(yaml.safe_dump(layer, sort_keys=False), encoding="utf-8")
    return conf


def test_the_example_is_declared_and_configured_with_one_module_and_one_yaml(tmp_path: Path) -> None:
    spec = example_transform().spec
    loaded = load_config(transforms=catalogue(spec), conf_dir=conf_with_example(tmp_path), environ=SECRETS)
    job = loaded.config.jobs["gold_store_days"]
    assert (job.transform, job.inputs, job.output, spec.inputs) == (
        "gold.store_days",
        {"lines": "silver/transaction_lines"},
        "gold/store_days",
        ("lines",),
    )


def test_a_wrong_parameter_of_the_example_is_one_line_naming_file_and_key(tmp_path: Path) -> None:
    conf = conf_with_example(tmp_path, params={"chanel": "store"})
    with pytest.raises(ConfigError) as raised:
        load_config(transforms=catalogue(example_transform().spec), conf_dir=conf, environ=SECRETS)
    assert str(raised.value) == "conf/base/jobs.yaml: jobs.gold_store_days.params.chanel: unknown key 'chanel'"


def test_the_example_computes_revenue_per_store_and_day(spark: SparkSession) -> None:
    store_days = example_transform()
    lines = spark.createDataFrame(
        [
            (date(2025, 1, 1), "S1", "store", Decimal("10.50")),
            (date(2025, 1, 1), "S1", "store", Decimal("4.50")),
            (date(2025, 1, 1), "S1", "online", Decimal("99.00")),
            (date(2025, 1, 2), "S2", "store", Decimal("3.00")),
        ],
        "sale_date DATE, store_id STRING, channel STRING, net_amount DECIMAL(28,4)",
    )
    params = store_days.spec.params_model.model_validate({"channel": "store"})
    rows = sorted(tuple(row) for row in store_days(lines, params).collect())
    assert rows == [(date(2025, 1, 1), "S1", Decimal("15.0000")), (date(2025, 1, 2), "S2", Decimal("3.0000"))]
