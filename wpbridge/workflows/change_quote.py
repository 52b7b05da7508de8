"""Plan changes, step 2: read the membership, its catalog and its own sites, and price the request
(`options`, `quote`). The pure core decides (`billing.change_options`, `billing.quote_change`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..billing import (
    Cart,
    CatalogIndex,
    ChangeOptions,
    Quote,
    TaxLocation,
    TaxSettings,
    change_options,
    quote_change,
    tax_location,
)
from ..billing.discounts import code_refusal
from ..billing.gateways import GatewayEffect, gateway_effect
from ..billing.result import Policy
from ..errors import InputError, NotFound
from ..managers.flavor import STUB, Flavor, flavor_of
from ..managers.taxes import CustomerTax
from ..models import DiscountCode, Membership, ScheduledChange, Site, SiteUsage, parse_utc
from . import NetworkReader
from .change_request import AddonRequest, PeriodRequest, build_cart, refuse_bad_request
from .change_view import product_name, product_ref
from .membership_state import with_state


def load_membership(network: NetworkReader, membership_id: int) -> Membership:
    """The membership, or InputError (exit 2) when it does not exist."""
    try:
        return network.memberships.get(membership_id)
    except NotFound:
        raise InputError(f"membership {membership_id} does not exist", record_id=membership_id) from None


def owned_sites(network: NetworkReader, membership_id: int) -> list[Site]:
    """The membership's own sites, by blog_id: only those positively read as its customer-owned sites (the safety
    invariant, DESIGN §3.3). The server's filter is never trusted: each record is checked here."""
    return sorted((s for s in network.sites.list(membership_id=membership_id) if s.belongs_to(membership_id)),
                  key=lambda s: s.blog_id)


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
            "current_plan": product_ref(self.catalog, o.current_plan_id),
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
    idx = CatalogIndex(network.products.catalog())
    return OptionsResult(membership, idx, change_options(membership, idx))


SOURCE_WORDS = {"cart": "given (--country)", "billing": "billing address", "ip": "IP country",
                "renewal": "membership's billing address", "none": "no country known: no tax"}
"""Why a quote was taxed where it was, in words (`QuoteTaxes.source_words`)."""


@dataclass(frozen=True)
class QuoteTaxes:
    """The taxes a quote was priced with: the network's settings (on), the location UM's Cart would use (the
    cart's country from --country, else the customer's billing country, else their IP country) and whether the
    customer is exempt."""

    settings: TaxSettings
    location: TaxLocation
    exempt: bool

    @property
    def source_words(self) -> str:
        return SOURCE_WORDS.get(self.location.source, self.location.source)

    def as_dict(self) -> dict[str, Any]:
        loc = self.location
        return {"enabled": self.settings.enabled, "inclusive": self.settings.inclusive, "exempt": self.exempt,
                "location": {"country": loc.country, "state": loc.state, "city": loc.city, "source": loc.source}}


