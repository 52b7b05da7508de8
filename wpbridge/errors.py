"""One exception hierarchy for everything wpbridge raises on purpose.

Modelled on stripe-python: a base class carrying the request context (method, URL path, HTTP status, WordPress's
error `code` and `message`) and one subclass per way of failing, so callers can catch exactly what they handle.
Messages never contain secrets: the request context holds the path only (no query string, no auth), and the
transport scrubs the configured credentials out of any text the server sends back before it lands in an error.
"""

from __future__ import annotations

from typing import Any


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
        data: dict[str, Any] | None = None,
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
        self.data: dict[str, Any] = dict(data or {})
        """WordPress's `data` object of the error reply (minus `status`), e.g. a lock's `owner`/`expires_at`."""

    def __str__(self) -> str:
        if self.method and self.path:
            status = f" -> {self.status}" if self.status is not None else ""
            return f"{self.message} ({self.method} {self.path}{status})"
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, method={self.method!r}, path={self.path!r}, "
            f"status={self.status!r}, code={self.code!r})"
        )


class ConfigError(WPBridgeError):
    """The configuration (file, environment, command line) is missing something or holds a bad value."""


class RedirectError(ConfigError):
    """The server answered a write with a redirect: the configured URL is not the API's real address.

    A config problem rather than a server one, because following it would turn a POST into a GET (or send the
    body to another host); `location` holds where the server pointed, `suggested_url` what to put in `url`.
    """

    def __init__(self, message: str, *, location: str | None = None, suggested_url: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.location = location
        self.suggested_url = suggested_url


class InputError(WPBridgeError):
    """A user's request cannot be carried out as given (unknown membership, plan not offered, bad period...)."""


class NetworkConnectionError(WPBridgeError):
    """The network could not be reached (DNS, refused, timeout, TLS).

    Not named `ConnectionError`: that would shadow the builtin wherever it is imported."""


class OutcomeUnknown(NetworkConnectionError):
    """A create (POST) was sent but no reply came back, and there is no way to check whether it landed.

    Raised instead of resending blindly, which could create the record twice.
    """


class DeadlineExceeded(NetworkConnectionError):
    """A request took longer in all than its deadline (`request_deadline`), however steadily the server trickled.

    Not retried: asking a server that slow again would only double the wait.
    """


class AuthError(WPBridgeError):
    """401/403: the credentials were refused or do not allow this."""


class NotFound(WPBridgeError):
    """404: the record or route does not exist."""


class InvalidRequestError(WPBridgeError):
    """400 (and UM's field errors sent as 500): the server refused the data; `field` names the offending field when
    the server says which. (stripe-python's name; `ValidationError` would be confused with pydantic's.)"""


class Conflict(WPBridgeError):
    """409: the server's state does not allow this now (a lock held by another run, a duplicate key)."""


class RateLimited(WPBridgeError):
    """429 after retries; `retry_after` holds the server's advice in seconds when it gave one."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(WPBridgeError):
    """5xx after retries, or a reply that is not WordPress JSON at all."""


class ReplyTooLarge(ServerError):
    """A reply bigger than `max_reply_mb`: refused while it streams in, never buffered whole."""


class DataError(WPBridgeError):
    """A payload from the server does not fit the models; names the model, the record id and the field."""
