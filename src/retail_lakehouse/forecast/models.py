"""The forecasting models on one partition of series, in pandas: a global LightGBM model on the demand
features, forecast recursively, and two statistical baselines (seasonal naive; ETS from statsforecast).

Every model returns, per series and target date, P10/P50/P90 of the units sold. Spark calls these per
partition (forecast.spark_apply); they know nothing of Spark.

Censored demand: on a stock-out day the units sold are what the stock allowed, not what was asked for. The
demand signal is therefore null on those days: they are no training target, and lags and rolling means
that would read them are null (LightGBM treats a null as missing, not as zero).
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

SERIES = ["store_id", "product_id"]
LAGS = (1, 7, 14, 28)
ROLLING_WINDOWS = (7, 28)
# The model's inputs: lags and rolling means of the demand signal, and what is known about the target date.
MODEL_FEATURES = [
    *(f"lag_{k}" for k in LAGS),
    *(f"rolling_mean_{w}" for w in ROLLING_WINDOWS),
    "series_level",
    "price_ratio",
    "promotion",
    "day_of_week",
    "day_of_year",
    "is_holiday",
    "temperature",
    "precipitation",
    "department_code",
]
MODELS = ("lightgbm", "seasonal_naive", "ets")
RECENT_WEATHER_DAYS = 28


class ForecastParams(BaseModel):
    """What the forecast, backtest and replenishment jobs share."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    horizon_days: int = Field(30, ge=1, le=366, description="Days forecast after the last day of history.")
    backtest_origins: int = Field(3, ge=1, description="Rolling origins of the backtest, horizon_days apart.")
    partitions: int | None = Field(
        None,
        ge=1,
        description="Partitions of series; each trains its own global model (default: one per "
        "series_per_partition series).",
    )
    series_per_partition: int = Field(
        2000,
        ge=1,
        description="Without `partitions`: series per partition. A model learns from every series of its "
        "partition (fewer, smaller partitions forecast worse); more partitions spread over more executors.",
    )
    history_days: int = Field(730, ge=56, description="Days of history a model trains on.")
    ets_model: str = Field("ANA", description="statsforecast AutoETS model string (error, trend, season).")
    ets_history_days: int = Field(120, ge=14, description="Days of history ETS fits on (its cost grows with it).")
    num_boost_round: int = Field(300, ge=10)
    learning_rate: float = Field(0.05, gt=0)
    num_leaves: int = Field(31, ge=2)
    min_data_in_leaf: int = Field(20, ge=1)
    seed: int = 7

    def lightgbm_parameters(self) -> dict[str, object]:
        return {
            "objective": "poisson",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_data_in_leaf,
            "feature_fraction": 0.9,
            "bagging_fraction": 0.9,
            "bagging_freq": 1,
            "seed": self.seed,
            "deterministic": True,
            "num_threads": 1,  # one Spark task, one core
            "verbose": -1,
        }


@dataclass(frozen=True)
class Quantiles:
    p10: np.ndarray
    p50: np.ndarray
    p90: np.ndarray


def signal(history: pd.DataFrame) -> pd.Series:
    """Units sold, null where a stock-out censored them."""
    return history["quantity_sold"].astype(float).where(~history["stock_out"].astype(bool))


def _with_model_columns(rows: pd.DataFrame, level: pd.Series, typical_price: pd.Series) -> pd.DataFrame:
    keys = pd.MultiIndex.from_frame(rows[SERIES])
    out = rows.copy()
    out["series_level"] = level.reindex(keys).to_numpy()
    out["price_ratio"] = rows["price"].to_numpy(dtype=float) / typical_price.reindex(keys).to_numpy()
    dates = pd.to_datetime(rows["date"])
    out["day_of_week"] = dates.dt.dayofweek + 1
    out["day_of_year"] = dates.dt.dayofyear
    for column in ("is_holiday", "promotion", "temperature", "precipitation", "department_code"):
        out[column] = pd.to_numeric(out[column], errors="coerce").astype(float)
    return out


