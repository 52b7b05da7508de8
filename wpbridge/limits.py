"""A site's effective quota: UM's `Limitations::merge` and `merge_recursive`, step for step (reference §3.3). Pure.

Composite of a membership, as `Membership::get_limitations()`: the items are each add-on's limitations repeated
by its quantity, then the plan's; UM passes them to `merge(...$items)`, whose first parameter is `$override`, so
the first item (the first add-on, or the plan when there is none) is moved to the end; they are merged in
**additive** mode; then the membership's own limitations in **override** mode; for a site, then the site's own in
override mode (a site that is not `customer_owned` has no limitations, as in UM).

Additive mode (`should_sum`), walked recursively through nested objects, as UM 2.4.12 does it (checked against the
real UM on random catalogs: tests/cartdiff/limits.py):
- a current object with `enabled: false` is reset to `{enabled: false}` first; an incoming one with `enabled:
  false` is skipped;
- a current 0 or '' (unlimited) stays; an incoming None never overwrites;
- numbers add (disk 500 + 100 = 600), an incoming 0 or '' (unlimited) replaces;
- `visibility`: visible beats hidden in UM 2.4.12 (its priority table ranks it higher), hidden beats visible in UM
  main (2.4.13; `effective_limitations(..., um_version=)`);
- `behavior`: the one merged first stays (UM looks the priorities up under a module id the data does not carry);
- `true` is sticky; anything else: the incoming value (so a later False replaces a domain count).
Override mode: every key present in the incoming data replaces the current value (None included), recursively;
a current object with `enabled: false` is reset first, as in UM. "Present" means present in the stored data.
`plugins` and `themes` are always enabled in the result (UM's Limit classes force them).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from .errors import InputError
from .models import Limitations, Membership, Product, Site
from .um_release import is_main

_ALWAYS_ENABLED = ("plugins", "themes")


def as_data(limitations: Limitations) -> dict[str, Any]:
    """The stored data of a Limitations: only the keys the source set (defaults of absent keys left out)."""
    data: dict[str, Any] = limitations.model_dump(mode="python", exclude_unset=True)
    return data


def merge_data(current: dict[str, Any], incoming: dict[str, Any], *, additive: bool) -> dict[str, Any]:
    """Merge two wu_limitations objects (plain data) in additive or override mode; neither input is changed."""
    return _merge(current, incoming, additive, None)


def merge_additive(current: Limitations, incoming: Limitations) -> Limitations:
    return _finish(merge_data(as_data(current), as_data(incoming), additive=True))


def merge_override(current: Limitations, incoming: Limitations) -> Limitations:
    return _finish(merge_data(as_data(current), as_data(incoming), additive=False))


def merge_all(items: Iterable[Limitations], *, additive: bool = True) -> Limitations:
    data: dict[str, Any] = {}
    for item in items:
        data = merge_data(data, as_data(item), additive=additive)
    return _finish(data)


def effective_limitations(
    membership: Membership, catalog: Sequence[Product], site: Site | None = None, *, um_version: str | None = None
) -> Limitations:
    """The membership's composite quota (or, with `site`, that site's): add-ons × quantity, plan, overrides, as the
    UM release `um_version` merges them (None: the latest release, 2.4.12; UM main makes `hidden` beat `visible`)."""
    hidden_wins = _hidden_wins(um_version)
    by_id = {p.id: p for p in catalog}
    where = f"membership {membership.id}"
    plan = by_id.get(membership.plan_id)
    if plan is None:
        raise InputError(f"{where}: plan_id {membership.plan_id} is not in the catalog", field="plan_id",
                         record_id=membership.id)
    if site is not None:
        if site.membership_id is not None and site.membership_id != membership.id:
            raise InputError(f"site {site.blog_id} belongs to membership {site.membership_id}, not {membership.id}",
                             field="membership_id", record_id=site.blog_id)
        if site.type is not None and site.type != "customer_owned":
            return Limitations()
    items: list[dict[str, Any]] = []
    for pid, qty in membership.addon_products.items():
        addon = by_id.get(pid)
        if addon is None:
            raise InputError(f"{where}: addon_products has product {pid}, which is not in the catalog",
                             field="addon_products", record_id=membership.id)
        items += [as_data(addon.limitations)] * qty
    items.append(as_data(plan.limitations))
    # UM calls `merge(...$items)`, whose first parameter is `$override`: the first item, not being a boolean, is
    # moved to the end of the list. So the plan is merged last only after at least one add-on, else first.
    data: dict[str, Any] = {}
    for item in items[1:] + items[:1]:
        _merge_into(data, item, True, hidden_wins)
    _merge_into(data, as_data(membership.limitations), False, hidden_wins)
    if site is not None:
        _merge_into(data, as_data(site.limitations), False, hidden_wins)
    return _finish(data)


def _hidden_wins(um_version: str | None) -> bool:
    """UM 2.4.13 (main) ranks `hidden` above `visible` when merging; 2.4.12 and earlier the other way round."""

    return is_main(um_version)


# --------------------------------------------------------------------------- the merge itself


def _finish(data: dict[str, Any]) -> Limitations:
    for key in _ALWAYS_ENABLED:
        module = data.get(key)
        if isinstance(module, dict):
            module["enabled"] = True
    return Limitations.model_validate(data)


def _merge(cur: dict[str, Any], inc: dict[str, Any], additive: bool, module: str | None) -> dict[str, Any]:
    """UM's `Limitations::merge_recursive($cur, $inc, $should_sum = additive)`, on copies."""
    merged = copy.deepcopy(cur)
    _merge_into(merged, inc, additive)
    return merged


