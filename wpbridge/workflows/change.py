"""Plan changes for one membership, end to end: `options`, `quote`, `apply` (and `describe`, what it holds now).

The pure core decides (`billing.change_options`, `billing.quote_change`, `limits.effective_limitations`); this
module reads what it needs through a `NetworkReader`, turns a user's request into a `Cart`, and writes back
absolute state through a `NetworkWriter`.

Why apply is safe to re-run (scripts, crashes):
- Add-on quantities in a request are the TOTAL the membership should hold (`extra-storage:2` = hold 2), not a
  number to buy: the cart buys only the difference, so a second identical request buys nothing. A plain "buy 2
  more" could not be told apart from a retry.
- An upgrade or add-on purchase writes the membership's absolute new state (`Quote.target`), then reconciles each
  site's quota with the membership's effective limitations, writing only the sites that differ. After the
  membership write the same request quotes as `no_change` (the membership already is in that state), and a
  `no_change` apply still reconciles the quotas: so a run that died between the two writes is finished by the
  next one, and a run after a complete one writes nothing.
- A downgrade only stores the scheduled change (absolute PUT, one per membership); the same one already stored
  is not written again.
- Everything written is read back and compared (`ApplyResult.verification`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from ..billing import Cart, CatalogIndex, ChangeOptions, Quote, change_options, offered_plans, quote_change
from ..billing.result import Policy
from ..errors import InputError, NotFound, WPBridgeError
from ..limits import differing_modules, effective_limitations
from ..models import Limitations, Membership, Product, ScheduledChange, Site, SiteUsage, parse_utc
from ..money import round_money
from . import NetworkReader, NetworkWriter
from .membership_state import with_state

UNITS = ("day", "week", "month", "year")
INPUT_ERROR_CODES = frozenset({"plan_not_offered", "addon_not_offered", "missing-price-variations"})
"""Quote errors that are about what the user asked for (exit 2), not about the membership's state (exit 3)."""
FORCE_HINT = "add --force to use it anyway"

AddonRequest = Mapping[str | int, int] | Iterable[str] | None
PeriodRequest = str | tuple[int, str] | None


# --------------------------------------------------------------------------- request parsing


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
    """'SLUG|ID[:QTY]' -> (reference, quantity); QTY (default 1) is the total the membership should hold."""
    ref, sep, qty_text = text.strip().partition(":")
    if not ref.strip() or (sep and not re.fullmatch(r"\s*\d+\s*", qty_text)) or (sep and int(qty_text) < 1):
        raise InputError(f"add-on {text!r}: expected SLUG or ID, optionally :QTY with QTY >= 1 (e.g. extra-storage:2)",
                         field="addons")
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


def _resolve_plan(catalog: Sequence[Product], ref: str | int) -> Product:
    product = find_product(catalog, ref)
    plans = ", ".join(p.slug for p in catalog if p.is_plan) or "none"
    if product is None:
        raise InputError(f"unknown plan {str(ref)!r}: no plan has that slug or id (plans: {plans})", field="plan")
    if not product.is_plan:
        raise InputError(f"plan {str(ref)!r}: {product.name} (id {product.id}) is a {product.type}, not a plan "
                         f"(plans: {plans})", field="plan", record_id=product.id)
    return product


def _resolve_addons(catalog: Sequence[Product], addons: AddonRequest) -> dict[int, tuple[Product, int]]:
    """{product_id: (product, total quantity wanted)}."""
    if addons is None:
        return {}
    pairs: list[tuple[str | int, int]]
    pairs = list(addons.items()) if isinstance(addons, Mapping) else [parse_addon(spec) for spec in addons]
    out: dict[int, tuple[Product, int]] = {}
    names = ", ".join(p.slug for p in catalog if not p.is_plan) or "none"
    for ref, qty in pairs:
        if not isinstance(qty, int) or isinstance(qty, bool) or qty < 1:
            raise InputError(f"add-on {str(ref)!r}: quantity must be a whole number >= 1, got {qty!r}",
                             field="addons")
        product = find_product(catalog, ref)
        if product is None:
            raise InputError(f"unknown add-on {str(ref)!r}: no product has that slug or id (add-ons: {names})",
                             field="addons")
        if product.is_plan:
            raise InputError(f"add-on {str(ref)!r}: {product.name} is a plan; choose it with --plan",
                             field="addons", record_id=product.id)
        if product.id in out:
            raise InputError(f"add-on {str(ref)!r}: {product.name} is requested twice", field="addons",
                             record_id=product.id)
        out[product.id] = (product, qty)
    return out


