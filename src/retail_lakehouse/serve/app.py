"""The dashboard web app: four pages over the read API, the API itself, its documentation, and the assets,
all served from the package (nothing is fetched from the network by the browser or the server)."""

from __future__ import annotations

import contextlib
import html
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from string import Template

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from retail_lakehouse import __version__
from retail_lakehouse.config import LoadedConfig
from retail_lakehouse.core.errors import RuntimeSetupError
from retail_lakehouse.serve import customers, insights, inventory, sales
from retail_lakehouse.serve.api import GoldApi, HowToBuildFor, install_error_handlers
from retail_lakehouse.serve.builders import how_to_build
from retail_lakehouse.serve.gold import GoldReader, is_delta_table

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
VENDOR_ASSETS = ("chart.umd.min.js", "swagger-ui-bundle.js", "swagger-ui.css")


@dataclass(frozen=True)
class Page:
    path: str
    title: str
    tables: tuple[str, ...]


PAGES = (
    Page("insights", "Customer insights", insights.TABLES),
    Page("sales", "Sales performance", sales.TABLES),
    Page("inventory", "Inventory (live)", (*inventory.POSITION_TABLES, *inventory.ALERT_TABLES)),
    Page(
        "customers",
        "Customers, basket and pricing",
        tuple(
            dict.fromkeys(
                (
                    *customers.SEGMENT_TABLES,
                    *customers.RULE_TABLES,
                    *customers.RECOMMENDATION_TABLES,
                    *customers.PRICE_TABLES,
                )
            )
        ),
    ),
)
DASHBOARD_TABLES = tuple(dict.fromkeys(table for page in PAGES for table in page.tables))


def check_assets(static: Path = STATIC) -> None:
    """The front-end libraries `make setup` copies from npm; without them the charts cannot draw."""
    missing = [name for name in VENDOR_ASSETS if not (static / "vendor" / name).is_file()]
    if missing:
        raise RuntimeSetupError(
            f"the dashboard's front-end assets are missing ({', '.join(missing)} under {static / 'vendor'}); "
            "run `make setup` (it installs them from npm with the committed lock file)"
        )


def _missing_banner(reader: GoldReader, page: Page, how: HowToBuildFor) -> str:
    missing = reader.missing(page.tables)
    if not missing:
        return ""
    items = "".join(
        f"<li><code>{html.escape(build.table)}</code>: run <code>{html.escape(build.command)}</code></li>"
        for build in how(missing)
    )
    return (
        '<section class="missing" id="missing-tables"><h2>Not built yet</h2>'
        f"<p>This page reads gold tables that are not in the lakehouse yet:</p><ul>{items}</ul>"
        "<p>Build them, then reload this page.</p></section>"
    )


def create_app(reader: GoldReader, how: HowToBuildFor) -> FastAPI:
    """The app over `reader`'s tables; `how` says how to build a missing table. While it serves, the
    reader's poller keeps the tables current."""

    @contextlib.asynccontextmanager
    async def polling(_: FastAPI) -> AsyncIterator[None]:
        missing = reader.warm()  # the first page is then as fast as the next
        if missing:
            log.warning("not built yet (their pages say how to build them): %s", ", ".join(missing))
        reader.start_polling()
        try:
            yield
        finally:
            reader.stop_polling()

    app = FastAPI(
        lifespan=polling,
        title="Retail lakehouse read API",
        version=__version__,
        description="Read-only JSON (or CSV with format=csv) behind every visual of the dashboard, over the "
        "gold Delta tables. Filters: repeat a parameter for several values. A bad filter gets 400 naming the "
        "parameter; a table not built yet gets 503 naming it and the command that builds it.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.reader = reader
    app.include_router(GoldApi(reader).router())
    install_error_handlers(app, how)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    template = Template((STATIC / "dashboard.html").read_text(encoding="utf-8"))

    def nav(current: Page) -> str:
        return "".join(
            f'<a href="/{page.path}"{" class=current" if page is current else ""}>{page.title}</a>' for page in PAGES
        )

    def page_route(page: Page) -> None:
        @app.get(f"/{page.path}", response_class=HTMLResponse, include_in_schema=False, name=page.path)
        def show() -> HTMLResponse:
            return HTMLResponse(
                template.substitute(
                    page=page.path,
                    title=page.title,
                    nav=nav(page),
                    banner=_missing_banner(reader, page, how),
                    version=__version__,
                )
            )

    for page in PAGES:
        page_route(page)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse(f"/{PAGES[0].path}")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Retail lakehouse read API",
            swagger_js_url="/static/vendor/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )

    return app


# Memory the insights page's customer bitmaps may take (cells x customers / 8 bytes); above it, distinct
# customers are counted from their keys instead (slower, exact as well).
BITMAP_BUDGET_BYTES = 512 * 1024 * 1024


def app_for(
    loaded: LoadedConfig, *, recheck_seconds: float = 1.0, bitmap_budget_bytes: int = BITMAP_BUDGET_BYTES
) -> FastAPI:
    """The dashboard over the gold tables of the configured lakehouse."""
    config = loaded.config
    reader = GoldReader(
        {table: config.storage.table_path(table) for table in DASHBOARD_TABLES},
        shapes={**insights.SHAPES, **sales.SHAPES},
        derived=(*insights.derived(bitmap_budget_bytes), *sales.DERIVED, *inventory.DERIVED),
        recheck_seconds=recheck_seconds,
    )
    return create_app(reader, lambda missing: how_to_build(loaded, missing, is_delta_table))
