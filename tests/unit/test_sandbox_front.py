"""The sandbox's front (issue 20 item 4) against a stand-in backend: complete requests reach it as sent and its
reply comes back as is; a request whose headers or declared body do not arrive in time is a 408 that never
reaches it; a chunked body is a 411; `Expect: 100-continue` is answered by the front."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from wpbridge.sandbox import front

REPLY = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


class Stack:
    """A backend that records what it received and answers REPLY, and the front before it, on their own loop."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.loop = asyncio.new_event_loop()
        self.port = 0
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        assert ready.wait(5)

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)

        async def backend(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            self.received.append(head + (await reader.readexactly(length) if length else b""))
            writer.write(REPLY)
            await writer.drain()
            writer.close()

        async def start() -> None:
            back = await asyncio.start_server(backend, "127.0.0.1", 0)
            fronted = await asyncio.start_server(front.handler(back.sockets[0].getsockname()[1]), "127.0.0.1", 0,
                                                 limit=front.HEAD_MAX)
            self.port = fronted.sockets[0].getsockname()[1]
            ready.set()

        self.loop.run_until_complete(start())
        self.loop.run_forever()

    def send(self, data: bytes, *, trickle: bool = False, close: bool = False) -> bytes:
        conn = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        for part in ([data[i:i + 1] for i in range(len(data))] if trickle else [data]):
            conn.sendall(part)
        if close:
            conn.shutdown(socket.SHUT_WR)
        out = b""
        while chunk := conn.recv(65536):
            out += chunk
        conn.close()
        return out


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    monkeypatch.setattr(front, "HEAD_SECONDS", 0.5)
    monkeypatch.setattr(front, "IDLE_SECONDS", 0.5)
    monkeypatch.setattr(front, "BODY_SECONDS", 2.0)
    s = Stack()
    yield s
    s.loop.call_soon_threadsafe(s.loop.stop)


HEAD = b"PUT /wp-json/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"


def test_a_complete_request_is_relayed_as_sent_even_a_byte_at_a_time(stack: Stack) -> None:
    request = HEAD + b"Content-Length: 7\r\n\r\n{\"a\":1}"
    assert stack.send(request, trickle=True) == REPLY
    assert stack.received == [request]


@pytest.mark.parametrize("request_bytes", [
    HEAD + b"Content-Length: 60\r\n\r\n",  # the body never comes
    HEAD + b"Content-Length: 60\r\n\r\n{\"a\":",  # a part of it, then nothing
    HEAD,  # the headers never end
], ids=["no body", "part of the body", "headers never end"])
def test_what_does_not_arrive_in_time_is_a_408_that_never_reaches_the_backend(stack: Stack,
                                                                           request_bytes: bytes) -> None:
    started = time.monotonic()
    reply = stack.send(request_bytes)
    assert reply.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), reply
    assert b"Connection: close" in reply and time.monotonic() - started < 5
    assert stack.received == []


def test_a_client_that_goes_away_gets_nothing_and_sends_nothing(stack: Stack) -> None:
    assert stack.send(HEAD + b"Content-Length: 60\r\n\r\n{", close=True) == b""
    assert stack.received == []


def test_chunked_is_411_and_expect_is_answered_by_the_front(stack: Stack) -> None:
    assert stack.send(HEAD + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n").startswith(b"HTTP/1.1 411 ")
    reply = stack.send(HEAD + b"Expect: 100-continue\r\nContent-Length: 2\r\n\r\n{}")
    assert reply == b"HTTP/1.1 100 Continue\r\n\r\n" + REPLY
    assert stack.received == [HEAD + b"Content-Length: 2\r\n\r\n{}"]


def test_two_content_lengths_are_a_400(stack: Stack) -> None:
    reply: Any = stack.send(HEAD + b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}")
    assert reply.startswith(b"HTTP/1.1 400 ") and stack.received == []
