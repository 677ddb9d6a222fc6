"""The read API over gold (FastAPI): one GET endpoint per visual, the same filters on each, JSON or CSV.

Documented at /docs (Swagger UI served from the package) and /openapi.json."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from retail_lakehouse.serve import customers, insights, inventory, sales
from retail_lakehouse.serve.builders import HowToBuild
from retail_lakehouse.serve.gold import GoldReader, MissingTablesError
from retail_lakehouse.serve.query import BadFilterError, Row
from retail_lakehouse.serve.responses import Format, answer, error

log = logging.getLogger(__name__)

HowToBuildFor = Callable[[list[str]], list[HowToBuild]]

StartDate = Annotated[dt.date | None, Query(description="First sale date, YYYY-MM-DD (default: the first with data).")]
EndDate = Annotated[dt.date | None, Query(description="Last sale date, inclusive (default: the last with data).")]
OutputFormat = Annotated[Format, Query(alias="format", description="json, or csv to download the rows.")]


def _values(description: str) -> Any:
    return Query(description=f"{description} Repeat the parameter for several; none = all.")


def insights_filters(
    start: StartDate = None,
    end: EndDate = None,
    gender: Annotated[list[str] | None, _values("Gender label (Female, Male, Other, Unknown).")] = None,
    category: Annotated[list[str] | None, _values("Product category (top-level department).")] = None,
) -> insights.InsightsFilters:
    return insights.InsightsFilters(start, end, tuple(gender or ()), tuple(category or ()))


def sales_filters(
    start: StartDate = None,
    end: EndDate = None,
    region: Annotated[list[str] | None, _values("Store region.")] = None,
    category: Annotated[list[str] | None, _values("Product category (top-level department).")] = None,
    channel: Annotated[list[str] | None, _values("Sales channel (store, online, mobile).")] = None,
) -> sales.SalesFilters:
    return sales.SalesFilters(start, end, tuple(region or ()), tuple(category or ()), tuple(channel or ()))


Stores = Annotated[list[str] | None, _values("Store id.")]
Limit = Annotated[int, Query(description="At most this many rows (1 to 1000).")]


def _applied(filters: object) -> dict[str, Any]:
    """The filters as answered back: dates as ISO text, value lists as lists."""
    values = (
        dataclasses.asdict(filters)
        if dataclasses.is_dataclass(filters) and not isinstance(filters, type)
        else dict(filters)  # type: ignore[call-overload]
    )
    return {
        key: value.isoformat() if isinstance(value, dt.date) else list(value) if isinstance(value, tuple) else value
        for key, value in values.items()
    }


class GoldApi:
    """The endpoints, bound to one lakehouse's gold tables."""

    def __init__(self, reader: GoldReader) -> None:
        self.reader = reader

    def read(
        self, name: str, tables: Sequence[str], query: Callable[[Any], list[Row]], fmt: Format, filters: object
    ) -> Response:
        cursor = self.reader.cursor(tables)
        try:
            found = query(cursor)
        finally:
            cursor.close()
        versions = {table: self.reader.version(table) for table in tables}
        return answer(name, found, fmt, _applied(filters), versions)

    def router(self) -> APIRouter:
        api = APIRouter(prefix="/api")

        @api.get("/insights/options", tags=["customer insights"], summary="Filter values and the date range")
        def insights_options() -> dict[str, Any]:
            return insights.options(self.reader)

        @api.get(
            "/insights/cards", tags=["customer insights"], summary="Products sold, revenue, customers, gender split"
        )
        def insights_cards(
            filters: Annotated[insights.InsightsFilters, Depends(insights_filters)], fmt: OutputFormat = "json"
        ) -> Response:
            insights.check(self.reader, filters)
            with self.reader.cursor(insights.TABLES) as cursor:
                found = insights.cards(cursor, filters, insights.customer_counting(self.reader))
            versions = {table: self.reader.version(table) for table in insights.TABLES}
            if fmt == "csv":
                return answer("insights_cards", found["gender_split"], fmt, {}, versions)
            return JSONResponse({"filters": _applied(filters), "versions": versions, **found})

        @api.get("/insights/trend", tags=["customer insights"], summary="Revenue and units per day and gender")
        def insights_trend(
            filters: Annotated[insights.InsightsFilters, Depends(insights_filters)], fmt: OutputFormat = "json"
        ) -> Response:
            insights.check(self.reader, filters)
            return self.read("insights_trend", insights.TABLES, lambda c: insights.trend(c, filters), fmt, filters)

        @api.get(
            "/insights/by-category",
            tags=["customer insights"],
            summary="Revenue, units and customers per category and gender, with each gender's share",
        )
        def insights_by_category(
            filters: Annotated[insights.InsightsFilters, Depends(insights_filters)], fmt: OutputFormat = "json"
        ) -> Response:
            insights.check(self.reader, filters)
            return self.read(
                "insights_by_category",
                insights.TABLES,
                lambda c: insights.by_category(c, filters, insights.customer_counting(self.reader)),
                fmt,
                filters,
            )

        @api.get("/sales/options", tags=["sales performance"], summary="Filter values and the date range")
        def sales_options() -> dict[str, Any]:
            return sales.options(self.reader)

        @api.get("/sales/by-region-category", tags=["sales performance"], summary="Revenue by region and category")
        def sales_by_region_category(
            filters: Annotated[sales.SalesFilters, Depends(sales_filters)], fmt: OutputFormat = "json"
        ) -> Response:
            sales.check(self.reader, filters)
            return self.read(
                "sales_by_region_category", sales.TABLES, lambda c: sales.by_region_category(c, filters), fmt, filters
            )

        @api.get("/sales/stores", tags=["sales performance"], summary="Store benchmarking: index against peers")
        def sales_stores(
            filters: Annotated[sales.SalesFilters, Depends(sales_filters)], fmt: OutputFormat = "json"
        ) -> Response:
            sales.check(self.reader, filters)
            return self.read("sales_stores", sales.TABLES, lambda c: sales.stores(c, filters), fmt, filters)

        @api.get("/sales/trend", tags=["sales performance"], summary="Net revenue and units per day and channel")
        def sales_trend(
            filters: Annotated[sales.SalesFilters, Depends(sales_filters)], fmt: OutputFormat = "json"
        ) -> Response:
            sales.check(self.reader, filters)
            return self.read("sales_trend", sales.TABLES, lambda c: sales.trend(c, filters), fmt, filters)

        @api.get("/inventory/options", tags=["inventory"], summary="The stores with positions")
        def inventory_options() -> dict[str, Any]:
            return inventory.options(self.reader)

        def per_store(
            name: str,
            tables: tuple[str, ...],
            query: Callable[[Any, tuple[str, ...], int], list[Row]],
            store: list[str] | None,
            limit: int,
            fmt: Format,
        ) -> Response:
            """An inventory list for the chosen stores (all when none). The stores are checked against the
            positions' when the list reads them; a store without alerts is simply absent from the alerts."""
            stores = tuple(store or ())
            if tables == inventory.POSITION_TABLES:
                inventory.check(self.reader, stores)
            applied = {"store": list(stores), "limit": limit}
            return self.read(name, tables, lambda c: query(c, stores, limit), fmt, applied)

        @api.get(
            "/inventory/short-positions",
            tags=["inventory"],
            summary="Positions below safety stock or their reorder point, largest shortfall first",
        )
        def inventory_short_positions(store: Stores = None, limit: Limit = 100, fmt: OutputFormat = "json") -> Response:
            return per_store(
                "inventory_short_positions", inventory.POSITION_TABLES, inventory.short_positions, store, limit, fmt
            )

        @api.get("/inventory/alerts", tags=["inventory"], summary="The latest inventory alerts")
        def inventory_alerts(store: Stores = None, limit: Limit = 50, fmt: OutputFormat = "json") -> Response:
            return per_store("inventory_alerts", inventory.ALERT_TABLES, inventory.latest_alerts, store, limit, fmt)

        @api.get("/inventory/stores", tags=["inventory"], summary="Stock on hand by store")
        def inventory_stores(store: Stores = None, fmt: OutputFormat = "json") -> Response:
            stores = tuple(store or ())
            inventory.check(self.reader, stores)
            query = inventory.stock_by_store
            return self.read(
                "inventory_stores", inventory.POSITION_TABLES, lambda c: query(c, stores), fmt, {"store": list(stores)}
            )

        @api.get(
            "/inventory/replenishment",
            tags=["inventory"],
            summary="Order suggestions: reorder point minus on hand (until a forecast exists)",
        )
        def inventory_replenishment(store: Stores = None, limit: Limit = 100, fmt: OutputFormat = "json") -> Response:
            return per_store(
                "inventory_replenishment", inventory.POSITION_TABLES, inventory.replenishment, store, limit, fmt
            )

        @api.get("/customers/segments", tags=["customers, basket, pricing"], summary="RFM segment counts and values")
        def customer_segments(fmt: OutputFormat = "json") -> Response:
            return self.read("customer_segments", customers.SEGMENT_TABLES, customers.segments, fmt, {})

        @api.get("/basket/rules", tags=["customers, basket, pricing"], summary="Top association rules by lift")
        def basket_rules(
            product: Annotated[str | None, Query(description="Only rules whose antecedent holds this product.")] = None,
            limit: Limit = 20,
            fmt: OutputFormat = "json",
        ) -> Response:
            return self.read(
                "association_rules",
                customers.RULE_TABLES,
                lambda c: customers.association_rules(c, limit, product),
                fmt,
                {"product": product, "limit": limit},
            )

        @api.get(
            "/basket/recommendations", tags=["customers, basket, pricing"], summary="Products to recommend with one"
        )
        def basket_recommendations(
            product: Annotated[str | None, Query(description="The product (default: every product).")] = None,
            limit: Limit = 50,
            fmt: OutputFormat = "json",
        ) -> Response:
            return self.read(
                "product_recommendations",
                customers.RECOMMENDATION_TABLES,
                lambda c: customers.recommendations(c, product, limit),
                fmt,
                {"product": product, "limit": limit},
            )

        @api.get(
            "/pricing/recommendations",
            tags=["customers, basket, pricing"],
            summary="Price recommendations with projected annual margins",
        )
        def pricing_recommendations(
            limit: Limit = 50,
            order: Annotated[str, Query(description="margin_gain, projected_annual_margin or product_id.")] = (
                "margin_gain"
            ),
            fmt: OutputFormat = "json",
        ) -> Response:
            return self.read(
                "price_recommendations",
                customers.PRICE_TABLES,
                lambda c: customers.price_recommendations(c, limit, order),
                fmt,
                {"limit": limit, "order": order},
            )

        return api


def install_error_handlers(app: FastAPI, how_to_build: HowToBuildFor) -> None:
    """400 naming the parameter for a bad filter, 503 naming the missing tables and how to build them, and a
    logged 500 with no internals for anything else."""

    @app.exception_handler(RequestValidationError)
    async def invalid_parameter(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0]
        where = first.get("loc", ())
        parameter = str(where[-1]) if where else "request"
        return error(400, f"query parameter '{parameter}': {first.get('msg', 'invalid')}", parameter=parameter)

    @app.exception_handler(BadFilterError)
    async def bad_filter(request: Request, exc: BadFilterError) -> Response:
        return error(400, str(exc), parameter=exc.parameter)

    @app.exception_handler(MissingTablesError)
    async def missing_tables(request: Request, exc: MissingTablesError) -> Response:
        builds = how_to_build(exc.tables)
        steps = "; ".join(f"{build.table}: {build.command}" for build in builds)
        return error(
            503, f"not built yet: {steps}", missing_tables=exc.tables, build=[build.as_dict() for build in builds]
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error answering %s", request.url.path)
        return error(500, "internal error; the server log has the details")
