"""Job dependencies: a job depends on the jobs that write the tables it reads, and on its depends_on."""

from __future__ import annotations

from collections.abc import Iterable

from retail_lakehouse.config.models import JobSettings, feed_of

DependencyGraph = dict[str, list[str]]


def job_dependencies(jobs: dict[str, JobSettings]) -> DependencyGraph:
    """For each job, the jobs it depends on, in configuration order."""
    writers: dict[str, list[str]] = {}
    for name, job in jobs.items():
        writers.setdefault(job.output, []).append(name)
    graph: DependencyGraph = {}
    for name, job in jobs.items():
        upstream = [w for ref in job.inputs.values() if feed_of(ref) is None for w in writers.get(ref, [])]
        graph[name] = list(dict.fromkeys(u for u in [*upstream, *job.depends_on] if u != name))
    return graph


def find_cycle(graph: DependencyGraph) -> list[str] | None:
    """A dependency cycle as a path that returns to its start (a -> b -> a), or None."""
    done: set[str] = set()
    for start in graph:
        path: list[str] = []
        on_path: set[str] = set()
        stack: list[tuple[str, Iterable[str]]] = []
        if start in done:
            continue
        stack.append((start, iter(graph.get(start, []))))
        path.append(start)
        on_path.add(start)
        while stack:
            node, children = stack[-1]
            child = next(iter(children), None)
            if child is None:
                stack.pop()
                path.pop()
                on_path.discard(node)
                done.add(node)
            elif child in on_path:
                return [*path[path.index(child) :], child]
            elif child not in done:
                stack.append((child, iter(graph.get(child, []))))
                path.append(child)
                on_path.add(child)
    return None


def execution_order(graph: DependencyGraph, selected: list[str]) -> list[str]:
    """`selected` in dependency order (dependencies among them first), otherwise in the given order.

    Dependencies outside the selection are not added: a pipeline runs the jobs it names and reads
    whatever the others last wrote. The graph is acyclic (checked when configuration loads).
    """
    chosen = set(selected)
    ordered: list[str] = []
    placed: set[str] = set()

    def place(name: str) -> None:
        if name in placed:
            return
        placed.add(name)
        for upstream in graph.get(name, []):
            if upstream in chosen:
                place(upstream)
        ordered.append(name)

    for name in selected:
        place(name)
    return ordered