def _resolve_period(period: PeriodRequest) -> tuple[int, str] | None:
    if period is None:
        return None
    if isinstance(period, str):
        return parse_period(period)
    duration, unit = period
    return parse_period(f"{duration}:{unit}")


# --------------------------------------------------------------------------- reading


def load_membership(network: NetworkReader, membership_id: int) -> Membership:
    """The membership, or InputError (exit 2) when it does not exist."""
    try:
        return network.membership(membership_id)
    except NotFound:
        raise InputError(f"membership {membership_id} does not exist", record_id=membership_id) from None


def owned_sites(network: NetworkReader, membership_id: int) -> list[Site]:
    """The membership's own sites, by blog_id: only those positively read as its customer-owned sites (the safety
    invariant, DESIGN §3.3). The server's filter is never trusted: each record is checked here."""
    return sorted((s for s in network.sites(membership_id=membership_id) if s.belongs_to(membership_id)),
                  key=lambda s: s.blog_id)


def _product_ref(idx: CatalogIndex, product_id: int) -> dict[str, Any]:
    product = idx.get(product_id)
    if product is None:
        return {"id": product_id, "slug": None, "name": f"product {product_id}"}
    return {"id": product.id, "slug": product.slug, "name": product.name}


def product_name(idx: CatalogIndex, product_id: int) -> str:
    product = idx.get(product_id)
    return product.name if product is not None else f"product {product_id}"


# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class OptionsResult:
    """What the customer's Change form offers (the pricing engine's `ChangeOptions`), with the membership."""

    membership: Membership
    catalog: CatalogIndex
    options: ChangeOptions

    def as_dict(self) -> dict[str, Any]:
        o = self.options
        return {
            "membership_id": self.membership.id,
            "current_plan": _product_ref(self.catalog, o.current_plan_id),
            "currency": o.currency,
            "plans": [
                {
                    "id": p.product.id, "slug": p.product.slug, "name": p.product.name, "relation": p.relation,
                    "current": p.is_current, "amount": p.amount, "duration": p.duration,
                    "duration_unit": p.duration_unit, "setup_fee": p.setup_fee,
                    "prices": [pr.model_dump(mode="json") for pr in p.prices],
                }
                for p in o.plans
            ],
            "addons": [
                {
                    "id": a.product.id, "slug": a.product.slug, "name": a.product.name, "type": a.product.type,
                    "amount": a.amount, "recurring": a.recurring, "duration": a.duration,
                    "duration_unit": a.duration_unit, "setup_fee": a.setup_fee, "owned": a.owned,
                }
                for a in o.addons
            ],
            "periods": [p.model_dump(mode="json") for p in o.periods],
        }


def options(network: NetworkReader, membership_id: int) -> OptionsResult:
    """The plans (current one marked, upgrade or downgrade), add-ons and periods the membership is offered."""
    membership = load_membership(network, membership_id)
    idx = CatalogIndex(network.catalog())
    return OptionsResult(membership, idx, change_options(membership, idx))


# --------------------------------------------------------------------------- quote


