# Databricks notebook source
# MAGIC %md
# MAGIC # Inventory monitor
# MAGIC The positions the inventory stream keeps current (`gold/inventory_positions`) against their reorder
# MAGIC points: what is short, by how much, what to order, and the latest alerts. The definitions are the
# MAGIC dashboard's (`retail_lakehouse.explore.inventory`). Re-run to refresh.

# COMMAND ----------

dbutils.widgets.text("env", "dev", "Environment (conf/<env>)")
dbutils.widgets.text("conf_dir", "", "Configuration folder (empty: the wheel's)")

# COMMAND ----------

import matplotlib.pyplot as plt
from pyspark.sql import functions as F

from retail_lakehouse.explore.inventory import inventory_status, short_positions, stock_by_store
from retail_lakehouse.explore.tables import open_lakehouse

lakehouse = open_lakehouse(spark, dbutils.widgets.get("env"), dbutils.widgets.get("conf_dir") or None)
status = inventory_status(lakehouse)
stores = [row.store_id for row in status.select("store_id").distinct().orderBy("store_id").collect()]
dbutils.widgets.dropdown("store", "All", ["All", *stores], "Store")
store = dbutils.widgets.get("store")
if store != "All":
    status = status.where(F.col("store_id") == store)

# COMMAND ----------

# MAGIC %md ## Short of stock, largest shortfall first

# COMMAND ----------

short = short_positions(status)
print(f"{short.count()} of {status.count()} positions are below safety stock or their reorder point")
display(short)

# COMMAND ----------

# MAGIC %md ## Stock by store

# COMMAND ----------

by_store = stock_by_store(status)
display(by_store)
counts = by_store.toPandas()
if not counts.empty:
    figure, axes = plt.subplots(figsize=(10, 4))
    counts.plot.bar(x="store_id", y=["below_safety_stock", "below_reorder_point"], ax=axes)
    axes.set_title("Positions short of stock per store")
    display(figure)

# COMMAND ----------

# MAGIC %md ## Latest alerts

# COMMAND ----------

if lakehouse.exists("gold/inventory_alerts"):
    alerts = lakehouse.table("gold/inventory_alerts")
    if store != "All":
        alerts = alerts.where(F.col("store_id") == store)
    display(alerts.orderBy(F.desc("alert_ts"), F.desc("detected_at")).limit(50))
