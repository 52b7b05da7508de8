"""A site's effective quota: UM's `Limitations::merge` (reference §3.3; DESIGN §5). Pure.

Composite of a membership: start empty; merge each add-on's limitations, repeated by its quantity, then the plan's,
in **additive** mode; then the membership's own limitations in **override** mode; for a site, then the site's own
limitations in override mode (a site that is not `customer_owned` has no limitations, as in UM).

Additive mode (UM's `merge_recursive` with `should_sum`), walked recursively through nested objects:
- numbers add (disk 500 + 100 = 600; users.editor 5 + 3 = 8); 0 (unlimited; UM's '' parses to 0) wins over any
  number, whichever side it is on;
- an incoming value of None (not set) never overwrites;
- an incoming object with `enabled: false` is skipped; a current object with `enabled: false` is reset to
  `{enabled: false}` and filled from the incoming one (so a disabled role in one product does not take away the
  role another product grants);
- `true` is sticky; `visibility`: hidden beats visible; `behavior`: the strongest wins (plugins: default <
  force_inactive_locked < force_inactive < force_active_locked < force_active; themes: not_available < available <
  force_active; site templates: not_available < available < pre_selected);
- other values (strings such as `mode` or `customer_user_role.limit`): the last merged wins, i.e. the plan's;
- `domain_mapping.limit` (True = unlimited, False/0 = none, N = at most N), where UM's generic rules would let a
  0 ("none") swallow every other number: True on either side gives True; otherwise the counts add, none counting
  as 0 (none + 2 = 2, 1 + 2 = 3, none + none = False).
- `plugins` and `themes` are always enabled.

Override mode: every key present in the incoming data replaces the current value (None included), recursively, so
an override that names one role changes that role only. "Present" means present in the stored data: the models'
defaults for keys the server did not send are not applied over the composite.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from .errors import InputError
from .models import Limitations, Membership, Product, Site

BEHAVIOR_PRIORITY: dict[str, dict[str, int]] = {
    "plugins": {"default": 10, "force_inactive_locked": 20, "force_inactive": 30, "force_active_locked": 40,
                "force_active": 50},
    "themes": {"not_available": 10, "available": 20, "force_active": 30},
    "site_templates": {"not_available": 10, "available": 20, "pre_selected": 30},
}
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
    membership: Membership, catalog: Sequence[Product], site: Site | None = None
) -> Limitations:
    """The membership's composite quota (or, with `site`, that site's): add-ons × quantity, plan, overrides."""
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
    data: dict[str, Any] = {}
    for pid, qty in membership.addon_products.items():
        addon = by_id.get(pid)
        if addon is None:
            raise InputError(f"{where}: addon_products has product {pid}, which is not in the catalog",
                             field="addon_products", record_id=membership.id)
        addon_data = as_data(addon.limitations)
        for _ in range(qty):
            data = merge_data(data, addon_data, additive=True)
    data = merge_data(data, as_data(plan.limitations), additive=True)
    data = merge_data(data, as_data(membership.limitations), additive=False)
    if site is not None:
        data = merge_data(data, as_data(site.limitations), additive=False)
    return _finish(data)


# --------------------------------------------------------------------------- the merge itself


def _finish(data: dict[str, Any]) -> Limitations:
    for key in _ALWAYS_ENABLED:
        module = data.get(key)
        if isinstance(module, dict):
            module["enabled"] = True
    return Limitations.model_validate(data)


def _merge(cur: dict[str, Any], inc: dict[str, Any], additive: bool, module: str | None) -> dict[str, Any]:
    merged = dict(cur)
    if additive:
        if cur.get("enabled", True) is False:
            merged = {"enabled": False}
        if inc.get("enabled", True) is False:
            return merged
    for key, value in inc.items():
        mod = key if module is None else module
        old = merged.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            merged[key] = _merge(old, value, additive, mod)
        elif not additive or key not in merged:
            merged[key] = copy.deepcopy(value)
        else:
            merged[key] = _leaf(key, old, value, mod)
    return merged


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _leaf(key: str, old: Any, value: Any, module: str) -> Any:
    if value is None:
        return old
    if old is None:
        return copy.deepcopy(value)
    if module == "domain_mapping" and key == "limit":
        return _domains(old, value)
    if key == "visibility":
        return "hidden" if "hidden" in (old, value) else value
    if key == "behavior":
        ranks = BEHAVIOR_PRIORITY.get(module, {})
        return value if ranks.get(value, 0) >= ranks.get(old, 0) else old
    if old is True:
        return True
    if _is_number(old) and _is_number(value):
        if old == 0 or value == 0:
            return 0
        return old + value
    return copy.deepcopy(value)


def _domains(old: Any, value: Any) -> bool | int:
    if old is True or value is True:
        return True
    total = int(old or 0) + int(value or 0)
    return total if total > 0 else False


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