@dataclass(frozen=True)
class QuoteResult:
    """A priced request and everything it was priced from (the CLI renders it; `apply` carries it out)."""

    membership: Membership
    catalog: CatalogIndex
    sites: list[Site]
    usage: dict[int, SiteUsage]
    cart: Cart
    quote: Quote
    now: datetime
    notes: list[str] = field(default_factory=list)
    scheduled: ScheduledChange | None = None

    @property
    def kind(self) -> str:
        return self.quote.kind

    @property
    def message(self) -> str:
        """The no-change or blocked message ('' for a quote that can be applied)."""
        return self.quote.message

    def new_state(self) -> Membership:
        """The membership as it will be once the quote's target is written (itself when there is nothing)."""
        return with_state(self.membership, self.quote.target or {})

    def as_dict(self) -> dict[str, Any]:
        q, m, idx = self.quote, self.membership, self.catalog
        return {
            "membership_id": m.id,
            "customer_id": m.customer_id,
            "kind": q.kind,
            "policy": q.policy,
            "at": self.now,
            "message": q.message,
            "errors": [e.model_dump() for e in q.errors],
            "warnings": [w.model_dump() for w in q.warnings],
            "notes": list(self.notes),
            "current": {
                "plan": _product_ref(idx, m.plan_id),
                "addons": [{**_product_ref(idx, pid), "quantity": qty} for pid, qty in m.addon_products.items()],
                "amount": m.amount, "duration": m.duration, "duration_unit": m.duration_unit, "status": m.status,
                "date_expiration": m.date_expiration,
            },
            "new": {
                "plan": _product_ref(idx, q.new_plan_id),
                "addons_added": [{**_product_ref(idx, pid), "quantity": qty} for pid, qty in self.cart.addons.items()],
                "duration": q.duration, "duration_unit": q.duration_unit,
            },
            "currency": q.currency,
            "lines": [line.model_dump(mode="json") for line in q.lines],
            "credit": q.credit,
            "setup_fee_credit": q.setup_fee_credit,
            "due_now": q.due_now,
            "unused_credit": q.unused_credit,
            "recurring_total": q.recurring_total,
            "next_charge_at": q.next_charge_at,
            "scheduled_for": q.scheduled_for,
            "target": q.target,
            "um_version": q.um_version,
            "deviations": [d.model_dump() for d in q.deviations],
        }


