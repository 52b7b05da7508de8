"""The HTTP edge: one `requests.Session` per network, Basic auth, timeouts, safe retries, one error hierarchy.

What is retried, and why it is safe (DESIGN.md §7):
- GET/HEAD, and PUT/PATCH/DELETE: wpbridge only ever writes the absolute target state, so sending the same
  request twice leaves the server as sending it once. Retried on connection errors and timeouts, 429 (after
  `Retry-After`, capped) and 502/503/504, with jittered exponential backoff, until `max_retries` or an overall
  deadline. A 500 is not retried: WordPress sends it for PHP fatals and for validation UM forgot to give a status,
  and neither gets better by asking again.
- POST is a create and is never resent blindly: `create()` looks the record up by its natural key first when the
  outcome of the previous try is unknown. A POST that is idempotent by contract (a batch of absolute PUTs, taking a
  lock one already owns) says so with `idempotent=True`.
No request follows a redirect (issue 11): a redirected write would turn a POST into a GET and drop the write,
and a redirected read would trust another host's data (and then write it to this network). A 3xx is a
`RedirectError` naming the `url` to configure.

Every request has a total deadline (`request_deadline`, see `deadline.py`) and a size cap (`max_reply_mb`): the
body is streamed and refused once it passes the cap, never buffered whole.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote, urljoin, urlsplit

import requests
import urllib3
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)

from .. import __version__
from ..config import NetworkSettings
from ..encoding import dumps
from ..errors import (
    SECRETS,
    ConfigError,
    DeadlineExceeded,
    NetworkConnectionError,
    OutcomeUnknown,
    RateLimited,
    RedirectError,
    ReplyTooLarge,
    ServerError,
    WPBridgeError,
    basic_token,
    scrub,
)
from .deadline import Watch, watched_adapter
from .mapping import decode_json, error_for

log = logging.getLogger("wpbridge.rest")

RETRY_STATUSES = frozenset({429, 502, 503, 504})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})
T = TypeVar("T")


def register_credentials(settings: NetworkSettings) -> None:
    """Put the secret (every spelling), the Basic-auth token and a long enough key into the one scrubber."""
    key, secret = settings.api_key, settings.api_secret.get_secret_value()
    SECRETS.add(secret)
    SECRETS.add_literal(basic_token(key, secret))
    if len(key) >= 8:  # the key is half of the credentials; a short one would mangle ordinary words
        SECRETS.add(key)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. Tests shrink these to milliseconds; production keeps a deadline of about a minute."""

    deadline: float = 60.0
    """Seconds from the first try after which no new wait starts (the last error is raised instead)."""
    max_retries: int = 5
    backoff_initial: float = 0.5
    backoff_max: float = 10.0
    retry_after_cap: float = 30.0
    """A server asking for a longer pause than this is asked again after this many seconds."""

    @classmethod
    def from_settings(cls, settings: NetworkSettings) -> RetryPolicy:
        return cls(deadline=settings.retry_deadline, max_retries=settings.max_retries)


@dataclass
class TransportStats:
    """Counters a benchmark or a sync report reads: every HTTP attempt counts as a request."""

    requests: int = 0
    retries: int = 0
    bytes_received: int = 0
    bytes_sent: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def bytes(self) -> int:
        return self.bytes_received + self.bytes_sent

    def add(self, *, requests: int = 0, retries: int = 0, received: int = 0, sent: int = 0) -> None:
        with self._lock:
            self.requests += requests
            self.retries += retries
            self.bytes_received += received
            self.bytes_sent += sent

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {"requests": self.requests, "retries": self.retries, "bytes": self.bytes,
                    "bytes_received": self.bytes_received, "bytes_sent": self.bytes_sent}

    def reset(self) -> None:
        with self._lock:
            self.requests = self.retries = self.bytes_received = self.bytes_sent = 0


@dataclass(frozen=True)
class Reply:
    """A successful reply: decoded JSON `data` and the headers (case-insensitive)."""

    method: str
    path: str
    status: int
    data: Any
    headers: Mapping[str, str]

    def header_int(self, name: str) -> int | None:
        value = self.headers.get(name)
        try:
            return int(value) if value is not None else None
        except ValueError:
            return None

    @property
    def total(self) -> int | None:
        """`X-WP-Total`, when the server sends it (UM 2.4.13+, plugin-stub)."""
        return self.header_int("X-WP-Total")


