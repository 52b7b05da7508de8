"""Peak memory of `wpbridge import FILE.csv --dry-run` (issue 20, "left to decide": a 1,000,000-row dry run took
3.8 GB). For each N (default 100,000 and 1,000,000 rows, one membership with its customer and site per row):

  1. `read`: the file read and checked (importer_input.read_source + check_references against the example
     catalog), alone in a child process: no network;
  2. `dry-run`: the real command, `wpbridge import FILE --dry-run`, in its own process against a sandbox holding
     the example catalog (plan printed to /dev/null).

Peak RSS is the child's own (`os.wait4`'s ru_maxrss), wall time around it. `--root DIR` runs another checkout's
code (e.g. a worktree at the commit before the change, for the "before" column).

    .venv/bin/python bench/import_memory.py --sandbox /tmp/sb                    # sizes 100000,1000000
    .venv/bin/python bench/import_memory.py --sandbox /tmp/sb --root /tmp/wt-old --sizes 100000 --phases read
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

PLANS = [("free", ""), ("basic", ""), ("premium", ""), ("basic", "extra-storage:1"),
         ("premium", "unlimited-visits:1;extra-storage:2")]

READ = """
import sys
from wpbridge.sandbox.example import example_catalog
from wpbridge.workflows.importer_input import check_references, read_source
src = read_source(sys.argv[1])
check_references(src, example_catalog())
assert len(src.memberships) == int(sys.argv[2]) and not src.issues, src.issues[:3]
"""

DRY_RUN = """
import sys
from wpbridge.cli import main
sys.argv = ["wpbridge", "import", sys.argv[1], "--dry-run"]
main()
"""


def bulk_csv(path: Path, n: int) -> Path:
    """N rows, written as a stream (the generator holds one row at a time)."""
    if path.exists():
        return path
    with path.open("w", encoding="utf-8") as out:
        out.write("email,username,plan,period,status,date_created,date_expiration,addons,site_path,site_title\n")
        for i in range(n):
            plan, addons = PLANS[i % len(PLANS)]
            out.write(f"bench{i}@example.org,bench{i:07d},{plan},1:month,active,2026-11-01,2026-12-01,{addons},"
                      f"/b{i}/,Bench {i}\n")
    return path


def child(code: str, args: list[str], root: Path, env: dict[str, str]) -> dict[str, Any]:
    """Run `code` in a fresh Python whose `wpbridge` is ROOT's; its exit status, wall time and peak RSS."""
    started = time.monotonic()
    with open(os.devnull, "wb") as devnull:
        proc = subprocess.Popen([sys.executable, "-c", code, *args], cwd=root, env={**env, "PYTHONPATH": str(root)},
                                stdout=devnull, stderr=subprocess.PIPE)
        assert proc.stderr is not None
        _, status, usage = os.wait4(proc.pid, 0)
        err = proc.stderr.read().decode(errors="replace")
        proc.returncode = os.waitstatus_to_exitcode(status)
    return {"exit": proc.returncode, "seconds": round(time.monotonic() - started, 1),
            "peak_mib": round(usage.ru_maxrss / 1024), "stderr_tail": err.strip().splitlines()[-1:] if err else []}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--phases", default="read,dry-run")
    ap.add_argument("--sandbox", help="a running stub sandbox with the example catalog (DIR of sandbox.json)")
    ap.add_argument("--root", type=Path, default=ROOT, help="the checkout whose code runs (default: this one)")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/wpbridge-bench-import-memory"))
    ap.add_argument("--out", type=Path, help="append the results to this JSON-lines file")
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WPBRIDGE_")}
    env["HOME"] = str(args.workdir)  # no user config
    if args.sandbox:
        info = json.loads((Path(args.sandbox) / "sandbox.json").read_text())
        env.update(WPBRIDGE_URL=info["url"], WPBRIDGE_API_KEY=info["api_key"], WPBRIDGE_API_SECRET=info["api_secret"])
    commit = subprocess.run(["git", "-C", str(args.root), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, check=False).stdout.strip()
    for n in (int(s) for s in args.sizes.split(",")):
        path = bulk_csv(args.workdir / f"rows-{n}.csv", n)
        for phase in args.phases.split(","):
            if phase == "dry-run" and not args.sandbox:
                sys.exit("--phases dry-run needs --sandbox DIR")
            code, extra = (READ, [str(n)]) if phase == "read" else (DRY_RUN, [])
            result = {"n": n, "phase": phase, "commit": commit, "file_mib": round(path.stat().st_size / 2**20),
                      "load": round(os.getloadavg()[0], 1), **child(code, [str(path), *extra], args.root, env)}
            print(json.dumps(result), flush=True)
            if args.out:
                with args.out.open("a") as out:
                    out.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