def quote_taxes(network: NetworkReader, customer_id: int, cart: TaxLocation | None) -> QuoteTaxes | None:
    """The network's taxes for a change of this customer's membership, None when the network collects none (or
    cannot say: an offline snapshot, whose `taxes` is None). The location is UM's (`billing.tax_location`)."""
    api = network.taxes
    if api is None:
        return None
    settings = api.settings()
    if not settings.enabled:
        return None
    facts = api.customer(customer_id) if customer_id else CustomerTax(0)
    return QuoteTaxes(settings, tax_location(cart, facts.billing_country, facts.ip_country), facts.tax_exempt)


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
    gateway: GatewayEffect | None = None
    """What UM's save of this change does to the membership's gateway subscription (UM mode; None in stub mode,
    where no gateway is told anything, and when nothing is written)."""
    flavor: Flavor = STUB
    """The flavor of the network the quote was made on (what `apply` writes, and how it reads them back)."""
    taxes: QuoteTaxes | None = None
    """The network's taxes the quote was priced with, where and why (None: taxes off, or not known offline)."""
    discount_code: DiscountCode | None = None
    """The code given (`--discount-code`), as read from the network (None: none given)."""

    @property
    def kind(self) -> str:
        return self.quote.kind

    @property
    def message(self) -> str:
        """The no-change or blocked message ('' for a quote that can be applied)."""
        return self.quote.message

    def removed(self) -> dict[int, int]:
        """{product_id: quantity} of the add-ons this change holds fewer of (workflows.change_removal), else {}."""
        if self.quote.target is None or self.quote.new_plan_id != self.membership.plan_id:
            return {}
        held, wanted = self.membership.addon_products, self.new_state().addon_products
        return {pid: qty - wanted.get(pid, 0) for pid, qty in held.items() if wanted.get(pid, 0) < qty}

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
                "plan": product_ref(idx, m.plan_id),
                "addons": [{**product_ref(idx, pid), "quantity": qty} for pid, qty in m.addon_products.items()],
                "amount": m.amount, "duration": m.duration, "duration_unit": m.duration_unit, "status": m.status,
                "date_expiration": m.date_expiration,
            },
            "new": {
                "plan": product_ref(idx, q.new_plan_id),
                "addons_added": [{**product_ref(idx, pid), "quantity": qty} for pid, qty in self.cart.addons.items()],
                "addons_removed": [{**product_ref(idx, pid), "quantity": qty} for pid, qty in self.removed().items()],
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
            "target": _moments_iso(q.target),
            "um_version": q.um_version,
            "deviations": [d.model_dump() for d in q.deviations],
            "gateway": dataclasses.asdict(self.gateway) if self.gateway is not None else None,
            "tax_total": q.tax_total,
            "taxes": self.taxes.as_dict() if self.taxes is not None else None,
            "discount_code": self.discount_code.model_dump(mode="json") if self.discount_code else None,
        }



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
    base: Membership | None = None,
    location: TaxLocation | None = None,
    discount_code: str | None = None,
) -> QuoteResult:
    """Price a change of `membership_id` at `now`.

    `plan`: a slug or id (None keeps the current plan). `addons`: specs 'SLUG|ID[:QTY]' or {slug or id: QTY},
    QTY being the total the membership should hold. `period`: 'N:UNIT' or (N, unit). `force` accepts a plan or
    add-on outside the offered set. A request that cannot be priced as given raises InputError; a valid request
    always returns a quote, also when its kind is "no_change" or "blocked" (the message says why).
    `um_version`: the UM release whose Cart prices the change (default: the one the network reports).
    `base`: price from this state of the membership instead of the one read (a preview of a change that first
    undoes an unpaid one).
    `location`: where the cart is taxed, as UM's checkout form's country, state and city (None: the customer's
    billing country, else their IP country, as UM's Cart of a membership change). Taxes are read from the network
    (`net.taxes`) and priced when it collects them.
    `discount_code`: a code of the network (`net.discount_codes`), applied as UM's Cart applies it; one UM's Cart
    refuses (unknown, inactive, not started, expired, no uses left) is an InputError naming it, with UM's message.
    """
    if now.tzinfo is None:
        raise InputError("now: a timezone-aware date-time is required", field="now")
    membership = base if base is not None else load_membership(network, membership_id)
    info = network.info()
    membership, own_notes = own_code(network, membership, flavor_of(info).name == "um")
    idx = CatalogIndex(network.products.catalog())
    cart, notes, code = _requested_cart(network, membership, idx, plan, addons, period, discount_code, now)
    notes += own_notes
    sites = owned_sites(network, membership.id)
    usage = network.usage.get([s.blog_id for s in sites]) if sites else {}
    if um_version is None:
        um_version = info.um_version
    taxes = quote_taxes(network, membership.customer_id, location)
    q = quote_change(membership, idx, cart, now=now, usage=usage, policy=policy, force=force,
                     sites={s.blog_id: s for s in sites}, um_version=um_version,
                     taxes=taxes.settings if taxes else None, location=taxes.location if taxes else None,
                     tax_exempt=taxes.exempt if taxes else False)
    refuse_bad_request(membership, idx, q)
    notes += _code_notes(code, q)
    notes += _own_code_note(membership, code, q)
    notes += [f"forced: {w.message}" for w in q.warnings]
    scheduled = network.schedule.get(membership.id)
    notes += _scheduled_note(idx, q, scheduled)
    network_flavor = flavor_of(info)
    effect = _gateway_effect(network_flavor, membership, q)
    if effect is not None and effect.action:
        notes.append(f"billed by {effect.gateway}: {effect.action}")
    return QuoteResult(membership, idx, sites, usage, cart, q, now.astimezone(UTC), notes, scheduled, effect,
                       network_flavor, taxes, code)


