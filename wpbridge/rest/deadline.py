"""A total deadline per HTTP request, whatever pace the server keeps.

requests' `timeout=(connect, read)` bounds each wait for a packet, not the request: a server that sends one byte
every 5 s never trips a 30 s read timeout and holds a caller for as long as it likes (issue 11: `memberships
list` past 300 s). Here a timer cuts the connection's socket (`shutdown`) when the request's deadline passes; the
blocked read then fails at once and the transport reports that the deadline passed.

How the timer finds the socket: the session's connection pools make connections of the classes below, which
announce themselves to the `Watch` of the request being sent on this thread (a thread-local, so concurrent page
fetches each cut only their own connection).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType
from typing import Any

import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection

_current = threading.local()
RECHECK = 0.05
"""Seconds between tries to cut a connection that had no socket yet when the deadline passed (still connecting)."""


class Watch:
    """One request's deadline: a context manager that arms a timer and cuts the connection when it fires."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._conn: HTTPConnection | None = None
        self._done = False
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def __enter__(self) -> Watch:
        _current.watch = self
        self._arm(self.seconds)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        with self._lock:
            self._done = True
            if self._timer is not None:
                self._timer.cancel()
        if getattr(_current, "watch", None) is self:
            _current.watch = None

    def _arm(self, seconds: float) -> None:
        timer = threading.Timer(seconds, self._fire)
        timer.daemon = True
        self._timer = timer
        timer.start()

    def attach(self, conn: HTTPConnection) -> None:
        with self._lock:
            self._conn = conn

    def _fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            sock = getattr(self._conn, "sock", None)
            if sock is None:  # not connected yet (the connect timeout bounds that phase): look again shortly
                self._arm(RECHECK)
                return
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _announce(conn: HTTPConnection) -> None:
    watch = getattr(_current, "watch", None)
    if isinstance(watch, Watch):
        watch.attach(conn)


class WatchedHTTPConnection(HTTPConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _announce(self)
        super().request(*args, **kwargs)


class WatchedHTTPSConnection(HTTPSConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _announce(self)
        super().request(*args, **kwargs)


class _HTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = WatchedHTTPConnection


class _HTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = WatchedHTTPSConnection


WATCHED_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class WatchedAdapter(HTTPAdapter):
    """An adapter whose connections can be cut by a `Watch`, directly or through an HTTP(S) proxy (a SOCKS proxy
    keeps its own connection classes: there only the chunked read checks the deadline)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(WATCHED_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = dict(WATCHED_POOLS)
        return manager


def watched_adapter(pool_maxsize: int) -> HTTPAdapter:
    """A `WatchedAdapter` (no retries of its own: the transport retries)."""
    return WatchedAdapter(pool_connections=2, pool_maxsize=pool_maxsize, max_retries=0)
