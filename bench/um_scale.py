"""wpbridge on the real Ultimate Multisite at scale (issue 22): sync, memberships list, export and import.

For each N (ascending; the sandbox grows, bench/seed_bulk.php is idempotent), on a running UM sandbox (--dir):
  - `sync`: bench/sync.py's UM measurement (warm-up, full run, rerun, tracemalloc run; the one-site-at-a-time
    baseline only for N <= --baseline-max, it costs ~0.4 s a site on this machine);
  - `list`: `wpbridge -o json memberships list` (every membership with its customer's email);
  - `export`: `wpbridge export --out FILE`;
  - `import`: that export into a FRESH UM 2.4.12 sandbox (`up(seed="none")`, started and purged here), then the
    same file again (a run that writes nothing). The bulk members of seed_bulk.php all belong to the admin user
    (UM needs no other), so the export's customers share one email: before the import each bulk customer (user 1)
    gets its own email and login (bulk<ID>@example.org), which is what a real network would hold.
Each command runs in its own process: wall time, CPU time, peak RSS (VmHWM), 1-minute load at its start, and HTTP
requests (sync and import: their report; list and export: counted in the child by wrapping TransportStats.add).
Results accumulate in --json (by N, so steps can run separately) and render into bench/RESULTS.md's
"## Sync on the real Ultimate Multisite" section; its "### " subsections written by other benchmarks are kept.

    .venv/bin/python bench/um_scale.py --dir /tmp/coord-um --sizes 1000 --steps list,export,import \
        --prior /tmp/coord-bench/um1000.json --json /tmp/um-scale.json
    .venv/bin/python bench/um_scale.py --dir /tmp/coord-um --sizes 3000 --json /tmp/um-scale.json --baseline-max 1000
    .venv/bin/python bench/um_scale.py --render --json /tmp/um-scale.json --note "..."
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import sync as S  # noqa: E402  (bench/sync.py)

SECTION = "## Sync on the real Ultimate Multisite"
COUNT_ENV = "BENCH_COUNT_FILE"


# --------------------------------------------------------------------------- child: a CLI run that counts requests


def counted_child(argv: list[str]) -> int:
    """Run `wpbridge ARGV` in this process; at exit write the HTTP requests it made to $BENCH_COUNT_FILE."""
    from wpbridge.rest.transport import TransportStats

    total = {"requests": 0}
    original = TransportStats.add

    def add(self: TransportStats, *, requests: int = 0, retries: int = 0, received: int = 0, sent: int = 0) -> None:
        total["requests"] += requests
        original(self, requests=requests, retries=retries, received=received, sent=sent)

    TransportStats.add = add  # type: ignore[method-assign]
    atexit.register(lambda: Path(os.environ[COUNT_ENV]).write_text(json.dumps(total)))
    from wpbridge.cli import main

    sys.argv = ["wpbridge", *argv]
    main()
    return 0


def cli(env: dict[str, str], workdir: Path, name: str, *argv: str) -> dict[str, Any]:
    count = workdir / f"{name}.count"
    run = S.measure([S.PY, str(Path(__file__).resolve()), "--counted-child", *argv], {**env, COUNT_ENV: str(count)})
    if run["rc"] != 0:
        raise SystemExit(f"wpbridge {' '.join(argv)} failed ({run['rc']}): {run['stderr']}")
    run["requests"] = json.loads(count.read_text())["requests"]
    return run


# --------------------------------------------------------------------------- steps


def step_list(bench: S.Bench, n: int) -> dict[str, Any]:
    run = cli(bench.env, bench.workdir, f"list-{n}", "-o", "json", "memberships", "list")
    run["records"] = len(json.loads(run["stdout"]))
    S.log(f"N={n}: memberships list {run['wall_s']} s, {run['records']} records, {run['requests']} requests")
    return S._clean(run)


def step_export(bench: S.Bench, n: int, out: Path) -> dict[str, Any]:
    run = cli(bench.env, bench.workdir, f"export-{n}", "export", "--out", str(out))
    data = json.loads(out.read_text())
    run.update(records={k: len(v) for k, v in data.items() if isinstance(v, list)},
               file_mb=round(out.stat().st_size / 2**20, 1))
    S.log(f"N={n}: export {run['wall_s']} s, {run['requests']} requests, {run['file_mb']} MB")
    return S._clean(run)


def own_users(export: Path, out: Path) -> int:
    """The export with each bulk customer (the admin user, id 1) given its own email and login."""
    data = json.loads(export.read_text())
    changed = 0
    for c in data["customers"]:
        if c.get("user_id") == 1:
            cid = c["id"]
            c.update(user_email=f"bulk{cid}@example.org", user_login=f"bulk{cid}", display_name=f"Bulk {cid}")
            changed += 1
    out.write_text(json.dumps(data))
    return changed


def target_env(target: Any, workdir: Path, read_timeout: float | None) -> dict[str, str]:
    """The environment of a wpbridge run against `target`: its credentials, or with `read_timeout` a config file
    holding them and `timeout = [10, read_timeout]` (the default read timeout is 30 s)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WPBRIDGE_")}
    env["HOME"] = str(workdir)
    if read_timeout is None:
        env.update(WPBRIDGE_URL=target.url, WPBRIDGE_API_KEY=target.api_key, WPBRIDGE_API_SECRET=target.api_secret)
        return env
    config = workdir / "target.toml"
    config.write_text(f'[networks.target]\nurl = "{target.url}"\napi_key = "{target.api_key}"\n'
                      f'api_secret = "{target.api_secret}"\ntimeout = [10, {read_timeout:g}]\n')
    config.chmod(0o600)
    env.update(WPBRIDGE_CONFIG=str(config), WPBRIDGE_NETWORK="target")
    return env


