"""Price elasticity per product, and price recommendations from it.

The elasticity is the slope e of a log-log model of daily quantity on the day's average price, over the
days the product was not on promotion, with day-of-week dummies as controls (weekly patterns move demand
independently of price):
    log E[q_d] = a + e * log p_d + sum_k b_k * [weekday(d) = k] + c * t_d (+ a yearly sine and cosine),
with t_d the time since the first day (seasonal_controls).
By default it is fitted by Poisson pseudo-maximum likelihood (a log-link GLM, iteratively reweighted least
squares): ordinary least squares on log q estimates E[log q] instead, which for small daily counts sits
below log E[q] by about half the squared coefficient of variation, and more so at high prices where fewer
units sell, so OLS reads products as more elastic than they are. `estimator: ols` keeps plain OLS.
Standard errors are quasi-Poisson (scaled by the observed dispersion); `r_squared` is then the share of
Poisson deviance explained.

A product is fitted only when its price moved enough to identify e: at least `min_price_changes`
day-to-day changes of more than `min_price_change`. The reference architecture's average of arc
elasticities between consecutive days is not used: it divides by tiny price differences and is unstable.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from retail_lakehouse.core.contracts import transform
from retail_lakehouse.gold.versions import current

ELASTICITY_SCHEMA = (
    "product_id string, elasticity double, std_error double, observations int, r_squared double, "
    "price_changes int, avg_price double, avg_daily_quantity double, first_date date, last_date date"
)


SEASON_SPAN_DAYS = 300  # from this span on, the seasonal controls include a yearly cycle


class ElasticityParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min_price_changes: int = Field(10, ge=1, description="Day-to-day price changes a product needs.")
    min_price_change: float = Field(0.01, gt=0, description="A change counts above this relative size.")
    day_of_week_controls: bool = True
    seasonal_controls: bool = Field(
        True,
        description="A log-linear trend over the period, and a yearly sine and cosine when it spans 300 days or "
        "more: demand moves with the season independently of price, and unmodelled it blurs the estimate.",
    )
    min_observations: int = Field(20, ge=3, description="Non-promotion days with sales a fit needs.")
    estimator: Literal["poisson", "ols"] = Field(
        "poisson", description="poisson: log-link GLM (unbiased for small counts); ols: least squares on log q."
    )
    max_iterations: int = Field(100, ge=1, description="Poisson fit: iterations of reweighted least squares.")


def daily_price_quantity(lines: DataFrame) -> DataFrame:
    """Per product and day without promotion (no line discounted): units sold and the average unit price."""
    per_day = lines.groupBy("product_id", "sale_date").agg(
        F.sum("quantity").alias("quantity"),
        F.sum("gross_amount").alias("gross"),
        F.max(F.col("discount_amount") > 0).alias("promoted"),
    )
    return per_day.where(~F.col("promoted") & (F.col("quantity") > 0)).select(
        "product_id",
        "sale_date",
        F.col("quantity").cast("double").alias("quantity"),
        (F.col("gross") / F.col("quantity")).cast("double").alias("price"),
    )


Fit = tuple[np.ndarray, np.ndarray, float | None]  # coefficients, their covariance, R squared


def _ols_fit(x: np.ndarray, quantity: np.ndarray) -> Fit | None:
    y = np.log(quantity)
    coefficients, _, rank, _ = np.linalg.lstsq(x, y, rcond=None)
    residuals = y - x @ coefficients
    degrees = len(y) - rank
    if degrees <= 0:
        return None
    covariance = float(residuals @ residuals) / degrees * np.linalg.pinv(x.T @ x)
    total = float(((y - y.mean()) ** 2).sum())
    return coefficients, covariance, 1 - float(residuals @ residuals) / total if total > 0 else None


def _poisson_fit(x: np.ndarray, quantity: np.ndarray, max_iterations: int) -> Fit | None:
    """Log-link Poisson GLM by iteratively reweighted least squares, started from OLS on log q."""
    start = _ols_fit(x, quantity)
    if start is None:
        return None
    coefficients = start[0]
    for _ in range(max_iterations):
        mean = np.exp(x @ coefficients)
        working = x @ coefficients + (quantity - mean) / mean
        weighted = x.T * mean
        updated = np.linalg.lstsq(weighted @ x, weighted @ working, rcond=None)[0]
        converged = np.max(np.abs(updated - coefficients)) < 1e-10
        coefficients = updated
        if converged:
            break
    mean = np.exp(x @ coefficients)
    rank = int(np.linalg.matrix_rank(x))
    degrees = len(quantity) - rank
    if degrees <= 0:
        return None
    dispersion = float((((quantity - mean) ** 2) / mean).sum()) / degrees
    covariance = dispersion * np.linalg.pinv((x.T * mean) @ x)
    deviance = 2 * float((quantity * np.log(quantity / mean) - (quantity - mean)).sum())
    null_mean = quantity.mean()
    null_deviance = 2 * float((quantity * np.log(quantity / null_mean) - (quantity - null_mean)).sum())
    return coefficients, covariance, 1 - deviance / null_deviance if null_deviance > 0 else None


def fit_log_log(days: pd.DataFrame, params: ElasticityParams) -> pd.DataFrame:
    """The regression for one product's days (columns sale_date, quantity, price); one row or none."""
    days = days.sort_values("sale_date")
    price = days["price"].to_numpy(dtype=float)
    changes = int((np.abs(price[1:] / price[:-1] - 1) > params.min_price_change).sum()) if len(price) > 1 else 0
    columns = [c.split()[0] for c in ELASTICITY_SCHEMA.split(", ")]
    if changes < params.min_price_changes or len(days) < params.min_observations:
        return pd.DataFrame(columns=columns)
    quantity = days["quantity"].to_numpy(dtype=float)
    regressors = [np.ones(len(days)), np.log(price)]
    if params.day_of_week_controls:
        weekday = pd.to_datetime(days["sale_date"]).dt.weekday.to_numpy()
        present = sorted(set(weekday.tolist()))
        regressors += [(weekday == k).astype(float) for k in present[1:]]  # the first present day is the base
    if params.seasonal_controls:
        dates = pd.to_datetime(days["sale_date"])
        years = ((dates - dates.iloc[0]).dt.days / 365.25).to_numpy(dtype=float)
        regressors.append(years)
        if years[-1] * 365.25 >= SEASON_SPAN_DAYS:
            angle = 2 * np.pi * dates.dt.dayofyear.to_numpy(dtype=float) / 365.25
            regressors += [np.sin(angle), np.cos(angle)]
    x = np.column_stack(regressors)
    fit = _poisson_fit(x, quantity, params.max_iterations) if params.estimator == "poisson" else _ols_fit(x, quantity)
    if fit is None:
        return pd.DataFrame(columns=columns)
    coefficients, covariance, r_squared = fit
    return pd.DataFrame(
        [
            {
                "product_id": days["product_id"].iloc[0],
                "elasticity": round(float(coefficients[1]), 6),
                "std_error": round(float(np.sqrt(covariance[1, 1])), 6),
                "observations": len(days),
                "r_squared": None if r_squared is None else round(r_squared, 6),
                "price_changes": changes,
                "avg_price": round(float(price.mean()), 4),
                "avg_daily_quantity": round(float(days["quantity"].mean()), 4),
                "first_date": days["sale_date"].iloc[0],
                "last_date": days["sale_date"].iloc[-1],
            }
        ],
        columns=columns,
    )


