"""Typed, validated configuration. Unknown keys are errors; cross-references are checked here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, field_validator, model_validator

from retail_lakehouse.core.table_refs import TableRef

LAYERS = ("bronze", "silver", "gold")
OPS_AREA = "_ops"
FEED_PREFIX = "feed:"
# The input an incremental or streaming job reads as a stream; its other inputs are read whole.
INCREMENTAL_INPUT = "source"
CHANGE_DATA_FEED_PROPERTY = "delta.enableChangeDataFeed"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class StorageSettings(Section):
    landing: str = Field(description="Root of the landing zone (raw source files); local path or abfss:// URI.")
    root: str = Field(description="Root of the lakehouse; tables live at <root>/<layer>/<table>.")
    catalog: str | None = Field(
        None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="A catalog (Unity Catalog on Databricks; `spark_catalog` for a Hive metastore): jobs then "
        "read and write every table as <catalog>.<schema>.<table>, external tables at their paths under "
        "`root`. Unset: by path. Also the catalog of `lakehouse grants`.",
    )
    schemas: dict[str, str] = Field(
        default_factory=lambda: {"bronze": "bronze", "silver": "silver", "gold": "gold", "_ops": "ops"},
        description="Area (bronze, silver, gold, _ops) -> schema of its tables in `catalog` (_ops also holds "
        "the column masks of `lakehouse grants`).",
    )

    @field_validator("landing", "root")
    @classmethod
    def _local_paths_absolute(cls, value: str) -> str:
        # Spark and Delta take a relative path for a table name; local roots become absolute (from the
        # working directory), URIs such as abfss:// stay as they are.
        return value if "://" in value else str(Path(value).expanduser().resolve())

    def table_path(self, table: str) -> str:
        return f"{self.root.rstrip('/')}/{table}"

    def table_ref(self, table: str) -> TableRef:
        """How jobs address `table` (LAYER/NAME or _ops/NAME): by its path, or by `catalog.schema.name`
        when a catalog is configured (an external table at the same path)."""
        path = self.table_path(table)
        if self.catalog is None:
            return TableRef(path)
        area, _, name = table.partition("/")
        return TableRef(path, f"{self.catalog}.{self.schemas[area]}.{name}")

    def ops_table(self, name: str) -> TableRef:
        """An operational table (`_ops/<name>`: run records, alerts, leases, ...)."""
        return self.table_ref(f"{OPS_AREA}/{name}")

    def landing_path(self, relative: str) -> str:
        if "://" in relative or relative.startswith("/"):
            return relative
        return f"{self.landing.rstrip('/')}/{relative}"

    @field_validator("schemas")
    @classmethod
    def _schema_per_area(cls, value: dict[str, str]) -> dict[str, str]:
        areas = (*LAYERS, OPS_AREA)
        missing = [area for area in areas if area not in value]
        unknown = sorted(set(value) - set(areas))
        if missing or unknown:
            raise ValueError(f"needs exactly the areas {', '.join(areas)} (missing: {missing}, unknown: {unknown})")
        for area, schema in value.items():
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", schema):
                raise ValueError(f"schema {schema!r} of {area} is not a plain identifier")
        return value

    @property
    def ops_root(self) -> str:
        return f"{self.root.rstrip('/')}/{OPS_AREA}"

    @property
    def checkpoint_root(self) -> str:
        return f"{self.root.rstrip('/')}/_checkpoints"

    def checkpoint(self, job: str) -> str:
        """The streaming checkpoint of `job` (its offsets, commits and sources' state)."""
        return f"{self.checkpoint_root}/{job}"


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
    class_archive: bool = Field(
        True,
        description="Local mode: start the driver JVM from the class-data archive `make setup` builds for these "
        "jars, when there is one (runtime/class_archive.py).",
    )
    garbage_collector: Literal["parallel", "g1"] = Field(
        "parallel",
        description="Local mode: the driver JVM's collector. parallel (the throughput collector) spends less "
        "of a few cores on collection than the JDK's default, g1 (docs/benchmarks.md).",
    )
    remote: str | None = Field(
        None,
        description="A Spark Connect server (sc://HOST:PORT) that runs every command's Spark work; the "
        "SPARK_REMOTE variable and the --remote option set it too. The server needs Delta Lake's jars and "
        "this package in its Python.",
    )


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
    dir: str | None = Field(
        "logs",
        description="Folder (relative to the working directory) for lakehouse.log, every line with its stack "
        "trace, and jvm.log, the local Spark JVM's own log; stderr then keeps one line per event. Empty: both "
        "on stderr.",
    )

    @property
    def folder(self) -> Path | None:
        return Path(self.dir).absolute() if self.dir else None


# Table and column names of database sources end up in SQL text (MAX queries); only plain, optionally
# schema-qualified identifiers are accepted, so configuration cannot inject SQL.
SQL_IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"


def reader_option_text(options: Any) -> Any:
    """Reader options are text to Spark; YAML (and --set) give `true` and `1` as bool and int."""
    if not isinstance(options, dict):
        return options
    return {
        k: str(v).lower() if isinstance(v, bool) else v if isinstance(v, str) else str(v) for k, v in options.items()
    }


class KafkaSettings(Section):
    """A broker the feed's records also arrive on, one record per message (JSON). Streaming jobs read it
    instead of the files; batch jobs still read the files. Azure Event Hubs and IoT Hub are read through
    their Kafka endpoint: bootstrap_servers <namespace>.servicebus.windows.net:9093 plus connection_string."""

    bootstrap_servers: str = Field(description="host:port[,host:port]")
    topic: str = Field(min_length=1, description="Topic (an Event Hub's name).")
    connection_string: str | None = Field(
        None,
        description="Event Hubs / IoT Hub: use a ${secret:NAME} reference; sets SASL_SSL with PLAIN and "
        "user $ConnectionString.",
    )
    login_module: str = Field(
        "org.apache.kafka.common.security.plain.PlainLoginModule",
        description="JAAS login module for connection_string; on Databricks "
        "kafkashaded.org.apache.kafka.common.security.plain.PlainLoginModule.",
    )
    starting_offsets: Literal["earliest", "latest"] = "earliest"
    max_offsets_per_trigger: PositiveInt | None = Field(None, description="Cap on messages per micro-batch.")
    options: dict[str, str] = Field(
        default_factory=dict, description="More Kafka source options, e.g. kafka.security.protocol."
    )
    _options_as_text = field_validator("options", mode="before")(reader_option_text)

    def source_options(self) -> dict[str, str]:
        """The options of Spark's Kafka source."""
        options = {
            "kafka.bootstrap.servers": self.bootstrap_servers,
            "subscribe": self.topic,
            "startingOffsets": self.starting_offsets,
            # A retention that dropped messages before the stream read them fails the query: the gap
            # would otherwise be silent.
            "failOnDataLoss": "true",
        }
        if self.max_offsets_per_trigger is not None:
            options["maxOffsetsPerTrigger"] = str(self.max_offsets_per_trigger)
        if self.connection_string is not None:
            options |= {
                "kafka.security.protocol": "SASL_SSL",
                "kafka.sasl.mechanism": "PLAIN",
                "kafka.sasl.jaas.config": f'{self.login_module} required username="$ConnectionString" '
                f'password="{self.connection_string}";',
            }
        return options | self.options


# The encodings Spark's decode() takes by default, and so JSON Lines feeds (decoded line by line).
JSON_LINE_ENCODINGS = ("UTF-8", "ISO-8859-1", "US-ASCII", "UTF-16", "UTF-16BE", "UTF-16LE", "UTF-32")

# Names an upload or a copy gives a file until it is complete.
IN_PROGRESS_ENDINGS = (".part", ".partial", ".tmp", ".temp", ".crdownload", ".filepart", ".inprogress", "._COPYING_")

# JDBC driver classes by URL prefix: the drivers `make setup` fetches and the common ones a cluster carries.
JDBC_DRIVERS = {
    "jdbc:sqlite:": "org.sqlite.JDBC",
    "jdbc:postgresql:": "org.postgresql.Driver",
    "jdbc:sqlserver:": "com.microsoft.sqlserver.jdbc.SQLServerDriver",
    "jdbc:mysql:": "com.mysql.cj.jdbc.Driver",
    "jdbc:mariadb:": "org.mariadb.jdbc.Driver",
    "jdbc:oracle:": "oracle.jdbc.OracleDriver",
}


class LandingRetentionSettings(Section):
    """What happens to a feed's landing files once bronze has committed them."""

    after_days: float = Field(ge=0, description="Days after a file's bronze commit before it is archived or deleted.")
    action: Literal["archive", "delete"] = "archive"
    archive_to: str = Field(
        "_archive",
        description="archive: folder (relative to the landing root, or a URI) the files move to, keeping their "
        "path under the landing root. Spark's file listing skips folders starting with '_'.",
    )


class FeedSettings(Section):
    """A source: a folder of files in the landing zone, or a database table read through JDBC."""

    description: str = ""
    format: Literal["csv", "json", "text", "parquet", "jdbc"]
    path: str | None = Field(None, description="Files: folder relative to the landing root (or an absolute URI).")
    schema_ddl: str | None = Field(None, alias="schema", description="Files: Spark DDL, e.g. 'id STRING'.")
    options: dict[str, str] = Field(default_factory=dict, description="Spark reader options.")
    _options_as_text = field_validator("options", mode="before")(reader_option_text)
    skip_endings: list[str] = Field(
        default_factory=lambda: list(IN_PROGRESS_ENDINGS),
        description="Files: file names ending so are uploads still in progress and are not read (names starting "
        "with _ or . never are). A pathGlobFilter in options replaces this.",
    )
    required: bool = Field(
        False,
        description="Files: a job reading the feed fails when its folder does not exist. Otherwise a feed with no "
        "folder yet is an empty input (the job succeeds with 0 rows).",
    )
    encoding: str = Field(
        "UTF-8",
        description="Files: the character encoding. UTF-8 is checked: a line (CSV: a row) with bytes that are not "
        "UTF-8 keeps them base64-encoded in _corrupt_record, and silver quarantines it. CSV takes any Java "
        "charset (windows-1252, ISO-8859-15, ...); JSON Lines one of " + ", ".join(JSON_LINE_ENCODINGS) + ".",
    )
    unreadable_files: Literal["fail", "set_aside"] = Field(
        "fail",
        description="Files read incrementally: a file that cannot be read (a header that does not match the "
        "schema, a broken archive) fails the job (fail), or is recorded in _ops/set_aside_files while the "
        "other files are ingested, and the job fails at its end naming it (set_aside).",
    )
    landing_retention: LandingRetentionSettings | None = Field(
        None,
        description="Files read incrementally: archive or delete landing files some time after bronze committed "
        "them (`lakehouse maintain`); never before.",
    )
    url: str | None = Field(None, description="JDBC: connection URL, e.g. jdbc:sqlserver://host;database=crm.")
    table: str | None = Field(None, pattern=SQL_IDENTIFIER, description="JDBC: table (or schema.table).")
    driver: str | None = Field(
        None,
        description="JDBC: driver class. Inferred from the URL for sqlite, postgresql, sqlserver, mysql, mariadb "
        "and oracle URLs; needed for any other.",
    )
    user: str | None = None
    password: str | None = Field(None, description="JDBC: use a ${secret:NAME} reference.")
    watermark_column: str | None = Field(
        None, pattern=SQL_IDENTIFIER, description="JDBC: column that grows with every insert and update."
    )
    partition_column: str | None = Field(
        None,
        pattern=SQL_IDENTIFIER,
        description="JDBC: a numeric, date or timestamp column to split a read into num_partitions parallel "
        "range queries (a large table). Every row is read whatever the bounds: they only set the ranges' width.",
    )
    num_partitions: PositiveInt | None = Field(
        None, description="JDBC: parallel range queries (with partition_column)."
    )
    lower_bound: str | None = Field(
        None, description="JDBC: the partition column's low end (default: its minimum, asked of the database)."
    )
    upper_bound: str | None = Field(
        None, description="JDBC: the partition column's high end (default: its maximum, asked of the database)."
    )
    kafka: KafkaSettings | None = Field(
        None, description="Streaming jobs read the feed from this broker topic instead of its files."
    )

    @model_validator(mode="after")
    def _format_has_its_settings(self) -> FeedSettings:
        if self.format == "jdbc":
            if not self.url or not self.table:
                raise ValueError("a jdbc feed needs url and table")
            if self.driver is None and self.driver_class is None:
                known = ", ".join(sorted(JDBC_DRIVERS))
                raise ValueError(f"set driver (the JDBC driver's class): it is inferred only for URLs starting {known}")
            if self.path or self.schema_ddl:
                raise ValueError("a jdbc feed reads url and table; path and schema are for files")
            if (self.partition_column is None) != (self.num_partitions is None):
                raise ValueError("partition_column and num_partitions go together (a parallel read needs both)")
        else:
            if not self.path or not self.schema_ddl:
                raise ValueError(f"a {self.format} feed needs path and schema")
            if self.url or self.table or self.watermark_column or self.partition_column:
                raise ValueError(
                    f"url, table, watermark_column and partition_column are for jdbc feeds, not {self.format}"
                )
        if self.format == "json" and self.encoding.upper() not in JSON_LINE_ENCODINGS:
            raise ValueError(
                f"a JSON Lines feed's encoding is one of {', '.join(JSON_LINE_ENCODINGS)}; got {self.encoding}"
            )
        if self.kafka is not None and self.format != "json":
            raise ValueError(f"a feed read from kafka carries JSON messages; this one is {self.format}")
        return self

    @property
    def driver_class(self) -> str | None:
        """The configured JDBC driver class, or the one the URL's subprotocol names."""
        if self.driver:
            return self.driver
        prefix = next((p for p in JDBC_DRIVERS if (self.url or "").startswith(p)), None)
        return JDBC_DRIVERS[prefix] if prefix else None


class TableMaintenanceSettings(Section):
    """What `lakehouse maintain` does to one table."""

    optimize: bool = Field(True, description="Compact small files (OPTIMIZE).")
    zorder_by: list[str] = Field(
        default_factory=list, description="OPTIMIZE ... ZORDER BY these columns (co-locates rows for data skipping)."
    )
    cluster_by: list[str] = Field(
        default_factory=list,
        description="Liquid clustering columns (ALTER TABLE ... CLUSTER BY, then OPTIMIZE clusters incrementally); "
        "not with zorder_by or partition_by.",
    )
    vacuum: bool = Field(True, description="Delete files no version inside the retention needs (VACUUM).")
    vacuum_retention_hours: float | None = Field(
        None,
        ge=0,
        description="Keep removed files this long; default and minimum: ops.maintenance.time_travel_hours. "
        "Longer when a stream reading the table has not yet read a version that old.",
    )
    checkpoint: bool = Field(True, description="Write a Delta log checkpoint (readers replay fewer commits).")

    @model_validator(mode="after")
    def _one_layout(self) -> TableMaintenanceSettings:
        if self.zorder_by and self.cluster_by:
            raise ValueError("choose zorder_by or cluster_by: a liquid clustered table cannot be Z-ordered")
        return self


class ColumnSettings(Section):
    classification: str = Field(
        description="Contains PII: masked for roles without sees_pii; contains PCI: masked for everyone."
    )
    type: str = Field("string", pattern=r"^[a-z]+$", description="The column's SQL type (its mask returns it).")


class TableSettings(Section):
    description: str = ""
    columns: dict[str, ColumnSettings] = Field(
        default_factory=dict, description="Column -> its classification (column masks in `lakehouse grants`)."
    )
    partition_by: list[str] = Field(default_factory=list)
    properties: dict[str, str] = Field(default_factory=dict, description="Delta table properties.")
    schema_evolution: Literal["add_columns", "fail"] = Field(
        "add_columns",
        description="add_columns: a column new in the source is added to the table (nullable); fail: it is an "
        "error. A column whose type changes is always an error.",
    )
    freshness_hours: float | None = Field(
        None,
        gt=0,
        description="Freshness SLA: an alert opens (and `lakehouse status` exits non-zero) when the table's "
        "latest commit is older than this.",
    )
    maintenance: TableMaintenanceSettings = TableMaintenanceSettings()

    @model_validator(mode="after")
    def _clustering_without_partitions(self) -> TableSettings:
        if self.maintenance.cluster_by and self.partition_by:
            raise ValueError("maintenance.cluster_by needs an unpartitioned table (partition_by is set)")
        return self

    @property
    def change_data_feed(self) -> bool:
        """Delta records row-level changes: an incremental job reading this table reads its change feed, so
        rows a MERGE updated reach it too (a plain Delta stream only takes appends)."""
        return self.properties.get(CHANGE_DATA_FEED_PROPERTY, "false").lower() == "true"


class WriteSettings(Section):
    mode: Literal["append", "overwrite", "replace_where", "merge", "scd2"]
    keys: list[str] = Field(default_factory=list, description="merge, scd2: the business key columns.")
    replace_column: str | None = Field(
        None,
        description="replace_where: partition-like column; the values a run writes replace the table's rows "
        "with those values (incremental jobs: the dates a batch touched).",
    )
    valid_from: str | None = Field(None, description="scd2: the column saying from when a version is valid.")
    latest_by: str | None = Field(
        None,
        description="merge: keep the row with the greatest value of this column, within a run and against the "
        "table (an older row arriving late changes nothing). Default: the latest ingested row wins.",
    )
    record_keys: list[str] = Field(
        default_factory=list,
        description="merge, scd2: the columns naming the source record when one record gives several rows (a "
        "transaction's lines, keyed by transaction and line number): of several copies of a record, one copy's rows "
        "survive together, never a mix of two copies' rows.",
    )
    within_partitions: bool = Field(
        False,
        description="merge: match a batch's rows only in the table partitions they fall in, so a merge reads "
        "those partitions, not the whole table. Right only when a key's partition value never changes (a "
        "transaction keeps its sale date); a row that moved partition would be inserted a second time.",
    )

    @model_validator(mode="after")
    def _mode_has_its_settings(self) -> WriteSettings:
        if self.mode in ("merge", "scd2") and not self.keys:
            raise ValueError(f"mode {self.mode} needs keys (the columns that identify a row)")
        if self.mode == "replace_where" and not self.replace_column:
            raise ValueError("mode replace_where needs replace_column (the column whose values are replaced)")
        if (self.mode == "scd2") != (self.valid_from is not None):
            raise ValueError("valid_from is for mode scd2, and mode scd2 needs it")
        if self.latest_by is not None and self.mode != "merge":
            raise ValueError("latest_by is for mode merge")
        if self.record_keys and not set(self.record_keys) < set(self.keys):
            raise ValueError("record_keys must be some, not all, of keys (the record within which keys name rows)")
        if self.within_partitions and self.mode != "merge":
            raise ValueError("within_partitions is for mode merge")
        return self

    @property
    def dedupe_keys(self) -> list[str]:
        """Columns that identify one row of the batch: a version of a key for scd2, else the keys."""
        return [*self.keys, self.valid_from] if self.valid_from else list(self.keys)


class QualityRuleSettings(Section):
    """One Great Expectations expectation; a row-level one sends the rows it rejects to quarantine."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Named in quarantine rows and dq_results.")
    expectation: str = Field(description="Great Expectations expectation, e.g. expect_column_values_to_not_be_null.")
    kwargs: dict[str, Any] = Field(default_factory=dict, description="The expectation's arguments.")
    value_set_from: str | None = Field(
        None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$",
        description="INPUT.COLUMN: the allowed values are that column of another input of the job "
        "(referential integrity); becomes the expectation's value_set.",
    )
    severity: Literal["critical", "warning"] | None = Field(None, description="Default: the suite's severity.")


class QualitySuiteSettings(Section):
    description: str = ""
    severity: Literal["critical", "warning"] = Field(
        "warning",
        description="critical: a failing rule fails the run; warning: its rows go to quarantine, the run goes on.",
    )
    max_bad_share: float = Field(
        0.05, ge=0, le=1, description="The run fails when a larger share of the rows read is quarantined."
    )
    alert_below_score: float = Field(
        0.95,
        ge=0,
        le=1,
        description="A DQ score (passed rule evaluations / all rule evaluations of the run) below this opens an alert.",
    )
    alert_above_quarantine_share: float = Field(
        0.01, ge=0, le=1, description="A larger share of the rows read sent to quarantine opens an alert."
    )
    rules: list[QualityRuleSettings] = Field(min_length=1)

    @model_validator(mode="after")
    def _rule_names_unique(self) -> QualitySuiteSettings:
        names = [rule.name for rule in self.rules]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"rule names must be unique in a suite; repeated: {', '.join(repeated)}")
        return self

    def severity_of(self, rule: QualityRuleSettings) -> str:
        return rule.severity or self.severity


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
    quality: str | None = Field(None, description="Name of the data quality suite (under quality) checking rows.")

    @model_validator(mode="after")
    def _incremental_writes_what_is_new(self) -> JobSettings:
        if self.kind == "stream" and self.write.mode not in ("append", "merge"):
            raise ValueError("streaming jobs append what is new or merge it: set write.mode to append or merge")
        if self.incremental and self.write.mode == "overwrite":
            raise ValueError("incremental jobs write what is new: use write.mode append, merge, scd2 or replace_where")
        if self.reads_stream and not self.merges_stream and INCREMENTAL_INPUT not in self.inputs:
            raise ValueError(f"incremental and streaming jobs read their input named '{INCREMENTAL_INPUT}' as a stream")
        return self

    @property
    def reads_stream(self) -> bool:
        """Inputs are read as streams with a checkpoint: incremental batch jobs and streaming jobs."""
        return self.incremental or self.kind == "stream"

    @property
    def merges_stream(self) -> bool:
        """A streaming job whose transform merges each micro-batch into its tables itself (it reads every
        feed input as a stream except those its transform names as reference data)."""
        return self.kind == "stream" and self.write.mode == "merge"

    @property
    def layer(self) -> str:
        return self.output.split("/", 1)[0]


class PipelineSettings(Section):
    description: str = ""
    jobs: list[str] | Literal["*"] = Field(
        default_factory=list,
        description="Job names, or '*' for every batch job (streaming jobs run with `lakehouse stream`).",
    )
    maintain: list[str] | Literal["*"] = Field(
        default_factory=list,
        description="Tables `lakehouse maintain` compacts and vacuums after the jobs ('*': every table).",
    )

    @model_validator(mode="after")
    def _does_something(self) -> PipelineSettings:
        if not self.jobs and not self.maintain:
            raise ValueError("a pipeline names jobs, tables to maintain, or both")
        return self


class WebhookSinkSettings(Section):
    kind: Literal["webhook"]
    url: str = Field(description="Incoming-webhook URL; use a ${secret:NAME} reference (it carries its token).")
    format: Literal["slack", "teams", "json"] = Field(
        "json",
        description="slack: {text}; teams: a message with an Adaptive Card (Teams Workflows' webhook); json: the "
        "alert's fields.",
    )
    timeout_seconds: float = Field(10.0, gt=0)


class EmailSinkSettings(Section):
    kind: Literal["email"]
    smtp_host: str
    smtp_port: PositiveInt = 587
    starttls: bool = True
    username: str | None = None
    password: str | None = Field(None, description="Use a ${secret:NAME} reference.")
    sender: str = Field(alias="from")
    recipients: list[str] = Field(alias="to", min_length=1)
    timeout_seconds: float = Field(10.0, gt=0)


class AzureMonitorSinkSettings(Section):
    kind: Literal["azure_monitor"]
    connection_string: str = Field(
        description="Application Insights connection string; use a ${secret:NAME} reference."
    )


NotificationSettings = Annotated[
    WebhookSinkSettings | EmailSinkSettings | AzureMonitorSinkSettings, Field(discriminator="kind")
]


class LeaseSettings(Section):
    expire_seconds: float = Field(
        300, ge=10, description="A lease not renewed for this long is free (its holder died); renewed every third."
    )
    wait_seconds: float = Field(
        0,
        ge=0,
        description="How long `run` and `pipeline` wait for a job another run holds before giving up (exit 3). "
        "Streams never wait.",
    )


class StreamAlertSettings(Section):
    latency_seconds: float = Field(
        60, gt=0, description="A micro-batch taking longer than this (trigger to commit) opens a stream_lag alert."
    )
    behind_batches: PositiveInt = Field(
        3, description="This many micro-batches in a row processing fewer rows per second than arrived: an alert."
    )


class MaintenanceSettings(Section):
    time_travel_hours: float = Field(
        168,
        ge=0,
        description="The documented time-travel window: VACUUM never removes a file a version this recent needs.",
    )


# Folders a role may be given access to: the landing zone and each top folder of the lakehouse root.
ACCESS_AREAS = ("landing", *LAYERS, "_ops", "_checkpoints")


class AccessRole(Section):
    """Who a role is and what it may touch. `principal` names it in ADLS ACLs (an Entra ID object id; on
    a local file system a group name), `group` in Unity Catalog grants (an account group's name)."""

    sees_pii: bool = Field(False, description="Reads columns classified PII unmasked (never PCI columns).")

    principal: str | None = Field(None, description="Entra ID object id (ADLS ACLs); local: a group name.")
    group: str | None = Field(None, description="Unity Catalog group name (GRANT statements).")
    areas: dict[str, Literal["read", "write"]] = Field(
        default_factory=dict,
        description=f"Area ({', '.join(ACCESS_AREAS)}) -> read or write; every other area: no access.",
    )

    @field_validator("areas")
    @classmethod
    def _known_areas(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(ACCESS_AREAS))
        if unknown:
            raise ValueError(f"unknown area {', '.join(unknown)}; areas are {', '.join(ACCESS_AREAS)}")
        return value


class AccessSettings(Section):
    roles: dict[str, AccessRole] = Field(default_factory=dict)


class OpsSettings(Section):
    notifications: dict[str, NotificationSettings] = Field(
        default_factory=dict, description="Where alerts (and, for azure_monitor, run metrics) are sent, by name."
    )
    leases: LeaseSettings = LeaseSettings()
    streams: StreamAlertSettings = StreamAlertSettings()
    maintenance: MaintenanceSettings = MaintenanceSettings()


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
    quality: dict[str, QualitySuiteSettings] = Field(default_factory=dict, description="Data quality suites.")
    ops: OpsSettings = OpsSettings()
    access: AccessSettings = AccessSettings()

    def job_names_of(self, pipeline: str, layer: str | None = None) -> list[str]:
        """The pipeline's jobs; with `layer`, only those writing that layer (a scheduler's task per layer)."""
        selected = self.pipelines[pipeline].jobs
        names = [name for name, job in self.jobs.items() if job.kind == "batch"] if selected == "*" else selected
        return [name for name in names if layer is None or self.jobs[name].layer == layer]


def feed_of(reference: str) -> str | None:
    """The feed name of an input reference 'feed:NAME', or None for a table reference."""
    return reference.removeprefix(FEED_PREFIX) if reference.startswith(FEED_PREFIX) else None
