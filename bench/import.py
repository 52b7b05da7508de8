"""Benchmark of `wpbridge import` (issue 12; DESIGN.md §6): N memberships, each with a customer and a real
WordPress site, from a CSV into a fresh sandbox; then the same file again (nothing to write).

For each N (default 1,000 and 10,000), in a fresh sandbox (`up(seed="none")`, stub flavor unless --flavor um):
  1. the example catalog is imported first (a small JSON export, not timed);
  2. `wpbridge import bulk-N.csv --yes --report ...` in its own process: wall time, requests (total, reads for
     the plan, per phase), writes, requests per membership;
  3. the same command again right after: wall time and requests of a run that writes nothing.
Results go to a JSON file and to the "## Import" section of bench/RESULTS.md (replaced, other sections kept).

    .venv/bin/python bench/import.py                         # sizes 1000,10000, stub flavor
    .venv/bin/python bench/import.py --sizes 1000 --flavor um --no-results --out um.json
    .venv/bin/python bench/import.py --from-json stub.json um.json      # the RESULTS.md section from saved runs
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WPBRIDGE = str(Path(sys.executable).with_name("wpbridge"))
sys.path.insert(0, str(ROOT))

from wpbridge.sandbox import down, um_plugin_path, up  # noqa: E402
from wpbridge.sandbox.example import example_catalog  # noqa: E402

PLANS = [("free", ""), ("basic", ""), ("premium", ""), ("basic", "extra-storage:1"),
         ("premium", "unlimited-visits:1;extra-storage:2")]


def log(msg: str) -> None:
    print(f"[bench-import {datetime.now(UTC):%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def catalog_file(path: Path) -> Path:
    data = {"format": "wpbridge-snapshot", "version": 1, "source_url": "bench:catalog",
            "catalog": [p.model_dump(mode="json") for p in example_catalog()], "customers": [], "memberships": [],
            "sites": [], "quotas": [], "usage": [], "scheduled_changes": []}
    path.write_text(json.dumps(data))
    return path


def bulk_csv(path: Path, n: int) -> Path:
    rows = ["email,username,plan,period,status,date_created,date_expiration,addons,site_path,site_title"]
    for i in range(n):
        plan, addons = PLANS[i % len(PLANS)]
        rows.append(f"bench{i}@example.org,bench{i:06d},{plan},1:month,active,2026-11-01,2026-12-01,{addons},"
                    f"/b{i}/,Bench {i}")
    path.write_text("\n".join(rows) + "\n")
    return path


def run(env: dict[str, str], *args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.monotonic()
    done = subprocess.run([WPBRIDGE, "import", *args], env=env, capture_output=True, text=True, check=False,
                          stdin=subprocess.DEVNULL)
    return time.monotonic() - started, done


def measure(n: int, flavor: str, workdir: Path, concurrency: int) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if flavor == "um":
        kwargs = {"flavor": "ultimate-multisite", "um_plugin": um_plugin_path("2.4.12")}
    info = up(seed="none", **kwargs)
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WPBRIDGE_")}
        env.update(WPBRIDGE_URL=info.url, WPBRIDGE_API_KEY=info.api_key, WPBRIDGE_API_SECRET=info.api_secret)
        _, done = run(env, str(catalog_file(workdir / "catalog.json")), "--yes")
        assert done.returncode == 0, done.stderr
        csv = bulk_csv(workdir / f"bulk-{n}.csv", n)
        load = os.getloadavg()[0]
        log(f"N={n} ({flavor}): first import (load {load:.1f})")
        wall, done = run(env, str(csv), "--yes", "--site-concurrency", str(concurrency), "--report",
                         str(workdir / f"first-{n}.json"))
        assert done.returncode == 0, done.stderr[-2000:]
        first = json.loads((workdir / f"first-{n}.json").read_text())["summary"]
        log(f"N={n}: {wall:.1f} s, {first['requests']} requests; second import")
        wall2, done = run(env, str(csv), "--yes", "--report", str(workdir / f"second-{n}.json"))
        assert done.returncode == 0, done.stderr[-2000:]
        second = json.loads((workdir / f"second-{n}.json").read_text())["summary"]
        return {
            "n": n, "flavor": flavor, "load": round(load, 1), "site_concurrency": concurrency,
            "first": {"wall": round(wall, 1), "requests": first["requests"], "read_requests": first["read_requests"],
                      "writes": first["writes"], "phases": first["phases"], "plan_seconds": first["plan_seconds"],
                      "requests_per_membership": round(first["requests"] / n, 3)},
            "second": {"wall": round(wall2, 1), "requests": second["requests"], "writes": second["writes"]},
        }
    finally:
        down(info.dir, purge=True)


def markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        "## Import",
        "",
        "`bench/import.py`: N memberships, each with its customer and one real WordPress site, from a CSV into a "
        "fresh sandbox (after the example catalog); then the same file again. Each run is the real command in its "
        f"own process; requests as counted by the run's report. Measured {datetime.now(UTC):%Y-%m-%d} on the "
        "2-core development machine, shared with other agents' test runs (load average at the start in the table).",
        "",
        "| N | flavor | site batches in flight | load | first run | requests | per membership | writes | customers "
        "| memberships | sites | quotas | second run | its requests | its writes |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        f, s, ph = r["first"], r["second"], r["first"]["phases"]

        def phase(name: str, ph: dict[str, Any] = ph) -> str:
            p = ph.get(name)
            return f"{p['seconds']:.1f} s / {int(p['requests'])} req" if p else "-"

        lines.append(
            f"| {r['n']:,} | {r['flavor']} | {r.get('site_concurrency', 1)} | {r['load']} "
            f"| {f['wall']:.1f} s | {f['requests']:,} "
            f"| {f['requests_per_membership']} | {f['writes']:,} | {phase('customers')} | {phase('memberships')} "
            f"| {phase('sites')} | {phase('quotas')} | {s['wall']:.1f} s | {s['requests']:,} | {s['writes']} |")
    lines += [
        "",
        "- Reads: the plan reads the target once, page by page (100 per request): catalog, customers, memberships, "
        "import keys, sites, scheduled changes, and (stub) the quotas of existing sites, so a second run costs about "
        "6 × N/100 requests and writes nothing.",
        "- Writes go through `/batch/v1`: 25 customers, memberships or quotas per request, 10 sites per request "
        "(each is a real WordPress site), so about N/25 × 3 + N/10 requests.",
        "- The slow part is creating the WordPress sites (`wpmu_create_blog`: a dozen tables and the options of a "
        "new blog each); then the customers (a WordPress user each, its password hashed). Per run:",
    ]
    for r in results:
        ph, n = r["first"]["phases"], r["n"]
        sites, cust = ph.get("sites", {}), ph.get("customers", {})
        lines.append(
            f"  - N = {n:,} ({r['flavor']}, {r.get('site_concurrency', 1)} site batches in flight): sites "
            f"{sites.get('seconds', 0) / r['first']['wall']:.0%} of the time, "
            f"{sites.get('seconds', 0) / n * 1000:.0f} ms per site; customers "
            f"{cust.get('seconds', 0) / n * 1000:.0f} ms each; the second run "
            f"{r['second']['wall']:.1f} s, {r['second']['requests']} requests, {r['second']['writes']} writes.")
    lines.append("")
    return "\n".join(lines)


def write_results(text: str) -> None:
    path = HERE / "RESULTS.md"
    current = path.read_text() if path.exists() else ""
    start = current.find("## Import")
    if start >= 0:
        end = current.find("\n## ", start + 1)
        current = current[:start] + current[end + 1:] if end >= 0 else current[:start]
    path.write_text(current.rstrip("\n") + "\n\n" + text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--flavor", choices=["stub", "um"], default="stub")
    parser.add_argument("--site-concurrency", type=int, default=2)
    parser.add_argument("--out", default=None, help="JSON results file (default: a temporary directory)")
    parser.add_argument("--no-results", action="store_true", help="do not touch bench/RESULTS.md")
    parser.add_argument("--from-json", nargs="+", default=None, metavar="FILE",
                        help="write the RESULTS.md section from earlier runs' JSON files instead of measuring")
    args = parser.parse_args()
    if args.from_json:
        write_results(markdown([r for f in args.from_json for r in json.loads(Path(f).read_text())]))
        return
    workdir = Path(tempfile.mkdtemp(prefix="wpbridge-bench-import-"))
    results = [measure(int(n), args.flavor, workdir, args.site_concurrency) for n in args.sizes.split(",")]
    out = Path(args.out) if args.out else workdir / "results.json"
    out.write_text(json.dumps(results, indent=1))
    log(f"results: {out}")
    print(json.dumps(results, indent=1))
    if not args.no_results:
        write_results(markdown(results))


if __name__ == "__main__":
    main()
