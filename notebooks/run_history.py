# Databricks notebook source
# MAGIC %md
# MAGIC # Run history
# MAGIC Every job run recorded in `_ops/job_runs`: the latest per job, runs per day and status, and how long
# MAGIC the slowest jobs take over time. Skipped runs had nothing new to read.

# COMMAND ----------

dbutils.widgets.text("env", "dev", "Environment (conf/<env>)")
dbutils.widgets.text("conf_dir", "", "Configuration folder (empty: the wheel's)")

# COMMAND ----------

import matplotlib.pyplot as plt
from pyspark.sql import functions as F

from retail_lakehouse.explore import runs
from retail_lakehouse.explore.tables import open_lakehouse

lakehouse = open_lakehouse(spark, dbutils.widgets.get("env"), dbutils.widgets.get("conf_dir") or None)

# COMMAND ----------

display(runs.latest_per_job(lakehouse))
display(runs.status_counts(lakehouse))

# COMMAND ----------

# MAGIC %md ## The five slowest jobs, run by run

# COMMAND ----------

every_run = runs.runs(lakehouse)
slowest = [
    row.job
    for row in every_run.groupBy("job").agg(F.max("seconds").alias("seconds")).orderBy(F.desc("seconds")).limit(5).collect()
]
durations = every_run.where(F.col("job").isin(slowest)).select("job", "started_at", "seconds").toPandas()
if not durations.empty:
    figure, axes = plt.subplots(figsize=(10, 4))
    for job, history in durations.sort_values("started_at").groupby("job"):
        axes.plot(history["started_at"], history["seconds"], marker="o", label=job)
    axes.set_title("Seconds per run")
    axes.legend(fontsize="small")
    display(figure)