def _requested_cart(network: NetworkReader, membership: Membership, idx: CatalogIndex, plan: str | int | None,
                    addons: AddonRequest, period: PeriodRequest, discount_code: str | None,
                    now: datetime) -> tuple[Cart, list[str], DiscountCode | None]:
    """The cart the request asks for, its notes, and the code it names (looked up on the network)."""
    cart, notes = build_cart(membership, idx, plan, addons, period)
    if cart.plan_id is None and cart.duration:  # --period alone: the current plan in that period, named as UM's
        cart = cart.model_copy(update={"plan_id": membership.plan_id})  # Change form names it (no deviation)
    code = lookup_code(network, discount_code, now) if discount_code is not None else None
    if code is not None:
        cart = cart.model_copy(update={"discount_code": code})
    return cart, notes, code


UM_CODE_INVALID = "This coupon code is not valid."
UM_CODE_USED_UP = "This discount code was already redeemed the maximum amount of times allowed."


def um_code_refusal(code: DiscountCode, now: datetime) -> str | None:
    """Why UM's Cart refuses `code` at `now` (`billing.discounts.code_refusal`), in UM's words followed by the reason
    in brackets; None when the Cart takes it."""
    refusal = code_refusal(code, now)
    if refusal is None:
        return None
    kind, when = refusal
    if kind == "used_up":
        return f"{UM_CODE_USED_UP} (used {code.uses} of {code.max_uses})"
    if kind == "inactive":
        return f"{UM_CODE_INVALID} (it is not active)"
    verb = "starts" if kind == "not_started" else "expired"
    return f"{UM_CODE_INVALID} (it {verb} on {when:%Y-%m-%d %H:%M} UTC)"


def lookup_code(network: NetworkReader, given: str, now: datetime) -> DiscountCode:
    """The network's code `given` (found as UM's Cart finds it: upper-cased), refused as UM's Cart refuses it
    (InputError, exit 2, naming the code; UM's refusal code is `discount_code`)."""
    name = given.strip().upper()
    api = network.discount_codes
    if api is None:
        raise InputError(f"discount code {name}: this source holds no discount codes (an offline snapshot): quote "
                         "it on the network", field="discount_code")
    code = api.find(name) if name else None
    if code is None:
        raise InputError(f"discount code {name}: The code {name} does not exist or is no longer valid.",
                         field="discount_code")
    reason = um_code_refusal(code, now)
    if reason:
        raise InputError(f"discount code {code.code}: {reason}", field="discount_code", record_id=code.id)
    return code


def own_code(network: NetworkReader, membership: Membership, um: bool = False) -> tuple[Membership, list[str]]:
    """The membership with its own discount code as the network holds it now (the engine needs the record: stub
    mode keeps the code string; UM's REST reads it as null, so on UM (`um`) it comes from plugin-stub's
    `GET /wpbridge/v1/memberships/discount-codes`); a code the network no longer has is left out, said in a note.
    Offline (no codes read) an object is kept as it is, a string left out."""
    own = membership.discount_code
    api = network.discount_codes
    if own is None and um and api is not None:
        own = api.membership_codes().get(membership.id)
    if own is None:
        return membership, []
    name = (own if isinstance(own, str) else own.code).strip().upper()
    found = api.find(name) if api is not None and name else None
    if found is None and isinstance(own, DiscountCode) and api is None:
        return membership, []
    gone = "is not on the network" if api is not None else "cannot be read from this source (an offline snapshot)"
    note = [] if found is not None else [f"the membership's own code {name} {gone}: priced without it"]
    return membership.model_copy(update={"discount_code": found}), note


