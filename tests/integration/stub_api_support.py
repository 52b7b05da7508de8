"""Shared by the plugin-stub integration modules: a thin requests client over the sandbox that remembers what it
creates, so each module can leave the shared sandbox as the seed made it."""

from __future__ import annotations

import os
import re
import struct
import uuid
import zlib
from typing import Any

import requests

TIMEOUT = 30


class Api:
    """A thin requests wrapper: the sandbox URL plus one set of credentials (or none). Records created through
    `POST /wu/v2/{slug}` are remembered in `created` (which several instances may share) for `cleanup()`."""

    def __init__(self, url: str, auth: tuple[str, str] | None, created: list[tuple[str, int]] | None = None) -> None:
        self.url = url
        self.http = requests.Session()
        self.http.auth = auth
        self.created: list[tuple[str, int]] = [] if created is None else created

    def __call__(self, method: str, path: str, **kw: Any) -> requests.Response:
        resp = self.http.request(method, self.url + path, timeout=TIMEOUT, allow_redirects=False, **kw)
        made = re.fullmatch(r"/wp-json/wu/v2/(\w+)", path)
        if method == "POST" and made and resp.status_code == 200:
            self.created.append((made.group(1), int(resp.json()["id"])))
        return resp

    def ok(self, method: str, path: str, **kw: Any) -> Any:
        resp = self(method, path, **kw)
        assert resp.status_code in (200, 201, 207), f"{method} {path} -> {resp.status_code} {resp.text[:300]}"
        return resp.json()

    def cleanup(self) -> None:
        """Delete what this module created, sites first, so the shared sandbox is left as the seed made it."""
        for slug, record_id in sorted(reversed(self.created), key=lambda c: c[0] != "site"):
            resp = self("DELETE", f"/wp-json/wu/v2/{slug}/{record_id}")
            assert resp.status_code in (200, 404), resp.text


def tag() -> str:
    return uuid.uuid4().hex[:10]


def png(width: int, height: int) -> bytes:
    """A valid, incompressible PNG (random pixels, stored without compression): about width*height*3 bytes."""
    raw = b"".join(b"\x00" + os.urandom(width * 3) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 0)) + chunk(b"IEND", b"")
