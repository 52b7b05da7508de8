"""JSON encoding, in one place: what the wire, the CLI's `--output json`, snapshots and sync reports write.

One spelling of a moment: ISO 8601 in UTC with `Z` (`2026-05-16T12:00:00Z`), as pydantic writes aware UTC
datetimes in `model_dump(mode="json")`, so records and the values around them agree. Request bodies that
WordPress stores as they come (plugin-stub's import routes: UM's date columns) take WordPress's own spelling,
GMT `Y-m-d H:i:s` (`wp_utc`; `to_jsonable(value, moment=wp_utc)`). Money stays exact: a Decimal is a string,
never a float. Parsing goes the other way in one place too: `models.parse_utc`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel


def iso_utc(value: datetime) -> str:
    """`2026-05-16T12:00:00Z`; a naive value is taken as UTC (as every date in wpbridge)."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def wp_utc(value: datetime) -> str:
    """`2026-05-16 12:00:00`: WordPress's spelling of a moment (GMT, to the second); a naive value is UTC."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def json_default(value: Any) -> Any:
    """For `json.dumps(default=...)`: Decimals as strings, datetimes as `iso_utc`, models as their JSON form."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot write a {type(value).__name__} as JSON")


def to_jsonable(value: Any, *, moment: Callable[[datetime], str] = iso_utc) -> Any:
    """`value` with every model, Decimal and datetime turned into its JSON form (recursively), e.g. for a table
    cell; mapping keys become strings. `moment` spells the datetimes (`wp_utc` for a WordPress request body)."""
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v, moment=moment) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v, moment=moment) for v in value]
    if isinstance(value, datetime):
        return moment(value)
    if isinstance(value, Decimal | BaseModel):
        return json_default(value)
    return value


def dumps(value: Any, **options: Any) -> str:
    """`json.dumps` with `json_default` (options as json.dumps's: indent, separators...)."""
    return json.dumps(value, default=json_default, **options)