def state_differences(membership: Membership, state: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """{field: (held, wanted)} for the fields of `state` the membership does not already hold (as models)."""
    wanted = with_state(membership, state)
    return {
        key: (getattr(membership, key), getattr(wanted, key))
        for key in state
        if getattr(membership, key, None) != getattr(wanted, key, None)
    }


def _build_cart(
    membership: Membership, idx: CatalogIndex, plan: str | int | None, addons: AddonRequest, period: PeriodRequest
) -> tuple[Cart, list[str]]:
    notes: list[str] = []
    new_plan = _resolve_plan(idx, plan) if plan is not None else None
    wanted = _resolve_addons(idx, addons)
    duration_period = _resolve_period(period)
    to_add: dict[int, int] = {}
    for pid, (product, qty) in wanted.items():
        held = membership.addon_products.get(pid, 0)
        if qty < held:
            raise InputError(
                f"add-on {product.slug}:{qty}: membership {membership.id} already holds {held} x {product.name}; "
                "quantities are the total to hold, and removing add-ons is not supported here",
                field="addons", record_id=membership.id,
            )
        if qty == held:
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


def _not_offered_reason(membership: Membership, idx: CatalogIndex, plan_id: int) -> str:
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


def _refuse_bad_request(membership: Membership, idx: CatalogIndex, q: Quote) -> None:
    """Quote errors that are about the request itself become one InputError line (exit 2)."""
    bad = [e for e in q.errors if e.code in INPUT_ERROR_CODES]
    if not bad:
        return
    parts: list[str] = []
    for err in bad:
        if err.code == "plan_not_offered":
            parts.append(f"{_not_offered_reason(membership, idx, q.new_plan_id)}; {FORCE_HINT}")
        elif err.code == "addon_not_offered":
            parts.append(f"{err.message.rstrip('.')} (membership {membership.id}); {FORCE_HINT}")
        else:
            parts.append(err.message.rstrip("."))
    raise InputError("; ".join(parts), record_id=membership.id)


def quote(
    network: NetworkReader,
    membership_id: int,
    *,
    now: datetime,
    plan: str | int | None = None,
    addons: AddonRequest = None,
    period: PeriodRequest = None,
    policy: Policy = "ultimate-multisite",
    force: bool = False,
    um_version: str | None = None,
) -> QuoteResult:
    """Price a change of `membership_id` at `now`.

    `plan`: a slug or id (None keeps the current plan). `addons`: specs 'SLUG|ID[:QTY]' or {slug or id: QTY},
    QTY being the total the membership should hold. `period`: 'N:UNIT' or (N, unit). `force` accepts a plan or
    add-on outside the offered set. A request that cannot be priced as given raises InputError; a valid request
    always returns a quote, also when its kind is "no_change" or "blocked" (the message says why).
    `um_version`: the UM release whose Cart prices the change (default: the one the network reports).
    """
    if now.tzinfo is None:
        raise InputError("now: a timezone-aware date-time is required", field="now")
    membership = load_membership(network, membership_id)
    idx = CatalogIndex(network.catalog())
    cart, notes = _build_cart(membership, idx, plan, addons, period)
    sites = owned_sites(network, membership.id)
    usage = network.usage([s.blog_id for s in sites]) if sites else {}
    if um_version is None:
        um_version = network.info().um_version
    q = quote_change(membership, idx, cart, now=now, usage=usage, policy=policy, force=force,
                     sites={s.blog_id: s for s in sites}, um_version=um_version)
    _refuse_bad_request(membership, idx, q)
    notes += [f"forced: {w.message}" for w in q.warnings]
    scheduled = network.scheduled_change(membership.id)
    if scheduled is not None and q.kind in ("upgrade", "addon"):
        notes.append(
            f"a change to {product_name(idx, int(scheduled.target.get('plan_id', 0) or 0))} is scheduled for "
            f"{scheduled.scheduled_for:%Y-%m-%d %H:%M} UTC; it stays scheduled"
        )
    return QuoteResult(membership, idx, sites, usage, cart, q, now.astimezone(UTC), notes, scheduled)


# --------------------------------------------------------------------------- apply

WriteKind = Literal["membership", "site_quota", "scheduled_change"]
ApplyStatus = Literal["applied", "scheduled", "unchanged", "blocked", "dry_run", "declined", "failed"]


@dataclass(frozen=True)
class Write:
    """One absolute write: the request that carries it, what it changes (human lines) and the body sent."""

    kind: WriteKind
    record_id: int
    method: str
    path: str
    changes: tuple[str, ...]
    body: Any

    def describe(self) -> str:
        return f"{self.method} {self.path}: " + ("; ".join(self.changes) or "(same state)")

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "record_id": self.record_id, "method": self.method, "path": self.path,
                "changes": list(self.changes), "body": self.body}


@dataclass(frozen=True)
class Check:
    """One read-back comparison after writing."""

    what: str
    ok: bool
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"what": self.what, "ok": self.ok, "detail": self.detail}


@dataclass
class ApplyResult:
    """What `apply` decided and did: the planned writes, those performed, those that failed, the read-back."""

    status: ApplyStatus
    quote: QuoteResult
    message: str
    planned: list[Write] = field(default_factory=list)
    performed: list[Write] = field(default_factory=list)
    failed: list[tuple[Write, str]] = field(default_factory=list)
    verification: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """The request is carried out (or already was) and everything written reads back as intended."""
        return self.status in ("applied", "scheduled", "unchanged", "dry_run") and not self.failed and all(
            c.ok for c in self.verification
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "ok": self.ok,
            "message": self.message,
            "quote": self.quote.as_dict(),
            "planned": [w.as_dict() for w in self.planned],
            "performed": [w.as_dict() for w in self.performed],
            "failed": [{**w.as_dict(), "error": err} for w, err in self.failed],
            "verification": [c.as_dict() for c in self.verification],
        }


Confirm = Callable[[QuoteResult, list[Write]], bool]
AfterWrite = Callable[[Write], None]


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