def _php_numeric(value: Any) -> bool:
    """PHP `is_numeric` for the values wu_limitations hold (booleans, null and '' are not numbers)."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int | float | Decimal):
        return True
    if isinstance(value, str):
        try:
            float(value.strip())
        except ValueError:
            return False
        return value.strip() != ""
    return False


def _merge_into(a1: dict[str, Any], a2: dict[str, Any], should_sum: bool, hidden_wins: bool = False) -> None:
    """`merge_recursive(&$array1, &$array2, $should_sum)`, step for step. UM's module-specific rules (plugins and
    themes forced enabled, behaviour priorities) key on a module `id` that stored module data does not carry, so
    they never apply: a later `behavior` never replaces an earlier one. `visible` beats `hidden` in 2.4.12, `hidden`
    beats `visible` in UM main (`hidden_wins`)."""
    flag = a1.get("enabled")
    if flag is not None and not flag:  # `! wu_get_isset($array1, 'enabled', true)`
        a1.clear()
        a1["enabled"] = False
    flag = a2.get("enabled")
    if should_sum and flag is not None and not flag:
        return
    for key, value in a2.items():
        current = a1.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            _merge_into(current, value, should_sum, hidden_wins)
            continue
        original = current if current is not None else False  # wu_get_isset(): `?? false`
        unlimited = (_php_numeric(value) or value == "") and not isinstance(value, bool) and _php_int(value) == 0
        if should_sum and (original == "" or (type(original) is int and original == 0)):
            continue  # unlimited stays unlimited
        if should_sum and value is None:
            continue  # not set: never overwrites
        if current is not None and _php_numeric(current) and _php_numeric(value) and should_sum and not unlimited:
            a1[key] = _php_int(current) + (value if not isinstance(value, str) else _php_number(value))
        elif key == "visibility" and current is not None and should_sum:
            rank = {"hidden": 1, "visible": 0} if hidden_wins else {"hidden": 0, "visible": 1}
            a1[key] = value if rank.get(value, -1) > rank.get(current, -1) else current
        elif key == "behavior" and current is not None and should_sum:
            continue  # UM's priority table is looked up under the module id, which the data lacks
        else:  # PHP arrays are values: copy, so that later merges never change an input
            a1[key] = copy.deepcopy(value) if (original is not True or not should_sum) else True


def _php_int(value: Any) -> int:
    """PHP `(int)`: numbers truncate, numeric strings parse, anything else is 0."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal):
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value.strip()))
        except ValueError:
            return 0
    return 0


def _php_number(value: str) -> int | float:
    number = float(value.strip())
    return int(number) if number.is_integer() and "." not in value else number


def differing_modules(a: Limitations | None, b: Limitations | None) -> tuple[str, ...]:
    """The modules in which two quotas differ (empty: they hold the same limits). Compared as models (a module None
    and an absent one are equal; defaults filled in), so wire spellings such as `""` vs `0` or a JSON-string module
    do not count."""
    left = _normal(a)
    right = _normal(b)
    return tuple(sorted(k for k in left.keys() | right.keys() if left.get(k) != right.get(k)))


def _normal(limits: Limitations | None) -> dict[str, Any]:
    if limits is None:
        return {}
    again = Limitations.model_validate(limits.to_wire())
    return {k: v for k, v in again.model_dump(mode="json").items() if v is not None}
