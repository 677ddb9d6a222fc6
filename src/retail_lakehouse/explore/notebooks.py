"""Runs a Databricks source-format notebook (`# Databricks notebook source`, cells split by
`# COMMAND ----------`) top to bottom outside Databricks, with local stand-ins for what Databricks
provides: `spark` (the session passed in), `display`, `displayHTML` and `dbutils.widgets`.

`python -m retail_lakehouse.explore.notebooks NOTEBOOK... [--widget NAME=VALUE ...] [--output DIR]` runs
them one after the other on a local session; tests/deploy runs every notebook under notebooks/ this way
against a small lakehouse.
Markdown cells (`%md`) are skipped; `%sql` cells run through `spark.sql`; other magics (`%pip`, `%sh`,
`%run`) are refused, since they would behave differently here."""

from __future__ import annotations

import argparse
import html
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from pyspark.sql import DataFrame, SparkSession

HEADER = "# Databricks notebook source"
CELL_SEPARATOR = "# COMMAND ----------"
MAGIC = "# MAGIC"
# Rows `display` shows of a DataFrame (Databricks shows the first 10,000 in its table view).
DISPLAY_ROWS = 20


class NotebookError(Exception):
    """A notebook that is not in source format, or whose cell failed: names the file and the cell."""


@dataclass(frozen=True)
class Cell:
    number: int  # from 1, as Databricks numbers them
    source: str

    @property
    def magic(self) -> str | None:
        """The magic command of a `# MAGIC %xyz` cell (`md`, `sql`, ...), else None."""
        lines = [line for line in self.source.splitlines() if line.strip()]
        if lines and all(line.startswith(MAGIC) for line in lines):
            first = lines[0].removeprefix(MAGIC).strip()
            return first.split()[0].lstrip("%") if first.startswith("%") else "md"
        return None

    def magic_body(self) -> str:
        lines = [line.removeprefix(MAGIC).removeprefix(" ") for line in self.source.splitlines()]
        body = "\n".join(lines).strip()
        return body.split(None, 1)[1] if " " in body or "\n" in body else ""


def cells_of(path: Path) -> list[Cell]:
    text = path.read_text()
    first, _, rest = text.partition("\n")
    if first.strip() != HEADER:
        raise NotebookError(f"{path}: not a Databricks source notebook (its first line is not '{HEADER}')")
    sources = [source.strip("\n") for source in rest.split(CELL_SEPARATOR)]
    return [Cell(number, source) for number, source in enumerate(sources, start=1) if source.strip()]


@dataclass
class Widgets:
    """dbutils.widgets: a widget's value is the one given for its name, else its default."""

    given: Mapping[str, str]
    values: dict[str, str] = field(default_factory=dict)

    def _define(self, name: str, default: str) -> None:
        self.values[name] = self.given.get(name, default)

    def text(self, name: str, defaultValue: str = "", label: str | None = None) -> None:  # noqa: N803 - dbutils' names
        self._define(name, defaultValue)

    def dropdown(self, name: str, defaultValue: str, choices: Sequence[str], label: str | None = None) -> None:  # noqa: N803
        value = self.given.get(name, defaultValue)
        if value not in choices:
            raise ValueError(f"widget '{name}': '{value}' is not one of {list(choices)}")
        self.values[name] = value

    def combobox(self, name: str, defaultValue: str, choices: Sequence[str], label: str | None = None) -> None:  # noqa: N803
        self._define(name, defaultValue)

    def multiselect(self, name: str, defaultValue: str, choices: Sequence[str], label: str | None = None) -> None:  # noqa: N803
        value = self.given.get(name, defaultValue)
        unknown = [item for item in value.split(",") if item and item not in choices]
        if unknown:
            raise ValueError(f"widget '{name}': {unknown} not among {list(choices)}")
        self.values[name] = value

    def get(self, name: str) -> str:
        if name not in self.values:
            raise ValueError(f"no widget named '{name}' has been defined")
        return self.values[name]

    def getAll(self) -> dict[str, str]:  # noqa: N802 - dbutils' name
        return dict(self.values)

    def removeAll(self) -> None:  # noqa: N802 - dbutils' name
        self.values.clear()