def step_import(n: int, export: Path, workdir: Path, read_timeout: float | None = None) -> dict[str, Any]:
    from wpbridge.sandbox import down, um_plugin_path, up

    source = workdir / f"import-{n}.json"
    renamed = own_users(export, source)
    target = up(seed="none", flavor="ultimate-multisite", um_plugin=um_plugin_path("2.4.12"), test_mode=False)
    try:
        env = target_env(target, workdir, read_timeout)
        out: dict[str, Any] = {"customers_renamed": renamed, "read_timeout": read_timeout or 30}
        for key in ("first", "second"):
            report = workdir / f"import-{n}-{key}.report.json"
            S.log(f"N={n}: import ({key} run)")
            run = S.measure([S.WPBRIDGE, "import", str(source), "--yes", "--report", str(report)], env)
            if run["rc"] != 0:  # kept in the results (the first run's figures with it), said under the table
                run["error"] = run["stderr"].strip().splitlines()[-1] if run["stderr"].strip() else f"exit {run['rc']}"
                out[key] = S._clean(run)
                S.log(f"N={n}: import {key} failed after {run['wall_s']} s: {run['error']}")
                break
            summary = json.loads(report.read_text())["summary"]
            run.update(requests=summary["requests"], writes=summary["writes"], phases=summary.get("phases", {}),
                       planned=summary.get("planned", {}))
            out[key] = S._clean(run)
            S.log(f"N={n}: import {key} {run['wall_s']} s, {run['requests']} requests, {run['writes']} writes")
        return out
    finally:
        down(target.dir, purge=True)


def run_size(bench: S.Bench, n: int, steps: list[str], baseline: bool, entry: dict[str, Any],
             read_timeout: float | None = None) -> None:
    if "sync" in steps:
        entry.update(bench.size(n, baseline=baseline))
    elif "list" in steps or "export" in steps:
        bench.spec(n)
        entry.setdefault("seeded", bench.php("seed"))  # idempotent: grows the sandbox to n if it holds fewer
    export = bench.workdir / f"export-{n}.json"
    if "list" in steps:
        entry["list"] = step_list(bench, n)
    if "export" in steps or ("import" in steps and not export.exists()):
        entry["export"] = step_export(bench, n, export)
    if "import" in steps:  # the export of an earlier `--steps export` run in the same --workdir, if there is one
        entry["import"] = step_import(n, export, bench.workdir, read_timeout)
    if "baseline" in steps:  # one baseline run on its own, after the others (about an hour at 10,000 here)
        entry["baseline_full"] = step_baseline(bench, n)


