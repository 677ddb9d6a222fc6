"""Writes one batch of a job that is not a plain append: transform, deduplicate, validate with the job's
quality suite, quarantine the rows it rejects, write the rest (merge, SCD2, ...), and reconcile the counts.

Rows read = rows written + rows quarantined + duplicates dropped, where duplicates are copies within the
batch and rows the table already holds unchanged (or newer); every term is counted on its own and a
mismatch fails the run before anything is committed. The rules judge every copy before deduplication, so
every copy that breaks a rule is quarantined and only copies that pass compete to survive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import NullType

from retail_lakehouse.config.loader import LoadedConfig
from retail_lakehouse.config.models import INCREMENTAL_INPUT, JobSettings, TableSettings
from retail_lakehouse.core.columns import QUARANTINE_SUFFIX
from retail_lakehouse.core.contracts import BatchCounts, TransformContext
from retail_lakehouse.core.errors import QualityGateError, ReconciliationError, UntypedColumnError
from retail_lakehouse.core.table_refs import TableRef
from retail_lakehouse.io import delta_tables, scd2
from retail_lakehouse.io.schema_evolution import evolve_schema
from retail_lakehouse.quality.quarantine import QUARANTINE_SCHEMA, flag_failed_rows, split_flagged
from retail_lakehouse.quality.results import DqResults
from retail_lakehouse.quality.validation import FAILED_RULES, ROW_ID, validate, with_row_ids
from retail_lakehouse.runner.dedupe import drop_duplicates
from retail_lakehouse.runtime.logging import get_logger

log = get_logger("runner")


def quarantine_table(output: str) -> str:
    return output + QUARANTINE_SUFFIX


@dataclass
class BatchWriter:
    spark: SparkSession
    loaded: LoadedConfig
    dq_results: DqResults

    def write(
        self,
        job_name: str,
        inputs: dict[str, DataFrame],
        context: TransformContext[BaseModel],
        *,
        idempotency: tuple[str, int] | None = None,
    ) -> BatchCounts:
        config = self.loaded.config
        job = config.jobs[job_name]
        spec = self.loaded.transforms[job.transform]
        # Materialised once: it is counted, deduplicated and validated, and must be the same rows each time.
        result = spec.apply(inputs, context).localCheckpoint(eager=True)
        result_count = result.count()
        # A SQL query carries helpers too, but may filter or aggregate: it read its inputs.
        keeps_source_rows = spec.helper_prefix is not None and not spec.any_inputs
        read = self._rows_read(job, keeps_source_rows, result_count, inputs)
        counts = BatchCounts(read=read)

        # Rules first, then deduplication of the rows that passed: a copy that breaks a rule (a truncated
        # re-delivery) is quarantined and can never be chosen over a copy of the same key that passes.
        valid, valid_count = result, result_count
        if job.quality is not None:
            valid, valid_count, counts.quarantined = self._validate(
                job_name, job, result, result_count, inputs, context, idempotency, counts
            )
            if valid_count + counts.quarantined != result_count:
                raise ReconciliationError(
                    f"{job.output}: {result_count} rows but {valid_count} valid and {counts.quarantined} quarantined"
                )
        keys = job.write.dedupe_keys
        unique, unique_count = valid, valid_count
        if keys:
            unique = drop_duplicates(valid, keys, job.write.latest_by, job.write.record_keys)
            unique = unique.localCheckpoint(eager=True)
            unique_count = unique.count()
        in_batch_duplicates = valid_count - unique_count
        valid, valid_count = unique, unique_count

        if spec.helper_prefix:
            valid = valid.drop(*[c for c in valid.columns if c.startswith(spec.helper_prefix)])
        counts.written = self._write_rows(job, valid, valid_count, context, idempotency)
        if counts.written > valid_count:
            raise ReconciliationError(f"{job.output}: wrote {counts.written} rows from {valid_count} valid rows")
        # Valid rows not written are ones the table holds already, unchanged (or newer).
        counts.duplicates = in_batch_duplicates + valid_count - counts.written
        return counts

    @staticmethod
    def _rows_read(job: JobSettings, keeps_source_rows: bool, result_count: int, inputs: dict[str, DataFrame]) -> int:
        # A silver transform keeps one row per source row (or per line it explodes), with helpers for the
        # rules, so its output is what was read. An incremental aggregate read what is new in its source
        # (it looks up the rest, e.g. the whole days the new rows fall on); other transforms read their inputs.
        if keeps_source_rows:
            return result_count
        if job.incremental:
            return int(inputs[INCREMENTAL_INPUT].count())
        return sum(df.count() for df in inputs.values())

    def _validate(
        self,
        job_name: str,
        job: JobSettings,
        rows: DataFrame,
        row_count: int,
        inputs: dict[str, DataFrame],
        context: TransformContext[BaseModel],
        idempotency: tuple[str, int] | None,
        counts: BatchCounts,
    ) -> tuple[DataFrame, int, int]:
        """Runs the job's suite; the rows no row-level rule rejected, how many, and how many went to
        quarantine. When a rule rejected rows, both sides are counted from the rows themselves, for the
        caller to reconcile with the rows validated."""
        config = self.loaded.config
        suite_name = str(job.quality)
        suite = config.quality[suite_name]
        value_sets = {}
        for rule in suite.rules:
            if rule.value_set_from is not None:
                alias, column = rule.value_set_from.split(".", 1)
                # The job's own input: the same table version the transform saw.
                values = inputs[alias].select(column).distinct().collect()
                value_sets[rule.name] = sorted(row[0] for row in values if row[0] is not None)
        validated = with_row_ids(rows)
        outcome = validate(self.spark, validated, suite_name, suite, value_sets, row_count=row_count)
        self.dq_results.record(
            run_id=context.run_id, table=job.output, suite=suite_name, results=outcome.results, validated_at=_now()
        )
        counts.rule_evaluations = sum(result.element_count for result in outcome.results)
        counts.rule_passes = sum(result.element_count - result.unexpected_count for result in outcome.results)
        critical = outcome.failed_critical()
        if critical:
            raise QualityGateError(
                f"{job.output}: critical rule(s) of suite {suite_name} failed: "
                + ", ".join(f"{r.rule} ({r.unexpected_count} of {r.element_count} rows)" for r in critical)
            )
        for result in outcome.results:
            if not result.success:
                log.warning(
                    "quality rule %s.%s rejected %d of %d rows (%s)",
                    suite_name,
                    result.rule,
                    result.unexpected_count,
                    result.element_count,
                    "quarantined" if result.row_level else "batch-level",
                )
        if outcome.failed_row_count == 0:
            # No row-level rule rejected a row (the rules' lists of the rows they rejected are empty): every
            # row validated is valid, with no join, materialisation or count to say so.
            return validated.drop(ROW_ID), row_count, 0
        # Materialised once with each row's broken rules: one pass counts both sides, and the quarantine
        # and valid rows are both read from it.
        flagged = flag_failed_rows(validated, outcome.failed_rows).localCheckpoint(eager=True)
        sides = flagged.agg(
            F.count_if(F.col(FAILED_RULES).isNull()).alias("valid"),
            F.count_if(F.col(FAILED_RULES).isNotNull()).alias("quarantined"),
        ).first()
        valid_count, quarantined = (int(sides["valid"]), int(sides["quarantined"])) if sides else (0, 0)
        split = split_flagged(
            flagged,
            run_id=context.run_id,
            job=job_name,
            key_columns=job.write.keys,
            quarantined_at=context.run_started_at,
        )
        if row_count and quarantined / row_count > suite.max_bad_share:
            raise QualityGateError(
                f"{job.output}: {quarantined} of {row_count} rows broke rules of suite {suite_name}, more than "
                f"its max_bad_share {suite.max_bad_share:.0%}; nothing was written"
            )
        if quarantined:
            self._append_quarantine(job, split.quarantine, idempotency)
        return split.valid, valid_count, quarantined

    def _append_quarantine(self, job: JobSettings, rows: DataFrame, idempotency: tuple[str, int] | None) -> None:
        name = quarantine_table(job.output)
        ref = self.loaded.config.storage.table_ref(name)
        source_table = self.loaded.config.tables[job.output]
        # The quarantine holds raw source records: it is classified like the table they were meant for.
        table = TableSettings(
            description=f"Rows rejected by the quality rules of {job.output}, with the rules they broke.",
            properties={k: v for k, v in source_table.properties.items() if k == "classification"},
        )
        delta_tables.ensure_table(self.spark, ref, QUARANTINE_SCHEMA, table)
        appid = (f"{idempotency[0]}:quarantine", idempotency[1]) if idempotency else None
        delta_tables.append(rows, ref, table, idempotency=appid)

    def _write_rows(
        self,
        job: JobSettings,
        rows: DataFrame,
        row_count: int,
        context: TransformContext[BaseModel],
        idempotency: tuple[str, int] | None,
    ) -> int:
        config = self.loaded.config
        ref = config.storage.table_ref(job.output)
        table = config.tables[job.output]
        write = job.write
        shaped = scd2.scd2_columns(rows, write.keys, str(write.valid_from)) if write.mode == "scd2" else rows
        untyped = [f.name for f in shaped.schema.fields if isinstance(f.dataType, NullType)]
        if untyped:
            # Delta would store them as VOID and fail the next run's schema comparison.
            raise UntypedColumnError(
                f"{job.output}: transform {job.transform} gives column(s) {', '.join(untyped)} without a type "
                "(a bare null literal); cast them to the type they hold"
            )
        # The write's commit is found by its marker afterwards, from Delta's own metrics: no table version
        # needs reading before it, and a write skipped as already committed (idempotency) finds none.
        marker = f"{job.output}@{context.run_id}#{idempotency[1] if idempotency else 0}"
        exists = delta_tables.exists(self.spark, ref)
        if not exists and row_count and write.mode in ("merge", "overwrite"):
            created = self._create_with_rows(rows, ref, table, marker)
            if created is not None:
                return created
            exists = True
        if not exists:
            delta_tables.ensure_table(self.spark, ref, shaped.schema, table)
        else:
            evolve_schema(self.spark, ref, shaped.schema, table, job.output)
        if row_count == 0 and write.mode != "overwrite":
            return 0  # an overwrite with no rows empties the table; the other modes would change nothing
        if write.mode == "merge" and not job.incremental:
            # A job that re-reads all its input offers mostly rows the table holds already; merging only
            # the others keeps a run with nothing new from committing an empty table version.
            rows = rows.exceptAll(delta_tables.read(self.spark, ref).select(*rows.columns))
            if rows.isEmpty():
                return 0
        if write.mode == "overwrite" and delta_tables.holds_exactly(self.spark, ref, rows):
            # A full recompute that gives what the table holds: no new version, so a re-run changes nothing.
            return 0
        inserted, commits = delta_tables.write_marked(
            rows.sparkSession, ref, marker, lambda: self._write_mode(job, rows, ref, table, idempotency, marker)
        )
        if write.mode == "scd2":
            recorded = sum(commit.rows_inserted for commit in commits)
            if inserted != recorded:
                raise ReconciliationError(f"{job.output}: {inserted} new versions but Delta inserted {recorded}")
            return recorded
        return sum(commit.rows_written for commit in commits)

    def _create_with_rows(self, rows: DataFrame, ref: TableRef, table: TableSettings, marker: str) -> int | None:
        """Creates the table from the batch's rows in one commit and returns how many it wrote; None when
        another writer created the table first (the caller then writes as into any existing table).

        Into a table with no rows, a MERGE inserts every row and an overwrite writes every row: the same
        rows a creation from them writes, without the empty table's commit and the MERGE's join."""
        created, commits = delta_tables.write_marked(
            rows.sparkSession,  # the session that runs the write (a micro-batch's own), as for any write
            ref,
            marker,
            lambda: delta_tables.create_unless_created(rows, ref, table, commit_marker=marker),
        )
        return sum(commit.rows_written for commit in commits) if created else None

    def _write_mode(
        self,
        job: JobSettings,
        rows: DataFrame,
        ref: TableRef,
        table: TableSettings,
        idempotency: tuple[str, int] | None,
        marker: str,
    ) -> int | None:
        """Writes by the job's mode; an SCD2 merge returns how many new versions it inserted. A DataFrame
        write carries `marker` as its own option too: it then never depends on the session's setting."""
        write = job.write
        if write.mode == "scd2":
            return scd2.scd2_merge(self.spark, rows, ref, write.keys, str(write.valid_from))
        if write.mode == "merge":
            delta_tables.merge(
                rows,
                ref,
                write.keys,
                latest_by=write.latest_by,
                within_partitions=table.partition_by if write.within_partitions else (),
            )
        elif write.mode == "append":
            delta_tables.append(rows, ref, table, idempotency=idempotency, commit_marker=marker)
        elif write.mode == "overwrite":
            delta_tables.overwrite(rows, ref, table, commit_marker=marker)
        else:
            delta_tables.replace_where(
                rows, ref, table, str(write.replace_column), idempotency=idempotency, commit_marker=marker
            )
        return None


def _now() -> datetime:
    return datetime.now().astimezone()
