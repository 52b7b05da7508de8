"""`effective_limitations` against UM's composite limitations of a membership (`Membership::get_limitations()`:
add-ons × quantity and the plan merged, then the membership's own limitations as overrides).

Random `wu_limitations` for a plan, 0-2 add-ons (quantities 1-3) and the membership; one `limits_batch.php`
process asks UM; compared module by module with `limits.differing_modules` (wire spellings such as "" and 0 are
the same limit).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from wpbridge.limits import differing_modules, effective_limitations
from wpbridge.models import Limitations, Membership, Product

from .oracle import run_oracle
from .strategies import draw

LIMITS_BATCH = Path(__file__).with_name("limits_batch.php")
NUMBERS = st.sampled_from((0, 1, 2, 5, 10, 100, 500, ""))


def _entries(keys: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    entry = st.fixed_dictionaries({"enabled": st.sampled_from((True, True, False)), "number": NUMBERS})
    return st.dictionaries(st.sampled_from(keys), entry, max_size=3)


def _module(name: str) -> st.SearchStrategy[dict[str, Any]]:
    enabled = st.sampled_from((True, True, True, False))
    if name in ("visits", "disk_space", "sites"):
        return st.fixed_dictionaries({"enabled": enabled, "limit": NUMBERS})
    if name == "users":
        return st.fixed_dictionaries({"enabled": enabled, "limit": _entries(("editor", "author", "administrator"))})
    if name == "post_types":
        return st.fixed_dictionaries({"enabled": enabled, "limit": _entries(("post", "page", "attachment"))})
    if name == "domain_mapping":
        return st.fixed_dictionaries({"enabled": enabled, "limit": st.sampled_from((True, False, 0, 1, 2, 5))})
    if name == "customer_user_role":
        return st.fixed_dictionaries({"enabled": enabled, "limit": st.sampled_from(("administrator", "editor"))})
    if name == "hide_credits":
        return st.fixed_dictionaries({"enabled": enabled, "limit": st.booleans()})
    if name == "themes":
        rule = st.fixed_dictionaries({"visibility": st.sampled_from(("visible", "hidden")),
                                      "behavior": st.sampled_from(("available", "not_available", "force_active"))})
        return st.fixed_dictionaries({"enabled": st.just(True),
                                      "limit": st.dictionaries(st.sampled_from(("t1", "t2")), rule, max_size=2)})
    rule = st.fixed_dictionaries({"visibility": st.sampled_from(("visible", "hidden")),
                                  "behavior": st.sampled_from(("default", "force_active", "force_inactive",
                                                               "force_active_locked", "force_inactive_locked"))})
    return st.fixed_dictionaries({"enabled": st.just(True),
                                  "limit": st.dictionaries(st.sampled_from(("p1/p1.php", "p2/p2.php")), rule,
                                                           max_size=2)})


MODULES = ("visits", "disk_space", "sites", "users", "post_types", "domain_mapping", "customer_user_role",
           "hide_credits", "themes", "plugins")


@st.composite
def limitations(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(MODULES), unique=True, max_size=5))
    return {n: draw(_module(n)) for n in names}


@st.composite
def scenario(draw: st.DrawFn) -> dict[str, Any]:
    n_addons = draw(st.integers(0, 2))
    products: dict[str, Any] = {"p": {"type": "plan", "limitations": draw(limitations())}}
    for i in range(n_addons):
        products[f"a{i}"] = {"type": "package", "limitations": draw(limitations())}
    m: dict[str, Any] = {"plan": "p", "addon_products": {f"a{i}": draw(st.integers(1, 3)) for i in range(n_addons)}}
    if draw(st.booleans()):
        m["limitations"] = draw(limitations())
    return {"products": products, "membership": m}


def limit_scenarios(n: int, seed: int) -> list[dict[str, Any]]:
    return draw(scenario(), n, seed, "l")


def run_limits(drawn: list[dict[str, Any]], url: str, docroot: str, timeout: float = 900) -> list[dict[str, Any]]:
    return run_oracle(LIMITS_BATCH, drawn, url, docroot, timeout=timeout)


def compare_limits(s: dict[str, Any], r: dict[str, Any], version: str | None = None) -> list[str]:
    if not r.get("ok"):
        return [f"limits_batch failed: {r.get('error')}"]
    ids = {k: i + 1 for i, k in enumerate(s["products"])}
    catalog = [Product.model_validate({"id": ids[k], "slug": k, "type": p["type"], "amount": "10",
                                       "limitations": p.get("limitations") or {}})
               for k, p in s["products"].items()]
    m = s["membership"]
    membership = Membership.model_validate({
        "id": 1, "customer_id": 1, "plan_id": ids[m["plan"]], "status": "active",
        "addon_products": {ids[k]: q for k, q in m["addon_products"].items()},
        "limitations": m.get("limitations") or {},
    })
    ours = effective_limitations(membership, catalog, um_version=version or r.get("um_version"))
    raw = dict(r["limitations"] or {})
    for always in ("plugins", "themes"):  # always enabled in UM (its Limit classes), as wpbridge's result says
        if isinstance(raw.get(always), dict):
            raw[always] = {**raw[always], "enabled": True}
    um = Limitations.model_validate(raw)
    diff = differing_modules(um, ours)
    if not diff:
        return []
    um_w, ours_w = um.to_wire(), ours.to_wire()
    return [f"{k}: UM {um_w.get(k)} vs wpbridge {ours_w.get(k)}" for k in diff]