def _quota_display(limits: Limitations | None) -> dict[str, str]:
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
            out[key] = _show_limit(key, values[key])
        else:
            out[key] = "on"
    return out


def _show_limit(key: str, value: Any) -> str:
    if key == "domain_mapping" and isinstance(value, bool):
        return "unlimited" if value else "none"
    if isinstance(value, int) and not isinstance(value, bool) and value == 0:
        return "unlimited"
    return _show(value)


def quota_changes(held: Limitations | None, wanted: Limitations) -> tuple[str, ...]:
    """Human lines for what changes in a site's quota ('disk_space: 100 -> 5000'); '-' is 'not set'."""
    old, new = _quota_display(held), _quota_display(wanted)
    lines = [f"{key}: {old.get(key, '-')} -> {new.get(key, '-')}" for key in sorted(old.keys() | new.keys())
             if old.get(key) != new.get(key)]
    return tuple(lines) or ("(same values, stored differently)",)


def _show(value: Any) -> str:
    if value is None:
        return "unset"
    if value is True or value is False:
        return str(value).lower()
    return str(value)


def _membership_changes(q: QuoteResult, state: Mapping[str, Any]) -> tuple[str, ...]:
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
            lines.append(f"{key}: {_show(held)} -> {_show(wanted)}")
    return tuple(lines)


def _quota_plan(network: NetworkReader, q: QuoteResult, new_state: Membership) -> tuple[list[Write],
                                                                                     dict[int, Limitations]]:
    """The quota writes that bring each site of the membership to its effective limitations (only differences),
    and every site's expected quota (for the read-back)."""
    expected = {s.blog_id: effective_limitations(new_state, q.catalog, site=s) for s in q.sites}
    held = dict(network.site_quotas(list(expected))) if expected else {}
    writes = []
    for blog_id, want in expected.items():
        have = held.get(blog_id)
        if differing_modules(want, have):
            writes.append(Write("site_quota", blog_id, "PUT", f"/wpbridge/v1/sites/{blog_id}/quota",
                                quota_changes(have, want), want.to_wire()))
    return writes, expected


def _same_target(a: Mapping[str, Any], b: Mapping[str, Any], base: Membership) -> bool:
    """Two target states are the same when they leave the membership the same (compared as models, so wire
    spellings such as '39.00' and '39.0000' or a date's format do not count)."""
    keys = set(a) | set(b)
    left, right = with_state(base, a), with_state(base, b)
    return all(getattr(left, k, None) == getattr(right, k, None) for k in keys)


def plan_writes(network: NetworkReader, q: QuoteResult) -> tuple[list[Write], dict[int, Limitations], str]:
    """The writes `apply` would make for this quote (reads only), the expected quotas, and what they achieve."""
    kind, target, m = q.quote.kind, q.quote.target, q.membership
    if kind == "blocked":
        return [], {}, q.message
    if kind == "downgrade" and q.quote.scheduled_for is not None and target is not None:
        change = ScheduledChange(membership_id=m.id, scheduled_for=q.quote.scheduled_for, target=target,
                                 note=f"downgrade to {product_name(q.catalog, q.quote.new_plan_id)} (wpbridge)")
        if q.scheduled is not None and q.scheduled.scheduled_for == change.scheduled_for and _same_target(
            q.scheduled.target, target, m
        ):
            return [], {}, (f"already scheduled: {product_name(q.catalog, q.quote.new_plan_id)} from "
                            f"{change.scheduled_for:%Y-%m-%d %H:%M} UTC; nothing written")
        replaces = " (replaces the change scheduled before)" if q.scheduled is not None else ""
        body = change.model_dump(mode="json", include={"scheduled_for", "target", "note"})
        write = Write("scheduled_change", m.id, "PUT", f"/wpbridge/v1/memberships/{m.id}/scheduled-change",
                      (f"at {change.scheduled_for:%Y-%m-%d %H:%M:%S} UTC{replaces}",
                       *_membership_changes(q, target)), body)
        return [write], {}, (f"downgrade to {product_name(q.catalog, q.quote.new_plan_id)} scheduled for "
                             f"{change.scheduled_for:%Y-%m-%d %H:%M} UTC (due now 0)")
    writes: list[Write] = []
    new_state = m
    if kind != "no_change" and target is not None:
        writes.append(Write("membership", m.id, "PUT", f"/wu/v2/membership/{m.id}", _membership_changes(q, target),
                            dict(target)))
        new_state = with_state(m, target)
    quota_writes, expected = _quota_plan(network, q, new_state)
    writes += quota_writes
    if kind == "no_change":
        what = f"membership {m.id} is already in that state"
        what += (f"; {len(quota_writes)} site quota(s) to bring in line" if quota_writes
                 else "; its sites' quotas match; nothing written")
    else:
        what = f"{kind} of membership {m.id} to {product_name(q.catalog, q.quote.new_plan_id)}"
    return writes, expected, what


