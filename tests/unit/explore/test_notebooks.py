"""The local notebook runner: cells split as Databricks splits them, widgets with their defaults and given
values, magics, and errors that name the notebook and the cell."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from retail_lakehouse.explore.notebooks import NotebookError, cells_of, run_notebook

SEPARATOR = "\n\n# COMMAND ----------\n\n"


def notebook(tmp_path: Path, *cells: str) -> Path:
    path = tmp_path / "notebook.py"
    path.write_text("# Databricks notebook source\n" + SEPARATOR.join(cells) + "\n")
    return path


def test_cells_split_on_the_separator_and_magic_cells_are_recognised(tmp_path: Path) -> None:
    path = notebook(tmp_path, "# MAGIC %md\n# MAGIC # Title", "x = 1", "# MAGIC %sql\n# MAGIC SELECT 1 AS one")
    cells = cells_of(path)
    assert [(cell.number, cell.magic) for cell in cells] == [(1, "md"), (2, None), (3, "sql")]
    assert cells[2].magic_body() == "SELECT 1 AS one"


def test_cells_share_one_namespace_widgets_take_given_values_and_sql_cells_display(
    spark: SparkSession, tmp_path: Path
) -> None:
    path = notebook(
        tmp_path,
        'dbutils.widgets.text("name", "default")\ndbutils.widgets.dropdown("size", "S", ["S", "M"])',
        'greeting = "hello " + dbutils.widgets.get("name")',
        'result = (greeting, dbutils.widgets.get("size"))\ndisplay(spark.range(3))',
        "# MAGIC %sql\n# MAGIC SELECT 41 + 1 AS answer",
    )
    run = run_notebook(path, spark, {"name": "store"}, tmp_path / "out")
    assert run.namespace["result"] == ("hello store", "S")
    assert run.cells_run == 4
    (kind, first), (_, second) = run.displayed.items
    assert kind == "table" and list(first["id"]) == [0, 1, 2]
    assert second.to_dict("records") == [{"answer": 42}]


def test_a_figure_is_saved_as_png(spark: SparkSession, tmp_path: Path) -> None:
    path = notebook(
        tmp_path,
        "import matplotlib.pyplot as plt\nfigure, axes = plt.subplots()\naxes.plot([1, 2], [3, 4])\ndisplay(figure)",
    )
    run = run_notebook(path, spark, {}, tmp_path / "out")
    ((kind, saved),) = run.displayed.items
    assert kind == "figure" and saved == tmp_path / "out" / "figure-1.png"
    assert saved.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("cells", "widgets", "message"),
    [
        (("x = 1", "raise KeyError('missing')"), {}, r"notebook.py: cell 2 failed: KeyError: 'missing'"),
        (("# MAGIC %sh\n# MAGIC ls",), {}, r"cell 1 failed: NotebookError: %sh cells do not run outside Databricks"),
        (
            ('dbutils.widgets.dropdown("size", "S", ["S", "M"])',),
            {"size": "XL"},
            r"cell 1 failed: ValueError: widget 'size': 'XL' is not one of \['S', 'M'\]",
        ),
        (('dbutils.widgets.get("never")',), {}, r"cell 1 failed: ValueError: no widget named 'never'"),
    ],
)
def test_errors_name_the_notebook_and_the_cell(
    spark: SparkSession, tmp_path: Path, cells: tuple[str, ...], widgets: dict[str, str], message: str
) -> None:
    with pytest.raises(NotebookError, match=message):
        run_notebook(notebook(tmp_path, *cells), spark, widgets, tmp_path / "out")


def test_a_file_without_the_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plain.py"
    path.write_text("print('hi')\n")
    with pytest.raises(NotebookError, match=r"plain.py: not a Databricks source notebook"):
        cells_of(path)
