"""Plan changes: how products, quotas and membership changes read to a person (the lines `apply` prints and
stores in each `Write`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from ..billing import CatalogIndex
from ..models import Limitations, Membership
from ..money import round_money
from .membership_state import with_state


class Quoted(Protocol):
    """What the view reads of a quote (`change_quote.QuoteResult`): the membership as read and its catalog."""

    @property
    def membership(self) -> Membership: ...

    @property
    def catalog(self) -> CatalogIndex: ...


def product_ref(idx: CatalogIndex, product_id: int) -> dict[str, Any]:
    product = idx.get(product_id)
    if product is None:
        return {"id": product_id, "slug": None, "name": f"product {product_id}"}
    return {"id": product.id, "slug": product.slug, "name": product.name}


def product_name(idx: CatalogIndex, product_id: int) -> str:
    product = idx.get(product_id)
    return product.name if product is not None else f"product {product_id}"


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, Mapping):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: data}


def _quota_key(path: str) -> str:
    """'post_types.limit.post.number' -> 'post_types.post'; 'disk_space.limit' -> 'disk_space'."""
    key = path.replace(".limit.", ".")
    for suffix in (".limit", ".number"):
        if key.endswith(suffix):
            key = key[: -len(suffix)]
    return key


def quota_display(limits: Limitations | None) -> dict[str, str]:
    """A quota as {'disk_space': '5000', 'post_types.post': '1000', 'users.editor': 'off', ...}."""
    if limits is None:
        return {}
    data = Limitations.model_validate(limits.to_wire()).model_dump(mode="json")
    flat = _flatten({k: v for k, v in data.items() if v is not None})
    values: dict[str, Any] = {}
    enabled: dict[str, Any] = {}
    for path, value in flat.items():
        if path.endswith(".enabled"):
            enabled[_quota_key(path[: -len(".enabled")])] = value
        else:
            values[_quota_key(path)] = value
    out: dict[str, str] = {}
    for key in values.keys() | enabled.keys():
        if enabled.get(key) is False:
            out[key] = "off"
        elif key in values:
            out[key] = show_limit(key, values[key])
        else:
            out[key] = "on"
    return out


def show_limit(key: str, value: Any) -> str:
    if key == "domain_mapping" and isinstance(value, bool):
        return "unlimited" if value else "none"
    if isinstance(value, int) and not isinstance(value, bool) and value == 0:
        return "unlimited"
    return show_value(value)


def quota_changes(held: Limitations | None, wanted: Limitations) -> tuple[str, ...]:
    """Human lines for what changes in a site's quota ('disk_space: 100 -> 5000'); '-' is 'not set'."""
    old, new = quota_display(held), quota_display(wanted)
    lines = [f"{key}: {old.get(key, '-')} -> {new.get(key, '-')}" for key in sorted(old.keys() | new.keys())
             if old.get(key) != new.get(key)]
    return tuple(lines) or ("(same values, stored differently)",)


def show_value(value: Any) -> str:
    if value is None:
        return "unset"
    if value is True or value is False:
        return str(value).lower()
    return str(value)


def change_title(q: Quoted, target: Mapping[str, Any] | None, default: str) -> str:
    """'removal of 2 x Extra storage' for a change that holds fewer add-ons on the same plan (workflows.
    change_removal), else `default`."""
    m = q.membership
    if not target or int(target.get("plan_id", m.plan_id)) != m.plan_id:
        return default
    wanted = with_state(m, target).addon_products
    fewer = {pid: qty - wanted.get(pid, 0) for pid, qty in m.addon_products.items() if wanted.get(pid, 0) < qty}
    if not fewer or any(qty > m.addon_products.get(pid, 0) for pid, qty in wanted.items()):
        return default
    return "removal of " + ", ".join(f"{n} x {product_name(q.catalog, pid)}" for pid, n in fewer.items())


def membership_changes(q: Quoted, state: Mapping[str, Any]) -> tuple[str, ...]:
    idx = q.catalog
    lines = []
    for key, (held, wanted) in state_differences(q.membership, state).items():
        if key == "plan_id":
            lines.append(f"plan: {product_name(idx, held)} -> {product_name(idx, wanted)}")
        elif key == "addon_products":
            def show(addons: Mapping[int, int]) -> str:
                return ", ".join(f"{qty} x {product_name(idx, pid)}" for pid, qty in addons.items()) or "none"
            lines.append(f"add-ons: {show(held)} -> {show(wanted)}")
        elif isinstance(held, Decimal) and isinstance(wanted, Decimal):
            cur = q.membership.currency
            lines.append(f"{key}: {round_money(held, cur)} -> {round_money(wanted, cur)}")
        elif isinstance(held, datetime) or isinstance(wanted, datetime):
            fmt = "%Y-%m-%d %H:%M:%S"
            lines.append(f"{key}: {held.strftime(fmt) if held else '-'} -> {wanted.strftime(fmt) if wanted else '-'}")
        else:
            lines.append(f"{key}: {show_value(held)} -> {show_value(wanted)}")
    return tuple(lines)


def state_differences(membership: Membership, state: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """{field: (held, wanted)} for the fields of `state` the membership does not already hold (as models)."""
    wanted = with_state(membership, state)
    return {
        key: (getattr(membership, key), getattr(wanted, key))
        for key in state
        if getattr(membership, key, None) != getattr(wanted, key, None)
    }


def um_difference(um: Limitations | None, expected: Limitations) -> str:
    """What Ultimate Multisite computes vs what wpbridge expects, per differing value:
    "UM's limits differ from wpbridge's: disk_space: UM 3000, wpbridge 7000; ..." ('-' is not set)."""
    lines = quota_changes(um, expected)
    return "UM's limits differ from wpbridge's: " + "; ".join(
        line.replace(": ", ": UM ", 1).replace(" -> ", ", wpbridge ") for line in lines)
