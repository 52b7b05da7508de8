"""Turn an HTTP reply that is not a success into the one exception that says what went wrong.

WordPress errors are `{"code", "message", "data": {"status", ...}}`. Which field a 400 is about hides in different
places depending on who raised it: our plugin puts it in `data.field`, core's argument validation in
`data.params` (a map of field -> message, or a list of missing fields), Ultimate Multisite's update path in the
message ("does not have a set_<field> method") and UM's model validation in the error `code` itself (with no
status, so HTTP 500). All of them end up in `err.field`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import jsonsafe
from ..errors import (
    AuthError,
    Conflict,
    InvalidRequestError,
    NotFound,
    RateLimited,
    ServerError,
    WPBridgeError,
)

Scrub = Callable[[str], str]

_SET_METHOD = re.compile(r"does not have a set_(\w+) method")
_FIELD_LIKE = re.compile(r"^[a-z][a-z0-9_]*$")
_GENERIC_CODE = re.compile(r"(^(rest|wp|wu|wpbridge|db|http)_)|error|invalid|internal|fatal|forbidden")
MAX_MESSAGE = 300


def decode_json(content: bytes) -> Any:
    """Parse a reply body; a UTF-8 BOM (some PHP setups emit one) is tolerated, anything else that is not JSON
    raises ValueError (nesting too deep for Python included: `jsonsafe`)."""
    return jsonsafe.loads(content.decode("utf-8-sig"))


def error_body(content: bytes) -> Mapping[str, Any]:
    try:
        body = decode_json(content)
    except ValueError:
        return {}
    return body if isinstance(body, Mapping) else {}


def one_line(text: str, scrub: Scrub) -> str:
    text = " ".join(scrub(text).split())
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."


def field_of(code: str | None, message: str, data: Mapping[str, Any]) -> str | None:
    field = data.get("field")
    if isinstance(field, str) and field:
        return field
    params = data.get("params")
    if isinstance(params, Mapping) and params:
        return str(next(iter(params)))
    if isinstance(params, list) and params:
        return str(params[0])
    found = _SET_METHOD.search(message)
    if found:
        return found.group(1)
    if code and _FIELD_LIKE.match(code) and not _GENERIC_CODE.search(code):
        return code
    return None


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (the HTTP-date form is rare from WordPress and treated as absent)."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return max(0.0, seconds)


def error_for(
    method: str,
    path: str,
    status: int,
    content: bytes,
    headers: Mapping[str, str],
    *,
    scrub: Scrub,
    source: str = "the configuration",
) -> WPBridgeError:
    """The exception for a non-2xx reply; `path` has no query string, `scrub` removes the credentials."""
    return error_from(method, path, status, error_body(content), headers, scrub=scrub, source=source,
                      not_json=bool(content.strip()) and not error_body(content))


def error_from(
    method: str,
    path: str,
    status: int,
    body: Mapping[str, Any],
    headers: Mapping[str, str],
    *,
    scrub: Scrub,
    source: str = "the configuration",
    not_json: bool = False,
) -> WPBridgeError:
    """The exception for an already-decoded WordPress error body (also used for the items of a batch reply)."""
    e = _Reply.of(method, path, status, body, scrub)
    if status in (401, 403):
        what = "refused the credentials" if status == 401 else "does not allow this request for these credentials"
        return AuthError(f"the network {what} (api_key/api_secret from {source}): {e.said}{e.tail}", **e.ctx)
    if status in _SIMPLE:
        kind, words = _SIMPLE[status]
        return kind(f"{words}: {e.said}{e.tail}", **e.ctx)
    if status == 429:
        retry_after = parse_retry_after(headers.get("Retry-After"))
        advice = f" (retry after {retry_after:g} s)" if retry_after is not None else ""
        return RateLimited(f"rate limited by the server{advice}: {e.said}{e.tail}", retry_after=retry_after, **e.ctx)
    return _refused_data(e) or ServerError(
        f"server error: {f'HTTP {status}, and the reply is not WordPress JSON' if not_json else e.said}{e.tail}",
        **e.ctx)


_SIMPLE: dict[int, tuple[type[WPBridgeError], str]] = {404: (NotFound, "not found"), 409: (Conflict, "conflict")}


@dataclass(frozen=True)
class _Reply:
    """A WordPress error body, read once: its code, its message on one line (scrubbed), its data."""

    status: int
    code: str | None
    raw_message: str
    said: str
    tail: str
    ctx: dict[str, Any]

    @classmethod
    def of(cls, method: str, path: str, status: int, body: Mapping[str, Any], scrub: Scrub) -> _Reply:
        code = body.get("code") if isinstance(body.get("code"), str) else None
        raw_message = str(body["message"]) if isinstance(body.get("message"), str) else ""
        wp_message = one_line(raw_message, scrub) if raw_message else None
        raw_data = body.get("data")
        data = {k: v for k, v in raw_data.items() if k != "status"} if isinstance(raw_data, Mapping) else {}
        ctx: dict[str, Any] = {"method": method, "path": path, "status": status, "code": code,
                               "wp_message": wp_message, "data": data}
        return cls(status, code, raw_message, wp_message or f"HTTP {status}", f" [{code}]" if code else "", ctx)


def _refused_data(e: _Reply) -> WPBridgeError | None:
    """A 4xx (a field named when the reply says which), or UM's model validation (a 500 whose code is the field)."""
    if 400 <= e.status < 500:
        field = field_of(e.code, e.raw_message, e.ctx["data"])
        on = f"field '{field}': " if field else ""
        return InvalidRequestError(f"the server refused the data: {on}{e.said}{e.tail}", field=field, **e.ctx)
    if e.status == 500 and e.code and field_of(e.code, "", {}) == e.code:
        # Ultimate Multisite's model validation: code = the field, no status, so WordPress sends 500.
        return InvalidRequestError(f"the server refused the data: field '{e.code}': {e.said}", field=e.code,
                                   **e.ctx)
    return None
