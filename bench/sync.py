"""Benchmark of `wpbridge sync` at scale (issue 6; DESIGN.md §6), against a local sandbox seeded in bulk.

For each N (default 1,000 and 10,000): grow the sandbox to N memberships, each with one customer and one real
WordPress site (bench/seed_bulk.php, server side), then measure, each run in its own process:
  - `wpbridge sync` with 10% of the bulk sites' quotas out of date, then the no-op sync right after;
  - the same two runs of bench/baseline_sync.py (one site at a time);
  - the full sync once more in-process under tracemalloc (Python heap peak, separate from the timed run).
Wall time, HTTP requests (the report's count; the baseline counts its own), writes, CPU time and the peak RSS
of the process (its VmHWM). Results go to a JSON file and to the "## Sync" section of bench/RESULTS.md.

    .venv/bin/python bench/sync.py                       # fresh sandbox in /tmp, sizes 1000,10000
    .venv/bin/python bench/sync.py --dir /tmp/bench-sync --keep --sizes 1000,3000,10000
    .venv/bin/python bench/sync.py --flavor ultimate-multisite --sizes 1000    # the real UM 2.4.12 (UM mode)
In the UM flavor the bulk members are UM's own rows (seed_bulk.php), a sync writes nothing (UM computes limits;
there is no stored quota to age) and its work is reading UM's computed limits of every site and comparing them;
the baseline does the same one site at a time. Results go to the "## Sync on the real Ultimate Multisite" section.
Sizes must ascend: the sandbox grows from one size to the next (the seeder is idempotent).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable
WPBRIDGE = str(Path(PY).with_name("wpbridge"))
KINDS = [(1, "0", {}), (2, "15", {}), (3, "39", {}), (2, "20", {5: 1}), (3, "48", {4: 1})]
"""(plan_id, amount, add-ons) of the bulk memberships, in turn: the example catalog's Free, Basic, Premium."""
STALE = {"disk_space": {"enabled": True, "limit": 3}}


def log(msg: str) -> None:
    print(f"[bench-sync {datetime.now(UTC):%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def measure(cmd: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run `cmd` as a child; wall time, exit status, CPU time, peak RSS (KiB) and its stdout.

    Peak RSS is the child's own `VmHWM` (high-water mark of its address space), sampled every 10 ms until it
    exits. Not `ru_maxrss`: Linux carries the parent's RSS at fork() into the child's ru_maxrss across exec, so
    every child of a 60 MB parent would report at least 60 MB."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        load = os.getloadavg()[0]
        start = time.monotonic()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        hwm = 0
        while True:
            hwm = max(hwm, _vm_hwm_kb(proc.pid))
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.01)
        wall = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return {"wall_s": round(wall, 2), "rc": proc.returncode, "peak_rss_kb": hwm,
                "cpu_s": round(usage.ru_utime + usage.ru_stime, 2), "load1": round(load, 2),
                "stdout": out.read(), "stderr": err.read()[-2000:]}


