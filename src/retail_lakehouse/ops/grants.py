"""`lakehouse grants`: the Unity Catalog statements that expose the lakehouse's tables to each role.

1. A schema per layer in `storage.catalog`, and each configured table registered as an external table over
   its storage path (the jobs, which address the same names, create the tables they write first; this
   registers the ones written by path before, and lets grants and masks apply before the first run).
2. Grants from `access.roles`: USE CATALOG for every role with a layer; per layer schema, read -> USE
   SCHEMA and SELECT, write -> ALL PRIVILEGES.
3. Column masks from `tables.<name>.columns`: a PII column reads NULL for every role without `sees_pii`;
   a PCI column (raw card numbers) reads only its last four digits, for everyone.

The statements are printed exactly as `--apply` runs them, one per line, in order."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from retail_lakehouse.config.models import LAYERS, OPS_AREA, ColumnSettings, LakehouseConfig, StorageSettings
from retail_lakehouse.core.errors import ConfigError, LakehouseError
from retail_lakehouse.core.table_refs import quoted_identifier


class SqlSession(Protocol):
    def sql(self, statement: str, /) -> object: ...


@dataclass(frozen=True)
class Names:
    """The quoted SQL names of the catalog, its schemas, tables and mask functions."""

    storage: StorageSettings
    catalog: str  # quoted

    @classmethod
    def of(cls, storage: StorageSettings) -> Names:
        if storage.catalog is None:
            raise ConfigError(
                "storage.catalog is not set: the Unity Catalog catalog that holds the tables (jobs then address "
                "them as catalog.schema.table); set it in conf/<env>/lakehouse.yaml or with --set "
                "storage.catalog=NAME"
            )
        return cls(storage, quoted_identifier(storage.catalog))

    def schema(self, area: str) -> str:
        return f"{self.catalog}.{quoted_identifier(self.storage.schemas[area])}"

    def table(self, table: str) -> str:
        return self.storage.table_ref(table).identifier  # the name the jobs read and write

    def mask(self, kind: str, sql_type: str) -> str:
        return f"{self.schema(OPS_AREA)}.{quoted_identifier(f'mask_{kind}_{sql_type}')}"


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _kind(column: ColumnSettings) -> str | None:
    label = column.classification.upper()
    return "pci" if "PCI" in label else "pii" if "PII" in label else None


def _mask_function(names: Names, kind: str, sql_type: str, readers: list[str]) -> str:
    if kind == "pci":
        # No one reads a raw card number: the last four digits, the rest starred (NULL stays NULL).
        body = "concat(repeat('*', greatest(length(value) - 4, 0)), right(value, 4))"
    elif readers:
        members = " OR ".join(f"is_account_group_member({_literal(group)})" for group in readers)
        body = f"CASE WHEN {members} THEN value ELSE CAST(NULL AS {sql_type.upper()}) END"
    else:
        body = f"CAST(NULL AS {sql_type.upper()})"
    return (
        f"CREATE OR REPLACE FUNCTION {names.mask(kind, sql_type)}(value {sql_type.upper()}) "
        f"RETURNS {sql_type.upper()} RETURN {body}"
    )


def grant_statements(config: LakehouseConfig) -> list[str]:
    access = config.access
    names = Names.of(config.storage)
    areas = [*LAYERS, OPS_AREA]
    statements = [f"CREATE CATALOG IF NOT EXISTS {names.catalog}"]
    statements += [f"CREATE SCHEMA IF NOT EXISTS {names.schema(area)}" for area in areas]
    for table in config.tables:
        location = config.storage.table_path(table)
        statements.append(f"CREATE TABLE IF NOT EXISTS {names.table(table)} USING DELTA LOCATION {_literal(location)}")

    for role_name, role in access.roles.items():
        granted = [area for area in areas if area in role.areas]
        if not granted:
            continue
        if not role.group:
            raise ConfigError(f"access.roles.{role_name}.group is not set: the Unity Catalog group to grant to")
        group = quoted_identifier(role.group)
        statements.append(f"GRANT USE CATALOG ON CATALOG {names.catalog} TO {group}")
        for area in granted:
            privileges = "ALL PRIVILEGES" if role.areas[area] == "write" else "USE SCHEMA, SELECT"
            statements.append(f"GRANT {privileges} ON SCHEMA {names.schema(area)} TO {group}")

    readers = sorted(role.group for role in access.roles.values() if role.sees_pii and role.group)
    masked = [
        (table, column_name, kind, column.type)
        for table, settings in config.tables.items()
        for column_name, column in settings.columns.items()
        if (kind := _kind(column)) is not None
    ]
    for kind, sql_type in sorted({(kind, sql_type) for _, _, kind, sql_type in masked}):
        statements.append(_mask_function(names, kind, sql_type, readers))
    for table, column_name, kind, sql_type in masked:
        statements.append(
            f"ALTER TABLE {names.table(table)} ALTER COLUMN `{column_name}` SET MASK {names.mask(kind, sql_type)}"
        )
    return statements


class GrantFailedError(LakehouseError):
    """A statement of `grants --apply` failed: names it and how many ran before it."""


def apply_statements(session: SqlSession, statements: Iterable[str]) -> int:
    """Runs each statement in order on a Unity Catalog session (Databricks); returns how many ran. The
    statements are idempotent (IF NOT EXISTS, OR REPLACE, GRANT): after a failure, fix and run them all."""
    count = 0
    for statement in statements:
        try:
            session.sql(statement)
        except Exception as exc:  # AnalysisException, or the Connect client's own types
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise GrantFailedError(
                f"statement {count + 1} failed ({count} ran before it): {statement}: {first_line}"
            ) from None
        count += 1
    return count
