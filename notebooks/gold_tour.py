# Databricks notebook source
# MAGIC %md
# MAGIC # A tour of the gold tables
# MAGIC Every gold table the jobs wrote: its size, its columns and a sample, then a few plots - revenue by
# MAGIC channel, the best stores, the strongest basket rules, price elasticities and the forecast ahead.
# MAGIC Attach the `retail_lakehouse` wheel to the cluster; set `env` to the configuration the jobs ran with.

# COMMAND ----------

dbutils.widgets.text("env", "dev", "Environment (conf/<env>)")
dbutils.widgets.text("conf_dir", "", "Configuration folder (empty: the wheel's)")

# COMMAND ----------

import matplotlib.pyplot as plt
from pyspark.sql import functions as F

from retail_lakehouse.explore.tables import open_lakehouse

lakehouse = open_lakehouse(spark, dbutils.widgets.get("env"), dbutils.widgets.get("conf_dir") or None)
gold = lakehouse.tables_of("gold")
print(f"{len(gold)} gold tables under {lakehouse.config.storage.root}")

# COMMAND ----------

# MAGIC %md ## Every table: rows, columns and a sample

# COMMAND ----------

sizes = []
for name in gold:
    table = lakehouse.table(name)
    sizes.append((name, table.count(), len(table.columns), ", ".join(table.columns)))
display(spark.createDataFrame(sizes, "table string, rows long, columns int, names string"))
for name in gold:
    print(name)
    display(lakehouse.table(name).limit(5))

# COMMAND ----------

# MAGIC %md ## Net revenue per day and channel (`gold/sales_daily`)

# COMMAND ----------

if "gold/sales_daily" in gold:
    daily = (
        lakehouse.table("gold/sales_daily")
        .groupBy("sale_date", "channel")
        .agg(F.sum("net_revenue").cast("double").alias("net_revenue"))  # decimal: plotted as float
        .toPandas()
        .pivot(index="sale_date", columns="channel", values="net_revenue")
    )
    figure, axes = plt.subplots(figsize=(10, 4))
    daily.plot(ax=axes, title="Net revenue per day and channel")
    display(figure)

# COMMAND ----------

# MAGIC %md ## The ten best stores (`gold/store_performance`)

# COMMAND ----------

if "gold/store_performance" in gold:
    best = lakehouse.table("gold/store_performance").orderBy(F.desc("net_revenue"), "store_id").limit(10)
    display(best)
    figure, axes = plt.subplots(figsize=(10, 4))
    plotted = best.select("store_id", F.col("net_revenue").cast("double")).toPandas()
    plotted.plot.bar(x="store_id", y="net_revenue", ax=axes, title="Top stores by net revenue", legend=False)
    display(figure)

# COMMAND ----------

# MAGIC %md ## Basket rules and price elasticities

# COMMAND ----------

if "gold/association_rules" in gold:
    display(lakehouse.table("gold/association_rules").orderBy(F.desc("lift")).limit(10))
if "gold/price_elasticity" in gold:
    values = lakehouse.table("gold/price_elasticity").where(F.col("elasticity").isNotNull()).toPandas()
    if not values.empty:
        figure, axes = plt.subplots(figsize=(8, 4))
        values["elasticity"].plot.hist(bins=30, ax=axes, title="Price elasticity per product")
        display(figure)

# COMMAND ----------

# MAGIC %md ## The forecast ahead (`gold/demand_forecast`): median and 80% band, summed over every series

# COMMAND ----------

if "gold/demand_forecast" in gold:
    ahead = (
        lakehouse.table("gold/demand_forecast")
        .groupBy("forecast_date")
        .agg(*(F.sum(q).alias(q) for q in ("p10", "p50", "p90")))
        .orderBy("forecast_date")
        .toPandas()
    )
    figure, axes = plt.subplots(figsize=(10, 4))
    axes.fill_between(ahead["forecast_date"], ahead["p10"], ahead["p90"], alpha=0.3, label="p10-p90")
    axes.plot(ahead["forecast_date"], ahead["p50"], label="p50")
    axes.set_title("Forecast units per day, all series")
    axes.legend()
    display(figure)
