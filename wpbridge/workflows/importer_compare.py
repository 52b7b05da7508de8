"""`wpbridge import`: how a record of the file compares with the target's, field by field, and what of a
payment the target can hold. Pure: the plan (`importer_plan`) decides with these."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ..limits import differing_modules
from ..managers.flavor import Flavor
from ..models import Membership, Product, parse_utc
from ..payment_models import Payment
from .importer_records import MEMBERSHIP_FIELDS, CustomerFields, SrcCustomer, SrcMembership, SrcPayment, SrcProduct
from .importer_target import TargetCustomer, TargetSite

Differences = dict[str, tuple[Any, Any]]
"""field -> (the target's value, the file's value)."""

PRODUCT_FIELDS = (
    "name", "type", "pricing_type", "amount", "setup_fee", "currency", "recurring", "duration", "duration_unit",
    "billing_cycles", "trial_duration", "trial_duration_unit", "product_group", "list_order", "active", "taxable",
    "tax_category",
)
CANCELLED_RESETS = frozenset({"gateway", "gateway_customer_id", "gateway_subscription_id", "auto_renew"})
"""What the network itself clears when a membership is saved cancelled (UM's Membership::save(); the stub keeps
the same rule for the gateway ids and auto-renew): not compared, or a re-run would see a conflict it cannot fix."""


def customer_differences(have: TargetCustomer, c: SrcCustomer) -> Differences:
    """The customer fields the file gives that the target holds otherwise (both read by `CustomerFields`, compared
    by their dumps; a field the target does not say is not compared), and a username that differs."""
    diffs: Differences = {}
    if c.username and have.username and have.username != c.username:
        diffs["username"] = (have.username, c.username)
    held = have.model_dump(mode="json")
    want = CustomerFields.model_validate(c.fields).model_dump(mode="json")
    for name in c.fields:
        if held.get(name) is not None and held[name] != want[name]:
            diffs[name] = (getattr(have, name), c.fields[name])
    return diffs


def site_differences(have: TargetSite, title: str, type_: str) -> Differences:
    """The title and type the file gives a site that the target's holds otherwise (read by the same model)."""
    want = TargetSite(blog_id=have.blog_id, title=title, type=type_).model_dump(include={"title", "type"})
    held = have.model_dump(include={"title", "type"})
    return {name: (held[name], want[name]) for name in ("title", "type") if held[name] != want[name]}


def product_differences(have: Product, p: SrcProduct, by_id: Mapping[int, Product]) -> dict[str, tuple[Any, Any]]:
    want = p.product
    diffs: dict[str, tuple[Any, Any]] = {}
    for name in PRODUCT_FIELDS:
        a, b = getattr(have, name), getattr(want, name)
        if name == "trial_duration_unit" and not want.trial_duration:
            continue
        if name == "pricing_type" and {a, b} == {"paid", "free"} and want.amount == 0 and want.setup_fee == 0:
            continue  # a paid product at 0 is saved as free (UM's Product::save())
        if not same(a, b):
            diffs[name] = (a, b)
    have_addons = sorted(by_id[i].slug if i in by_id else str(i) for i in have.available_addons)
    if have_addons != sorted(p.addon_slugs):
        diffs["available_addons"] = (have_addons, sorted(p.addon_slugs))
    if _variations(have) != _variations(want):
        diffs["price_variations"] = (_variations(have), _variations(want))
    modules = differing_modules(have.limitations, want.limitations)
    if modules:
        diffs["limitations"] = (f"differs in {', '.join(modules)}", "the file's")
    return diffs


def _variations(p: Product) -> list[str]:
    return sorted(f"{v.duration}:{v.duration_unit}={v.amount.normalize():f}" for v in p.price_variations)


def membership_differences(have: Membership, m: SrcMembership, by_id: Mapping[int, Product]
                           ) -> dict[str, tuple[Any, Any]]:
    diffs: dict[str, tuple[Any, Any]] = {}
    plan = by_id.get(have.plan_id)
    plan_slug = plan.slug if plan else str(have.plan_id)
    if plan_slug != m.plan:
        diffs["plan"] = (plan_slug, m.plan)
    addons = {(by_id[i].slug if i in by_id else str(i)): q for i, q in have.addon_products.items()}
    if addons != m.addons:
        diffs["addons"] = (_addons_text(addons), _addons_text(m.addons))
    reset = CANCELLED_RESETS if m.fields.get("status") == "cancelled" else ()
    for name in MEMBERSHIP_FIELDS:
        if name in reset:
            continue
        if name in m.fields and hasattr(have, name) and not same(getattr(have, name), m.fields[name]):
            diffs[name] = (getattr(have, name), m.fields[name])
    if m.limitations is not None:
        modules = differing_modules(have.limitations, m.limitations)
        if modules:
            diffs["limitations"] = (f"differs in {', '.join(modules)}", "the file's")
    return diffs


