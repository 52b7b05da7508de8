"""`quote_change`: price a requested change under a policy (DESIGN §4).

- Policy "ultimate-multisite" (the default) is the real Cart of the network's UM release: `umcart.py` reproduces
  it and `umquote.py` turns it into the Quote, with its deviations. wpbridge adds one refusal UM's server does not
  make: a plan or add-on outside the customer's Change form (`plan_not_offered`, `addon_not_offered`), which
  `force=True` turns into warnings.
- Policy "exact" (beyond UM, Stripe-like) is the engine below: add-ons to ADD merge with those owned and owned
  recurring add-ons are re-priced with a plan change; upgrades and add-on purchases of an active membership are
  charged for the unused fraction of the period by the second when the period length is unchanged (billing date
  kept), otherwise the full new price minus the exact credit and the period restarts; classification, blocks and
  scheduled downgrades as UM's; a pending membership cannot be changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from ..errors import InputError
from ..models import DiscountCode, Membership, Product, Site, SiteUsage
from .cart import Cart
from .catalog import CatalogIndex, index_catalog
from .classify import classify_plan_change
from .credit import NO_CREDIT, Credit, exact_credit, exact_fraction
from .discounts import invalid_reason
from .eligibility import offered_plan_tuple
from .lines import LineBuilder, quantum, round_to
from .overlimits import overlimit_errors
from .periods import UNITS, Period, add_period, check_aware, days_in_cycle, normalise_period, price_in_period
from .result import Policy, Quote, QuoteError, QuoteKind, QuoteLine
from .taxes import TaxLocation, TaxSettings
from .umquote import um_quote

POLICIES: tuple[Policy, ...] = ("ultimate-multisite", "exact")
NO_CHANGE_MESSAGE = "This cart proposes no changes to the current membership."
ZERO = Decimal(0)
_SCHEDULED_STATUSES = ("active", "on-hold", "trialing")
_Item = tuple[Product, int, Decimal, bool, bool]
"""(product, quantity, price in the cart's period, new to the membership?, recurring?)"""
_NO_CHANGES = QuoteError(code="no_changes", message=NO_CHANGE_MESSAGE)


def quote_change(
    membership: Membership,
    catalog: Sequence[Product],
    cart: Cart,
    *,
    now: datetime,
    usage: Mapping[int, SiteUsage] | None = None,
    policy: Policy = "ultimate-multisite",
    force: bool = False,
    sites: Mapping[int, Site] | None = None,
    um_version: str | None = None,
    taxes: TaxSettings | None = None,
    location: TaxLocation | None = None,
    tax_exempt: bool = False,
) -> Quote:
    """Price `cart` against `membership` at `now` (aware). Refusals are quotes of kind "blocked" with errors;
    malformed input raises InputError. `usage` (blog_id -> SiteUsage) enables the over-quota check; `sites`
    (blog_id -> Site) only names the sites in its messages. `um_version` is the UM release whose Cart the policy
    "ultimate-multisite" reproduces, as UM reports it ("2.4.12", "2.4.13-beta.1"); None = the latest release.

    Taxes (UM's Cart, docs/ultimate-multisite.md §11): `taxes` are the network's settings and rates, `location`
    where the cart is taxed (`billing.tax_location` resolves it as UM does: the cart's country, else the customer's
    billing country, else their IP country), `tax_exempt` an exempt customer (no tax on any line). None (the
    default) prices without taxes. Taxes are priced under the policy "ultimate-multisite" only."""
    if getattr(now, "tzinfo", None) is not UTC:
        now = check_aware(now).astimezone(UTC)
    if policy not in POLICIES:
        raise InputError(f"policy: unknown pricing policy {policy!r} (expected 'ultimate-multisite' or 'exact')",
                         field="policy")
    if not isinstance(cart, Cart):
        raise InputError(f"cart: expected a Cart, got {type(cart).__name__}", field="cart")
    quoter = _Quoter(membership, index_catalog(catalog), cart, now, policy, force)
    if policy == "ultimate-multisite":
        return quoter.run_um(usage, sites, um_version, taxes, location, tax_exempt)
    if taxes is not None and taxes.enabled:
        raise InputError("taxes: the policy 'exact' prices without taxes; use the policy 'ultimate-multisite'",
                         field="taxes")
    return quoter.run(usage, sites)


def _check_membership(m: Membership) -> None:
    for field in ("amount", "initial_amount"):
        if getattr(m, field) < 0:
            raise InputError(f"membership {m.id}: field '{field}' must be >= 0", field=field, record_id=m.id)
    if m.duration_unit not in UNITS:
        raise InputError(f"membership {m.id}: unknown duration unit {m.duration_unit!r}", field="duration_unit",
                         record_id=m.id)


@lru_cache(maxsize=1024)  # pure, and batches write the same few dates
def _date(value: datetime | None) -> str | None:
    """UM's GMT 'YYYY-MM-DD HH:MM:SS'."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "seconds")[:19]


class _Quoter:
    """One quote's working state (built per call; everything it reads is immutable input)."""

    __slots__ = ("added", "cart", "currency", "current", "errors", "force", "idx", "m", "m_period", "new", "now",
                 "owned", "period", "policy", "status", "step", "warnings", "zero")

    def __init__(
        self, m: Membership, idx: CatalogIndex, cart: Cart, now: datetime, policy: Policy, force: bool
    ) -> None:
        if m.amount < 0 or m.initial_amount < 0 or m.duration_unit not in UNITS:
            _check_membership(m)  # raises, naming the field
        self.m, self.idx, self.cart, self.now, self.policy, self.force = m, idx, cart, now, policy, force
        self.currency: str = m.currency
        self.step, self.zero = quantum(self.currency)
        self.status: str = m.status
        self.m_period: Period = (m.duration, m.duration_unit)
        get = idx.get
        plan_id: int = m.plan_id
        current = get(plan_id) or idx.require(plan_id, f"membership {m.id}: plan_id")  # message built on error
        self.current: Product = current
        self.new: Product = current
        if cart.plan_id is not None:
            new = self.new = idx.require(cart.plan_id, "cart.plan_id")
            if not new.is_plan:
                raise InputError(f"cart.plan_id: product {new.id} ({new.name}) is a {new.type}, not a plan",
                                 field="plan_id", record_id=new.id)
        self.owned: list[tuple[Product, int]] = []
        for pid, qty in m.addon_products.items():
            self.owned.append((get(pid) or idx.require(pid, f"membership {m.id}: addon_products"), qty))
        self.added: list[tuple[Product, int]] = []
        for pid, qty in cart.addons.items():
            product = idx.require(pid, "cart.addons")
            if product.is_plan:
                raise InputError(f"cart.addons: product {pid} ({product.name}) is a plan; choose it as plan_id",
                                 field="addons", record_id=pid)
            self.added.append((product, qty))
        self.period: Period = (cart.duration or m.duration, cart.duration_unit or m.duration_unit)
        self.errors: list[QuoteError] = []
        self.warnings: list[QuoteError] = []

    # ------------------------------------------------------------------ flow

    def run(self, usage: Mapping[int, SiteUsage] | None, sites: Mapping[int, Site] | None) -> Quote:
        m = self.m
        if self.status == "pending":
            return self._refused("blocked", [QuoteError(
                code="membership_pending",
                message=f"Membership {m.id} is pending (not paid yet); it can be changed once it is active.",
            )])
        plan_change = self.new.id != self.current.id or (
            self.period != self.m_period and normalise_period(*self.period) != normalise_period(*self.m_period)
        )
        if not plan_change and not self.added:
            return self._refused("no_change", [_NO_CHANGES])
        self._check_offered(plan_change)
        code = self.cart.discount_code
        if code is not None:
            reason = invalid_reason(code, self.now, [self.new.id] + [p.id for p, _ in self.added])
            if reason:
                self.errors.append(QuoteError(code="invalid_discount_code", message=reason))
        if not plan_change:
            return self._addon_quote()
        return self._plan_quote(usage, sites)

    def run_um(self, usage: Mapping[int, SiteUsage] | None, sites: Mapping[int, Site] | None,
               version: str | None, taxes: TaxSettings | None = None, location: TaxLocation | None = None,
               tax_exempt: bool = False) -> Quote:
        """Policy "ultimate-multisite": UM's Cart of `version` (umquote.py), after wpbridge's offered-set check."""
        self._check_offered(self.new.id != self.current.id or bool(self.cart.duration))
        overlimits = None
        if usage:
            idx = self.idx

            def overlimits(plan_id: int) -> list[tuple[str, str]]:
                return [(e.code, e.message) for e in overlimit_errors(idx.require(plan_id, "plan"), usage, sites)]

        tax = (taxes, location, tax_exempt) if taxes is not None and taxes.enabled else None
        return um_quote(self.m, self.idx, self.cart, self.now, version, list(self.errors), self.warnings,  # type: ignore[no-any-return]
                        overlimits, tax)

    def _check_offered(self, plan_change: bool) -> None:
        problems: list[QuoteError] = []
        cur, new = self.current, self.new
        if plan_change and new.id != cur.id and not self._plan_offered():
            names = ", ".join(p.name for p in offered_plan_tuple(cur, self.idx)) or "none"
            problems.append(QuoteError(
                code="plan_not_offered",
                message=f"{new.name} is not offered to this membership (plans offered: {names}).",
            ))
        for product, _ in self.added:
            if not (product.active and (product.id in cur.available_addons
                                        or (plan_change and product.id in new.available_addons))):
                problems.append(QuoteError(
                    code="addon_not_offered",
                    message=f"{product.name} is not offered as an add-on of {cur.name}.",
                ))
        if problems:
            (self.warnings if self.force else self.errors).extend(problems)

    def _plan_offered(self) -> bool:
        """Is the new plan among the offered plans (without listing them when the current plan has a group)?"""
        cur, new = self.current, self.new
        if cur.product_group:
            return new.type == "plan" and new.active and new.product_group == cur.product_group
        return any(p.id == new.id for p in offered_plan_tuple(cur, self.idx))

    def _price(self, product: Product) -> Decimal:
        """The product's price in the cart's period; a missing variation is recorded as UM's error."""
        price = price_in_period(product, *self.period)
        if price is None:
            duration, unit = self.period
            self.errors.append(QuoteError(
                code="missing-price-variations",
                message=(f"{product.name} does not have a valid price variation for that billing period "
                         f"(every {duration} {unit}(s)) and was not added to the cart."),
            ))
            return ZERO
        return price

    # ------------------------------------------------------------------ plan and period changes

    def _plan_quote(self, usage: Mapping[int, SiteUsage] | None, sites: Mapping[int, Site] | None) -> Quote:
        price = self._price
        new = self.new
        items: list[_Item] = [(new, 1, price(new), True, new.is_recurring)]
        for product, qty in self.owned:
            if product.is_recurring:  # owned one-time add-ons are not charged again
                items.append((product, qty, price(product), False, True))
        for product, qty in self.added:
            items.append((product, qty, price(product), True, product.is_recurring))
        if usage:
            self.errors.extend(overlimit_errors(new, usage, sites))
        if self.errors:
            return self._refused("blocked", self.errors)
        full = self._lines(items, self.cart.discount_code, None)
        verdict = classify_plan_change(self.m, self.current, new, self.period, full.recurring, full.charges)
        if verdict.kind == "blocked":
            return self._refused("blocked", [QuoteError(code="active_agreement", message=verdict.message)])
        if verdict.kind == "downgrade":
            return self._downgrade(full)
        return self._upgrade(items, full)

    def _lines(self, items: list[_Item], code: DiscountCode | None, factor: Decimal | None) -> LineBuilder:
        """Lines for (product, quantity, period price, new?, recurring?): recurring items prorated by `factor` when
        given; setup fees for new items only."""
        b = LineBuilder(self.currency, code)
        left = f" (prorated: {float(factor):.1%} of the period left)" if factor is not None else ""  # display only
        for product, qty, price, is_new, recurring in items:
            if factor is not None and recurring:
                b.product(product, qty, price * factor, price, product.name + left)
            else:
                b.product(product, qty, price, price if recurring else None)
            if is_new:
                b.setup_fee(product, qty)
        return b

    def _upgrade(self, items: list[_Item], full: LineBuilder) -> Quote:
        m, now = self.m, self.now
        factor = self._exact_factor() if self.policy == "exact" else None
        if factor is not None and days_in_cycle(self.period[1], self.period[0]) != days_in_cycle(
            m.duration_unit, m.duration
        ):
            factor = None  # the period length changes: full price, restart
        credit = exact_credit(m, now, self.current, self.new)
        b = full if factor is None else self._lines(items, self.cart.discount_code, factor)
        restart = factor is None
        next_charge = m.date_expiration
        if restart:
            next_charge = add_period(now, *self.period) if b.recurring > 0 else None
        due, unused, credit_r = self._settle(b, credit)
        target = self._target(self.new, b.recurring, due)
        if restart:
            target["date_renewed"] = _date(now)
            target["date_expiration"] = _date(next_charge)
        return self._quote("upgrade", b, credit_r, credit, due, unused, b.recurring, next_charge, None, target)

    def _exact_factor(self) -> Decimal | None:
        """The unused fraction when an exact proration applies (active, recurring, period not over), else None."""
        m = self.m
        if self.status not in ("active", "on-hold") or not m.is_recurring or m.date_expiration is None:
            return None
        fraction = exact_fraction(m, self.now)
        return fraction if fraction > 0 else None

    def _settle(self, b: LineBuilder, credit: Credit) -> tuple[Decimal, Decimal, Decimal]:
        """(due now, unused credit, rounded credit), all exact to the currency's step."""
        credit_r = b.credit(credit.total)
        balance = b.charges - credit_r
        return max(balance, self.zero), max(-balance, self.zero), credit_r

    def _downgrade(self, b: LineBuilder) -> Quote:
        m, now = self.m, self.now
        if self.status in _SCHEDULED_STATUSES:
            swap_credit = b.credit(b.charges, "Scheduled Swap Credit")
            b.charges -= swap_credit
            target = self._target(self.new, b.recurring, m.initial_amount)
            next_charge = m.date_expiration
            if next_charge is None and b.recurring > 0:
                next_charge = add_period(now, *self.period)
            zero = self.zero
            return self._quote("downgrade", b, zero, NO_CREDIT, zero, zero, b.recurring, next_charge,
                               m.date_expiration, target)
        due = max(b.charges, self.zero)
        next_charge = add_period(now, *self.period) if b.recurring > 0 else None
        target = self._target(self.new, b.recurring, due)
        target["date_renewed"] = _date(now)
        target["date_expiration"] = _date(next_charge)
        return self._quote("downgrade", b, self.zero, NO_CREDIT, due, self.zero, b.recurring, next_charge, None,
                           target)

    # ------------------------------------------------------------------ add-on purchases

    def _addon_quote(self) -> Quote:
        m = self.m
        items: list[_Item] = [(p, q, self._price(p), True, p.is_recurring) for p, q in self.added]
        if self.errors:
            return self._refused("blocked", self.errors)
        code = self.cart.discount_code or self._membership_code()
        factor = self._exact_factor() if self.policy == "exact" else None
        b = self._lines(items, code, factor)
        recurring_total = round_to(m.amount + b.recurring, self.step)
        due = max(b.charges, self.zero)
        next_charge = m.date_expiration
        if next_charge is None and recurring_total > 0:
            next_charge = add_period(self.now, m.duration, m.duration_unit)
        target = self._target(self.current, recurring_total, m.initial_amount)
        target["recurring"] = m.recurring or recurring_total > 0
        if m.date_expiration is None and next_charge is not None:
            target["date_expiration"] = _date(next_charge)
        return self._quote("addon", b, self.zero, NO_CREDIT, due, self.zero, recurring_total, next_charge, None,
                           target, code=code)

    def _membership_code(self) -> DiscountCode | None:
        """The membership's own code, for add-on carts, when it applies to renewals and is still valid."""
        code = self.m.discount_code
        if code is None:
            return None
        if isinstance(code, str):
            raise InputError(
                f"membership {self.m.id}: discount_code {code!r} is not resolved; pass the DiscountCode record",
                field="discount_code", record_id=self.m.id,
            )
        if not code.apply_to_renewals or invalid_reason(code, self.now, [p.id for p, _ in self.added]):
            return None
        return code

    # ------------------------------------------------------------------ results

    def _target(self, plan: Product, amount: Decimal, initial_amount: Decimal) -> dict[str, Any]:
        """The membership's absolute new state, in UM field names and wire-ready values."""
        addons = dict(self.m.addon_products)
        for product, qty in self.added:
            addons[product.id] = addons.get(product.id, 0) + qty
        duration, unit = self.period
        return {
            "plan_id": plan.id,
            "addon_products": addons,
            "amount": str(round_to(amount, self.step)),
            "initial_amount": str(round_to(initial_amount, self.step)),
            "duration": duration,
            "duration_unit": unit,
            "recurring": amount > 0,
        }

    def _refused(self, kind: QuoteKind, errors: list[QuoteError]) -> Quote:
        m, zero = self.m, self.zero
        return self._build(
            kind=kind, errors=list(errors), lines=[], credit=zero, setup_fee_credit=zero, due_now=zero,
            unused_credit=zero, recurring_total=round_to(m.amount, self.step), next_charge_at=m.date_expiration,
            scheduled_for=None, discount_code=None, target=None,
        )

    def _quote(
        self, kind: QuoteKind, b: LineBuilder, credit: Decimal, raw: Credit, due: Decimal, unused: Decimal,
        recurring_total: Decimal, next_charge: datetime | None, scheduled_for: datetime | None,
        target: dict[str, Any], code: DiscountCode | None = None,
    ) -> Quote:
        """A priced quote; the amounts given are already exact to the currency's step."""
        code = code or self.cart.discount_code
        return self._build(
            kind=kind, errors=[], lines=b.lines, credit=credit,
            setup_fee_credit=min(round_to(raw.setup_fee, self.step), credit), due_now=due, unused_credit=unused,
            recurring_total=recurring_total, next_charge_at=next_charge, scheduled_for=scheduled_for,
            discount_code=code.code if code is not None else None, target=target,
        )

    def _build(self, kind: QuoteKind, errors: list[QuoteError], lines: list[QuoteLine], credit: Decimal,
               setup_fee_credit: Decimal, due_now: Decimal, unused_credit: Decimal, recurring_total: Decimal,
               next_charge_at: datetime | None, scheduled_for: datetime | None, discount_code: str | None,
               target: dict[str, Any] | None) -> Quote:
        duration, unit = self.period
        return Quote(
            kind=kind, policy=self.policy, membership_id=self.m.id, current_plan_id=self.current.id,
            new_plan_id=self.new.id, duration=duration, duration_unit=unit, currency=self.currency,
            errors=errors, warnings=list(self.warnings), lines=lines, credit=credit,
            setup_fee_credit=setup_fee_credit, due_now=due_now, unused_credit=unused_credit,
            recurring_total=recurring_total, next_charge_at=next_charge_at, scheduled_for=scheduled_for,
            discount_code=discount_code, target=target,
        )
