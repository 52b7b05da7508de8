"""One exception hierarchy for everything wpbridge raises on purpose.

Modelled on stripe-python: a base class carrying the request context (method, URL path, HTTP status, WordPress's
error `code` and `message`) and one subclass per way of failing, so callers can catch exactly what they handle.
Messages never contain secrets: the request context holds the path only (no query string, no auth), and every
message goes through the one `Scrubber` (`SECRETS`), into which config and the transport register the credentials,
so no spelling of them (raw, repr- or JSON-escaped, URL-encoded) survives in `str`, `repr` or a report.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"
MIN_SECRET = 4
"""A shorter value is not scrubbed: replacing it would mangle ordinary words (and it is no secret worth the name)."""


def _escaped(value: str) -> set[str]:
    """The spellings one round of escaping gives `value`: repr (either quote), ascii(), JSON (ASCII or not), URL
    encoding (path and form), and its whitespace collapsed (one-line messages)."""
    r = repr(value)[1:-1]
    forms = {value, r, ascii(value)[1:-1], json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1],
             quote(value, safe=""), quote(value), quote_plus(value), " ".join(value.split())}
    # repr picks its quote by the content, so either quote may be escaped or not: every combination
    bare = r.replace("\\'", "'").replace('\\"', '"')
    forms |= {bare, bare.replace("'", "\\'"), bare.replace('"', '\\"'), bare.replace("'", "\\'").replace('"', '\\"')}
    return forms


class Scrubber:
    """The one scrubber: removes every known spelling of every registered secret from text that is about to be
    printed, logged or written to a report (`***` in its place).

    `add(secret)` registers a value with its spellings: raw, repr-escaped, JSON-escaped, URL-encoded, escaped twice
    (a repr of a message holding a repr), each line of a multi-line secret, and its whitespace collapsed. The
    transport also registers its Basic-auth token; config registers every credential as soon as it is read.
    """

    def __init__(self) -> None:
        self._forms: set[str] = set()
        self._ordered: tuple[str, ...] = ()
        self._lock = threading.Lock()

    def add(self, secret: str | None, *, extra: Iterable[str] = ()) -> None:
        if not secret or len(secret.strip()) < MIN_SECRET:
            return
        forms: set[str] = set()
        for once in _escaped(secret):
            forms |= _escaped(once)
        forms |= {line.strip() for line in secret.splitlines() if len(line.strip()) >= MIN_SECRET + 2}
        forms |= set(extra)
        self.add_literal(*forms)

    def add_literal(self, *forms: str) -> None:
        """Register exact strings (no spellings derived): e.g. a Basic-auth token."""
        with self._lock:
            self._forms |= {f for f in forms if len(f.strip()) >= MIN_SECRET}
            self._ordered = tuple(sorted(self._forms, key=len, reverse=True))  # longest first: no half-replaced

    def __call__(self, text: str) -> str:
        for form in self._ordered:
            if form in text:
                text = text.replace(form, MASK)
        return text


SECRETS = Scrubber()
"""The process's scrubber: config and the transport register into it; errors, the CLI and logs go through it."""


def scrub(text: str) -> str:
    """`text` without any registered secret, in any spelling."""
    return SECRETS(text)


def register_secret(secret: str | None) -> None:
    SECRETS.add(secret)


def basic_token(key: str, secret: str) -> str:
    """The HTTP Basic credentials as sent (UTF-8, base64): a spelling of the secret to scrub as well."""
    return base64.b64encode(f"{key}:{secret}".encode()).decode()


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
        message = scrub(message)
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path
        self.status = status
        self.code = code
        self.wp_message = scrub(wp_message) if wp_message is not None else None
        self.field = field
        self.record_id = record_id
        self.data: dict[str, Any] = dict(data or {})
        """WordPress's `data` object of the error reply (minus `status`), e.g. a lock's `owner`/`expires_at`."""

    def __str__(self) -> str:
        if self.method and self.path:
            status = f" -> {self.status}" if self.status is not None else ""
            return scrub(f"{self.message} ({self.method} {self.path}{status})")
        return scrub(self.message)

    def __repr__(self) -> str:
        return scrub(
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
