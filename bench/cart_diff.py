"""Differential run: wpbridge's quotes against the real UM Cart, at any size and seed, agreement per dimension.

Run: `.venv/bin/python bench/cart_diff.py --um-json F --version 2.4.12 [-n 1000] [--seed 1] [--taxes]`, F being
{"url": ..., "docroot": ...} of a UM sandbox of that build (`wpbridge sandbox up --flavor ultimate-multisite`).
Prints, per field (kind, error, credit, due_now, recurring_total, next_charge_at), how many scenarios agree, how
many differ with a declared deviation and how many differ without one (a bug), then the smallest failing one.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.cartdiff.compare import compare_all
from tests.cartdiff.oracle import run_batch
from tests.cartdiff.strategies import scenarios, tax_scenarios


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--um-json", required=True)
    ap.add_argument("--version", required=True, help="the build's UM version, e.g. 2.4.12 or 2.4.13-beta.1")
    ap.add_argument("-n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--taxes", action="store_true", help="scenarios with UM's taxes on (tax_scenarios)")
    args = ap.parse_args()
    conf = json.loads(Path(args.um_json).read_text())
    t0 = time.monotonic()
    drawn = (tax_scenarios if args.taxes else scenarios)(args.n, args.seed)
    t1 = time.monotonic()
    results = run_batch(drawn, conf["url"], conf["docroot"], timeout=3600)
    t2 = time.monotonic()
    summary = compare_all(drawn, results, args.version)
    t3 = time.monotonic()
    print(summary.table())
    print(f"generate {t1 - t0:.1f} s, real Cart {t2 - t1:.1f} s ({1000 * (t2 - t1) / len(drawn):.0f} ms/scenario), "
          f"wpbridge + compare {t3 - t2:.2f} s")
    worst = summary.minimal()
    if worst is not None:
        print(f"smallest failing scenario:\n{worst.report()}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
