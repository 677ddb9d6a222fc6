"""The contract between the layers and the runner: transforms, columns, errors, expectations (pyspark and
pydantic only). A regular package, not a namespace one: Python imports a wheel from a zip (spark-submit
--py-files, a Databricks library) only with its __init__.py."""