STUB_HASH_MAX = 32
"""The stub's payment hash column (`varchar(32)`)."""


NOT_KEPT = {
    "hash": "their hash and pay link (Ultimate Multisite derives both from the payment's own id on this network)",
    "long-hash": f"hashes longer than {STUB_HASH_MAX} characters (the stub makes its own)",
    "invoice": "invoice numbers that are not numbers (the stub keeps invoice numbers as numbers)",
}
"""What the target cannot hold of a payment, by reason: the words of the import's summary (`not_kept`)."""


def _hash_too_long(hash_: Any) -> bool:
    return bool(hash_) and len(str(hash_)) > STUB_HASH_MAX


def _invoice_not_a_number(invoice: Any, flavor: Flavor) -> bool:
    return flavor.numeric_invoice_numbers and bool(invoice) and not str(invoice).isdigit()


def payment_not_kept(sp: SrcPayment, flavor: Flavor) -> list[tuple[str, str]]:
    """What of the file's payment the target (of this flavor) cannot hold: (reason, words), empty when everything
    is kept."""
    lost: list[tuple[str, str]] = []
    hash_ = sp.fields.get("hash")
    invoice = sp.fields.get("invoice_number")
    if hash_ and not flavor.keeps_payment_hash:
        lost.append(("hash", f"hash {hash_} (Ultimate Multisite derives a payment's hash, and its pay link, from"
                             " the payment's own id)"))
    elif flavor.keeps_payment_hash and _hash_too_long(hash_):
        lost.append(("long-hash", f"hash {hash_} (the stub keeps at most {STUB_HASH_MAX} characters; it makes"
                                  " its own)"))
    if _invoice_not_a_number(invoice, flavor):
        lost.append(("invoice", f"invoice number {invoice!r} (the stub keeps invoice numbers as numbers)"))
    return lost


def payment_kept_fields(sp: SrcPayment, flavor: Flavor) -> dict[str, Any]:
    """The file's PAYMENT_FIELDS the target (of this flavor) can hold (see `payment_not_kept`)."""
    out = dict(sp.fields)
    if not flavor.keeps_payment_hash or _hash_too_long(out.get("hash")):
        out.pop("hash", None)
    if _invoice_not_a_number(out.get("invoice_number"), flavor):
        out.pop("invoice_number", None)
    return out


LINE_MONEY = ("unit_price", "subtotal", "discount_total", "tax_rate", "tax_total", "total")
LINE_TEXT = ("id", "type", "product", "title", "description", "duration_unit")


def line_key(line: Mapping[str, Any]) -> tuple[Any, ...]:
    """A line item as compared (amounts as numbers, ids and text as given)."""
    money = tuple(Decimal(str(line.get(k) or 0)).normalize() for k in LINE_MONEY)
    text = tuple(str(line.get(k) or "") for k in LINE_TEXT)
    return (*text, int(line.get("quantity") or 0), bool(line.get("recurring")), int(line.get("duration") or 0),
            *money)


def payment_lines(payment: Payment, by_id: Mapping[int, Product]) -> list[dict[str, Any]]:
    """A target payment's line items with their product as a slug (as the file's are read)."""
    out = []
    for line in payment.line_items:
        data = line.model_dump(mode="json", exclude={"product_id"})
        data["product"] = None
        if line.product_id is not None:
            product = by_id.get(line.product_id)
            data["product"] = product.slug if product else str(line.product_id)
        out.append(data)
    return out


def change_by_slug(change: Mapping[str, Any], by_id: Mapping[int, Product]) -> dict[str, Any]:
    """A target payment's `wpbridge` meta with the products of `before`/`target` as slugs (as the file's)."""
    out = dict(change)
    for side in ("before", "target"):
        state = dict(out.get(side) or {})
        if "plan_id" in state:
            state["plan"] = _slug(by_id, state.pop("plan_id"))
        if "addon_products" in state:
            raw = state.pop("addon_products") or {}
            state["addons"] = {_slug(by_id, i): int(q) for i, q in dict(raw).items()}
        out[side] = state
    return out