def _own_code_note(membership: Membership, given: DiscountCode | None, q: Quote) -> list[str]:
    """UM main's add-on cart applies the membership's own code: said, with its terms (a code given is said by
    `_code_notes`, also when the membership's replaces it)."""
    own = membership.discount_code
    if given is not None or not isinstance(own, DiscountCode) or q.discount_code not in (own.code, own.code.upper()):
        return []
    return [f"the membership's own code {own.code} applies to this add-on purchase (as UM {q.um_version}'s Cart "
            f"does): {code_terms(own)}"]


def code_terms(code: DiscountCode) -> str:
    """What a code takes off, in words: '10% off' / '5.00 off each product', the setup fee's, renewals."""
    def off(kind: str, value: Any) -> str:
        return f"{value.normalize():f}% off" if kind == "percentage" else f"{value.normalize():f} off"
    parts = [off(code.type, code.value) + (" (renewals too)" if code.apply_to_renewals else " (first payment)")]
    if code.setup_fee_value > 0:
        parts.append(off(code.setup_fee_type, code.setup_fee_value) + " the setup fees")
    if code.limit_products:
        parts.append("only products " + ", ".join(str(p) for p in code.allowed_products))
    return ", ".join(parts)


def _code_notes(code: DiscountCode | None, q: Quote) -> list[str]:
    """The code given, in its own line; a code the engine refused (the non-UM policies) is an InputError; a code
    limited to products none of the change's lines hold takes nothing off (UM's Cart accepts it all the same)."""
    if code is None:
        return []
    refused = next((e for e in q.errors if e.code in ("invalid_discount_code", "discount_code")), None)
    if refused is not None:
        raise InputError(f"discount code {code.code}: {refused.message}", field="discount_code", record_id=code.id)
    line = f"discount code {code.code}: {code_terms(code)}"
    if q.discount_code and q.discount_code != code.code:
        return [line, f"the membership's own code {q.discount_code} is applied instead (as UM {q.um_version}'s Cart "
                      "of an add-on purchase does)"]
    if q.kind not in ("no_change", "blocked") and not any(ln.type == "discount" for ln in q.lines):
        line += ": it takes nothing off this change (none of its lines is discounted)"
    return [line]


def _scheduled_note(idx: CatalogIndex, q: Quote, scheduled: ScheduledChange | None) -> list[str]:
    """An upgrade or add-on leaves a scheduled change in place: said in a note."""
    if scheduled is None or q.kind not in ("upgrade", "addon"):
        return []
    plan = product_name(idx, int(scheduled.target.get("plan_id", 0) or 0))
    return [f"a change to {plan} is scheduled for {scheduled.scheduled_for:%Y-%m-%d %H:%M} UTC; it stays scheduled"]


def _gateway_effect(flavor: Flavor, membership: Membership, q: Quote) -> GatewayEffect | None:
    """What saving the change does to the membership's gateway subscription, on a network whose save tells the
    gateway (UM); None where nothing is told or nothing is written."""
    if q.target is None or not flavor.tells_gateways:
        return None
    return gateway_effect(membership, q.target)


def _moments_iso(target: dict[str, Any] | None) -> dict[str, Any] | None:
    """The target's dates (wire-ready in WordPress's `Y-m-d H:i:s`) as every moment of the output: ISO 8601 `Z`."""
    if target is None:
        return None
    return {k: (parse_utc(v) or v) if k.startswith("date_") and isinstance(v, str) else v for k, v in target.items()}
