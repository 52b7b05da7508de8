"""Plan changes, step 1: a user's request (plan, add-ons, period, moment) parsed and resolved against the catalog
into a `Cart`; requests that cannot be priced as given are one InputError line (exit 2)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from ..billing import Cart, CatalogIndex, Quote, offered_plans
from ..errors import InputError
from ..models import Membership, Product, parse_utc

UNITS = ("day", "week", "month", "year")


INPUT_ERROR_CODES = frozenset({"plan_not_offered", "addon_not_offered", "missing-price-variations"})
"""Quote errors that are about what the user asked for (exit 2), not about the membership's state (exit 3)."""


FORCE_HINT = "add --force to use it anyway"


def forced_body(body: dict[str, object], quote: Quote) -> tuple[dict[str, object], tuple[str, ...]]:
    """A write's body with `"force": true` when `--force` let something through (UM mode refuses to schedule a plan
    of another group, an inactive plan or an unoffered add-on otherwise), and the plan's lines that say so."""
    forced = tuple(f"forced (sent with force): {w.message}" for w in quote.warnings)
    return ({**body, "force": True} if forced else body), forced


AddonRequest = Mapping[str | int, int] | Iterable[str] | None


PeriodRequest = str | tuple[int, str] | None


def parse_period(text: str) -> tuple[int, str]:
    """'N:UNIT' (1:month, 12:months, 1:year) -> (N, unit). Anything else is one InputError line."""
    match = re.fullmatch(r"\s*(\d+)\s*:\s*([a-zA-Z]+?)s?\s*", text)
    if match is None or int(match.group(1)) < 1 or match.group(2).lower() not in UNITS:
        raise InputError(
            f"period {text!r}: expected N:UNIT with N >= 1 and UNIT one of day, week, month, year (e.g. 1:year)",
            field="period",
        )
    return int(match.group(1)), match.group(2).lower()


def parse_addon(text: str) -> tuple[str, int]:
    """'SLUG|ID[:QTY]' -> (reference, quantity); QTY (default 1) is the total the membership should hold (0: none)."""
    ref, sep, qty_text = text.strip().partition(":")
    if not ref.strip() or (sep and not re.fullmatch(r"\s*\d+\s*", qty_text)):
        raise InputError(f"add-on {text!r}: expected SLUG or ID, optionally :QTY with QTY >= 0 (e.g. extra-storage:2; "
                         "0 removes it)", field="addons")
    return ref.strip(), int(qty_text) if sep else 1


def parse_at(text: str) -> datetime:
    """An ISO 8601 moment; a value without an offset is taken as UTC (as every date in wpbridge)."""
    try:
        moment = parse_utc(text.strip())  # the one date parser
    except ValueError:
        moment = None
    if moment is None:
        raise InputError(f"at {text!r}: not an ISO 8601 date-time (e.g. 2026-05-01T12:00:00Z)", field="at")
    return moment


def find_product(catalog: Sequence[Product], ref: str | int) -> Product | None:
    """A product by id (int or digits) or slug."""
    text = str(ref).strip()
    if text.isdigit():
        return next((p for p in catalog if p.id == int(text)), None)
    return next((p for p in catalog if p.slug == text), None)


def did_you_mean(ref: str | int, slugs: Sequence[str]) -> str:
    """`did you mean 'premium'?; ` for a slug mistyped or in another letter case (empty when none is close)."""
    text = str(ref).strip()
    same_case = [s for s in slugs if s.casefold() == text.casefold()]
    close = same_case or difflib.get_close_matches(text.casefold(), [s.casefold() for s in slugs], n=1, cutoff=0.7)
    if not close:
        return ""
    found = next(s for s in slugs if s.casefold() == close[0].casefold())
    return f"did you mean {found!r}?; "


def resolve_plan(catalog: Sequence[Product], ref: str | int) -> Product:
    product = find_product(catalog, ref)
    plans = ", ".join(p.slug for p in catalog if p.is_plan) or "none"
    if product is None:
        hint = did_you_mean(ref, [p.slug for p in catalog if p.is_plan])
        raise InputError(f"unknown plan {str(ref)!r}: no plan has that slug or id ({hint}plans: {plans})",
                         field="plan")
    if not product.is_plan:
        raise InputError(f"plan {str(ref)!r}: {product.name} (id {product.id}) is a {product.type}, not a plan "
                         f"(plans: {plans})", field="plan", record_id=product.id)
    return product


def resolve_addons(catalog: Sequence[Product], addons: AddonRequest) -> dict[int, tuple[Product, int]]:
    """{product_id: (product, total quantity wanted)}."""
    if addons is None:
        return {}
    pairs: list[tuple[str | int, int]]
    pairs = list(addons.items()) if isinstance(addons, Mapping) else [parse_addon(spec) for spec in addons]
    out: dict[int, tuple[Product, int]] = {}
    slugs = [p.slug for p in catalog if not p.is_plan]
    names = ", ".join(slugs) or "none"
    for ref, qty in pairs:
        if not isinstance(qty, int) or isinstance(qty, bool) or qty < 0:
            raise InputError(f"add-on {str(ref)!r}: quantity must be a whole number >= 0, got {qty!r}",
                             field="addons")
        product = find_product(catalog, ref)
        if product is None:
            hint = did_you_mean(ref, slugs)
            raise InputError(f"unknown add-on {str(ref)!r}: no product has that slug or id ({hint}add-ons: {names})",
                             field="addons")
        if product.is_plan:
            raise InputError(f"add-on {str(ref)!r}: {product.name} is a plan; choose it with --plan",
                             field="addons", record_id=product.id)
        if product.id in out:
            raise InputError(f"add-on {str(ref)!r}: {product.name} is requested twice", field="addons",
                             record_id=product.id)
        out[product.id] = (product, qty)
    return out


