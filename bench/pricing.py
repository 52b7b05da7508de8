"""Benchmark: pure pricing, quotes per second over a realistic catalog (DESIGN §6: 100,000 quotes in under 5 s).

Run: `.venv/bin/python bench/pricing.py [--quotes N] [--write]`. The catalog is the example network's (Free, Basic,
Premium and three add-ons) plus three more plan families of four plans each, with yearly price variations and
setup fees, and more add-ons; memberships are spread over plans, periods, statuses and dates; carts mix upgrades,
downgrades, period changes, add-on purchases, discount codes and no-change requests, under both policies.
`--write` replaces the "## Pricing" section of bench/RESULTS.md with the figures measured.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from wpbridge.billing import Cart, CatalogIndex, quote_change
from wpbridge.models import DiscountCode, Membership, Product
from wpbridge.sandbox.example import example_catalog

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
RESULTS = Path(__file__).with_name("RESULTS.md")


def catalog() -> list[Product]:
    products = example_catalog()
    next_id = 100
    addon_ids = list(range(200, 208))
    for a, pid in enumerate(addon_ids):
        products.append(Product.model_validate({
            "id": pid, "slug": f"addon-{pid}", "name": f"Add-on {pid}", "type": "package" if a % 3 else "service",
            "amount": str(3 + a * 2), "setup_fee": "5" if a % 4 == 0 else "0", "recurring": a % 3 != 0,
            "price_variations": [{"duration": 1, "duration_unit": "year", "amount": str((3 + a * 2) * 10)}],
            "limitations": {"disk_space": {"enabled": True, "limit": 500}},
        }))
    for family in ("Starter", "Business", "Agency"):
        for tier in range(4):
            monthly = Decimal(9 + 10 * tier) * (1 + ("Starter", "Business", "Agency").index(family))
            products.append(Product.model_validate({
                "id": next_id, "slug": f"{family.lower()}-{tier}", "name": f"{family} {tier}", "type": "plan",
                "amount": str(monthly), "setup_fee": str(10 * tier), "duration": 1, "duration_unit": "month",
                "product_group": family, "list_order": tier, "available_addons": addon_ids[tier:tier + 5],
                "price_variations": [{"duration": 1, "duration_unit": "year", "amount": str(monthly * 10)},
                                     {"duration": 3, "duration_unit": "month", "amount": str(monthly * 3 - 1)}],
                "limitations": {
                    "disk_space": {"enabled": True, "limit": 1000 * (tier + 1)},
                    "post_types": {"enabled": True, "limit": {"post": {"enabled": True, "number": 100 * (tier + 1)},
                                                              "page": {"enabled": True, "number": 20 * (tier + 1)}}},
                    "domain_mapping": {"enabled": True, "limit": tier},
                },
            }))
            next_id += 1
    return products


def workload(products: list[Product], n_members: int, seed: int = 7) -> list[tuple[Membership, Cart, str]]:
    rnd = random.Random(seed)
    plans = [p for p in products if p.type == "plan" and p.product_group not in (None, "High End")]
    code = DiscountCode(code="SAVE10", type="percentage", value=Decimal(10), apply_to_renewals=True)
    out: list[tuple[Membership, Cart, str]] = []
    for i in range(n_members):
        plan = rnd.choice(plans)
        yearly = rnd.random() < 0.3
        amount = plan.amount * 10 if yearly else plan.amount
        addons = {pid: rnd.randint(1, 2) for pid in rnd.sample(plan.available_addons, rnd.randint(0, 2))}
        renewed = NOW - timedelta(days=rnd.randint(0, 360 if yearly else 29), hours=rnd.randint(0, 23))
        m = Membership.model_validate({
            "id": i + 1, "customer_id": i + 1, "plan_id": plan.id, "addon_products": addons, "amount": amount,
            "initial_amount": amount + plan.setup_fee, "duration": 1, "duration_unit": "year" if yearly else "month",
            "status": rnd.choice(["active"] * 6 + ["trialing", "on-hold"]), "recurring": True,
            "date_created": renewed - timedelta(days=rnd.randint(0, 700)), "date_renewed": renewed,
            "date_expiration": renewed + timedelta(days=365 if yearly else 30),
        })
        family = [p for p in plans if p.product_group == plan.product_group]
        kind = rnd.random()
        if kind < 0.45:
            cart = Cart(plan_id=rnd.choice(family).id)
        elif kind < 0.6:
            cart = Cart(plan_id=rnd.choice(family).id, duration=1, duration_unit=rnd.choice(["month", "year"]))
        elif kind < 0.8:
            cart = Cart(addons={rnd.choice(plan.available_addons): 1})
        elif kind < 0.9:
            cart = Cart(plan_id=rnd.choice(family).id, discount_code=code)
        else:
            cart = Cart()
        out.append((m, cart, "exact" if rnd.random() < 0.2 else "ultimate-multisite"))
    return out


def measure(cat: Any, work: list[tuple[Membership, Cart, str]], quotes: int) -> tuple[float, float, dict[str, int]]:
    """(wall seconds, CPU seconds of this process, count per kind) for `quotes` quotes."""
    kinds: dict[str, int] = {}
    n = len(work)
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(quotes):
        m, cart, policy = work[i % n]
        q = quote_change(m, cat, cart, now=NOW, policy=policy)  # type: ignore[arg-type]
        kinds[q.kind] = kinds.get(q.kind, 0) + 1
    return time.perf_counter() - wall, time.process_time() - cpu, kinds


def real_cart_line(um_json: str, carts: int, ours_cpu: float, ours_wall: float) -> str:
    """Time `new WP_Ultimo\\Checkout\\Cart(...)` + its totals (tests/cartdiff/cart_cost.php) and compare."""
    import json
    import resource
    import subprocess

    script = Path(__file__).resolve().parents[1] / "tests" / "cartdiff" / "cart_cost.php"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(["php", str(script), f"--um-json={um_json}", f"--carts={carts}"], capture_output=True,
                          text=True, check=True, timeout=3600)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    wall = out["seconds"] / out["carts"]
    cpu = ((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)) / out["carts"]  # whole process
    return (f"- The real Cart of UM {out['um_version']} (`new Cart([...])`, its totals and next charge date, records "
            f"created once; tests/cartdiff/cart_cost.php), same machine, same run: {1000 * wall:.1f} ms a cart wall "
            f"({out['carts']:,} carts; PHP CPU ≤ {1000 * cpu:.1f} ms, the rest is MariaDB). wpbridge: "
            f"{1e6 * ours_wall:.0f} µs a quote wall, {1e6 * ours_cpu:.0f} µs CPU: **{wall / ours_wall:,.0f}x** "
            f"faster per quote.")


def calibrate() -> float:
    """Seconds for a fixed pure-Python loop: compares figures taken on a busy or a quiet machine."""
    start = time.perf_counter()
    total = 0
    for i in range(5_000_000):
        total += i
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quotes", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per variant; the best is reported")
    parser.add_argument("--write", action="store_true", help="write the figures into bench/RESULTS.md")
    parser.add_argument("--um-json", default=None, metavar="F",
                        help="also time the real UM Cart on this UM sandbox ({\"url\", \"docroot\"}), in the same run")
    parser.add_argument("--um-carts", type=int, default=2000, help="carts built by the real Cart (--um-json)")
    args = parser.parse_args(argv)
    products = catalog()
    work = workload(products, args.members)
    measure(products, work, 2_000)  # warm-up
    runs, indexed_runs = [], []
    for _ in range(args.repeat):  # interleaved, so that a busy spell on the machine hurts both alike
        runs.append(measure(products, work, args.quotes))
        indexed_runs.append(measure(CatalogIndex(products), work, args.quotes))
    plain, plain_cpu, kinds = min(runs, key=lambda r: r[0])
    indexed, indexed_cpu, _ = min(indexed_runs, key=lambda r: r[0])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        f"- {args.quotes:,} quotes over a catalog of {len(products)} products "
        f"({sum(p.type == 'plan' for p in products)} plans) and {len(work):,} memberships, catalog passed as a "
        f"plain list (the pinned call): **{plain:.2f} s** wall, {plain_cpu:.2f} s CPU "
        f"({args.quotes / plain:,.0f} quotes/s; best of {args.repeat} runs, all: "
        + ", ".join(f"{r[0]:.2f}" for r in runs) + " s). Target: under 5 s.",
        f"- Same with a prebuilt `CatalogIndex`: {indexed:.2f} s wall, {indexed_cpu:.2f} s CPU "
        f"({args.quotes / indexed:,.0f} quotes/s).",
        "- Mix of results: " + ", ".join(f"{k} {v:,}" for k, v in sorted(kinds.items())) + ".",
        f"- Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; load average "
        f"{load:.1f} when done; a plain 5M-iteration Python loop took {calibrate():.2f} s (how busy the CPU was). "
        f"Measured {time.strftime('%Y-%m-%d')} with `python bench/pricing.py --write`.",
    ]
    if args.um_json:
        lines.insert(2, real_cart_line(args.um_json, args.um_carts, plain_cpu / args.quotes, plain / args.quotes))
    print("\n".join(lines))
    if args.write:
        write_section("\n".join(lines))
    if min(plain, plain_cpu) > 5.0 * args.quotes / 100_000:
        sys.exit("pricing is slower than the target")


INTRO = """`bench/pricing.py` (issue 2): pure pricing, `quote_change` in a loop, one process, no I/O. Catalog: the
example network's (Free, Basic, Premium, three add-ons) plus three plan families of four plans with yearly and
quarterly price variations, setup fees and eight add-ons; 2,000 memberships spread over those plans, monthly and
yearly, active, trialing and on-hold, with 0-2 add-ons; carts mixing plan changes (45%), period changes (15%),
add-on purchases (20%), discount codes (10%) and empty carts (10%), 20% of them under policy "exact" (the rest
reproduce UM 2.4.12's Cart, `wpbridge/billing/umcart.py`). Each variant
runs `--repeat` times, interleaved, and the best run is reported; CPU is this process's CPU time. The machine is
shared with other work: the same code measured 4.5-6 s CPU while other test suites kept the load average at 4-5
(the calibration loop then took 0.3-0.7 s instead of 0.2 s), so compare figures with their calibration.

What keeps it fast (callgrind, instructions a quote: 147k before the UM Cart port, 290k right after it, 255k
now): the Cart's products derived once per catalog index (and each price variation once per product), lines and
products as plain slotted classes, totals summed in one pass, the membership's fields read once (pydantic routes
model attribute reads through CPython's slow `__getattr__` hook), results as frozen slotted dataclasses, calendar
dates and rounding steps memoised, the index of a catalog list reused while the same list of the same products
comes back, offered sets checked without listing them, error messages built only on error."""


def write_section(body: str) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    section = f"## Pricing\n\n{INTRO}\n\n{body}\n"
    if "## Pricing" in text:
        text = re.sub(r"## Pricing\n.*?(?=\n## |\Z)", section.rstrip("\n") + "\n", text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()
