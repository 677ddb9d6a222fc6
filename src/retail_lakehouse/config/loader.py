"""Loads, resolves and validates configuration before Spark starts; every problem is one ConfigError."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from retail_lakehouse.config.dag import find_cycle, job_dependencies
from retail_lakehouse.config.models import LAYERS, LakehouseConfig, SecretsSettings, feed_of
from retail_lakehouse.config.secrets import (
    SecretBackend,
    SecretRedactor,
    backend_from_settings,
    resolve_secret_references,
)
from retail_lakehouse.config.sources import LayeredTree, default_conf_dir, load_layers
from retail_lakehouse.errors import ConfigError
from retail_lakehouse.quality.expectations import SUPPORTED_EXPECTATIONS
from retail_lakehouse.registry import TransformRegistry, builtin_transforms

DEFAULT_ENV = "local"


@dataclass(frozen=True)
class LoadedConfig:
    """Validated configuration, the transforms its jobs name, and the redactor for its secret values."""

    config: LakehouseConfig
    transforms: TransformRegistry
    redactor: SecretRedactor


def load_config(
    *,
    env: str | None = None,
    conf_dir: Path | None = None,
    set_overrides: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
    transforms: TransformRegistry | None = None,
    secret_backend: SecretBackend | None = None,
) -> LoadedConfig:
    environ = os.environ if environ is None else environ
    env = env or environ.get("LAKEHOUSE_ENV") or DEFAULT_ENV
    conf_dir = conf_dir or default_conf_dir(environ)
    transforms = builtin_transforms() if transforms is None else transforms
    redactor = SecretRedactor()
    try:
        tree = load_layers(conf_dir, env, set_overrides, environ)
        secrets = _validate(SecretsSettings, tree.values.get("secrets", {}), tree, prefix=("secrets",))
        backend = secret_backend or backend_from_settings(secrets.model_dump(), environ)
        resolved = resolve_secret_references(tree.values, backend, redactor, tree.origin_of)
        config = _validate(LakehouseConfig, {**resolved, "env": env, "conf_dir": str(conf_dir)}, tree)
        _check_references(config, transforms, tree)
    except ConfigError as exc:
        # A value echoed back in a message may be a resolved secret.
        raise exc.redacted(redactor.redact) from None
    return LoadedConfig(config=config, transforms=transforms, redactor=redactor)


M = TypeVar("M", bound=BaseModel)


def _validate(model: type[M], data: Any, tree: LayeredTree, prefix: tuple[str, ...] = ()) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _all_errors(exc, tree, prefix) from None


def _all_errors(exc: ValidationError, tree: LayeredTree, prefix: tuple[str, ...]) -> ConfigError:
    """Every problem pydantic found, one ConfigError line each, in the order of the configuration."""
    problems = [_config_error(error, tree, prefix) for error in exc.errors()]
    return ConfigError(problems[0].detail, source=problems[0].source, key=problems[0].key, also=problems[1:])


def _config_error(error: ErrorDetails, tree: LayeredTree, prefix: tuple[str, ...]) -> ConfigError:
    location = tuple(str(part) for part in (*prefix, *error["loc"]))
    kind = error["type"]
    if kind == "extra_forbidden":
        message = f"unknown key '{location[-1]}'"
    elif kind == "missing":
        message = "required key is missing"
    else:
        message = error["msg"].removeprefix("Value error, ")
        if kind not in {"value_error", "assertion_error"}:
            message += f" (got {error['input']!r})"
    return ConfigError(message, source=tree.origin_of(location) or "configuration", key=".".join(location))


def _check_references(config: LakehouseConfig, transforms: TransformRegistry, tree: LayeredTree) -> None:
    def fail(message: str, *path: str) -> ConfigError:
        return ConfigError(message, source=tree.origin_of(path) or "configuration", key=".".join(path))

    for table in config.tables:
        layer, _, name = table.partition("/")
        if layer not in LAYERS or not name or "/" in name:
            raise fail(f"table names are LAYER/NAME with LAYER one of {', '.join(LAYERS)}", "tables", table)

    for job_name, job in config.jobs.items():
        spec = transforms.get(job.transform)
        if spec is None:
            raise fail(
                f"unknown transform '{job.transform}' (known: {', '.join(sorted(transforms))})",
                "jobs",
                job_name,
                "transform",
            )
        suite = config.quality.get(job.quality) if job.quality else None
        # Besides the transform's inputs, a job reads the tables its rules take allowed values from.
        lookups = {(rule.value_set_from or "").split(".", 1)[0] for rule in suite.rules} - {""} if suite else set()
        required, optional = set(spec.inputs) - set(spec.optional_inputs), set(spec.optional_inputs)
        if not required <= set(job.inputs) or set(job.inputs) - lookups - optional != required - lookups:
            optional_note = f" (optional: {', '.join(spec.optional_inputs)})" if optional else ""
            raise fail(
                f"transform {spec.name} takes inputs {', '.join(spec.inputs)}{optional_note}; "
                f"configured: {', '.join(job.inputs) or 'none'}",
                "jobs",
                job_name,
                "inputs",
            )
        for alias, reference in job.inputs.items():
            feed = feed_of(reference)
            if feed is not None and feed not in config.feeds:
                raise fail(
                    f"unknown feed '{feed}' (feeds: {', '.join(config.feeds) or 'none'})",
                    "jobs",
                    job_name,
                    "inputs",
                    alias,
                )
            if feed is None and reference not in config.tables:
                raise fail(
                    f"unknown table '{reference}'; inputs are 'feed:NAME' or a table declared under tables",
                    "jobs",
                    job_name,
                    "inputs",
                    alias,
                )
        if job.output not in config.tables:
            raise fail(f"table '{job.output}' is not declared under tables", "jobs", job_name, "output")
        if job.write.within_partitions and not config.tables[job.output].partition_by:
            raise fail(
                f"within_partitions needs a partitioned table; '{job.output}' has no partition_by",
                "jobs",
                job_name,
                "write",
                "within_partitions",
            )
        if job.kind == "stream" and any(feed_of(ref) is None for ref in job.inputs.values()):
            raise fail("streaming jobs read feeds only", "jobs", job_name, "inputs")
        if job.merges_stream and spec.merge_batch is None:
            raise fail(
                f"transform {spec.name} does not merge micro-batches; a streaming job with write.mode merge "
                "needs one that does (e.g. gold.inventory_positions)",
                "jobs",
                job_name,
                "write",
                "mode",
            )
        if spec.merge_batch is not None and not job.merges_stream:
            raise fail(
                f"transform {spec.name} merges micro-batches of a stream: set kind: stream and write.mode: merge",
                "jobs",
                job_name,
                "kind",
            )
        if job.quality is not None:
            suite = config.quality.get(job.quality)
            if suite is None:
                raise fail(
                    f"unknown quality suite '{job.quality}' (suites: {', '.join(config.quality) or 'none'})",
                    "jobs",
                    job_name,
                    "quality",
                )
            for rule in suite.rules:
                alias = (rule.value_set_from or "").split(".", 1)[0]
                if alias and (alias not in job.inputs or feed_of(job.inputs[alias]) is not None):
                    raise fail(
                        f"rule {rule.name} takes its values from input '{alias}', which job {job_name} does not "
                        "read as a table",
                        "quality",
                        job.quality,
                        "rules",
                    )
        jdbc_inputs = [f for ref in job.inputs.values() if (f := feed_of(ref)) and config.feeds[f].format == "jdbc"]
        if jdbc_inputs and job.reads_stream:
            if job.kind == "stream" or len(job.inputs) != 1:
                raise fail(
                    "a database feed is extracted by an incremental batch job with that single input",
                    "jobs",
                    job_name,
                    "inputs",
                )
            if not config.feeds[jdbc_inputs[0]].watermark_column:
                raise fail(
                    f"incremental extraction needs feeds.{jdbc_inputs[0]}.watermark_column",
                    "jobs",
                    job_name,
                    "incremental",
                )
        for upstream in job.depends_on:
            if upstream not in config.jobs:
                raise fail(f"depends on unknown job '{upstream}'", "jobs", job_name, "depends_on")
        params = _validate(spec.params_model, job.params, tree, prefix=("jobs", job_name, "params"))
        if spec.check_job is not None:
            problem = spec.check_job(params, job.inputs, set(config.tables))
            if problem is not None:
                message, key = problem
                raise fail(message, "jobs", job_name, *key)

    for suite_name, suite in config.quality.items():
        for index, rule in enumerate(suite.rules):
            if rule.expectation not in SUPPORTED_EXPECTATIONS:
                raise fail(
                    f"unsupported expectation '{rule.expectation}' (supported: "
                    f"{', '.join(sorted(SUPPORTED_EXPECTATIONS))})",
                    "quality",
                    suite_name,
                    "rules",
                    str(index),
                    "expectation",
                )

    cycle = find_cycle(job_dependencies(config.jobs))
    if cycle:
        raise fail(f"jobs depend on each other in a cycle: {' -> '.join(cycle)}", "jobs", cycle[0])

    for pipeline_name, pipeline in config.pipelines.items():
        if pipeline.jobs == "*":
            continue
        for index, job_name in enumerate(pipeline.jobs):
            if job_name not in config.jobs:
                raise fail(
                    f"unknown job '{job_name}' (jobs: {', '.join(config.jobs)})",
                    "pipelines",
                    pipeline_name,
                    "jobs",
                    str(index),
                )


def transform_params(loaded: LoadedConfig, job_name: str) -> BaseModel:
    """The job's parameters parsed into its transform's model (validated at load, so this cannot fail)."""
    job = loaded.config.jobs[job_name]
    return loaded.transforms[job.transform].params_model.model_validate(job.params)
