"""What the request deadline and the reply cap cost (issue 11, items 13 and 14), against a local HTTP server.

1. Per-request overhead of `Transport.get` (a deadline timer per request, the body streamed in 64 KiB chunks and
   capped) beside a bare `requests.Session.get` on the same keep-alive server, for a 30 KB JSON page.
2. Peak RSS of a child process asking for a 300 MB reply: refused at the cap (64 MiB) instead of buffered whole.
3. Wall time of a request to a server trickling one byte every 0.5 s, with `request_deadline = 2`.

Run: `.venv/bin/python bench/transport.py` (about 20 s). Results go to bench/RESULTS.md by hand.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

from wpbridge.config import NetworkSettings
from wpbridge.errors import WPBridgeError
from wpbridge.rest.transport import RetryPolicy, Transport

PAGE = json.dumps([{"id": i, "name": f"record {i}", "amount": "15.0000", "status": "active"} for i in range(400)])
BIG = 300 * 1024 * 1024


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else delayed ACKs put 40 ms on every keep-alive request

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/wp-json/big"):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"[" + b'{"id":1,"v":"xxxxxxxxxxxxxxxx"},' * 2000
            sent = 0
            try:
                while sent < BIG:
                    self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                    sent += len(chunk)
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass
            return
        if self.path.startswith("/wp-json/slow"):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "100")
            self.end_headers()
            try:
                for _ in range(100):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.5)
            except OSError:
                pass
            return
        body = PAGE.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def transport(url: str, **kw: Any) -> Transport:
    settings = NetworkSettings(name="bench", url=url, api_key="bench-key", api_secret="bench-secret", **kw)
    return Transport(settings, retry=RetryPolicy(deadline=1, max_retries=0))


def overhead(url: str, n: int = 2000) -> dict[str, float]:
    session = requests.Session()
    t = transport(url)
    out: dict[str, float] = {}
    for name, call in (("requests.Session.get", lambda: session.get(url + "/wp-json/page").json()),
                       ("Transport.get", lambda: t.get("/page").data)):
        call()
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(n):
            call()
        out[name] = (time.perf_counter() - wall) / n * 1e6
        out[name + " cpu"] = (time.process_time() - cpu) / n * 1e6
    return out


def big_reply_child(url: str) -> None:
    t = transport(url)
    try:
        t.get("/big")
        outcome = "read whole"
    except WPBridgeError as exc:
        outcome = str(exc)
    with open("/proc/self/status") as fh:
        hwm = next(line.split()[1] for line in fh if line.startswith("VmHWM"))
    print(json.dumps({"outcome": outcome, "peak_rss_mb": round(int(hwm) / 1024, 1)}))


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--big":
        big_reply_child(sys.argv[2])
        return
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    print(f"load average {os.getloadavg()[0]:.2f}")
    for name, us in overhead(url).items():
        print(f"{name:32s} {us:8.0f} µs per request")
    done = subprocess.run([sys.executable, __file__, "--big", url], capture_output=True, text=True, check=True)
    print("300 MB reply:", done.stdout.strip())
    t = transport(url, request_deadline=2.0)
    started = time.perf_counter()
    try:
        t.get("/slow")
    except WPBridgeError as exc:
        print(f"trickling server: stopped after {time.perf_counter() - started:.2f} s: {exc}")
    server.shutdown()


if __name__ == "__main__":
    main()
