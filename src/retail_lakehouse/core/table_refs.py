"""Where a Delta table is: its storage path, and its catalog name when tables are addressed by name.

By path (the default) Spark reads and writes `delta.`<path>``. With a catalog configured
(`storage.catalog`), every read and write goes through `<catalog>.<schema>.<table>` instead, so the catalog
(Unity Catalog on Databricks, a Hive metastore elsewhere) governs it: grants, masks, lineage. The tables
stay external tables at their paths, so readers outside Spark (the dashboard's delta-rs, DuckDB) and the
streams' checkpoints keep finding them where they were.
"""

from __future__ import annotations

from dataclasses import dataclass


def quoted_identifier(part: str) -> str:
    """One part of a SQL name, back-quoted (a back-quote inside doubled)."""
    return "`{}`".format(part.replace("`", "``"))


@dataclass(frozen=True)
class TableRef:
    path: str
    name: str | None = None  # catalog.schema.table; None: addressed by path

    @property
    def by_name(self) -> bool:
        return self.name is not None

    @property
    def identifier(self) -> str:
        """The table's name in SQL statements."""
        if self.name is not None:
            return ".".join(quoted_identifier(part) for part in self.name.split("."))
        return f"delta.{quoted_identifier(self.path)}"

    @property
    def schema_name(self) -> str | None:
        """`catalog.schema` of a table addressed by name."""
        return None if self.name is None else self.name.rsplit(".", 1)[0]

    def __str__(self) -> str:
        return self.name if self.name is not None else self.path
