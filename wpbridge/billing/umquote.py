"""Policy "ultimate-multisite": the real Cart's result (`umcart.run_cart`) as a `Quote`, plus its deviations.

The quote says what UM's Cart of the release says (kind, first refusal code, credit, due now, recurring total,
next charge), except where UM's own result is a defect that costs the customer or the owner money. Each such
difference is a `Deviation` on the quote (README "Pricing" lists them all):

- `credit`/`due_now`/`recurring_total`: UM 2.4.12 rounds every currency to 2 decimals (its decimals helper
  hard-codes USD), so JPY 328.54 is asked for; wpbridge rounds to the currency's decimals (0 for JPY), as UM main.
- `next_charge_at`: UM dates the next charge with PHP's `strtotime('+1 month')`, which spills from the 29th-31st
  into the following month (Jan 31 + 1 month = Mar 3); wpbridge keeps the day, clamped to the month's end (Feb 28).
- `next_charge_at`: a downgrade of a membership with no expiration (lifetime) is dated `strtotime(NULL)`, now;
  wpbridge charges the new plan one period from now.
- `kind`: UM main turns any cart of a `pending` membership into a new signup (cart type "new"); wpbridge prices
  the same numbers and calls it an upgrade (the change applies now).
- `kind`/`error`: a plan or add-on outside the customer's Change form is refused (`plan_not_offered`,
  `addon_not_offered`; `force` makes it a warning) where UM's Cart, which does not check it, prices the cart.
- `recurring_total`/`next_charge_at` of add-on carts in UM main: the Cart reports only the add-ons (recurring
  total and a next charge one add-on period from now) while its swap leaves the membership's amount and dates as
  they were, so a recurring add-on is never billed; wpbridge's recurring total is the membership's amount plus the
  add-ons, billed at the membership's next renewal.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from ..models import DiscountCode, Membership
from ..money import currency_decimals
from ..um_release import LATEST_RELEASE, is_main
from .cart import Cart
from .catalog import CatalogIndex
from .periods import add_period, price_in_period
from .result import Deviation, DeviationField, Quote, QuoteError, QuoteKind, QuoteLine
from .taxes import TaxLocation, TaxSettings, applicable_rate, taxed_total
from .umcart import NO_CHANGES_MESSAGE, Member, UMCartResult, quantum_of, run_cart

ZERO = Decimal(0)
CENT = Decimal("0.01")

REASONS: dict[str, str] = {
    "decimals": "UM 2.4.12 rounds every currency to 2 decimals; {cur} has none, so wpbridge rounds to whole units "
                "as UM 2.4.13 does.",
    "spill": "UM adds months with PHP strtotime, which spills from the end of a month into the next one; wpbridge "
             "keeps the day, clamped to the month's last day.",
    "lifetime": "UM dates a downgrade of a membership that never expires 'now' (strtotime of no date); wpbridge "
                "bills the new plan one period from now.",
    "pending": "UM 2.4.13 prices any cart of a pending membership as a new signup; wpbridge prices it the same and "
               "applies it as an upgrade.",
    "addon_recurring": "UM 2.4.13's add-on cart reports only the add-ons' renewal while its swap keeps the "
                       "membership's amount, so the add-on would never be billed; wpbridge adds it to the amount.",
    "held": "UM's cart leaves out the add-ons already held and its swap drops them (plan changes, and add-on carts "
            "in 2.4.12); wpbridge keeps them and adds their renewal price.",
    "addon_next": "UM 2.4.13's add-on cart shows the add-ons' period from now while its swap keeps the membership's "
                  "dates; wpbridge reports the membership's next renewal.",
    "period_alone": "A period without a plan is the current plan in that period to wpbridge; UM's Cart, given the "
                    "add-ons and the period alone, prices the add-ons (or nothing) instead.",
    "offered": "wpbridge refuses a plan or add-on outside the customer's Change form, which UM's Cart would price "
               "(UM's server does not check it); --force lets it through.",
}


@lru_cache(maxsize=1024)
def iso(at: datetime | None) -> str | None:
    """ISO 8601 UTC with a Z, the deviations' date form."""
    return None if at is None else at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=1024)