def route(*parts: object) -> str:
    """Build a route from pieces, quoting each one: `route("wu/v2/membership", 5)` -> `/wu/v2/membership/5`."""
    head, *rest = (str(p) for p in parts)
    return "/" + "/".join([head.strip("/"), *(quote(p, safe="") for p in rest)])


class Transport:
    """Sends requests to one network. Thread-safe for the concurrent page fetches of `pagination`."""

    def __init__(
        self,
        settings: NetworkSettings,
        *,
        session: requests.Session | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_reply_bytes: int | None = None,
        request_deadline: float | None = None,
    ) -> None:
        self.settings = settings
        self.max_reply_bytes = max_reply_bytes or settings.max_reply_mb * 1024 * 1024
        self.request_deadline = request_deadline or settings.request_deadline
        self.retry = retry or RetryPolicy.from_settings(settings)
        self.stats = TransportStats()
        self._sleep = sleep
        self._answered = False  # a reply came back: a refused connection is then a restart, retried
        self._owns_session = session is None
        self.session = session or requests.Session()
        if self._owns_session:
            adapter = watched_adapter(max(2, settings.concurrency + 1))
            self.session.mount("https://", adapter)
            self.session.mount("http://", adapter)
        # UTF-8 bytes: requests would encode a str as Latin-1 and crash on a secret such as "...€"
        self.session.auth = requests.auth.HTTPBasicAuth(settings.api_key.encode(),
                                                        settings.api_secret.get_secret_value().encode())
        agent = f"wpbridge/{__version__}"
        self.session.headers["User-Agent"] = f"{settings.user_agent} {agent}" if settings.user_agent else agent
        self.session.headers["Accept"] = "application/json"
        register_credentials(settings)
        if settings.verify is False:
            log.warning("TLS verification is off for network %s (verify_tls = false)", settings.name)

    def __repr__(self) -> str:
        return f"Transport(network={self.settings.name!r}, url={self.settings.url!r})"

    # ------------------------------------------------------------------ public

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Reply:
        return self.request("GET", path, params=params)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        idempotent: bool | None = None,
    ) -> Reply:
        """Send one request, retrying only when `idempotent` (default: by method, POST excluded)."""
        method = method.upper()
        safe = method in SAFE_METHODS if idempotent is None else idempotent
        retrying = self._retrying(lambda exc: safe and self._retriable(exc))
        for attempt in retrying:
            with attempt:
                return self._send(method, path, params=params, json_body=json_body)
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    def create(
        self,
        path: str,
        body: Any,
        *,
        lookup: Callable[[], T | None] | None = None,
    ) -> Any:
        """POST a create; after a try whose outcome is unknown, `lookup()` (by the record's natural key) decides
        whether it landed before anything is sent again. Returns the created record (the reply, or the lookup's
        find). Without a lookup, only tries that provably did not reach the server are repeated.
        """
        def retry_ok(exc: BaseException) -> bool:
            if not self._retriable(exc):
                return False
            return lookup is not None or self._not_processed(exc)

        try:
            for attempt in self._retrying(retry_ok):
                with attempt:
                    if attempt.retry_state.attempt_number > 1 and lookup is not None:
                        found = lookup()
                        if found is not None:
                            log.info("POST %s: the earlier try landed; found it by its natural key", path)
                            return found
                    return self._send("POST", path, json_body=body).data
        except WPBridgeError as exc:
            if lookup is not None and self._retriable(exc) and not self._not_processed(exc):
                found = lookup()
                if found is not None:
                    return found
            if lookup is None and isinstance(exc, NetworkConnectionError) and not self._not_processed(exc):
                raise OutcomeUnknown(
                    "no reply to a create: it may or may not have been created; check before trying again",
                    method="POST", path=exc.path,
                ) from None
            raise
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        if self._owns_session:
            self.session.close()

    # ------------------------------------------------------------------ internals

    def url_for(self, path: str) -> str:
        return self.settings.rest_root + "/" + path.lstrip("/")

    def scrub(self, text: str) -> str:
        """Remove every spelling of the credentials from text about to become an error or a log line (the one
        scrubber: `errors.SECRETS`)."""
        return scrub(text)

    def _retrying(self, predicate: Callable[[BaseException], bool]) -> Retrying:
        policy = self.retry

        exp = wait_random_exponential(multiplier=policy.backoff_initial, max=policy.backoff_max)

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, RateLimited) and exc.retry_after is not None:
                return min(exc.retry_after, policy.retry_after_cap)
            return float(exp(state))

        def before_sleep(state: RetryCallState) -> None:
            self.stats.add(retries=1)
            exc = state.outcome.exception() if state.outcome else None
            log.debug("retry %d in %.2fs after: %s", state.attempt_number, state.upcoming_sleep, exc)

        # stop_before_delay sees the wait about to start (tenacity >= 8.3 computes it before asking `stop`), so no
        # pause starts that would end past the deadline; the last error is raised instead.
        stop = stop_after_attempt(policy.max_retries + 1) | stop_before_delay(policy.deadline)
        return Retrying(retry=retry_if_exception(predicate), stop=stop, wait=wait, sleep=self._sleep,
                        before_sleep=before_sleep, reraise=True)

    def _retriable(self, exc: BaseException) -> bool:
        if isinstance(exc, DeadlineExceeded):
            return False
        if isinstance(exc, NetworkConnectionError):
            if not self._answered and _refused(exc.__cause__):  # nothing listens: said at once, not retried
                return False
            return not isinstance(exc.__cause__, requests.exceptions.SSLError)
        return isinstance(exc, RateLimited | ServerError) and exc.status in RETRY_STATUSES

    @staticmethod
    def _not_processed(exc: BaseException) -> bool:
        """True when the server certainly did not act on the request: a 429, or a connection never made."""
        if isinstance(exc, RateLimited):
            return True
        cause = exc.__cause__
        if isinstance(cause, requests.exceptions.ConnectTimeout):
            return True
        if isinstance(cause, requests.exceptions.ConnectionError) and cause.args:
            reason = getattr(cause.args[0], "reason", cause.args[0])
            return isinstance(reason, urllib3.exceptions.NewConnectionError)
        return False

    def _send(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
              json_body: Any = None) -> Reply:
        url = self.url_for(path)
        url_path = urlsplit(url).path
        data = None
        headers = {}
        if json_body is not None:
            data = dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        self.stats.add(requests=1, sent=len(data or b""))
        with Watch(self.request_deadline) as watch:
            try:
                resp = self.session.request(
                    method, url, params=_query(params), data=data, headers=headers, timeout=self.settings.timeout,
                    verify=self.settings.verify, allow_redirects=False, stream=True,
                )
                self._answered = True
                try:
                    content = self._read_body(method, url_path, resp, watch) if resp.status_code < 300 else (
                        self._read_body(method, url_path, resp, watch, limit=1024 * 1024))
                finally:
                    resp.close()
            except requests.exceptions.RequestException as exc:
                log.debug("%s %s ERR %.0fms", method, url_path, (time.perf_counter() - started) * 1000)
                if watch.expired:
                    raise DeadlineExceeded(
                        f"no complete reply within {self.request_deadline:g} s (request_deadline in"
                        f" {self.settings.source})", method=method, path=url_path,
                    ) from exc
                raise self._connection_error(method, url_path, exc) from exc
        self.stats.add(received=len(content))
        log.debug("%s %s %d %.0fms", method, url_path, resp.status_code, (time.perf_counter() - started) * 1000)
        if 300 <= resp.status_code < 400:
            raise self._redirect_error(method, url_path, resp)
        if resp.status_code >= 400:
            raise error_for(method, url_path, resp.status_code, content, resp.headers, scrub=self.scrub,
                            source=self.settings.source)
        if resp.status_code == 204 or not content.strip():
            return Reply(method, url_path, resp.status_code, None, resp.headers)
        try:
            payload = decode_json(content)
        except ValueError:
            raise ServerError(
                f"the reply to {method} {url_path} is not JSON (a PHP notice, a cache or proxy page?)",
                method=method, path=url_path, status=resp.status_code,
            ) from None
        return Reply(method, url_path, resp.status_code, payload, resp.headers)

    def _read_body(self, method: str, url_path: str, resp: requests.Response, watch: Watch,
                   limit: int | None = None) -> bytes:
        """The reply body, streamed: refused as soon as it passes `limit` (the size cap; an error reply gets 1 MiB,
        of which only the WordPress error JSON is used)."""
        cap = limit or self.max_reply_bytes
        declared = resp.headers.get("Content-Length", "")
        if limit is None and declared.isdigit() and int(declared) > cap:
            raise self._too_large(method, url_path, resp.status_code, "refused unread")
        chunks: list[bytes] = []
        size = 0
        for chunk in resp.iter_content(64 * 1024):
            if watch.expired:  # also where the timer could not cut the socket (a SOCKS proxy, a custom session)
                raise requests.exceptions.ConnectionError("the request deadline passed")
            size += len(chunk)
            if size > cap:
                if limit is not None:  # an error page: its start says enough
                    break
                raise self._too_large(method, url_path, resp.status_code, "not read further")
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self, method: str, url_path: str, status: int, what: str) -> ReplyTooLarge:
        cap = self.max_reply_bytes
        size = f"{cap // 2**20} MiB" if cap % 2**20 == 0 else f"{cap} bytes"
        return ReplyTooLarge(
            f"the reply is larger than {size} (max_reply_mb in {self.settings.source}); {what}",
            method=method, path=url_path, status=status,
        )

    def _connection_error(self, method: str, url_path: str, exc: requests.exceptions.RequestException) -> WPBridgeError:
        host = urlsplit(self.settings.url).netloc
        if isinstance(exc, requests.exceptions.SSLError):
            what = f"TLS verification of {host} failed (set ca_bundle for a private CA)"
        elif _refused(exc):
            what = f"connection refused by {host}: is the server running? (url in {self.settings.source})"
        elif isinstance(exc, requests.exceptions.ConnectTimeout):
            what = f"connecting to {host} timed out"
        elif isinstance(exc, requests.exceptions.ReadTimeout):
            what = f"{host} did not answer within {self.settings.timeout[1]:g} s"
        elif isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
            return ConfigError(f"invalid url for network {self.settings.name}", method=method, path=url_path)
        elif isinstance(exc, requests.exceptions.TooManyRedirects):
            return ConfigError(f"{host} redirects in a loop; check url in {self.settings.source}",
                               method=method, path=url_path)
        else:
            what = f"cannot reach {host}: {type(exc).__name__}"
        return NetworkConnectionError(self.scrub(what), method=method, path=url_path)

    def _redirect_error(self, method: str, url_path: str, resp: requests.Response) -> RedirectError:
        location = resp.headers.get("Location", "")
        target = _no_query(urljoin(resp.url, location)) if location else ""
        suggested = suggest_url(target) if target else None
        advice = f'set url = "{suggested}" in {self.settings.source}' if suggested else "check url in the config"
        return RedirectError(
            f"the server redirected {method} {url_path} to {self.scrub(target) or '(no Location)'}; wpbridge follows"
            f" no redirects (another address could serve other data, a write would be lost): {advice}",
            method=method, path=url_path, status=resp.status_code, location=target or None, suggested_url=suggested,
        )