@transform(
    "gold.price_elasticity",
    description="transaction lines -> log-log price elasticity per product on non-promotion days",
)
def price_elasticity(lines: DataFrame, params: ElasticityParams) -> DataFrame:
    return (
        daily_price_quantity(lines)
        .groupBy("product_id")
        .applyInPandas(lambda days: fit_log_log(days, params), ELASTICITY_SCHEMA)
    )


class RecommendationRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    elastic_below: float = Field(-1.5, description="More elastic than this: lower the price.")
    inelastic_above: float = Field(-0.5, description="Less elastic than this: raise the price.")
    decrease: float = Field(0.05, gt=0, lt=1)
    increase: float = Field(0.05, gt=0, lt=1)
    min_markup_on_cost: float = Field(1.1, ge=1, description="Never recommend below cost times this.")
    days_per_year: int = 365

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> RecommendationRules:
        if self.elastic_below > self.inelastic_above:
            raise ValueError("elastic_below must not be above inelastic_above")
        return self


@transform(
    "gold.price_recommendations",
    description="elasticities + products + competitor prices -> recommended prices and projected margin",
)
def price_recommendations(
    elasticity: DataFrame, products: DataFrame, competitor_prices: DataFrame, params: RecommendationRules
) -> DataFrame:
    """Per product with an elasticity: keep, lower or raise the current list price by the rules, never
    below cost x min_markup_on_cost; the lowest competitor price of the latest check; and the margin a year
    would bring at the recommended price, with demand moved by the elasticity:
        (recommended - cost) * avg_daily_quantity * (recommended / current) ** elasticity * days_per_year.
    """
    latest_check = Window.partitionBy("product_id").orderBy(F.col("observed_date").desc())
    competitor = (
        competitor_prices.withColumn("_rank", F.dense_rank().over(latest_check))
        .where(F.col("_rank") == 1)
        .groupBy("product_id")
        .agg(F.min("price").alias("competitor_price"), F.max("observed_date").alias("competitor_observed_date"))
    )
    product = current(products).select("product_id", F.col("list_price").alias("current_price"), "cost")
    e = F.col("elasticity")
    moved = (
        F.when(e < params.elastic_below, F.col("current_price") * (1 - params.decrease))
        .when(e > params.inelastic_above, F.col("current_price") * (1 + params.increase))
        .otherwise(F.col("current_price"))
    )
    floor = F.col("cost") * params.min_markup_on_cost
    recommended = F.round(F.greatest(moved, floor), 2).cast("decimal(12,2)")
    action = F.when(e < params.elastic_below, "decrease").when(e > params.inelastic_above, "increase").otherwise("keep")
    fitted = elasticity.select("product_id", "elasticity", "avg_daily_quantity").join(product, "product_id")
    projected_quantity = F.col("avg_daily_quantity") * F.pow(
        F.col("recommended_price").cast("double") / F.col("current_price").cast("double"), e
    )
    margin = (F.col("recommended_price") - F.col("cost")).cast("double") * projected_quantity * params.days_per_year
    current_margin = (F.col("current_price") - F.col("cost")).cast("double") * F.col("avg_daily_quantity")
    return (
        fitted.join(competitor, "product_id", "left")
        .withColumns({"recommended_price": recommended, "rule": action})
        .withColumns(
            {
                "action": F.when(F.col("recommended_price") > F.col("current_price"), "increase")
                .when(F.col("recommended_price") < F.col("current_price"), "decrease")
                .otherwise("keep"),
                "projected_annual_margin": F.round(margin, 2),
                "current_annual_margin": F.round(current_margin * params.days_per_year, 2),
            }
        )
    )