def apply(
    network: NetworkWriter,
    membership_id: int,
    *,
    now: datetime,
    plan: str | int | None = None,
    addons: AddonRequest = None,
    period: PeriodRequest = None,
    policy: Policy = "ultimate-multisite",
    force: bool = False,
    um_version: str | None = None,
    dry_run: bool = False,
    confirm: Confirm | None = None,
    after_write: AfterWrite | None = None,
) -> ApplyResult:
    """Quote the change, then carry it out (see the module docstring) unless `dry_run` or `confirm` says no.

    `confirm(quote, writes)` is asked before anything is written (not asked when there is nothing to write).
    `after_write(write)` is called after each write succeeds (progress reporting; tests inject crashes there).
    """
    q = quote(network, membership_id, now=now, plan=plan, addons=addons, period=period, policy=policy, force=force,
              um_version=um_version)
    return apply_quote(network, q, dry_run=dry_run, confirm=confirm, after_write=after_write)


def apply_quote(
    network: NetworkWriter,
    q: QuoteResult,
    *,
    dry_run: bool = False,
    confirm: Confirm | None = None,
    after_write: AfterWrite | None = None,
) -> ApplyResult:
    """Carry out a quote made by `quote()` (against the same network, just before)."""
    if q.kind == "blocked":
        return ApplyResult("blocked", q, q.message or "the change is blocked")
    writes, expected, what = plan_writes(network, q)
    if not writes:
        return ApplyResult("unchanged", q, what)
    if dry_run:
        return ApplyResult("dry_run", q, f"{what}; {len(writes)} write(s) not made", planned=writes)
    if confirm is not None and not confirm(q, writes):
        return ApplyResult("declined", q, "not confirmed: nothing written", planned=writes)
    result = ApplyResult("applied", q, what, planned=writes)
    for write in writes:
        if write.kind == "membership":
            network.update_membership(write.record_id, write.body)
            result.performed.append(write)
            if after_write is not None:
                after_write(write)
        elif write.kind == "scheduled_change":
            network.put_scheduled_change(ScheduledChange.model_validate({"membership_id": write.record_id,
                                                                         **write.body}))
            result.performed.append(write)
            result.status = "scheduled"
            if after_write is not None:
                after_write(write)
    _write_quotas(network, [w for w in writes if w.kind == "site_quota"], expected, result, after_write)
    result.verification = _verify(network, q, result, expected)
    if result.failed or not all(c.ok for c in result.verification):
        result.status = "failed"
        result.message = f"{what}: " + "; ".join(
            [f"{w.describe()} failed: {err}" for w, err in result.failed]
            + [f"{c.what}: {c.detail}" for c in result.verification if not c.ok]
        )
    return result