def _refused(exc: BaseException | None) -> bool:
    """The connection was refused (nothing listens at the address): ECONNREFUSED under requests and urllib3."""
    if not isinstance(exc, requests.exceptions.ConnectionError) or not exc.args:
        return False
    reason = getattr(exc.args[0], "reason", exc.args[0])
    if not isinstance(reason, urllib3.exceptions.NewConnectionError):
        return False
    return isinstance(reason.__cause__ or reason.__context__, ConnectionRefusedError) or "Connection refused" in str(
        reason)


def suggest_url(location: str) -> str:
    """The `url` to configure given where a REST request was redirected: the part before `/wp-json`."""
    parts = urlsplit(location)
    path = parts.path[: parts.path.index("/wp-json")] if "/wp-json" in parts.path else ""
    return f"{parts.scheme}://{parts.netloc}{path}".rstrip("/")


def _no_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _query(params: Mapping[str, Any] | None) -> list[tuple[str, str]] | None:
    """Query pairs: lists repeat the key (`status__in[]=a&status__in[]=b`), bools are 1/0, dates UTC."""
    if not params:
        return None
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        if value is None:
            continue
        values = value if isinstance(value, list | tuple | set | frozenset) else [value]
        for item in values:
            pairs.append((key, _scalar(item)))
    return pairs


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    return str(value)
