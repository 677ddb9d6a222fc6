"""The dashboard and read API over the gold tables: DuckDB over Delta (read with `deltalake`), no Spark."""
