# Databricks notebook source
# MAGIC %md
# MAGIC # Customer insights
# MAGIC Products sold, revenue and distinct customers by date range, gender and category, from
# MAGIC `gold/customer_category_daily`, with the dashboard's definitions (`retail_lakehouse.explore.insights`):
# MAGIC customers are counted once over the whole range, anonymous sales count no customer.

# COMMAND ----------

dbutils.widgets.text("env", "dev", "Environment (conf/<env>)")
dbutils.widgets.text("conf_dir", "", "Configuration folder (empty: the wheel's)")

# COMMAND ----------

import datetime as dt

import matplotlib.pyplot as plt
from pyspark.sql import functions as F

from retail_lakehouse.explore import insights
from retail_lakehouse.explore.tables import open_lakehouse

lakehouse = open_lakehouse(spark, dbutils.widgets.get("env"), dbutils.widgets.get("conf_dir") or None)
daily = lakehouse.table(insights.TABLE)
labelled = insights.labelled(daily)
first, last = daily.agg(F.min("sale_date"), F.max("sale_date")).first()
genders = [row.gender for row in labelled.select("gender").distinct().orderBy("gender").collect()]
categories = [row.category for row in daily.select("category").distinct().orderBy("category").collect()]

# The filters: the data's own range and values are the defaults and the choices.
dbutils.widgets.text("start", str(first), "From (YYYY-MM-DD)")
dbutils.widgets.text("end", str(last), "To (YYYY-MM-DD)")
dbutils.widgets.multiselect("gender", "All", ["All", *genders], "Gender")
dbutils.widgets.multiselect("category", "All", ["All", *categories], "Category")


def chosen(widget: str) -> list[str]:
    values = [value for value in dbutils.widgets.get(widget).split(",") if value]
    return [] if "All" in values else values


selection = insights.InsightsFilter(
    start=dt.date.fromisoformat(dbutils.widgets.get("start")),
    end=dt.date.fromisoformat(dbutils.widgets.get("end")),
    genders=chosen("gender"),
    categories=chosen("category"),
)
rows = insights.filtered(daily, selection)
print(selection)

# COMMAND ----------

# MAGIC %md ## KPIs

# COMMAND ----------

display(insights.totals(rows))
display(insights.by_gender(rows))

# COMMAND ----------

# MAGIC %md ## Revenue per day and gender

# COMMAND ----------

trend = insights.trend(rows).withColumn("revenue", F.col("revenue").cast("double")).toPandas()
if not trend.empty:
    figure, axes = plt.subplots(figsize=(10, 4))
    trend.pivot(index="sale_date", columns="gender", values="revenue").plot(ax=axes, title="Revenue per day")
    display(figure)

# COMMAND ----------

# MAGIC %md ## Categories

# COMMAND ----------

categories_table = insights.by_category(rows)
display(categories_table)
per_category = categories_table.groupBy("category").agg(F.sum("revenue").cast("double").alias("revenue")).toPandas()
if not per_category.empty:
    figure, axes = plt.subplots(figsize=(10, 4))
    per_category.sort_values("revenue").plot.barh(x="category", y="revenue", ax=axes, legend=False)
    axes.set_title("Revenue per category")
    display(figure)