def change_with_ids(change: Mapping[str, Any], ids: Mapping[str, int]) -> dict[str, Any]:
    """The file's change meta with the products of `before`/`target` as the target's ids."""
    out = dict(change)
    for side in ("before", "target"):
        state = dict(out.get(side) or {})
        if "plan" in state:
            slug = state.pop("plan")
            state["plan_id"] = ids.get(slug) if slug is not None else None
        if "addons" in state:
            state["addon_products"] = {str(ids[s]): q for s, q in dict(state.pop("addons")).items() if s in ids}
        out[side] = state
    return out


def _slug(by_id: Mapping[int, Product], pid: Any) -> str:
    """The slug of product `pid` on the target (its id as text when the catalog has no such product)."""
    try:
        product = by_id.get(int(pid))
    except (TypeError, ValueError):
        product = None
    return product.slug if product is not None else str(pid)


def payment_differences(have: Payment, sp: SrcPayment, by_id: Mapping[int, Product], flavor: Flavor
                        ) -> dict[str, tuple[Any, Any]]:
    """The fields of the file's payment that the target's (found by source key) holds otherwise; what the target
    cannot hold (`payment_not_kept`) and `date_modified` (the target's own) are not compared."""
    diffs: dict[str, tuple[Any, Any]] = {}
    for name, value in payment_kept_fields(sp, flavor).items():
        if name == "date_modified":
            continue
        if not same(getattr(have, name), value):
            diffs[name] = (getattr(have, name), value)
    product = _slug(by_id, have.product_id) if have.product_id is not None else None
    if product != sp.product:
        diffs["product"] = (product, sp.product)
    have_lines = payment_lines(have, by_id)
    if [line_key(x) for x in have_lines] != [line_key(x) for x in sp.lines]:
        diffs["line_items"] = (f"{len(have_lines)} lines", f"the file's {len(sp.lines)} lines")
    have_change = change_by_slug(have.wpbridge.model_dump(mode="json"), by_id) if have.wpbridge else None
    if not same(have_change or {}, sp.change or {}):
        diffs["wpbridge"] = ("the target's change" if have_change else None,
                             "the file's change" if sp.change else None)
    return diffs


def _addons_text(addons: Mapping[str, int]) -> str:
    return ";".join(f"{k}:{v}" for k, v in sorted(addons.items())) or "none"


def scheduled_target(target: Mapping[str, Any], by_slug: Mapping[str, Product]) -> dict[str, Any] | None:
    """A scheduled change's target with the file's slugs turned into the target's product ids (None: a product
    is missing)."""
    out = {k: v for k, v in target.items() if k not in ("plan", "addons")}
    if "plan" in target:
        plan = by_slug.get(str(target["plan"]))
        if plan is None:
            return None
        out["plan_id"] = plan.id
    if "addons" in target:
        addons: dict[str, int] = {}
        for slug, qty in dict(target["addons"]).items():
            product = by_slug.get(slug)
            if product is None:
                return None
            addons[str(product.id)] = int(qty)
        out["addon_products"] = addons
    return out


def same(a: Any, b: Any) -> bool:
    """Equal as UM means it: amounts as numbers, dates to the second in UTC, "" as none, maps as maps."""
    if _blank(a) or _blank(b):
        return _nothing(a) and _nothing(b)
    for kinds, compare in _BY_TYPE:
        if isinstance(a, kinds) or isinstance(b, kinds):
            return compare(a, b)
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return all(same(a.get(k), b.get(k)) for k in set(a) | set(b))
    if isinstance(a, str) and isinstance(b, str):
        return a == b or _same_number(a, b)
    return bool(a == b)


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and v == "")


def _nothing(v: Any) -> bool:
    return _blank(v) or (isinstance(v, dict | list) and not v)


def _same_bool(a: Any, b: Any) -> bool:
    return _as_bool(a) == _as_bool(b)


def _same_number(a: Any, b: Any) -> bool:
    try:
        return Decimal(str(a)) == Decimal(str(b))
    except InvalidOperation:
        return False


def _same_moment(a: Any, b: Any) -> bool:
    try:
        da, db = parse_utc(a), parse_utc(b)
    except ValueError:
        return False
    return da is not None and db is not None and da.replace(microsecond=0) == db.replace(microsecond=0)


_BY_TYPE: tuple[tuple[type | tuple[type, ...], Callable[[Any, Any], bool]], ...] = (
    (bool, _same_bool), ((Decimal, int, float), _same_number), (datetime, _same_moment),
)
"""Compared by the first kind either value is (bool before int: a bool is an int)."""


def _as_bool(v: Any) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "yes")
    return bool(v)
