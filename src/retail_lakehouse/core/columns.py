"""Column names shared across layers, defined once: the lineage and metadata bronze adds to every row, and
what silver carries for deduplication and quarantine. Imports nothing."""

from __future__ import annotations

# Where a bronze row came from, whatever the reader: a landing file's URI, `jdbc:<table>` for a database
# feed, `kafka:<topic>/<partition>/<offset>` for a message.
SOURCE = "_source"
# Bronze tables written before `_source` existed carry the file in this column; silver reads either.
LEGACY_SOURCE_FILE = "_source_file"
# A line the parser could not read, kept whole; a JSON document with undeclared fields, kept whole.
CORRUPT_RECORD = "_corrupt_record"
RESCUED_DATA = "_rescued_data"
INGESTED_AT = "_ingested_at"
INGEST_DATE = "_ingest_date"
RUN_ID = "_run_id"
# The source record as received, carried by every silver transform's output for quarantine.
RAW_RECORD = "_raw"
# Silver transforms' helper columns (the raw record, its file, ingestion time) start with this; the runner
# drops them before writing.
HELPER_PREFIX = "_"
# A table's rejected rows go to the table of the same name with this suffix.
QUARANTINE_SUFFIX = "_quarantine"
