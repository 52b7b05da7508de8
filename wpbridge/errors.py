"""One exception hierarchy for everything wpbridge raises on purpose.

Modelled on stripe-python: a base class carrying the request context (method, URL path, HTTP status, WordPress's
error `code` and `message`) and one subclass per way of failing, so callers can catch exactly what they handle.
Messages never contain secrets: the request context holds the path only (no query string, no auth).
"""

from __future__ import annotations


class WPBridgeError(Exception):
    """Base of every wpbridge error. `str(err)` is one line a user can act on."""

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        code: str | None = None,
        wp_message: str | None = None,
        field: str | None = None,
        record_id: int | str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path
        self.status = status
        self.code = code
        self.wp_message = wp_message
        self.field = field
        self.record_id = record_id

    def __str__(self) -> str:
        where = f" ({self.method} {self.path} -> {self.status})" if self.method and self.path else ""
        return f"{self.message}{where}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status!r}, code={self.code!r})"


class ConfigError(WPBridgeError):
    """The configuration (file, environment, command line) is missing something or holds a bad value."""


class InputError(WPBridgeError):
    """A user's request cannot be carried out as given (unknown membership, plan not offered, bad period...)."""


class ConnectionError(WPBridgeError):
    """The network could not be reached (DNS, refused, timeout, TLS)."""


NetworkConnectionError = ConnectionError


class AuthError(WPBridgeError):
    """401/403: the credentials were refused or do not allow this."""


class NotFound(WPBridgeError):
    """404: the record or route does not exist."""


class ValidationError(WPBridgeError):
    """400: the server refused the data; `field` names the offending field when the server says which."""


class Conflict(WPBridgeError):
    """409: the server's state does not allow this now (a lock held by another run, a duplicate key)."""


class RateLimited(WPBridgeError):
    """429 after retries; `retry_after` holds the server's advice in seconds when it gave one."""

    retry_after: float | None = None


class ServerError(WPBridgeError):
    """5xx after retries, or a reply that is not WordPress JSON at all."""


class DataError(WPBridgeError):
    """A payload from the server does not fit the models; names the model, the record id and the field."""
