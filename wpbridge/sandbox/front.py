"""The sandbox's front: reads each request whole, with deadlines, before `php -S` sees it (issue 20 item 4).

PHP's built-in server has no read timeout: a request whose headers trickle in, or whose declared body never
comes, holds its connection (and a worker's attention) for ever, and a request line split across reads is
dropped as "Malformed". A production server has its own limits (nginx `client_header_timeout`,
`client_body_timeout`; PHP-FPM `request_terminate_timeout`: see the README's Security section); this front gives
the sandbox the same: the request line and headers must arrive within `HEAD_SECONDS`, the body declared by
`Content-Length` within `BODY_SECONDS` with no pause over `IDLE_SECONDS`, or the client gets `408 Request Timeout`
(never anything that looks like success) and the connection is closed; nothing reaches WordPress. A complete
request is passed to `php -S` as received (a mapped domain's Host aside, see `mapped_host`; one request per
connection, as `php -S` answers `Connection: close`) and its reply relayed as is.

    python -m wpbridge.sandbox.front --listen PORT --backend PORT --dir DIR
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import signal
import time
from collections.abc import Awaitable, Callable

HEAD_SECONDS = 10.0
IDLE_SECONDS = 10.0
BODY_SECONDS = 120.0
HEAD_MAX = 64 * 1024
CHUNK = 64 * 1024

_LENGTH = re.compile(rb"\r\ncontent-length[ \t]*:[ \t]*([^\r\n]*)", re.IGNORECASE)
_CHUNKED = re.compile(rb"\r\ntransfer-encoding[ \t]*:[^\r\n]*chunked", re.IGNORECASE)
_EXPECT = re.compile(rb"\r\nexpect[ \t]*:[ \t]*100-continue[ \t]*(?=\r\n)", re.IGNORECASE)
_MAPPED_HOST = re.compile(rb"(\r\nhost[ \t]*:[ \t]*)([a-z0-9.-]+\.localhost):[0-9]+(?=[ \t]*\r\n)", re.IGNORECASE)
BASE_HOST = b"wpbridge.localhost"


def mapped_host(head: bytes) -> bytes:
    """The request head with the port taken off a Host under `.localhost` but outside the network's own
    (`elena-blog.localhost:PORT`, a UM mapped domain of a subdomain sandbox): WordPress drops only ports 80 and 443
    from the host it matches and UM's Domain holds no port, so a mapped domain reaches its site as it would on a
    server on port 80. The network's own hosts (`wpbridge.localhost:PORT`, `alice.wpbridge.localhost:PORT`) and
    every other host pass as they came."""
    def strip(match: re.Match[bytes]) -> bytes:
        name = match.group(2).lower()
        if name == BASE_HOST or name.endswith(b"." + BASE_HOST):
            return match.group(0)
        return match.group(1) + match.group(2)

    return _MAPPED_HOST.sub(strip, head, count=1)

REASONS = {400: "Bad Request", 408: "Request Timeout", 411: "Length Required",
           431: "Request Header Fields Too Large", 502: "Bad Gateway"}


async def _refuse(writer: asyncio.StreamWriter, status: int, why: str) -> None:
    body = f'{{"code":"wpbridge_front_{status}","message":"{why}","data":{{"status":{status}}}}}'.encode()
    writer.write(f"HTTP/1.1 {status} {REASONS[status]}\r\nContent-Type: application/json; charset=UTF-8\r\n"
                 f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
    with contextlib.suppress(OSError):
        await writer.drain()


async def _read_body(reader: asyncio.StreamReader, length: int) -> bytes | None:
    """The body, or None when it did not all come in time (a pause over IDLE_SECONDS, or BODY_SECONDS in all)."""
    deadline = time.monotonic() + BODY_SECONDS
    parts: list[bytes] = []
    left = length
    while left > 0:
        wait = min(IDLE_SECONDS, deadline - time.monotonic())
        if wait <= 0:
            return None
        try:
            part = await asyncio.wait_for(reader.read(min(left, CHUNK)), wait)
        except TimeoutError:
            return None
        if not part:
            raise ConnectionResetError("the client closed before its body was complete")
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


async def _request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes | None:
    """The whole request (head and body) as received, or None once the client was answered or went away."""
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_SECONDS)
    except TimeoutError:
        await _refuse(writer, 408, f"the request line and headers did not arrive within {HEAD_SECONDS:.0f} s")
        return None
    except asyncio.LimitOverrunError:
        await _refuse(writer, 431, f"the request line and headers are over {HEAD_MAX} bytes")
        return None
    if _CHUNKED.search(head):
        await _refuse(writer, 411, "a chunked request body is not accepted here: send Content-Length")
        return None
    lengths = _LENGTH.findall(head)
    if len(lengths) > 1 or (lengths and not lengths[0].strip().isdigit()):
        await _refuse(writer, 400, "one Content-Length, a whole number, is expected")
        return None
    length = int(lengths[0]) if lengths else 0
    if _EXPECT.search(head):
        head = _EXPECT.sub(b"", head)
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await writer.drain()
    body = await _read_body(reader, length) if length else b""
    if body is None:
        await _refuse(writer, 408, f"the {length}-byte body declared by Content-Length did not arrive in time")
        return None
    return mapped_host(head) + body


async def _relay(backend: int, request: bytes, writer: asyncio.StreamWriter) -> None:
    try:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", backend)
    except OSError:
        await _refuse(writer, 502, "php -S is not answering")
        return
    try:
        up_writer.write(request)
        await up_writer.drain()
        while part := await up_reader.read(CHUNK):
            writer.write(part)
            await writer.drain()
    finally:
        up_writer.close()


def handler(backend: int) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await _request(reader, writer)
            if request is not None:
                await _relay(backend, request, writer)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass  # the client went away: nothing to answer
        finally:
            writer.close()
            with contextlib.suppress(OSError, ConnectionError):
                await writer.wait_closed()

    return handle


async def serve(listen: int, backend: int) -> None:
    server = await asyncio.start_server(handler(backend), "127.0.0.1", listen, limit=HEAD_MAX, backlog=511,
                                        reuse_address=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description="the sandbox's front for php -S (request deadlines)")
    ap.add_argument("--listen", type=int, required=True)
    ap.add_argument("--backend", type=int, required=True)
    ap.add_argument("--dir", required=True, help="the sandbox dir (names the process for `down`)")
    args = ap.parse_args()
    asyncio.run(serve(args.listen, args.backend))


if __name__ == "__main__":
    main()