def _gmt(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def refusal_kind(code: str, message: str) -> QuoteKind:
    return "no_change" if code == "no_changes" and message == NO_CHANGES_MESSAGE else "blocked"


def um_quote(
    m: Membership,
    idx: CatalogIndex,
    cart: Cart,
    now: datetime,
    version: str | None,
    pre_errors: list[QuoteError],
    warnings: list[QuoteError],
    overlimits: Callable[[int], list[tuple[str, str]]] | None,
    tax: tuple[TaxSettings, TaxLocation | None, bool] | None = None,
) -> Any:
    """The Quote for `cart` under the policy "ultimate-multisite" of UM `version` (None: the latest release).
    `pre_errors` are wpbridge's own refusals (offered set), reported before UM's."""
    version = version or LATEST_RELEASE
    member = Member(m)
    code: DiscountCode | None = cart.discount_code
    # wpbridge's Cart: no plan keeps the current one, so a period alone is the current plan in that period
    # (a duration without a unit is in the membership's unit; a unit without a duration names no period)
    plan_id = cart.plan_id or (m.plan_id if cart.duration else None)
    unit = (cart.duration_unit or m.duration_unit) if cart.duration else None
    args = (member, idx, plan_id, cart.addons, cart.duration, unit, code, now, version)
    taxes, location, exempt = tax if tax is not None else (None, None, False)
    um = run_cart(*args, overlimits=overlimits, taxes=taxes, location=location, tax_exempt=exempt)
    ours = um
    zero_decimal = currency_decimals(m.currency) == 0
    if zero_decimal and not is_main(version):
        ours = run_cart(*args, own_decimals=True, overlimits=overlimits, taxes=taxes, location=location,
                        tax_exempt=exempt)
    b = _Builder(member, idx, cart, now, version, um, ours, warnings)
    b.tax = (taxes, exempt) if taxes is not None else None
    if plan_id != cart.plan_id:  # a period alone: UM's Cart, given this cart, would get the add-ons alone
        b.literal = run_cart(member, idx, None, *args[3:], overlimits=overlimits, taxes=taxes, location=location,
                             tax_exempt=exempt)
    q = b.build(pre_errors)
    if b.literal is not None and not pre_errors:
        return b.against(q, b.literal, REASONS["period_alone"])
    if ours is not um and not pre_errors:
        q = b.reconcile(q)
    return q


class _Builder:
    __slots__ = ("cart", "deviations", "idx", "literal", "m", "now", "ours", "tax", "um", "version", "warnings",
                 "zero")

    def __init__(self, m: Member, idx: CatalogIndex, cart: Cart, now: datetime, version: str,
                 um: UMCartResult, ours: UMCartResult, warnings: list[QuoteError]) -> None:
        self.m, self.idx, self.cart, self.now, self.version = m, idx, cart, now, version
        self.um, self.ours, self.warnings = um, ours, warnings
        self.deviations: list[Deviation] = []
        self.zero = quantum_of(currency_decimals(m.currency))[1]
        self.tax: tuple[TaxSettings, bool] | None = None
        self.literal: UMCartResult | None = None
        """UM's Cart of the cart as given, when wpbridge reads it otherwise (a period without a plan)."""

    def deviate(self, field: DeviationField, um: Any, ours: Any, reason: str) -> None:
        self.deviations.append(Deviation(field=field, ultimate_multisite=None if um is None else str(um),
                                         wpbridge=None if ours is None else str(ours), reason=reason))

    def build(self, pre_errors: list[QuoteError]) -> Any:
        um, ours, m = self.um, self.ours, self.m
        if pre_errors:
            self.declare_offered(pre_errors[0].code)
            return self.refused("blocked", pre_errors)
        if ours.errors:
            errors = [QuoteError(code=c, message=msg) for c, msg in ours.errors]
            return self.refused(refusal_kind(*ours.errors[0]), errors)
        kind: QuoteKind
        if ours.cart_type == "new":
            if not ours.products:
                self.deviate("kind", "new", "no_change", REASONS["pending"])
                self.deviate("error", None, "no_changes", REASONS["pending"])
                return self.refused("no_change", [QuoteError(code="no_changes", message=NO_CHANGES_MESSAGE)])
            kind = "upgrade"
            self.deviate("kind", "new", "upgrade", REASONS["pending"])
        else:
            kind = ours.cart_type  # type: ignore[assignment]
        credit, due, recurring = ours.credit, ours.total, ours.recurring_total
        main_addon = kind == "addon" and is_main(self.version)
        if not main_addon:
            held = self.held_recurring()
            if held:
                recurring = (recurring + held).quantize(self.zero, ROUND_HALF_UP)
                if recurring != um.recurring_total:
                    self.deviate("recurring_total", um.recurring_total, recurring, REASONS["held"])
        if main_addon:
            recurring = (m.amount + ours.recurring_total).quantize(self.zero, ROUND_HALF_UP)
            if recurring != um.recurring_total:
                self.deviate("recurring_total", um.recurring_total, recurring, REASONS["addon_recurring"])
        next_charge, scheduled_for = self.next_charge(kind, main_addon)
        charges = sum((ln.total for ln in ours.lines if ln.type != "credit"), ZERO)
        unused = max(credit - charges, ZERO).quantize(self.zero, ROUND_HALF_UP) if credit else self.zero
        target = self.target(kind, main_addon, recurring, due, next_charge, scheduled_for)
        return self.quote(kind, credit, min(ours.fee_credit, credit), due, unused, recurring, next_charge,
                          scheduled_for, target)

    def declare_offered(self, code: str) -> None:
        """wpbridge's offered-set refusal: what UM's Cart answers instead (its kind and first error), declared."""
        um = self.literal or self.um
        kind, error = (refusal_kind(*um.errors[0]), um.errors[0][0]) if um.errors else (um.cart_type, None)
        if kind != "blocked":
            self.deviate("kind", kind, "blocked", REASONS["offered"])
        self.deviate("error", error, code, REASONS["offered"])

    def held_recurring(self) -> Decimal:
        """The renewal price of the add-ons held, in the cart's period (the cart charges only what it adds)."""
        total = ZERO
        duration, unit = self.ours.duration or self.m.duration, self.ours.duration_unit or self.m.duration_unit
        for pid, qty in self.m.addon_products.items():
            product = self.idx.get(pid)
            if product is None or not product.is_recurring:
                continue
            price = price_in_period(product, duration, unit)
            line = (price if price is not None else product.amount) * qty
            total += self.with_tax(product.taxable, product.tax_category, line)
        return total

    def with_tax(self, taxable: bool, category: str, price: Decimal) -> Decimal:
        """`price` as a line of the cart would total it, its tax added where prices exclude it."""
        location = self.ours.tax_location
        if self.tax is None or location is None or not taxable:
            return price
        settings, exempt = self.tax
        rate = applicable_rate(settings, category, location, is_main(self.version))
        if rate is None:
            return price
        return taxed_total(price, float(price), rate.rate, settings.inclusive, exempt)[0]

    def um_values(self, um: UMCartResult) -> dict[str, Any]:
        """What UM's Cart `um` reports, field by field as the deviations name them."""
        if um.errors:
            code, message = um.errors[0]
            return {"kind": refusal_kind(code, message), "error": code}
        return {"kind": um.cart_type, "error": None, "credit": um.credit, "due_now": um.total,
                "recurring_total": um.recurring_total,
                "next_charge_at": iso(self.now if um.next_charge_now else um.next_charge)}

    @staticmethod
    def quote_values(q: Any) -> dict[str, Any]:
        ours: dict[str, Any] = {"kind": q.kind, "error": q.errors[0].code if q.errors else None}
        if q.kind not in ("no_change", "blocked"):
            ours.update(credit=q.credit, due_now=q.due_now, recurring_total=q.recurring_total,
                        next_charge_at=iso(q.next_charge_at))
        return ours

    def against(self, q: Any, um: UMCartResult, reason: str) -> Any:
        """The quote against UM's Cart `um` of another cart: every field that differs is declared (the deviations
        of the cart wpbridge priced give way, on the fields compared)."""
        values, ours = self.um_values(um), self.quote_values(q)
        priced = "credit" in values and "credit" in ours
        if priced and self.tax is not None:
            values["tax_total"] = um.tax_total.quantize(CENT, ROUND_HALF_UP)
            ours["tax_total"] = q.tax_total
        compared = set(values) if priced else {"kind", "error"}
        self.deviations = [d for d in self.deviations if d.field not in compared]
        for name in sorted(compared, key=list(values).index):
            if ours.get(name) != values.get(name):
                self.deviate(name, values.get(name), ours.get(name), reason)  # type: ignore[arg-type]
        return q.model_copy(update={"deviations": list(self.deviations)})

    def reconcile(self, q: Any) -> Any:
        """2.4.12 and a zero-decimal currency: the quote used the currency's decimals; declare every field where
        UM's own result (rounded to cents) differs."""
        declared = {d.field for d in self.deviations}
        values, ours = self.um_values(self.um), self.quote_values(q)
        reason = REASONS["decimals"].format(cur=self.m.currency)
        added = False
        for name, value in values.items():
            if name in declared or name not in ours or ours[name] == value:
                continue
            self.deviate(name, value, ours[name], reason)  # type: ignore[arg-type]
            added = True
        if not added:
            return q
        return q.model_copy(update={"deviations": list(self.deviations)})

    def next_charge(self, kind: str, main_addon: bool) -> tuple[datetime | None, datetime | None]:
        """(next charge, scheduled_for) by wpbridge's rules; a deviation wherever UM's date differs."""
        um, m, now = self.um, self.m, self.now
        scheduled = kind == "downgrade" and m.status in ("active", "on-hold", "trialing")
        duration, unit = um.duration or m.duration, um.duration_unit or m.duration_unit
        if main_addon:
            ours = m.date_expiration
            if ours is None and um.next_charge is not None:
                ours = add_period(now, m.duration, m.duration_unit)
            if ours != um.next_charge:
                self.deviate("next_charge_at", iso(um.next_charge), iso(ours), REASONS["addon_next"])
            return ours, None
        if scheduled and um.next_charge_now:
            ours = add_period(now, duration, unit) if um.recurring_total > 0 else None
            self.deviate("next_charge_at", iso(now), iso(ours), REASONS["lifetime"])
            return ours, None
        if scheduled:
            return um.next_charge, m.date_expiration
        if um.next_charge is None:
            return None, None
        ours = um.next_charge_calendar
        if ours != um.next_charge:
            self.deviate("next_charge_at", iso(um.next_charge), iso(ours), REASONS["spill"])
        return ours, None

    def target(self, kind: str, main_addon: bool, recurring: Decimal, due: Decimal, next_charge: datetime | None,
               scheduled_for: datetime | None) -> dict[str, Any]:
        """The membership's absolute new state, as UM's `swap()` of this cart leaves it (a plan change or a
        2.4.12 add-on cart rebuilds the add-ons from the cart's lines; a UM main add-on cart merges them)."""
        m, ours = self.m, self.ours
        step = self.zero
        if main_addon:
            addons = dict(m.addon_products)
            for pid, qty in self.cart.addons.items():
                addons[pid] = addons.get(pid, 0) + qty
            state: dict[str, Any] = {
                "plan_id": m.plan_id, "addon_products": addons, "amount": str(recurring.quantize(step)),
                "initial_amount": str(m.initial_amount.quantize(step)), "duration": m.duration,
                "duration_unit": m.duration_unit, "recurring": m.recurring or recurring > 0,
            }
            if m.date_expiration is None and next_charge is not None:
                state["date_expiration"] = _gmt(next_charge)
            return state
        plan_id = ours.plan_id or m.plan_id
        addons = {pid: qty for pid, qty in ours.products if pid != plan_id}
        # UM's swap would rebuild the add-ons from the cart, dropping those held: wpbridge keeps them (held_recurring)
        merged = dict(m.addon_products)
        for pid, qty in addons.items():
            merged[pid] = merged.get(pid, 0) + qty
        addons = merged
        state = {
            "plan_id": plan_id, "addon_products": addons, "amount": str(recurring.quantize(step)),
            "initial_amount": str((m.initial_amount if scheduled_for is not None else due).quantize(step)),
            "duration": ours.duration or m.duration, "duration_unit": ours.duration_unit or m.duration_unit,
            "recurring": recurring > 0,
        }
        if scheduled_for is None:
            state["date_renewed"] = _gmt(self.now)
            state["date_expiration"] = _gmt(next_charge)
        return state

    def shown(self, amount: Decimal) -> Decimal:
        """A line amount at the currency's step when that is exact (20 -> 20.00), else unrounded (UM's)."""
        at_step = amount.quantize(self.zero)
        return at_step if at_step == amount else amount

    def lines(self) -> list[QuoteLine]:
        out: list[QuoteLine] = []
        shown = self.shown
        for ln in self.ours.lines:
            out.append(QuoteLine(
                type=ln.type, product_id=ln.product_id, title=ln.title, quantity=ln.quantity,  # type: ignore[arg-type]
                unit_price=shown(ln.unit_price), total=shown(ln.total + ln.discount_total if ln.discount_total
                                                             else ln.total),
                recurring=ln.recurring, tax_rate=ln.tax[0] if ln.tax is not None else ZERO, tax_total=ln.tax_total,
            ))
            if ln.discount_total:
                out.append(QuoteLine(
                    type="discount", product_id=ln.product_id, title=self.discount_title(ln.discount_label, ln.title),
                    quantity=1, unit_price=shown(-ln.discount_total), total=shown(-ln.discount_total),
                ))
        return out

    def discount_title(self, label: str, title: str) -> str:
        """'Discount CODE on TITLE'; the membership's own code (UM main's add-on carts) is said to be its."""
        own = self.m.discount_code
        given = self.cart.discount_code
        whose = ""
        if isinstance(own, DiscountCode) and own.code.upper() == label and (
                given is None or given.code.upper() != label):
            whose = " (the membership's own code)"
        return f"Discount {label}{whose} on {title}" if label else f"Discount on {title}"

    def refused(self, kind: QuoteKind, errors: list[QuoteError]) -> Any:
        m = self.m
        return self.make(kind=kind, errors=errors, lines=[], credit=self.zero, setup_fee_credit=self.zero,
                         due_now=self.zero, unused_credit=self.zero,
                         recurring_total=m.amount.quantize(self.zero, ROUND_HALF_UP),
                         next_charge_at=m.date_expiration, scheduled_for=None, target=None)

    def quote(self, kind: QuoteKind, credit: Decimal, fee_credit: Decimal, due: Decimal, unused: Decimal,
              recurring: Decimal, next_charge: datetime | None, scheduled_for: datetime | None,
              target: dict[str, Any]) -> Any:
        return self.make(kind=kind, errors=[], lines=self.lines(), credit=credit,
                         setup_fee_credit=fee_credit.quantize(self.zero, ROUND_HALF_UP), due_now=due,
                         unused_credit=unused,
                         recurring_total=recurring, next_charge_at=next_charge, scheduled_for=scheduled_for,
                         target=target)

    def make(self, **values: Any) -> Quote:
        m, ours = self.m, self.ours
        plan_id = ours.plan_id or (self.cart.plan_id or m.plan_id)
        where = ours.tax_location
        tax: dict[str, Any] = {}
        if self.tax is not None and where is not None:
            tax = {"tax_total": ours.tax_total if values["lines"] else ZERO, "tax_inclusive": self.tax[0].inclusive,
                   "tax_location": {"country": where.country, "state": where.state, "city": where.city,
                                    "source": where.source}}
        return Quote(
            policy="ultimate-multisite", membership_id=m.id, current_plan_id=m.plan_id, new_plan_id=plan_id,
            duration=ours.duration or m.duration, duration_unit=ours.duration_unit or m.duration_unit,
            currency=m.currency, warnings=list(self.warnings), discount_code=ours.code,
            deviations=list(self.deviations), um_version=self.version, **tax, **values,
        )