@dataclass
class DBUtils:
    widgets: Widgets


@dataclass
class Displayed:
    """What `display` and `displayHTML` were given, in order (a figure as the PNG file it was saved to)."""

    output: Path
    items: list[tuple[str, Any]] = field(default_factory=list)

    def display(self, value: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(value, DataFrame):
            rows: pd.DataFrame = value.limit(DISPLAY_ROWS).toPandas()
            self.items.append(("table", rows))
            print(rows.to_string(index=False))
            return
        savefig = getattr(value, "savefig", None)
        if savefig is not None:  # a matplotlib figure
            self.output.mkdir(parents=True, exist_ok=True)
            path = self.output / f"figure-{len(self.items) + 1}.png"
            savefig(path)
            self.items.append(("figure", path))
            return
        self.items.append(("value", value))
        print(value)

    def display_html(self, markup: str) -> None:
        self.items.append(("html", markup))
        print(html.unescape(markup))


@dataclass
class NotebookRun:
    path: Path
    cells_run: int
    displayed: Displayed
    namespace: dict[str, Any]


def run_notebook(
    path: Path, spark: SparkSession, widgets: Mapping[str, str] | None = None, output: Path | None = None
) -> NotebookRun:
    """Runs every cell of the notebook in order in one namespace; the first failing cell raises
    NotebookError naming the notebook and the cell."""
    import matplotlib

    matplotlib.use("Agg")  # no display here; figures go to `output`
    displayed = Displayed(output or path.parent / f"{path.stem}-output")
    namespace: dict[str, Any] = {
        "__name__": "__main__",
        "spark": spark,
        "display": displayed.display,
        "displayHTML": displayed.display_html,
        "dbutils": DBUtils(Widgets(dict(widgets or {}))),
    }
    cells = cells_of(path)
    for cell in cells:
        magic = cell.magic
        try:
            if magic == "md":
                continue
            if magic == "sql":
                displayed.display(spark.sql(cell.magic_body()))
            elif magic is not None:
                raise NotebookError(f"%{magic} cells do not run outside Databricks")
            else:
                # The notebook's own code, in the one namespace every cell shares (as on Databricks).
                exec(compile(cell.source, f"{path}#cell{cell.number}", "exec"), namespace)
        except Exception as exc:
            raise NotebookError(f"{path}: cell {cell.number} failed: {type(exc).__name__}: {exc}") from exc
    return NotebookRun(path, sum(1 for cell in cells if cell.magic != "md"), displayed, namespace)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="run a Databricks source notebook on a local Spark session")
    parser.add_argument("notebooks", type=Path, nargs="+", metavar="NOTEBOOK")
    parser.add_argument("--widget", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--output", type=Path, default=None, help="folder for the figures (PNG)")
    args = parser.parse_args(argv)
    widgets = dict(item.split("=", 1) for item in args.widget)
    from retail_lakehouse.catalogue import catalogue
    from retail_lakehouse.config import load_config
    from retail_lakehouse.config.loader import NO_JOBS
    from retail_lakehouse.runtime.spark import get_spark_session

    # The session of the notebook's environment (its `env` widget, local by default).
    loaded = load_config(transforms=catalogue(), env=widgets.get("env", "local"), secrets_for=NO_JOBS)
    spark = get_spark_session(loaded.config.spark)
    try:
        for notebook in args.notebooks:
            output = args.output / notebook.stem if args.output else None
            run = run_notebook(notebook, spark, widgets, output)
            print(f"{run.path}: {run.cells_run} cells run", file=sys.stderr)
    except NotebookError as exc:
        print(exc, file=sys.stderr)
        return 1
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