def resolve_period(period: PeriodRequest) -> tuple[int, str] | None:
    if period is None:
        return None
    if isinstance(period, str):
        return parse_period(period)
    duration, unit = period
    return parse_period(f"{duration}:{unit}")


def build_cart(
    membership: Membership, idx: CatalogIndex, plan: str | int | None, addons: AddonRequest, period: PeriodRequest
) -> tuple[Cart, list[str]]:
    notes: list[str] = []
    new_plan = resolve_plan(idx, plan) if plan is not None else None
    wanted = resolve_addons(idx, addons)
    duration_period = resolve_period(period)
    to_add: dict[int, int] = {}
    for pid, (product, qty) in wanted.items():
        held = membership.addon_products.get(pid, 0)
        if qty < held:  # workflows.change_removal prices these
            raise InputError(f"add-on {product.slug}:{qty}: membership {membership.id} holds {held} x {product.name}; "
                             "a removal is priced by workflows.change_removal.quote", field="addons",
                             record_id=membership.id)
        if qty == held == 0:
            notes.append(f"does not hold {product.name}: nothing to remove")
        elif qty == held:
            notes.append(f"already holds {held} x {product.name}")
        else:
            to_add[pid] = qty - held
            if held:
                notes.append(f"holds {held} x {product.name}: adds {qty - held} to reach {qty}")
    cart = Cart(
        plan_id=new_plan.id if new_plan is not None else None,
        addons=to_add,
        duration=duration_period[0] if duration_period else None,
        duration_unit=duration_period[1] if duration_period else None,
    )
    return cart, notes


def not_offered_reason(membership: Membership, idx: CatalogIndex, plan_id: int) -> str:
    """Why a plan is outside the membership's offered set, in the words of the Change form's rule."""
    current = idx.require(membership.plan_id, f"membership {membership.id}: plan_id")
    new = idx.require(plan_id, "plan")
    offered = ", ".join(p.slug for p in offered_plans(current, idx)) or "none"
    if not new.active:
        why = f"{new.name} is inactive"
    elif current.product_group:
        group = f"group {new.product_group!r}" if new.product_group else "no plan group"
        why = f"{new.name} has {group}, and the current plan {current.name} is in group {current.product_group!r}"
    else:
        why = f"the current plan {current.name} has no plan group, so only the first 3 plans by list order are offered"
    return f"plan {new.slug!r} is not offered to membership {membership.id}: {why} (offered: {offered})"


def refuse_bad_request(membership: Membership, idx: CatalogIndex, q: Quote) -> None:
    """Quote errors that are about the request itself become one InputError line (exit 2)."""
    bad = [e for e in q.errors if e.code in INPUT_ERROR_CODES]
    if not bad:
        return
    parts: list[str] = []
    for err in bad:
        if err.code == "plan_not_offered":
            parts.append(f"{not_offered_reason(membership, idx, q.new_plan_id)}; {FORCE_HINT}")
        elif err.code == "addon_not_offered":
            parts.append(f"{err.message.rstrip('.')} (membership {membership.id}); {FORCE_HINT}")
        elif err.code == "missing-price-variations":
            parts.append(f"{_periods_missing(membership, idx, q)} (UM's Cart: {err.message.rstrip('.')})")
        else:
            parts.append(err.message.rstrip("."))
    field = "period" if all(e.code == "missing-price-variations" for e in bad) else None
    raise InputError("; ".join(parts), field=field, record_id=membership.id)


def _period_words(duration: int, unit: str) -> str:
    return f"{duration} {unit}" + ("s" if duration != 1 else "")


def _periods_missing(membership: Membership, idx: CatalogIndex, q: Quote) -> str:
    """Which product of the cart has no price for the period asked, and the periods it has (`--period 1:week`)."""
    asked = (q.duration, q.duration_unit)
    ids = [q.new_plan_id, *(ln.product_id for ln in q.lines if ln.product_id), *membership.addon_products]
    named: list[str] = []
    for pid in dict.fromkeys(i for i in ids if i is not None):
        product = idx.get(pid)
        if product is None or not product.recurring:
            continue
        periods = [(product.duration, product.duration_unit),
                   *((v.duration, v.duration_unit) for v in product.price_variations)]
        if asked not in periods:
            has = ", ".join(dict.fromkeys(_period_words(d, u) for d, u in periods if d and u))
            named.append(f"{product.name} ({product.slug}) has no {_period_words(*asked)} price (its periods:"
                         f" {has or 'none'})")
    return "; ".join(named) or f"no {_period_words(*asked)} price"