def step_baseline(bench: S.Bench, n: int) -> dict[str, Any]:
    """One run of bench/baseline_sync.py; `--steps sync` runs two, which at 10,000 sites would take two hours."""
    bench.spec(n)
    S.log(f"N={n}: baseline (one site at a time)")
    run = S._clean(bench.baseline())
    S.log(f"N={n}: baseline {run['wall_s']} s, {run['requests']} requests")
    return run


# --------------------------------------------------------------------------- RESULTS.md


def _row(n: int, label: str, run: dict[str, Any], target: Any = "-") -> str:
    """One run's line; a figure the run did not keep (a run recovered from its report) is '-'."""
    rss = f"{run['peak_rss_kb'] / 1024:.1f}" if "peak_rss_kb" in run else "-"
    cpu, load = run.get("cpu_s", "-"), run.get("load1", "-")
    if run.get("error"):
        failed = f"{label}: **failed** (exit {run['rc']})"
        return f"| {n:,} | {failed} | {run['wall_s']} | {cpu} | - | - | - | {rss} | {load} |"
    return (f"| {n:,} | {label} | {run['wall_s']} | {cpu} | {run['requests']:,} | {target} |"
            f" {run.get('writes', 0):,} | {rss} | {load} |")


def _num(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def render(results: list[dict[str, Any]], notes: list[str], date: str) -> str:
    lines = [
        SECTION, "",
        f"`bench/um_scale.py` ({date}; 2 cores shared with 7 other engineers' test runs: the load column is the"
        " 1-minute load average when each run started). The real Ultimate Multisite 2.4.12 (sandbox UM flavor,"
        " plugin-stub in UM mode) grown to N memberships in UM's own tables (`wu_customers`, `wu_memberships`),"
        " each with one real WordPress site (cloned from a template site by `bench/seed_bulk.php`) linked the way"
        " UM links it (blogmeta `wu_membership_id`, `wu_customer_id`, `wu_type`), plus the 18 sites of the example"
        " network. UM computes limits, so no quota is stored and neither sync run writes: the work is reading UM's"
        " computed limits of every site (plugin-stub's `/quotas`, computed in bulk per page since eba6d95, see the"
        " subsection below) and comparing them with wpbridge's. Baseline = `bench/baseline_sync.py`, one site at a"
        " time (a page of plugin-stub's site list, then per site GET membership and GET the site's UM limits)."
        " `memberships list` = `wpbridge -o json memberships list`; `export` = `wpbridge export --out FILE`;"
        " `import` = that export into a fresh UM 2.4.12 network (`seed none`), then the same file again. Every run"
        " is its own process; peak RSS = its `VmHWM`; requests counted by the client.",
        "",
        "| N | run | wall s | client CPU s | HTTP requests | target requests | writes | peak RSS MB | load |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        n = r["n"]
        for key, label in (("sync_full", "sync"), ("sync_noop", "sync, rerun"), ("baseline_full", "baseline"),
                           ("baseline_noop", "baseline, rerun")):
            run = r.get(key)
            if run:
                target = S.expected_requests(run["sites"], 0) + 1 if key.startswith("sync") else "-"
                lines.append(_row(n, label, run, target))
        if r.get("list"):
            lines.append(_row(n, "memberships list", r["list"]))
        if r.get("export"):
            lines.append(_row(n, "export", r["export"]))
        for key, label in (("first", "import into a fresh network"), ("second", "import again (nothing to do)")):
            run = r.get("import", {}).get(key)
            if run:
                lines.append(_row(n, label, run))
    lines += ["", "| N | sites listed | memberships listed | export MB | DB MB | speed-up sync/baseline | speed-up"
              " rerun | Python heap peak of sync (tracemalloc) KB | import: customers / memberships / sites |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in results:
        full = f"{r['baseline_full']['wall_s'] / r['sync_full']['wall_s']:.1f}x" if r.get("baseline_full") else "-"
        noop = f"{r['baseline_noop']['wall_s'] / r['sync_noop']['wall_s']:.1f}x" if r.get("baseline_noop") else "-"
        phases = r.get("import", {}).get("first", {}).get("phases", {})
        imp = " / ".join(f"{phases[k]['seconds']:.0f} s ({int(phases[k]['requests'])} req)" if k in phases else "-"
                         for k in ("customers", "memberships", "sites")) if phases else "-"
        lines.append(
            f"| {r['n']:,} | {_num(r.get('sync_full', {}).get('sites'))} | {_num(r.get('list', {}).get('records'))}"
            f" | {r.get('export', {}).get('file_mb', '-')} | {r.get('db_mb', '-')} | {full} | {noop} |"
            f" {_num(r.get('sync_traced', {}).get('peak_traced_kb'))} | {imp} |")
    lines += ["", *notes, ""]
    return "\n".join(lines)


def write_results(path: Path, section: str) -> None:
    """Replace the section, keeping the "### " subsections it holds (other benchmarks write them)."""
    text = path.read_text()
    start = text.find(f"\n{SECTION}\n")
    if start == -1:
        S.write_results(path, section)
        return
    end = text.find("\n## ", start + 1)
    old = text[start + 1: end if end != -1 else len(text)]
    sub = old.find("\n### ")
    kept = old[sub + 1:].rstrip("\n") + "\n" if sub != -1 else ""
    new = section.rstrip("\n") + "\n\n" + kept if kept else section
    text = text[: start + 1] + new.rstrip("\n") + "\n" + ("\n" + text[end + 1:] if end != -1 else "")
    path.write_text(text.rstrip("\n") + "\n")


# --------------------------------------------------------------------------- main


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {"results": [], "notes": []}


def main() -> int:
    if sys.argv[1:2] == ["--counted-child"]:
        return counted_child(sys.argv[2:])
    if "--traced-child" in sys.argv:
        return S.traced_child()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dir", help="a running UM sandbox (sandbox.json) grown in place")
    p.add_argument("--sizes", default="1000,3000", help="ascending N values")
    p.add_argument("--steps", default="sync,list,export,import",
                   help="comma-separated: sync,list,export,import,baseline (baseline: one run, after the others)")
    p.add_argument("--baseline-max", type=int, default=1000, help="run the baseline only for N up to this")
    p.add_argument("--json", required=True, help="results file; updated by N after every step")
    p.add_argument("--prior", action="append", default=[], help="a bench/sync.py --json file to take N's figures from")
    p.add_argument("--workdir", default=None, help="reports and exports (default: a new temporary directory)")
    p.add_argument("--results", default=str(HERE / "RESULTS.md"))
    p.add_argument("--note", action="append", default=[], help="a line under the tables (replaces the stored notes)")
    p.add_argument("--render", action="store_true", help="only write RESULTS.md from --json")
    p.add_argument("--read-timeout", type=float, default=None,
                   help="the import's read timeout in seconds (default: wpbridge's, 30)")
    args = p.parse_args()
    store_path = Path(args.json)
    store = load(store_path)
    by_n = {r["n"]: r for r in store["results"]}
    for prior in args.prior:
        for r in json.loads(Path(prior).read_text())["results"]:
            by_n.setdefault(r["n"], {}).update(r)
    if args.note:
        store["notes"] = args.note
    if not args.render:
        from wpbridge.sandbox import SandboxInfo

        if not args.dir:
            p.error("--dir is required unless --render")
        workdir = Path(args.workdir or tempfile.mkdtemp(prefix="bench-um-scale-"))
        workdir.mkdir(parents=True, exist_ok=True)
        bench = S.Bench(SandboxInfo.load(args.dir), workdir)
        steps = args.steps.split(",")
        for n in [int(s) for s in args.sizes.split(",")]:
            entry = by_n.setdefault(n, {"n": n})
            run_size(bench, n, steps, n <= args.baseline_max, entry, args.read_timeout)
            store["results"] = [by_n[k] for k in sorted(by_n)]
            store_path.write_text(json.dumps(store, indent=1))
    store["results"] = [by_n[k] for k in sorted(by_n)]
    store_path.write_text(json.dumps(store, indent=1))
    write_results(Path(args.results), render(store["results"], store["notes"], datetime.now(UTC).strftime("%Y-%m-%d")))
    S.log(f"results in {store_path} and {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
