"""`job_names_of(pipeline, layer)`: a scheduler's task per layer runs exactly the pipeline's jobs of it."""

from __future__ import annotations

from pathlib import Path

import yaml

from retail_lakehouse.catalogue import catalogue
from retail_lakehouse.config import load_config

CONF = Path(__file__).resolve().parents[3] / "conf"


def test_each_layer_of_the_daily_pipeline_holds_its_jobs_and_the_layers_partition_it() -> None:
    config = load_config(transforms=catalogue(), conf_dir=CONF, env="local", secrets_for=()).config
    listed = yaml.safe_load((CONF / "base" / "pipelines.yaml").read_text())["pipelines"]["daily"]["jobs"]
    outputs = yaml.safe_load((CONF / "base" / "jobs.yaml").read_text())["jobs"]
    by_layer = {
        layer: [name for name in listed if outputs[name]["output"].startswith(f"{layer}/")]
        for layer in ("bronze", "silver", "gold")
    }
    for layer, names in by_layer.items():
        assert config.job_names_of("daily", layer) == names
    assert len(by_layer["bronze"]) == 16 and len(by_layer["silver"]) == 13 and len(by_layer["gold"]) == 7
    assert [name for names in by_layer.values() for name in names] == config.job_names_of("daily")


def test_a_layer_of_every_batch_job() -> None:
    config = load_config(transforms=catalogue(), conf_dir=CONF, env="local", secrets_for=()).config
    gold = config.job_names_of("all", "gold")
    assert gold == [name for name, job in config.jobs.items() if job.kind == "batch" and job.output.startswith("gold/")]
    assert "gold_demand_forecast" in gold and not any(name.startswith("silver_") for name in gold)
