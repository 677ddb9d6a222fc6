# Databricks notebook source
# MAGIC %md
# MAGIC # Data-quality review
# MAGIC Which rules reject rows (`_ops/dq_results`), what sits in quarantine and why, and each job's DQ score
# MAGIC over time (`_ops/job_runs`). Quarantined records keep card numbers masked; read them as an engineer.

# COMMAND ----------

dbutils.widgets.text("env", "dev", "Environment (conf/<env>)")
dbutils.widgets.text("conf_dir", "", "Configuration folder (empty: the wheel's)")

# COMMAND ----------

import matplotlib.pyplot as plt
from pyspark.sql import functions as F

from retail_lakehouse.explore import quality
from retail_lakehouse.explore.tables import open_lakehouse

lakehouse = open_lakehouse(spark, dbutils.widgets.get("env"), dbutils.widgets.get("conf_dir") or None)

# COMMAND ----------

# MAGIC %md ## Rules by rows rejected

# COMMAND ----------

display(quality.rule_failures(lakehouse))

# COMMAND ----------

# MAGIC %md ## Quarantine: rows per table and rule, and a sample of each table

# COMMAND ----------

by_rule = quality.quarantine_by_rule(lakehouse)
display(by_rule)
for name in lakehouse.quarantine_tables():
    print(name)
    display(lakehouse.table(name).orderBy(F.desc("quarantined_at")).limit(5))

# COMMAND ----------

# MAGIC %md ## DQ score per job over time

# COMMAND ----------

scores = quality.quality_scores(lakehouse).toPandas()
if not scores.empty:
    figure, axes = plt.subplots(figsize=(10, 4))
    for job, runs in scores.groupby("job"):
        axes.plot(runs["started_at"], runs["quality_score"], marker="o", label=job)
    axes.set_title("DQ score (passed rule evaluations / all)")
    axes.legend(fontsize="small", ncol=2)
    display(figure)
