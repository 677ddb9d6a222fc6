"""How to build a table the dashboard finds missing: the job that writes it and the command that runs it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from retail_lakehouse.config import LoadedConfig
from retail_lakehouse.config.dag import job_dependencies
from retail_lakehouse.config.loader import transform_params


@dataclass(frozen=True)
class HowToBuild:
    table: str
    job: str | None
    command: str

    def as_dict(self) -> dict[str, str | None]:
        return {"table": self.table, "job": self.job, "command": self.command}


def _writers(loaded: LoadedConfig) -> dict[str, str]:
    """Table -> the job writing it: its output, or a table its parameters name (defaults included: the
    inventory stream's alerts table)."""
    tables = loaded.config.tables
    writers: dict[str, str] = {}
    for name, job in loaded.config.jobs.items():
        params = transform_params(loaded, name).model_dump().values()
        named = [value for value in params if isinstance(value, str) and value in tables]
        for table in (job.output, *named):
            writers.setdefault(table, name)
    return writers


def how_to_build(loaded: LoadedConfig, tables: list[str], exists: Callable[[str], bool]) -> list[HowToBuild]:
    """For each table, the command that builds it: the stream for a streaming job's tables, else the
    smallest pipeline that runs its job and every job upstream of it whose table does not exist yet (a
    pipeline runs only its own jobs)."""
    config = loaded.config
    writers = _writers(loaded)
    graph = job_dependencies(config.jobs)
    pipelines = sorted(config.pipelines, key=lambda name: len(config.job_names_of(name)))

    def still_to_run(job: str) -> set[str]:
        needed, pending = {job}, [job]
        while pending:
            for upstream in graph.get(pending.pop(), []):
                upstream_job = config.jobs[upstream]
                built = exists(config.storage.table_path(upstream_job.output))
                if upstream not in needed and upstream_job.kind == "batch" and not built:
                    needed.add(upstream)
                    pending.append(upstream)
        return needed

    answers = []
    for table in tables:
        job = writers.get(table)
        if job is None:
            answers.append(HowToBuild(table, None, "no configured job writes this table"))
        elif config.jobs[job].kind == "stream":
            answers.append(HowToBuild(table, job, f"lakehouse stream {job} --available-now"))
        else:
            needed = still_to_run(job)
            pipeline = next((name for name in pipelines if needed <= set(config.job_names_of(name))), None)
            answers.append(
                HowToBuild(table, job, f"lakehouse pipeline {pipeline}" if pipeline else f"lakehouse run {job}")
            )
    return answers
