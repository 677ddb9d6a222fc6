from __future__ import annotations

from typing import Any

from retail_lakehouse.config.dag import execution_order, find_cycle, job_dependencies
from retail_lakehouse.config.models import JobSettings


def job(inputs: dict[str, str], output: str, depends_on: list[str] | None = None) -> JobSettings:
    data: dict[str, Any] = {
        "description": "d",
        "transform": "t",
        "inputs": inputs,
        "output": output,
        "write": {"mode": "overwrite"},
        "depends_on": depends_on or [],
    }
    return JobSettings.model_validate(data)


JOBS = {
    "gold_sales": job({"lines": "silver/lines", "stores": "silver/stores"}, "gold/sales"),
    "silver_lines": job({"raw": "bronze/lines"}, "silver/lines"),
    "bronze_lines": job({"source": "feed:lines"}, "bronze/lines"),
    "silver_stores": job({"raw": "bronze/stores"}, "silver/stores"),
    "report": job({"sales": "gold/sales"}, "gold/report", depends_on=["silver_stores"]),
}


def test_dependencies_come_from_tables_read_and_depends_on() -> None:
    assert job_dependencies(JOBS) == {
        "gold_sales": ["silver_lines", "silver_stores"],
        "silver_lines": ["bronze_lines"],
        "bronze_lines": [],
        "silver_stores": [],
        "report": ["gold_sales", "silver_stores"],
    }


def test_execution_order_puts_dependencies_first_and_keeps_the_rest_in_order() -> None:
    graph = job_dependencies(JOBS)
    assert execution_order(graph, list(JOBS)) == [
        "bronze_lines",
        "silver_lines",
        "silver_stores",
        "gold_sales",
        "report",
    ]
    # Jobs outside the selection are not pulled in.
    assert execution_order(graph, ["report", "gold_sales"]) == ["gold_sales", "report"]


def test_find_cycle_returns_the_cycle_path() -> None:
    assert find_cycle(job_dependencies(JOBS)) is None
    assert find_cycle({"a": ["b"], "b": ["c"], "c": ["a"], "d": []}) == ["a", "b", "c", "a"]
    assert find_cycle({"x": ["x"]}) == ["x", "x"]
