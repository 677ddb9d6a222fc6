"""How the read API answers: JSON with the filters applied and the table versions read, or CSV of the same
rows; errors as one JSON message naming the parameter or the missing tables, never a stack trace."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from fastapi.responses import JSONResponse, Response

from retail_lakehouse.serve.query import Row

Format = Literal["json", "csv"]


def csv_text(rows: Sequence[Row]) -> str:
    """Rows as CSV with a header; a list (an itemset) is written as JSON text in its cell."""
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {key: json.dumps(value) if isinstance(value, list) else value for key, value in row.items()}
            )
    return buffer.getvalue()


def answer(
    name: str, rows: Sequence[Row], fmt: Format, filters: Mapping[str, Any], versions: Mapping[str, int | None]
) -> Response:
    if fmt == "csv":
        return Response(
            csv_text(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return JSONResponse({"filters": dict(filters), "versions": dict(versions), "rows": list(rows)})


def error(status: int, message: str, **details: Any) -> JSONResponse:
    return JSONResponse({"error": message, **details}, status_code=status)
