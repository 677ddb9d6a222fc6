"""Typed, validated configuration. Unknown keys are errors; cross-references are checked here."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, field_validator, model_validator

LAYERS = ("bronze", "silver", "gold")
FEED_PREFIX = "feed:"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class StorageSettings(Section):
    landing: str = Field(description="Root of the landing zone (raw source files); local path or abfss:// URI.")
    root: str = Field(description="Root of the lakehouse; tables live at <root>/<layer>/<table>.")

    @field_validator("landing", "root")
    @classmethod
    def _local_paths_absolute(cls, value: str) -> str:
        # Spark and Delta take a relative path for a table name; local roots become absolute (from the
        # working directory), URIs such as abfss:// stay as they are.
        return value if "://" in value else str(Path(value).expanduser().resolve())

    def table_path(self, table: str) -> str:
        return f"{self.root.rstrip('/')}/{table}"

    def landing_path(self, relative: str) -> str:
        if "://" in relative or relative.startswith("/"):
            return relative
        return f"{self.landing.rstrip('/')}/{relative}"

    @property
    def ops_root(self) -> str:
        return f"{self.root.rstrip('/')}/_ops"

    @property
    def checkpoint_root(self) -> str:
        return f"{self.root.rstrip('/')}/_checkpoints"


class SparkSettings(Section):
    app_name: str = "retail-lakehouse"
    session: Literal["auto", "local", "existing"] = Field(
        "auto",
        description="auto: reuse the platform's session under spark-submit or on Databricks, else start local.",
    )
    master: str = "local[2]"
    driver_memory: str = "2g"
    shuffle_partitions: PositiveInt = 4
    ui_enabled: bool = False
    jars_dir: str | None = Field(None, description="Folder of JVM jars for local mode; default: the venv's.")
    conf: dict[str, str] = Field(default_factory=dict, description="Extra Spark settings, local mode only.")


class SecretsSettings(Section):
    backend: Literal["env", "azure_key_vault", "databricks"] = "env"
    env_prefix: str = "LAKEHOUSE_SECRET_"
    vault_url: str | None = None
    scope: str | None = None

    @model_validator(mode="after")
    def _backend_has_its_settings(self) -> SecretsSettings:
        if self.backend == "azure_key_vault" and not self.vault_url:
            raise ValueError("backend azure_key_vault needs vault_url (https://<vault>.vault.azure.net)")
        if self.backend == "databricks" and not self.scope:
            raise ValueError("backend databricks needs scope (the Databricks secret scope name)")
        return self


class LoggingSettings(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["auto", "json", "text"] = Field(
        "auto", description="auto: readable text on a terminal, JSON lines otherwise."
    )


# Table and column names of database sources end up in SQL text (MAX queries); only plain, optionally
# schema-qualified identifiers are accepted, so configuration cannot inject SQL.
SQL_IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"


class FeedSettings(Section):
    """A source: a folder of files in the landing zone, or a database table read through JDBC."""

    description: str = ""
    format: Literal["csv", "json", "text", "parquet", "jdbc"]
    path: str | None = Field(None, description="Files: folder relative to the landing root (or an absolute URI).")
    schema_ddl: str | None = Field(None, alias="schema", description="Files: Spark DDL, e.g. 'id STRING'.")
    options: dict[str, str] = Field(default_factory=dict, description="Spark reader options.")
    url: str | None = Field(None, description="JDBC: connection URL, e.g. jdbc:sqlserver://host;database=crm.")
    table: str | None = Field(None, pattern=SQL_IDENTIFIER, description="JDBC: table (or schema.table).")
    driver: str | None = Field(None, description="JDBC: driver class, when the URL does not imply it.")
    user: str | None = None
    password: str | None = Field(None, description="JDBC: use a ${secret:NAME} reference.")
    watermark_column: str | None = Field(
        None, pattern=SQL_IDENTIFIER, description="JDBC: column that grows with every insert and update."
    )

    @model_validator(mode="after")
    def _format_has_its_settings(self) -> FeedSettings:
        if self.format == "jdbc":
            if not self.url or not self.table:
                raise ValueError("a jdbc feed needs url and table")
            if self.path or self.schema_ddl:
                raise ValueError("a jdbc feed reads url and table; path and schema are for files")
        else:
            if not self.path or not self.schema_ddl:
                raise ValueError(f"a {self.format} feed needs path and schema")
            if self.url or self.table or self.watermark_column:
                raise ValueError(f"url, table and watermark_column are for jdbc feeds, not {self.format}")
        return self


class TableSettings(Section):
    description: str = ""
    partition_by: list[str] = Field(default_factory=list)
    properties: dict[str, str] = Field(default_factory=dict, description="Delta table properties.")


class WriteSettings(Section):
    mode: Literal["append", "overwrite", "replace_where", "merge"]
    keys: list[str] = Field(default_factory=list, description="merge: the business key columns.")
    replace_column: str | None = Field(None, description="replace_where: partition-like column to replace.")

    @model_validator(mode="after")
    def _mode_has_its_settings(self) -> WriteSettings:
        if self.mode == "merge" and not self.keys:
            raise ValueError("mode merge needs keys (the columns that identify a row)")
        if self.mode == "replace_where" and not self.replace_column:
            raise ValueError("mode replace_where needs replace_column (the column whose values are replaced)")
        return self


class JobSettings(Section):
    description: str
    transform: str = Field(description="Name of a registered transform (see `lakehouse jobs`).")
    kind: Literal["batch", "stream"] = "batch"
    inputs: dict[str, str] = Field(description="Input name -> 'feed:NAME' or a table 'LAYER/NAME'.")
    output: str = Field(description="Table written, 'LAYER/NAME'.")
    write: WriteSettings
    incremental: bool = Field(
        False,
        description="Read file inputs as a stream with a checkpoint (available-now): only files not yet seen. "
        "Streaming jobs always read this way.",
    )
    depends_on: list[str] = Field(default_factory=list, description="Jobs to run first beyond those implied.")
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _incremental_appends(self) -> JobSettings:
        if self.reads_stream and self.write.mode != "append":
            raise ValueError("incremental and streaming jobs append what is new: set write.mode to append")
        return self

    @property
    def reads_stream(self) -> bool:
        """Inputs are read as streams with a checkpoint: incremental batch jobs and streaming jobs."""
        return self.incremental or self.kind == "stream"

    @property
    def layer(self) -> str:
        return self.output.split("/", 1)[0]


class PipelineSettings(Section):
    description: str = ""
    jobs: list[str] | Literal["*"] = Field(description="Job names, or '*' for every job.")


class LakehouseConfig(Section):
    """The whole validated configuration of one environment."""

    env: str
    conf_dir: str
    storage: StorageSettings
    spark: SparkSettings = SparkSettings()
    secrets: SecretsSettings = SecretsSettings()
    logging: LoggingSettings = LoggingSettings()
    feeds: dict[str, FeedSettings] = Field(default_factory=dict)
    tables: dict[str, TableSettings] = Field(default_factory=dict)
    jobs: dict[str, JobSettings] = Field(default_factory=dict)
    pipelines: dict[str, PipelineSettings] = Field(default_factory=dict)

    def job_names_of(self, pipeline: str) -> list[str]:
        selected = self.pipelines[pipeline].jobs
        return list(self.jobs) if selected == "*" else list(selected)


def feed_of(reference: str) -> str | None:
    """The feed name of an input reference 'feed:NAME', or None for a table reference."""
    return reference.removeprefix(FEED_PREFIX) if reference.startswith(FEED_PREFIX) else None
