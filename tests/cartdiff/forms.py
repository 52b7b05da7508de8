"""`change_options` against UM's customer Change form (`Checkout_Form::membership_change_form_fields()`).

Catalogs are the Cart scenarios' (tests/cartdiff/strategies.py) with some products made inactive. Compared: the
plans offered and their order (UM's list without the inactive plans, which its pricing table drops), the periods
(UM's period options; computed the same way when UM shows no selector because no plan has variations), and the
add-ons (UM's order bumps without inactive products and plans: wpbridge does not offer what the quote refuses).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from wpbridge.billing import change_options

from .oracle import convert, run_oracle
from .strategies import scenarios

FORM_BATCH = Path(__file__).with_name("form_batch.php")


def form_scenarios(n: int, seed: int) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    out = scenarios(n, seed)
    for s in out:
        for key, p in s["products"].items():
            if key != s["membership"]["plan"] and rnd.random() < 0.2:
                p["active"] = False
    return out


def run_forms(drawn: list[dict[str, Any]], url: str, docroot: str, timeout: float = 900) -> list[dict[str, Any]]:
    return run_oracle(FORM_BATCH, drawn, url, docroot, timeout=timeout)


def compare_form(s: dict[str, Any], r: dict[str, Any]) -> list[str]:
    """The differences (empty when wpbridge offers what UM's form offers)."""
    if not r.get("ok"):
        return [f"form_batch failed: {r.get('error')}"]
    c = convert(s)
    catalog = [p.model_copy(update={"active": s["products"][p.slug].get("active", True)}) for p in c.catalog]
    o = change_options(c.membership, catalog)
    problems = []
    um_plans = [p["key"] for p in r["plans"] if p["active"]]
    ours_plans = [c.key_of(p.product.id) for p in o.plans]
    if um_plans != ours_plans:
        problems.append(f"plans: UM {um_plans} vs wpbridge {ours_plans}")
    um_addons = [a["key"] for a in r["addons"] if a["active"] and a["type"] != "plan"]
    seen: list[str] = []
    for key in um_addons:
        if key not in seen:
            seen.append(key)
    ours_addons = [c.key_of(a.product.id) for a in o.addons]
    if seen != ours_addons:
        problems.append(f"add-ons: UM {seen} vs wpbridge {ours_addons}")
    um_periods = [tuple(p) for p in r["periods"]] if r["periods"] is not None else None
    ours_periods = [(p.duration, p.duration_unit) for p in o.periods]
    if um_periods is not None and um_periods != ours_periods:
        problems.append(f"periods: UM {um_periods} vs wpbridge {ours_periods}")
    listed = {x["key"] for x in r["plans"]}
    if um_periods is None and any(p.price_variations for p in catalog if c.key_of(p.id) in listed):
        problems.append("periods: UM shows no period selector although a listed plan has price variations")
    return problems