def _vm_hwm_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class Bench:
    def __init__(self, sandbox: Any, workdir: Path) -> None:
        self.sandbox = sandbox
        self.workdir = workdir
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("WPBRIDGE_")}
        self.env.update(WPBRIDGE_URL=sandbox.url, WPBRIDGE_API_KEY=sandbox.api_key,
                        WPBRIDGE_API_SECRET=sandbox.api_secret, HOME=str(workdir))
        self.docroot = str(Path(sandbox.dir) / "wordpress")
        self.domain = sandbox.url.split("://", 1)[1]
        self.spec_path = workdir / "spec.json"

    def spec(self, n: int) -> None:
        from wpbridge.config import NetworkSettings
        from wpbridge.limits import effective_limitations
        from wpbridge.models import Membership
        from wpbridge.network import Network

        settings = NetworkSettings(name="bench", url=self.sandbox.url, api_key=self.sandbox.api_key,
                                   api_secret=self.sandbox.api_secret)
        with Network(settings) as net:
            catalog = net.products.catalog()
        kinds = []
        for plan, amount, addons in KINDS:
            m = Membership(id=1, customer_id=1, plan_id=plan, addon_products=addons, status="active")
            kinds.append({"plan_id": plan, "amount": amount, "addon_products": {str(k): v for k, v in addons.items()},
                          "quota": effective_limitations(m, catalog).to_wire()})
        self.spec_path.write_text(json.dumps({"n": n, "kinds": kinds, "every": 10, "stale": STALE}))

    def php(self, command: str) -> dict[str, Any]:
        done = subprocess.run(["php", str(HERE / "seed_bulk.php"), command, self.docroot, self.domain,
                               str(self.spec_path)], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"seed_bulk.php {command} failed: {done.stderr[-2000:]}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result

    def sync(self, name: str) -> dict[str, Any]:
        report = self.workdir / f"{name}.json"
        run = measure([WPBRIDGE, "sync", "--report", str(report)], self.env)
        if run["rc"] != 0:
            raise SystemExit(f"wpbridge sync failed ({run['rc']}): {run['stderr']}")
        summary = json.loads(report.read_text())["summary"]
        run.update(requests=summary["requests"], writes=summary["writes"], changes=summary["changes"],
                   sites=summary["sites_checked"], inner_s=summary["elapsed_seconds"])
        return run

    def baseline(self) -> dict[str, Any]:
        run = measure([PY, str(HERE / "baseline_sync.py")], self.env)
        if run["rc"] != 0:
            raise SystemExit(f"baseline failed ({run['rc']}): {run['stderr']}")
        data = json.loads(run["stdout"].strip().splitlines()[-1])
        run.update(requests=data["requests"], writes=data["writes"], changes=data["changes"], sites=data["sites"],
                   inner_s=data["seconds"])
        return run

    def traced(self) -> dict[str, Any]:
        run = measure([PY, str(Path(__file__).resolve()), "--traced-child"], self.env)
        if run["rc"] != 0:
            raise SystemExit(f"traced sync failed ({run['rc']}): {run['stderr']}")
        data: dict[str, Any] = json.loads(run["stdout"].strip().splitlines()[-1])
        return data

    def size(self, n: int, baseline: bool) -> dict[str, Any]:
        self.spec(n)
        log(f"N={n}: seeding")
        seeded = self.php("seed")
        log(f"N={n}: seeded {seeded['created']} new sites in {seeded['seconds']} s")
        warm = self.sync(f"warm-{n}")  # caches warm, everything in sync before measuring
        log(f"N={n}: warm-up sync {warm['wall_s']} s, {warm['changes']} changes")
        out: dict[str, Any] = {"n": n, "seeded": seeded, "warmup": _clean(warm)}
        dirty = self.php("dirty")
        out["stale"] = dirty["stale"]
        out["sync_full"] = _clean(self.sync(f"full-{n}"))
        out["sync_noop"] = _clean(self.sync(f"noop-{n}"))
        log(f"N={n}: sync full {out['sync_full']['wall_s']} s, no-op {out['sync_noop']['wall_s']} s")
        self.php("dirty")
        out["sync_traced"] = self.traced()
        if baseline:
            self.php("dirty")
            out["baseline_full"] = _clean(self.baseline())
            out["baseline_noop"] = _clean(self.baseline())
            log(f"N={n}: baseline full {out['baseline_full']['wall_s']} s, no-op {out['baseline_noop']['wall_s']} s")
        out["db_mb"] = _du_mb(Path(self.sandbox.dir) / "db")
        return out


def _clean(run: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in run.items() if k not in ("stdout", "stderr")}


def _du_mb(path: Path) -> float:
    total = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return round(total / 2**20, 1)


def traced_child() -> int:
    """One full sync in this process under tracemalloc: the Python heap's peak during the run."""
    from wpbridge.network import Network
    from wpbridge.workflows.sync import SyncOptions, run_sync

    with Network.from_config() as net:
        tracemalloc.start()
        start = time.monotonic()
        outcome = run_sync(net, SyncOptions(now=datetime.now(UTC)))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    print(json.dumps({"peak_traced_kb": peak // 1024, "writes": outcome.summary.writes,
                      "requests": outcome.summary.requests, "wall_s": round(time.monotonic() - start, 2)}))
    return 0 if outcome.exit_code == 0 else 1


# --------------------------------------------------------------------------- RESULTS.md


def expected_requests(sites: int, changed: int) -> int:
    """DESIGN §6: ceil(N/100) per collection (sites, quotas, memberships by id) + ceil(changed/25) batch writes;
    plus ceil(changed/100) read-backs and 5 fixed (info, catalog, due scheduled changes, lock take/release)."""
    return 3 * math.ceil(sites / 100) + math.ceil(changed / 25) + math.ceil(changed / 100) + 5


def render(results: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    lines = [
        meta.get("section", "## Sync"),
        "",
        f"`bench/sync.py` ({meta['date']}; {meta['machine']}). A local sandbox (php -S with 4 workers, MariaDB)"
        " grown to N memberships, each with one customer and one real WordPress site (cloned from a template"
        " site by `bench/seed_bulk.php`: its own 10 tables, served at /bulk-N/), plus the 18 sites of the example"
        " network. Every run is its own process; \"stale\" = 10% of the bulk sites' quotas overwritten before the"
        " run. Peak RSS = the process's `VmHWM`; requests counted by the client. Baseline = `bench/baseline_sync.py`,"
        " one site at a time (list page, then GET membership, GET quota, PUT quota if it differs)."
        if meta.get("flavor") != "ultimate-multisite" else
        f"`bench/sync.py --flavor ultimate-multisite` ({meta['date']}; {meta['machine']}). The real Ultimate"
        " Multisite 2.4.12 (sandbox UM flavor, plugin-stub in UM mode) grown to N memberships in UM's own tables"
        " (`wu_customers`, `wu_memberships`), each with one real WordPress site (cloned from a template site by"
        " `bench/seed_bulk.php`) linked the way UM links it (blogmeta `wu_membership_id`, `wu_customer_id`,"
        " `wu_type`), plus the 18 sites of the example network. UM computes limits, so no quota is stored, nothing"
        " is stale and neither run writes: the work is reading UM's computed limits of every site (plugin-stub's"
        " `/quotas` runs `wu_get_site()->get_limitations()`) and comparing them with wpbridge's. Baseline ="
        " `bench/baseline_sync.py` on UM mode, one site at a time (a page of plugin-stub's site list, then per"
        " site GET membership and GET the site's UM limits). Every run is its own process; peak RSS = `VmHWM`.",
        "",
        "| N | run | wall s | client CPU s | HTTP requests | target requests | writes | peak RSS MB | load |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        sites = r["sync_full"]["sites"]
        um = meta.get("flavor") == "ultimate-multisite"
        labels = ((("sync_full", "sync"), ("sync_noop", "sync, rerun"), ("baseline_full", "baseline"),
                   ("baseline_noop", "baseline, rerun")) if um else
                  (("sync_full", "sync, 10% stale"), ("sync_noop", "sync, no-op rerun"),
                   ("baseline_full", "baseline, 10% stale"), ("baseline_noop", "baseline, no-op")))
        for key, label in labels:
            run = r.get(key)
            if not run:
                continue
            target = (expected_requests(sites, run["writes"]) + (1 if um else 0)) if key.startswith("sync") else "-"
            lines.append(f"| {r['n']:,} | {label} | {run['wall_s']} | {run['cpu_s']} | {run['requests']:,} | {target} |"
                         f" {run['writes']:,} | {run['peak_rss_kb'] / 1024:.1f} | {run['load1']} |")
    lines += ["", "| N | sites listed | seeding s (new sites) | DB MB | speed-up full | speed-up no-op |"
              " Python heap peak (tracemalloc) KB |", "|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        full = f"{r['baseline_full']['wall_s'] / r['sync_full']['wall_s']:.1f}x" if r.get("baseline_full") else "-"
        noop = f"{r['baseline_noop']['wall_s'] / r['sync_noop']['wall_s']:.1f}x" if r.get("baseline_noop") else "-"
        seeded = f"{r['seeded']['seconds']} ({r['seeded']['created']:,})"
        lines.append(f"| {r['n']:,} | {r['sync_full']['sites']:,} | {seeded} | {r['db_mb']} | {full} | {noop} |"
                     f" {r['sync_traced']['peak_traced_kb']:,} |")
    lines += ["", *meta.get("notes", []), ""]
    return "\n".join(lines)


def write_results(path: Path, section: str) -> None:
    """Replace this file's section of the same title (other sections belong to other benchmarks)."""
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    title = section.splitlines()[0]
    start = text.find(f"\n{title}\n")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        text = text[: start + 1] + section + ("\n" + text[end + 1:] if end != -1 else "")
    path.write_text(text.rstrip("\n") + "\n")


def main() -> int:
    if "--traced-child" in sys.argv:
        return traced_child()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", help="sandbox directory: reused when a sandbox runs there, else created")
    parser.add_argument("--sizes", default="1000,10000", help="ascending N values (default 1000,10000)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the one-site-at-a-time baseline")
    parser.add_argument("--keep", action="store_true", help="leave the sandbox running (and its data)")
    parser.add_argument("--json", default=None, help="raw results file (default: WORKDIR/results.json)")
    parser.add_argument("--results", default=str(HERE / "RESULTS.md"), help="markdown file for the ## Sync section")
    parser.add_argument("--note", action="append", default=[], help="a line to add under the tables")
    parser.add_argument("--flavor", choices=("stub", "ultimate-multisite"), default="stub",
                        help="the sandbox's flavor (ultimate-multisite: the real UM 2.4.12, UM mode)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if sizes != sorted(sizes):
        parser.error("--sizes must ascend")

    sys.path.insert(0, str(ROOT))
    from wpbridge.sandbox import SandboxInfo, down, up

    started_here = False
    if args.dir and (Path(args.dir) / "sandbox.json").exists():
        sandbox = SandboxInfo.load(args.dir)
    else:
        log("starting a sandbox")
        if args.flavor == "ultimate-multisite":
            from wpbridge.sandbox import um_plugin_path

            sandbox = up(args.dir, seed="example", test_mode=False, flavor="ultimate-multisite",
                         um_plugin=um_plugin_path("2.4.12"))
        else:
            sandbox = up(args.dir, seed="example", test_mode=False)
        started_here = True
    workdir = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    meta = {"date": datetime.now(UTC).strftime("%Y-%m-%d"), "notes": args.note, "flavor": args.flavor,
            "section": "## Sync on the real Ultimate Multisite" if args.flavor != "stub" else "## Sync",
            "machine": f"{os.cpu_count()} cores, load avg at start {os.getloadavg()[0]:.1f}"}
    results: list[dict[str, Any]] = []
    try:
        bench = Bench(sandbox, workdir)
        for n in sizes:
            results.append(bench.size(n, baseline=not args.no_baseline))
            Path(args.json or workdir / "results.json").write_text(json.dumps({"meta": meta, "results": results},
                                                                             indent=2))
            write_results(Path(args.results), render(results, meta))
    finally:
        if started_here and not args.keep:
            down(sandbox.dir, purge=True)
    log(f"done; raw results in {args.json or workdir / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