def _series_statistics(train: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Per series, what the training window knows: its mean demand and its typical (median) price."""
    demand = train.assign(_signal=signal(train))
    level = demand.groupby(SERIES)["_signal"].mean()
    typical_price = train.groupby(SERIES)["price"].median().astype(float)
    return level, typical_price


def _nb_dispersion(actual: np.ndarray, mean: np.ndarray) -> float:
    """Negative binomial dispersion a (variance = mean + a * mean^2) by moments from forecast errors."""
    keep = ~np.isnan(actual) & (mean > 0)
    if keep.sum() < 10:
        return 0.5
    excess = float(np.sum((actual[keep] - mean[keep]) ** 2) - np.sum(mean[keep]))
    return max(excess / float(np.sum(mean[keep] ** 2)), 1e-3)


def nb_quantiles(mean: np.ndarray, dispersion: float) -> Quantiles:
    """P10 and P90 of a negative binomial, interpolated between whole units (mid-distribution quantiles: the
    quantile of a count is a step function, and whole-unit bounds cover more than 80% of small counts); P50
    is the median in whole units, which minimises the absolute error (the interpolated one sits lower)."""
    # Imported here, as lightgbm is: scipy.stats takes 0.6 s to import, paid by every CLI command that
    # loads the transform catalogue otherwise, though only a forecast's executors use it.
    from scipy import stats

    mean = np.maximum(mean, 0.0)
    size = 1.0 / dispersion
    probability = size / (size + np.maximum(mean, 1e-9))

    def quantile(level: float) -> np.ndarray:
        step = stats.nbinom.ppf(level, size, probability)
        below = np.where(step > 0, stats.nbinom.cdf(step - 1, size, probability), 0.0)
        at = stats.nbinom.cdf(step, size, probability)
        share = np.divide(level - below, at - below, out=np.ones_like(at), where=at > below)
        value: np.ndarray = np.where(mean > 0, np.maximum(step - 1 + share, 0.0), 0.0)
        return value

    median = np.where(mean > 0, stats.nbinom.ppf(0.5, size, probability), 0.0)
    return Quantiles(p10=quantile(0.1), p50=median, p90=quantile(0.9))


@dataclass
class SeriesGrid:
    """The demand signal of every series on a dense date axis (rows: series; columns: dates)."""

    keys: pd.MultiIndex
    dates: pd.DatetimeIndex
    values: np.ndarray

    @classmethod
    def of(cls, history: pd.DataFrame, last: dt.date, extra_days: int) -> SeriesGrid:
        frame = history.assign(_signal=signal(history), _date=pd.to_datetime(history["date"]))
        # One row per series and date in the feature table; pivot (not pivot_table, whose dropna=False would
        # add every store x product combination).
        wide = frame.pivot(index=SERIES, columns="_date", values="_signal")
        first = wide.columns.min() if len(wide.columns) else pd.Timestamp(last)
        dates = pd.date_range(first, pd.Timestamp(last) + pd.Timedelta(days=extra_days), freq="D")
        wide = wide.reindex(columns=dates)
        return cls(keys=wide.index, dates=dates, values=wide.to_numpy(dtype=float))

    def lag_features(self, column: int) -> dict[str, np.ndarray]:
        """Lags and rolling means for the date in `column`, from the values before it."""
        out: dict[str, np.ndarray] = {}
        for k in LAGS:
            out[f"lag_{k}"] = self.values[:, column - k] if column - k >= 0 else np.full(len(self.keys), np.nan)
        for window in ROLLING_WINDOWS:
            block = self.values[:, max(0, column - window) : column]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                out[f"rolling_mean_{window}"] = (
                    np.nanmean(block, axis=1) if block.shape[1] else np.full(len(self.keys), np.nan)
                )
        return out


def lightgbm_forecast(
    history: pd.DataFrame, future: pd.DataFrame, origin: dt.date, params: ForecastParams
) -> tuple[pd.DataFrame, dict[str, float]]:
    """P10/P50/P90 per series for every date of `future` (store_id, product_id, date and the known
    covariates), from a model trained on `history` up to `origin` (inclusive), forecast recursively: each
    day's predicted mean becomes the next days' lags. The interval is a negative binomial around that mean whose
    dispersion is fitted on the errors of the same procedure one horizon earlier. Returns the forecast and
    the model's figures (dispersion, training rows)."""
    calibration_origin = origin - dt.timedelta(days=params.horizon_days)
    train_all = history[pd.to_datetime(history["date"]) <= pd.Timestamp(origin)]
    early = train_all[pd.to_datetime(train_all["date"]) <= pd.Timestamp(calibration_origin)]
    late = train_all[pd.to_datetime(train_all["date"]) > pd.Timestamp(calibration_origin)]
    dispersion = 0.5
    if len(early) and len(late):
        calibration = _recursive_mean(early, planned_days(late, early, calibration_origin), calibration_origin, params)
        merged = late.assign(_signal=signal(late)).merge(calibration, on=[*SERIES, "date"])
        dispersion = _nb_dispersion(merged["_signal"].to_numpy(dtype=float), merged["mean"].to_numpy(dtype=float))
    forecast = _recursive_mean(train_all, future, origin, params)
    quantiles = nb_quantiles(forecast["mean"].to_numpy(dtype=float), dispersion)
    forecast = forecast.assign(p10=quantiles.p10, p50=quantiles.p50, p90=quantiles.p90)
    return forecast, {"dispersion": dispersion, "training_rows": float(len(train_all))}


def recent_weather(history: pd.DataFrame, origin: dt.date) -> pd.DataFrame:
    """Per series, the mean temperature and precipitation of the days before `origin`: the weather a
    forecast assumes ahead (it cannot read the weather of days to come)."""
    dates = pd.to_datetime(history["date"])
    since = pd.Timestamp(origin) - pd.Timedelta(days=RECENT_WEATHER_DAYS)
    recent = history[(dates <= pd.Timestamp(origin)) & (dates > since)]
    return recent.groupby(SERIES)[["temperature", "precipitation"]].mean().reset_index()


def planned_days(rows: pd.DataFrame, history: pd.DataFrame, origin: dt.date) -> pd.DataFrame:
    """Days already seen as a forecast at `origin` would have known them: holidays, the recent weather,
    no promotion."""
    known = rows[[*SERIES, "date", "is_holiday", "department_code"]]
    return known.merge(recent_weather(history, origin), on=SERIES, how="left").assign(promotion=0.0)


def _train(train: pd.DataFrame, params: ForecastParams) -> tuple[object, pd.Series, pd.Series]:
    import lightgbm

    level, typical_price = _series_statistics(train)
    rows = _with_model_columns(train, level, typical_price)
    target = signal(train)
    usable = target.notna().to_numpy()
    dataset = lightgbm.Dataset(
        rows.loc[usable, MODEL_FEATURES].to_numpy(dtype=float),
        label=target[usable].to_numpy(dtype=float),
        feature_name=MODEL_FEATURES,
        categorical_feature=["department_code"],
        free_raw_data=True,
    )
    booster = lightgbm.train(params.lightgbm_parameters(), dataset, num_boost_round=params.num_boost_round)
    return booster, level, typical_price


def _recursive_mean(train: pd.DataFrame, future: pd.DataFrame, origin: dt.date, params: ForecastParams) -> pd.DataFrame:
    """The trained model's mean forecast for every row of `future`, one day at a time."""
    train = train[pd.to_datetime(train["date"]) > pd.Timestamp(origin) - pd.Timedelta(days=params.history_days)]
    booster, level, typical_price = _train(train, params)
    last_price = train.sort_values("date").groupby(SERIES)["price"].last().astype(float).rename("price").reset_index()
    horizon = (pd.to_datetime(future["date"]).max() - pd.Timestamp(origin)).days
    grid = SeriesGrid.of(train, origin, max(horizon, 0))
    planned = future.merge(last_price, on=SERIES, how="inner")
    planned = planned.assign(_date=pd.to_datetime(planned["date"]))
    results: list[pd.DataFrame] = []
    position = pd.Series(np.arange(len(grid.keys)), index=grid.keys)
    for step in range(1, horizon + 1):
        day = pd.Timestamp(origin) + pd.Timedelta(days=step)
        column = grid.dates.get_loc(day)
        today = planned[planned["_date"] == day]
        if today.empty:
            continue
        rows_at = position.reindex(pd.MultiIndex.from_frame(today[SERIES])).to_numpy()
        known = ~np.isnan(rows_at.astype(float))
        today = today[known]
        rows_at = rows_at[known].astype(int)
        lags = grid.lag_features(int(column))
        for name, values in lags.items():
            today = today.assign(**{name: values[rows_at]})
        features = _with_model_columns(today, level, typical_price)
        mean = np.asarray(booster.predict(features[MODEL_FEATURES].to_numpy(dtype=float)))  # type: ignore[attr-defined]
        grid.values[rows_at, column] = mean
        results.append(today[[*SERIES, "date"]].assign(mean=mean))
    if not results:
        return pd.DataFrame(columns=[*SERIES, "date", "mean"])
    return pd.concat(results, ignore_index=True)


def seasonal_naive_forecast(
    history: pd.DataFrame, future: pd.DataFrame, origin: dt.date, season: int = 7
) -> pd.DataFrame:
    """Each target day repeats the same weekday of the last week before the origin; the interval adds the
    10th and 90th percentiles of the series' own week-on-week changes (pooled over the partition when a
    series has fewer than 28 of them), floored at 0."""
    train = history[pd.to_datetime(history["date"]) <= pd.Timestamp(origin)]
    grid = SeriesGrid.of(train.assign(stock_out=False), origin, 0)
    values = grid.values
    last_week = values[:, -season:]
    if last_week.shape[1] < season:
        # Less than a season of history (a lakehouse's first days): a weekday not seen yet repeats the
        # series' mean of the days there are.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nan_to_num(np.nanmean(values, axis=1), nan=0.0) if values.size else np.zeros(len(values))
        unseen = np.repeat(mean[:, None], season - last_week.shape[1], axis=1)
        last_week = np.hstack([unseen, last_week])
    changes = values[:, season:] - values[:, :-season]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        pooled = np.nanquantile(changes, [0.1, 0.9]) if np.isfinite(changes).any() else np.array([0.0, 0.0])
        own = np.nanquantile(changes, [0.1, 0.9], axis=1).T if changes.size else np.zeros((len(values), 2))
    enough = (np.isfinite(changes).sum(axis=1) >= 28)[:, None] if changes.size else np.zeros((len(values), 1), bool)
    spread = np.where(enough, own, pooled[None, :])
    position = pd.Series(np.arange(len(grid.keys)), index=grid.keys)
    rows = position.reindex(pd.MultiIndex.from_frame(future[SERIES])).to_numpy(dtype=float)
    known = ~np.isnan(rows)
    target = future[known]
    at = rows[known].astype(int)
    step = (pd.to_datetime(target["date"]) - pd.Timestamp(origin)).dt.days.to_numpy()
    p50 = np.nan_to_num(last_week[at, (step - 1) % season], nan=0.0)
    low, high = np.nan_to_num(spread[at, 0]), np.nan_to_num(spread[at, 1])
    return target[[*SERIES, "date"]].assign(p10=np.maximum(p50 + low, 0.0), p50=p50, p90=np.maximum(p50 + high, 0.0))


ETS_SEASON = 7
# statsforecast refuses a weekly ANA model under a season of data; two make its seasonal terms mean something.
ETS_MIN_SEASONS = 2


def ets_forecast(history: pd.DataFrame, future: pd.DataFrame, origin: dt.date, params: ForecastParams) -> pd.DataFrame:
    """statsforecast's AutoETS (weekly season) per series on its last `ets_history_days` of units sold,
    with its 80% interval as P10-P90; forecasts floored at 0. With less than two seasons of history (a
    lakehouse's first two weeks) a seasonal model cannot be fitted: the seasonal naive forecast stands in."""
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    start = pd.Timestamp(origin) - pd.Timedelta(days=params.ets_history_days)
    dates = pd.to_datetime(history["date"])
    train = history[(dates > start) & (dates <= pd.Timestamp(origin))]
    grid = SeriesGrid.of(train.assign(stock_out=False), origin, 0)
    if len(grid.dates) < ETS_MIN_SEASONS * ETS_SEASON:
        return seasonal_naive_forecast(history, future, origin, ETS_SEASON)
    frame = pd.DataFrame(np.nan_to_num(grid.values, nan=0.0), index=grid.keys, columns=grid.dates)
    long = frame.stack().rename("y").reset_index()
    long.columns = [*SERIES, "ds", "y"]
    long["unique_id"] = long["store_id"].astype(str) + "|" + long["product_id"].astype(str)
    horizon = int((pd.to_datetime(future["date"]).max() - pd.Timestamp(origin)).days)
    model = StatsForecast(models=[AutoETS(season_length=ETS_SEASON, model=params.ets_model)], freq="D", n_jobs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = model.forecast(df=long[["unique_id", "ds", "y"]], h=horizon, level=[80])
    result = result.reset_index() if "unique_id" not in result.columns else result
    ids = result["unique_id"].str.split("|", n=1, expand=True)
    out = pd.DataFrame(
        {
            "store_id": ids[0],
            "product_id": ids[1],
            "date": pd.to_datetime(result["ds"]).dt.date,
            "p10": np.maximum(result["AutoETS-lo-80"].to_numpy(dtype=float), 0.0),
            "p50": np.maximum(result["AutoETS"].to_numpy(dtype=float), 0.0),
            "p90": np.maximum(result["AutoETS-hi-80"].to_numpy(dtype=float), 0.0),
        }
    )
    wanted = future[[*SERIES, "date"]].assign(date=pd.to_datetime(future["date"]).dt.date)
    return wanted.merge(out, on=[*SERIES, "date"], how="inner")


def mase_scale(history: pd.DataFrame, origin: dt.date, season: int = 7) -> pd.Series:
    """Per series: the mean absolute week-on-week change of units sold up to `origin` (MASE's denominator)."""
    train = history[pd.to_datetime(history["date"]) <= pd.Timestamp(origin)]
    grid = SeriesGrid.of(train.assign(stock_out=False), origin, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        scale = np.nanmean(np.abs(grid.values[:, season:] - grid.values[:, :-season]), axis=1)
    return pd.Series(scale, index=grid.keys, name="mase_scale")
