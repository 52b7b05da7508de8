"""Requests and wall time to list 1,000 memberships from a local sandbox, one page at a time vs 4 in parallel.

    .venv/bin/python bench/list_memberships.py                    # starts (and stops) its own sandbox
    .venv/bin/python bench/list_memberships.py --sandbox DIR      # reuses a running `wpbridge sandbox up --dir DIR`
    .venv/bin/python bench/list_memberships.py --append           # also appends the table to bench/RESULTS.md

It tops the sandbox up to --count memberships through the REST API (plugin-stub's wu/v2 routes), then lists them
all with `Network.memberships.list()` --runs times per setting and reports the median wall time, the requests made
(from `Network.stats`) and the bytes received. Everything runs against 127.0.0.1.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from wpbridge.config import NetworkSettings
from wpbridge.network import Network
from wpbridge.sandbox import SandboxInfo, down, up

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def settings(sb: SandboxInfo, *, concurrency: int, per_page: int) -> NetworkSettings:
    return NetworkSettings(name="bench", url=sb.url, api_key=sb.api_key, api_secret=sb.api_secret,
                           concurrency=concurrency, per_page=per_page)


def top_up(sb: SandboxInfo, count: int) -> int:
    """Create memberships until the network holds `count`; returns how many were created."""
    with Network(settings(sb, concurrency=4, per_page=100)) as net:
        existing = list(net.memberships.list())
        missing = count - len(existing)
        if missing <= 0:
            return 0
        customers = [c.id for c in net.customers.list()]
        plans = [p.id for p in net.products.catalog() if p.is_plan]
        statuses = ["active", "active", "active", "trialing", "on-hold", "cancelled", "expired", "pending"]

        def create(i: int) -> Any:
            return net.memberships.create({
                "customer_id": customers[i % len(customers)], "plan_id": plans[i % len(plans)],
                "amount": f"{10 + i % 7}.00", "currency": "USD", "duration": 1, "duration_unit": "month",
                "recurring": True, "status": statuses[i % len(statuses)],
            })

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(create, range(missing)))
        return missing


def measure(sb: SandboxInfo, *, concurrency: int, per_page: int, runs: int) -> dict[str, Any]:
    times: list[float] = []
    requests = records = received = 0
    for _ in range(runs):
        with Network(settings(sb, concurrency=concurrency, per_page=per_page)) as net:
            started = time.perf_counter()
            records = sum(1 for _ in net.memberships.list())
            times.append(time.perf_counter() - started)
            requests, received = net.stats.requests, net.stats.bytes_received
    return {"concurrency": concurrency, "per_page": per_page, "records": records, "requests": requests,
            "median_s": statistics.median(times), "min_s": min(times), "max_s": max(times), "bytes": received}


def table(rows: list[dict[str, Any]], runs: int) -> str:
    lines = [
        "| concurrency | per_page | memberships | requests | wall time, median of "
        f"{runs} (min-max) | received |",
        "|---:|---:|---:|---:|---|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['concurrency']} | {r['per_page']} | {r['records']} | {r['requests']} | "
            f"{r['median_s'] * 1000:.0f} ms ({r['min_s'] * 1000:.0f}-{r['max_s'] * 1000:.0f}) | "
            f"{r['bytes'] / 1024:.0f} KiB |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sandbox", help="directory of a running sandbox to reuse")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--append", action="store_true", help="append a '## Listing' section to bench/RESULTS.md")
    args = parser.parse_args(argv)

    started_here = args.sandbox is None
    sb = SandboxInfo.load(args.sandbox) if args.sandbox else up(log=lambda msg: print(f"sandbox: {msg}"))
    try:
        created = top_up(sb, args.count)
        print(f"{created} memberships created to reach {args.count}")
        settings_list = [(1, 100), (4, 100), (1, 10), (4, 10)]
        rows = [measure(sb, concurrency=c, per_page=p, runs=args.runs) for c, p in settings_list]
    finally:
        if started_here:
            down(sb.dir, purge=True)
    text = table(rows, args.runs)
    print(text)
    if args.append:
        section = (
            "\n## Listing\n\n"
            f"`bench/list_memberships.py`: list every membership of a sandbox holding {rows[0]['records']} "
            "(php -S with 4 workers, MariaDB, plugin-stub in stub mode, all on 127.0.0.1) with "
            "`Network.memberships.list()`; requests counted by `Network.stats`. "
            f"Python {platform.python_version()}, {platform.machine()}, {_cpus()} CPUs.\n\n{text}\n"
        )
        with RESULTS.open("a", encoding="utf-8") as fh:  # append only: other benchmarks write their own sections
            fh.write(section)
        print(f"appended to {RESULTS}")
    return 0


def _cpus() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
