"""Cross-checks of configuration against itself and the catalogue of transforms, one validator per
concern. Each yields the problems it finds; `check_references` raises them together as one ConfigError,
from the first concern that has any (a later concern may only be checkable once an earlier one holds: a
job's inputs are compared with a transform only once the transform is known)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from retail_lakehouse.config.dag import find_cycle, job_dependencies
from retail_lakehouse.config.models import LAYERS, JobSettings, LakehouseConfig, feed_of
from retail_lakehouse.config.sources import LayeredTree
from retail_lakehouse.core.contracts import Catalogue, TransformSpec
from retail_lakehouse.core.errors import ConfigError
from retail_lakehouse.core.expectations import SUPPORTED_EXPECTATIONS


@dataclass(frozen=True)
class Checked:
    """What every validator is given: the configuration, the catalogue, and where each key came from."""

    config: LakehouseConfig
    transforms: Catalogue
    tree: LayeredTree

    def problem(self, message: str, *path: str) -> ConfigError:
        return ConfigError(message, source=self.tree.origin_of(path) or "configuration", key=".".join(path))

    def jobs_with_transforms(self) -> Iterator[tuple[str, JobSettings, TransformSpec]]:
        """The jobs whose transform is in the catalogue (`transforms` reports the others)."""
        for job_name, job in self.config.jobs.items():
            spec = self.transforms.get(job.transform)
            if spec is not None:
                yield job_name, job, spec


Validator = Callable[[Checked], Iterator[ConfigError]]


def tables(checked: Checked) -> Iterator[ConfigError]:
    for table in checked.config.tables:
        layer, _, name = table.partition("/")
        if layer not in LAYERS or not name or "/" in name:
            yield checked.problem(f"table names are LAYER/NAME with LAYER one of {', '.join(LAYERS)}", "tables", table)


def transforms(checked: Checked) -> Iterator[ConfigError]:
    for job_name, job in checked.config.jobs.items():
        if job.transform not in checked.transforms:
            yield checked.problem(
                f"unknown transform '{job.transform}' (known: {', '.join(sorted(checked.transforms))})",
                "jobs",
                job_name,
                "transform",
            )


def inputs_and_feeds(checked: Checked) -> Iterator[ConfigError]:
    config = checked.config
    for job_name, job, spec in checked.jobs_with_transforms():
        suite = config.quality.get(job.quality) if job.quality else None
        # Besides the transform's inputs, a job reads the tables its rules take allowed values from.
        lookups = {(rule.value_set_from or "").split(".", 1)[0] for rule in suite.rules} - {""} if suite else set()
        required, optional = set(spec.inputs) - set(spec.optional_inputs), set(spec.optional_inputs)
        if spec.any_inputs:
            if not job.inputs:
                yield checked.problem(f"transform {spec.name} needs at least one input", "jobs", job_name, "inputs")
        elif not required <= set(job.inputs) or set(job.inputs) - lookups - optional != required - lookups:
            optional_note = f" (optional: {', '.join(spec.optional_inputs)})" if optional else ""
            yield checked.problem(
                f"transform {spec.name} takes inputs {', '.join(spec.inputs)}{optional_note}; "
                f"configured: {', '.join(job.inputs) or 'none'}",
                "jobs",
                job_name,
                "inputs",
            )
        for alias, reference in job.inputs.items():
            feed = feed_of(reference)
            if feed is not None and feed not in config.feeds:
                yield checked.problem(
                    f"unknown feed '{feed}' (feeds: {', '.join(config.feeds) or 'none'})",
                    "jobs",
                    job_name,
                    "inputs",
                    alias,
                )
            if feed is None and reference not in config.tables:
                yield checked.problem(
                    f"unknown table '{reference}'; inputs are 'feed:NAME' or a table declared under tables",
                    "jobs",
                    job_name,
                    "inputs",
                    alias,
                )
        if job.output not in config.tables:
            yield checked.problem(f"table '{job.output}' is not declared under tables", "jobs", job_name, "output")


def write_modes(checked: Checked) -> Iterator[ConfigError]:
    config = checked.config
    for job_name, job in config.jobs.items():
        if job.write.within_partitions and not config.tables[job.output].partition_by:
            yield checked.problem(
                f"within_partitions needs a partitioned table; '{job.output}' has no partition_by",
                "jobs",
                job_name,
                "write",
                "within_partitions",
            )


def streams(checked: Checked) -> Iterator[ConfigError]:
    for job_name, job, spec in checked.jobs_with_transforms():
        if job.kind == "stream" and any(feed_of(ref) is None for ref in job.inputs.values()):
            yield checked.problem("streaming jobs read feeds only", "jobs", job_name, "inputs")
        if job.merges_stream and spec.merge_batch is None:
            yield checked.problem(
                f"transform {spec.name} does not merge micro-batches; a streaming job with write.mode merge "
                "needs one that does (e.g. gold.inventory_positions)",
                "jobs",
                job_name,
                "write",
                "mode",
            )
        if spec.merge_batch is not None and not job.merges_stream:
            yield checked.problem(
                f"transform {spec.name} merges micro-batches of a stream: set kind: stream and write.mode: merge",
                "jobs",
                job_name,
                "kind",
            )


def quality(checked: Checked) -> Iterator[ConfigError]:
    config = checked.config
    for job_name, job in config.jobs.items():
        if job.quality is None:
            continue
        suite = config.quality.get(job.quality)
        if suite is None:
            yield checked.problem(
                f"unknown quality suite '{job.quality}' (suites: {', '.join(config.quality) or 'none'})",
                "jobs",
                job_name,
                "quality",
            )
            continue
        for rule in suite.rules:
            alias = (rule.value_set_from or "").split(".", 1)[0]
            if alias and (alias not in job.inputs or feed_of(job.inputs[alias]) is not None):
                yield checked.problem(
                    f"rule {rule.name} takes its values from input '{alias}', which job {job_name} does not "
                    "read as a table",
                    "quality",
                    job.quality,
                    "rules",
                )
    for suite_name, suite in config.quality.items():
        for index, rule in enumerate(suite.rules):
            if rule.expectation not in SUPPORTED_EXPECTATIONS:
                yield checked.problem(
                    f"unsupported expectation '{rule.expectation}' (supported: "
                    f"{', '.join(sorted(SUPPORTED_EXPECTATIONS))})",
                    "quality",
                    suite_name,
                    "rules",
                    str(index),
                    "expectation",
                )


def jdbc(checked: Checked) -> Iterator[ConfigError]:
    config = checked.config
    for job_name, job in config.jobs.items():
        database_feeds = [f for ref in job.inputs.values() if (f := feed_of(ref)) and config.feeds[f].format == "jdbc"]
        if not database_feeds or not job.reads_stream:
            continue
        if job.kind == "stream" or len(job.inputs) != 1:
            yield checked.problem(
                "a database feed is extracted by an incremental batch job with that single input",
                "jobs",
                job_name,
                "inputs",
            )
        elif not config.feeds[database_feeds[0]].watermark_column:
            yield checked.problem(
                f"incremental extraction needs feeds.{database_feeds[0]}.watermark_column",
                "jobs",
                job_name,
                "incremental",
            )


def dependencies(checked: Checked) -> Iterator[ConfigError]:
    jobs = checked.config.jobs
    unknown = False
    for job_name, job in jobs.items():
        for upstream in job.depends_on:
            if upstream not in jobs:
                unknown = True
                yield checked.problem(f"depends on unknown job '{upstream}'", "jobs", job_name, "depends_on")
    cycle = None if unknown else find_cycle(job_dependencies(jobs))
    if cycle:
        yield checked.problem(f"jobs depend on each other in a cycle: {' -> '.join(cycle)}", "jobs", cycle[0])


def params(checked: Checked) -> Iterator[ConfigError]:
    config = checked.config
    for job_name, job, spec in checked.jobs_with_transforms():
        try:
            parsed = spec.params_model.model_validate(job.params)
        except ValidationError as exc:
            yield pydantic_errors(exc, checked.tree, ("jobs", job_name, "params"))
            continue
        if spec.check_job is not None:
            problem = spec.check_job(parsed, job.inputs, set(config.tables))
            if problem is not None:
                message, key = problem
                yield checked.problem(message, "jobs", job_name, *key)


def pipelines(checked: Checked) -> Iterator[ConfigError]:
    config = checked.config
    for pipeline_name, pipeline in config.pipelines.items():
        if pipeline.maintain != "*":
            for index, table in enumerate(pipeline.maintain):
                if table not in config.tables:
                    yield checked.problem(
                        f"unknown table '{table}' to maintain (see tables)",
                        "pipelines",
                        pipeline_name,
                        "maintain",
                        str(index),
                    )
        if pipeline.jobs == "*":
            continue
        for index, job_name in enumerate(pipeline.jobs):
            if job_name not in config.jobs:
                yield checked.problem(
                    f"unknown job '{job_name}' (jobs: {', '.join(config.jobs)})",
                    "pipelines",
                    pipeline_name,
                    "jobs",
                    str(index),
                )


def landing_retention(checked: Checked) -> Iterator[ConfigError]:
    """Landing files may be removed only where a checkpoint says which were committed: feeds every reader
    of which reads incrementally (a whole-folder reader would lose the removed files on its next run)."""
    config = checked.config
    for feed_name, feed in config.feeds.items():
        if feed.landing_retention is None:
            continue
        readers = [name for name, job in config.jobs.items() if f"feed:{feed_name}" in job.inputs.values()]
        whole = [name for name in readers if not config.jobs[name].reads_stream]
        if whole or not readers:
            why = f"job {', '.join(whole)} reads the whole folder each run" if whole else "no job reads the feed"
            yield checked.problem(
                f"landing_retention needs a feed read only incrementally (incremental: true, or a stream): {why}",
                "feeds",
                feed_name,
                "landing_retention",
            )


# In the order a fix goes: names before what refers to them.
VALIDATORS: tuple[Validator, ...] = (
    tables,
    transforms,
    inputs_and_feeds,
    write_modes,
    streams,
    quality,
    jdbc,
    dependencies,
    params,
    pipelines,
    landing_retention,
)


def check_references(config: LakehouseConfig, catalogue: Catalogue, tree: LayeredTree) -> None:
    """Raises the problems of the first concern that has any, as one ConfigError (one line each)."""
    checked = Checked(config, catalogue, tree)
    for validator in VALIDATORS:
        problems = list(validator(checked))
        if problems:
            first, *rest = problems
            raise ConfigError(first.detail, source=first.source, key=first.key, also=[*first.also, *rest])


def pydantic_errors(exc: ValidationError, tree: LayeredTree, prefix: tuple[str, ...]) -> ConfigError:
    """Every problem pydantic found, one ConfigError line each, in the order of the configuration."""
    problems = [_pydantic_error(error, tree, prefix) for error in exc.errors()]
    return ConfigError(problems[0].detail, source=problems[0].source, key=problems[0].key, also=problems[1:])


def _pydantic_error(error: ErrorDetails, tree: LayeredTree, prefix: tuple[str, ...]) -> ConfigError:
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
