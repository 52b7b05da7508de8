"""Shrink a failing scenario to a minimal one: simplify it step by step (one `cart_batch.php` batch per round of
candidates) while the quote still differs from the real Cart without a deviation."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from typing import Any

from .compare import compare_one

Scenario = dict[str, Any]
Runner = Callable[[list[Scenario]], list[dict[str, Any]]]


def _referenced(s: Scenario) -> set[str]:
    m, c = s["membership"], s.get("cart", {})
    keys = {m["plan"], *m.get("addon_products", {}), *(c.get("addons") or {})}
    if c.get("plan"):
        keys.add(c["plan"])
    return keys


def candidates(s: Scenario) -> Iterator[Scenario]:
    """Simpler variants of `s`, each one change away."""
    def variant(change: Callable[[Scenario], None]) -> Scenario:
        t = copy.deepcopy(s)
        change(t)
        return t

    cart, m = s.get("cart", {}), s["membership"]
    if cart.get("discount"):
        yield variant(lambda t: t["cart"].pop("discount"))
    for key in list(cart.get("addons") or {}):
        yield variant(lambda t, k=key: t["cart"]["addons"].pop(k))
    for key in list(m.get("addon_products") or {}):
        yield variant(lambda t, k=key: t["membership"]["addon_products"].pop(k))
    used = _referenced(s)
    for key in [k for k in s["products"] if k not in used]:
        def drop(t: Scenario, k: str = key) -> None:
            t["products"].pop(k)
            for p in t["products"].values():
                if k in p.get("available_addons", []):
                    p["available_addons"] = [a for a in p["available_addons"] if a != k]
        yield variant(drop)
    for key, p in s["products"].items():
        if p.get("price_variations"):
            yield variant(lambda t, k=key: t["products"][k].pop("price_variations"))
        if p.get("setup_fee"):
            yield variant(lambda t, k=key: t["products"][k].update(setup_fee=0.0))
        if p.get("available_addons"):
            yield variant(lambda t, k=key: t["products"][k].pop("available_addons"))
    if m.get("date_renewed"):
        yield variant(lambda t: t["membership"].pop("date_renewed"))
    if s.get("currency", "USD") != "USD":
        yield variant(lambda t: t.update(currency="USD"))
    if m.get("times_billed", 1) != 1:
        yield variant(lambda t: t["membership"].update(times_billed=1))


def shrink(s: Scenario, version: str, run: Runner, rounds: int = 12) -> Scenario:
    """The smallest variant of `s` found that still fails (`s` itself when none is simpler)."""
    best = s
    for _ in range(rounds):
        cands = [dict(c, id=f"shrink-{i}") for i, c in enumerate(candidates(best))]
        if not cands:
            break
        results = run(cands)
        failing = [c for c, r in zip(cands, results, strict=True)
                   if r.get("ok") and compare_one(c, r, version).problems]
        if not failing:
            break
        best = min(failing, key=lambda c: len(json.dumps(c)))
    return best
