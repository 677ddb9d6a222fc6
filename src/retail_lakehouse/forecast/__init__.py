"""Demand forecasting: the feature table, models, backtest and replenishment."""