def _write_quotas(network: NetworkWriter, writes: list[Write], expected: Mapping[int, Limitations],
                  result: ApplyResult, after_write: AfterWrite | None) -> None:
    if not writes:
        return
    outcome = network.put_site_quotas({w.record_id: expected[w.record_id] for w in writes})
    failed = {item.key: item for item in getattr(outcome, "failed", [])}
    for write in writes:
        item = failed.get(write.record_id)
        if item is None:
            result.performed.append(write)
            if after_write is not None:
                after_write(write)
        else:
            result.failed.append((write, str(item.error) if item.error else f"status {item.status}"))


def _verify(network: NetworkWriter, q: QuoteResult, result: ApplyResult,
            expected: Mapping[int, Limitations]) -> list[Check]:
    checks: list[Check] = []
    m = q.membership
    kinds = {w.kind for w in result.performed}
    if "membership" in kinds and q.quote.target is not None:
        try:
            diff = state_differences(network.membership(m.id), q.quote.target)
        except WPBridgeError as err:
            checks.append(Check(f"membership {m.id}", False, f"could not read it back: {err}"))
        else:
            detail = "; ".join(f"{k}: server has {_show(h)}, expected {_show(w)}" for k, (h, w) in diff.items())
            checks.append(Check(f"membership {m.id}", not diff, detail or "reads back as written"))
    if "scheduled_change" in kinds and q.quote.target is not None:
        stored = network.scheduled_change(m.id)
        ok = stored is not None and stored.scheduled_for == q.quote.scheduled_for and _same_target(
            stored.target, q.quote.target, m)
        checks.append(Check(f"scheduled change of membership {m.id}", ok,
                            "reads back as written" if ok else f"server has {stored!r}"))
    if expected and any(w.kind == "site_quota" for w in result.planned):
        held = dict(network.site_quotas(list(expected)))
        for blog_id, want in expected.items():
            differ = differing_modules(want, held.get(blog_id))
            checks.append(Check(f"site {blog_id} quota", not differ,
                                f"differs in {', '.join(differ)}" if differ else "matches the membership"))
    return checks


# --------------------------------------------------------------------------- what a membership holds now


@dataclass(frozen=True)
class SiteDetail:
    site: Site
    quota: Limitations | None
    expected: Limitations
    usage: SiteUsage | None

    @property
    def in_sync(self) -> bool:
        return not differing_modules(self.expected, self.quota)


@dataclass(frozen=True)
class MembershipDetail:
    """A membership with its plan, add-ons, sites (stored and expected quota, usage) and scheduled change."""

    membership: Membership
    catalog: CatalogIndex
    effective: Limitations
    sites: list[SiteDetail]
    scheduled: ScheduledChange | None

    def as_dict(self) -> dict[str, Any]:
        m, idx = self.membership, self.catalog
        return {
            "membership": m.model_dump(mode="json"),
            "plan": _product_ref(idx, m.plan_id),
            "addons": [{**_product_ref(idx, pid), "quantity": qty} for pid, qty in m.addon_products.items()],
            "effective_quota": self.effective.to_wire(),
            "sites": [
                {
                    "blog_id": d.site.blog_id, "domain": d.site.domain, "path": d.site.path, "title": d.site.title,
                    "quota": d.quota.to_wire() if d.quota is not None else None,
                    "quota_in_sync": d.in_sync,
                    "usage": d.usage.model_dump(mode="json") if d.usage is not None else None,
                }
                for d in self.sites
            ],
            "scheduled_change": self.scheduled.model_dump(mode="json") if self.scheduled is not None else None,
        }


def describe(network: NetworkReader, membership_id: int) -> MembershipDetail:
    """Everything `memberships show` prints, read in a handful of requests."""
    m = load_membership(network, membership_id)
    idx = CatalogIndex(network.catalog())
    sites = owned_sites(network, m.id)
    ids = [s.blog_id for s in sites]
    quotas = dict(network.site_quotas(ids)) if ids else {}
    usage = network.usage(ids) if ids else {}
    details = [SiteDetail(s, quotas.get(s.blog_id), effective_limitations(m, idx, site=s), usage.get(s.blog_id))
               for s in sites]
    return MembershipDetail(m, idx, effective_limitations(m, idx), details, network.scheduled_change(m.id))
