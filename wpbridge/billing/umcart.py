"""Ultimate Multisite's checkout Cart for a membership change, step for step (`WP_Ultimo\\Checkout\\Cart`).

A port of `Cart::__construct` with a `membership_id` (upgrade/downgrade/addon carts): `add_product`,
`build_from_membership`, `search_for_same_period_plans`, `calculate_prorate_credits`, `is_valid` and the totals,
for the releases wpbridge knows (RELEASES). It returns what the real Cart reports (cart type, errors in UM's order,
line items, credit, total, recurring total, next charge date), defects included; `quote.py` turns that into a
`Quote` and declares where wpbridge differs (`deviations.py`). The differential test (tests/cartdiff/) runs the
real Cart on random scenarios and compares.

Faithful to UM's arithmetic where it decides an outcome:
- money is Decimal, unrounded on the lines; only the totals are rounded (half up, as PHP 8's `round`), to 2
  decimals in 2.4.12 whatever the currency (its decimals helper hard-codes USD), to the currency's in main;
- per-day price comparisons use binary floats, as PHP does, so that ties and near-ties fall the same way;
- `wu_get_days_in_cycle` returns an int for days and weeks and a float for months and years, and UM compares the
  two cycles with `!==` (an int never equals a float), so the type is kept (`days_in_cycle_php`).
- dates move as PHP's `strtotime('+N unit')`: Jan 31 + 1 month = Mar 3 (see `php_add_period`).
- taxes (`Cart::apply_taxes_to_item`, `Line_Item::recalculate_totals`): each taxable line gets one rate
  (`taxes.applicable_rate`), its tax computed in floats and rounded as PHP rounds (`taxes.line_tax`); the line's
  total includes it when prices exclude tax; the setup-fee credit is a line of the old plan, taxed as it is.
Not modelled (never set on wpbridge's networks' carts): trials, pay-what-you-want, payment recovery, independent
billing cycles, custom amounts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from ..errors import InputError
from ..models import DiscountCode, Membership, Product, is_recurring_price
from ..money import currency_decimals
from ..um_release import LATEST_RELEASE, is_main
from .catalog import CatalogIndex
from .discounts import code_refusal
from .periods import add_period
from .taxes import TaxLocation, TaxRate, TaxSettings, applicable_rate, taxed_total

ZERO = Decimal(0)
HUNDRED = Decimal(100)
CENT = Decimal("0.01")
NO_CHANGES_MESSAGE = "This cart proposes no changes to the current membership."
_DAYS = {"day": (1, False), "week": (7, False), "month": (30.4375, True), "year": (365.25, True)}
_DAYS_DEC = {"day": Decimal(1), "week": Decimal(7), "month": Decimal("30.4375"), "year": Decimal("365.25")}


def days_in_cycle_php(unit: str, duration: int) -> tuple[float, bool]:
    """`wu_get_days_in_cycle` as PHP sees it: (value, is_float). Unknown units give int 0."""
    base, is_float = _DAYS.get(unit, (0, False))
    return (duration * base, is_float)


@lru_cache(maxsize=4096)  # pure; a batch prices many carts at one now
def php_add_period(start: datetime, duration: int, unit: str) -> datetime:
    """PHP `strtotime("+N unit", start)`: months and years keep the day number and overflow into the next month
    (Jan 31 + 1 month = Mar 3 in a common year; Feb 29 + 1 year = Mar 1)."""
    if unit in ("month", "year"):
        months = duration * (12 if unit == "year" else 1)
        year, month0 = divmod(start.year * 12 + start.month - 1 + months, 12)
        first = start.replace(year=year, month=month0 + 1, day=1)
        return first + timedelta(days=start.day - 1)
    if unit == "week":
        return start + timedelta(weeks=duration)
    return start + timedelta(days=duration)


class _Product:
    """A product as the Cart holds it: `get_as_variation` gives a copy with another amount and period."""

    __slots__ = ("amount", "duration", "duration_unit", "id", "is_free", "is_plan", "is_recurring", "name",
                 "recurring_flag", "setup_fee", "tax_category", "taxable", "type", "variations", "vcache")

    def __init__(self, id: int, type: str, name: str, amount: Decimal, setup_fee: Decimal, duration: int,
                 duration_unit: str, recurring_flag: bool, variations: tuple[tuple[int, str, Decimal], ...],
                 taxable: bool = True, tax_category: str = "default") -> None:
        self.id, self.type, self.name, self.amount, self.setup_fee = id, type, name, amount, setup_fee
        self.taxable, self.tax_category = taxable, tax_category
        self.duration, self.duration_unit, self.recurring_flag, self.variations = duration, duration_unit, \
            recurring_flag, variations
        self.is_recurring = is_recurring_price(recurring_flag, amount)
        self.is_free = amount == 0 and amount + setup_fee == 0
        self.is_plan = type == "plan"
        self.vcache: dict[tuple[int | None, str | None, bool], _Product | None] = {}

    @classmethod
    def of(cls, p: Product) -> _Product:
        amount = ZERO if p.pricing_type in ("free", "contact_us") else p.amount
        return cls(p.id, p.type, p.name or p.slug, amount, p.setup_fee, p.duration, p.duration_unit, p.recurring,
                   tuple((v.duration, v.duration_unit, v.amount) for v in p.price_variations), p.taxable,
                   p.tax_category)

    def price_variation(self, duration: int, unit: str, main: bool = False) -> tuple[int, str, Decimal] | None:
        """`Product::get_price_variation`: 12 months asked for means 1 year; 2.4.12 matches the variations as
        stored, UM main also reads a variation stored as 12 months as 1 year."""
        if not self.variations:
            return None
        if duration == 12 and unit == "month":
            duration, unit = 1, "year"
        for v in self.variations:
            d, u = v[0], v[1]
            if main and d == 12 and u == "month":
                d, u = 1, "year"
            if d == duration and u == unit:
                return v
        return None

    def as_variation(self, duration: int | None, unit: str | None, main: bool = False) -> _Product | None:
        """`Product::get_as_variation`: a copy priced for (duration, unit), or None when it has no such price
        (memoised: the copies are never changed either). UM main also takes 12 months and 1 year for the same
        base period."""
        key = (duration, unit, main)
        try:
            return self.vcache[key]
        except KeyError:
            found = self.vcache[key] = self._as_variation(duration, unit, main)
            return found

    def _as_variation(self, duration: int | None, unit: str | None, main: bool) -> _Product | None:
        duration = duration or 1
        unit = unit or "month"
        if self.is_free:
            return self
        base = duration == self.duration and self.duration_unit == unit
        if main and not base:
            base = ((duration, unit) == (1, "year") and (self.duration, self.duration_unit) == (12, "month")) or (
                (duration, unit) == (12, "month") and (self.duration, self.duration_unit) == (1, "year"))
        found: tuple[Decimal, int, str] | None = None
        if base:  # only the amount is set: the product keeps its own period
            found = (self.amount, self.duration, self.duration_unit)
        else:
            pv = self.price_variation(duration, unit, main)
            if pv is not None:
                found = (pv[2], pv[0], pv[1])
        if found is None:
            return None
        return _Product(self.id, self.type, self.name, found[0], self.setup_fee, found[1], found[2],
                        self.recurring_flag, self.variations, self.taxable, self.tax_category)


class UMLine:
    """A `Line_Item`; `set_discount` and `set_tax` recompute its totals as `recalculate_totals()` does (the
    discount first, then the tax on the discounted subtotal)."""

    __slots__ = ("apply_discount_to_renewals", "discount_label", "discount_total", "discountable", "duration",
                 "duration_unit", "product_id", "quantity", "recurring", "subtotal", "tax", "tax_category",
                 "tax_total", "taxable", "title", "total", "type", "unit_price")

    def __init__(self, type: str, product_id: int | None, title: str, quantity: int, unit_price: Decimal,
                 recurring: bool = False, duration: int = 1, duration_unit: str = "month",
                 discountable: bool = False, taxable: bool = False, tax_category: str = "") -> None:
        self.type, self.product_id, self.title, self.quantity, self.unit_price = (type, product_id, title, quantity,
                                                                                  unit_price)
        self.recurring, self.duration, self.duration_unit, self.discountable = (recurring, duration, duration_unit,
                                                                                discountable)
        self.taxable, self.tax_category = taxable, tax_category
        self.tax: tuple[Decimal, bool, bool] | None = None
        """(rate, inclusive, exempt) once `apply_taxes_to_item` found a rate."""
        self.apply_discount_to_renewals = True
        self.discount_label = ""
        """The code whose discount the line carries (UM's `discount_label`: the code, upper-cased)."""
        self.subtotal = self.total = unit_price if quantity == 1 else unit_price * quantity
        self.discount_total = self.tax_total = ZERO

    @property
    def tax_rate(self) -> Decimal:
        return self.tax[0] if self.tax is not None else ZERO

    def set_discount(self, rate: Decimal, kind: str, renewals: bool, label: str = "") -> None:
        """`attributes(discount_*)` + `recalculate_totals()`: the discount is rounded to cents
        (`wu_get_tax_amount(..., $format = false)` is `round($x, 2)`, whatever the currency)."""
        self.apply_discount_to_renewals, self.discount_label = renewals, label
        sub = self.subtotal
        disc = (sub * rate / HUNDRED if kind == "percentage" else rate).quantize(CENT, ROUND_HALF_UP)
        net = sub - disc
        if sub > 0 and net < 0:
            net, disc = ZERO, sub
        self.discount_total, self.total = disc, net
        if self.tax is not None:
            self.total, self.tax_total = self._taxed(disc)

    def set_tax(self, rate: Decimal, inclusive: bool, exempt: bool) -> None:
        """`attributes(tax_*)` + `recalculate_totals()`."""
        self.tax = (rate, inclusive, exempt)
        self.total, self.tax_total = self._taxed(self.discount_total)

    def _taxed(self, discount: Decimal) -> tuple[Decimal, Decimal]:
        """(total, tax) with `discount` off, the tax on PHP's float discounted subtotal."""
        assert self.tax is not None
        net = self.subtotal - discount
        clamped = self.subtotal > 0 and net <= 0  # PHP sets the discounted subtotal to 0
        net_float = 0.0 if clamped else self.quantity * float(self.unit_price) - float(discount)
        return taxed_total(net, net_float, *self.tax)

    def renewal_total(self) -> Decimal:
        """What the line adds to `get_recurring_total()`: recomputed without its discount when the discount does
        not apply to renewals."""
        if self.discount_total > 0 and not self.apply_discount_to_renewals:
            return self._taxed(ZERO)[0] if self.tax is not None else self.subtotal
        return self.total


@dataclass(slots=True)
class UMCartResult:
    """What the real Cart reports. `next_charge` None = none (UM's "300 years": nothing recurring);
    `next_charge_now` = UM dated it `strtotime(NULL)` (a downgrade of a membership with no expiration);
    `next_charge_calendar` is the same date with months added by the calendar (wpbridge's rule)."""

    version: str
    cart_type: str
    errors: list[tuple[str, str]]
    lines: list[UMLine]
    duration: int | None
    duration_unit: str | None
    credit: Decimal
    total: Decimal
    recurring_total: Decimal
    next_charge: datetime | None
    next_charge_now: bool
    decimals: int
    plan_id: int
    products: list[tuple[int, int]]
    """(product id, quantity) of the products the Cart holds, plan included, in order."""
    fee_credit: Decimal = ZERO
    """The part of `credit` that is the shared setup fee."""
    code: str | None = None
    """The discount code the Cart holds (the cart's, or in UM main's add-on carts the membership's)."""
    next_charge_calendar: datetime | None = None
    tax_total: Decimal = ZERO
    """`get_total_taxes()`: the lines' taxes (each rounded to cents), summed."""
    tax_location: TaxLocation | None = None
    """Where the Cart taxed (None: taxes off)."""

    @property
    def valid(self) -> bool:
        return not self.errors


class Member:
    """The membership's fields the Cart reads, read once from the model (pydantic routes every attribute read of
    a model through CPython's slow `__getattr__` hook; the Cart reads some of them many times)."""

    __slots__ = ("addon_products", "amount", "currency", "date_created", "date_expiration", "date_renewed",
                 "discount_code", "duration", "duration_unit", "id", "initial_amount", "is_free", "is_recurring",
                 "plan_id", "recurring", "status", "times_billed")

    def __init__(self, m: Membership) -> None:
        self.id, self.plan_id, self.addon_products, self.currency = m.id, m.plan_id, m.addon_products, m.currency
        self.amount, self.initial_amount, self.recurring = m.amount, m.initial_amount, m.recurring
        self.duration, self.duration_unit, self.times_billed, self.status = (m.duration, m.duration_unit,
                                                                             m.times_billed, m.status)
        self.date_created, self.date_renewed, self.date_expiration = m.date_created, m.date_renewed, \
            m.date_expiration
        self.discount_code = m.discount_code
        self.is_recurring = is_recurring_price(self.recurring, self.amount)
        self.is_free = not self.is_recurring and self.initial_amount == 0


class _Tax:
    """The Cart's tax inputs (taxes on): settings, location, exemption, and each category's rate, found once."""

    __slots__ = ("exempt", "inclusive", "location", "main", "rates", "settings")

    def __init__(self, settings: TaxSettings, location: TaxLocation, exempt: bool, main: bool) -> None:
        self.settings, self.location, self.exempt, self.main = settings, location, exempt, main
        self.inclusive = settings.inclusive
        self.rates: dict[str, TaxRate | None] = {}

    def rate(self, category: str) -> TaxRate | None:
        try:
            return self.rates[category]
        except KeyError:
            found = self.rates[category] = applicable_rate(self.settings, category, self.location, self.main)
            return found

    def apply(self, line: UMLine) -> None:
        """`Cart::apply_taxes_to_item`: a taxable line of a category with a rate gets it (and the settings)."""
        rate = self.rate(line.tax_category)
        if rate is not None:
            line.set_tax(rate.rate, self.inclusive, self.exempt)

    def fee_credit(self, plan: _Product, fee: Decimal) -> Decimal:
        """The total of UM's temporary fee line of the old plan (the setup-fee credit), taxed as that plan is."""
        rate = self.rate(plan.tax_category) if plan.taxable else None
        if rate is None:
            return fee
        return taxed_total(fee, float(fee), rate.rate, self.inclusive, self.exempt)[0]


class _CartState:
    """The Cart's working state (a plain slotted class: one is built per quote)."""

    __slots__ = ("cart_type", "code", "credit", "decimals", "duration", "duration_unit", "errors", "fee_credit",
                 "idx", "lines", "m", "m_free", "m_recurring", "main", "now", "overlimits", "plan_id", "products",
                 "quantities", "quantum", "signup_fee", "tax", "zero")

    def __init__(self, m: Member, idx: CatalogIndex, now: datetime, main: bool, quantities: Mapping[int, int],
                 code: DiscountCode | None, duration: int | None, duration_unit: str | None) -> None:
        self.m, self.idx, self.now, self.main, self.quantities, self.code = m, idx, now, main, quantities, code
        self.cart_type = "upgrade"
        self.duration, self.duration_unit = duration, duration_unit
        self.plan_id = 0
        self.products: list[_Product] = []
        self.lines: list[UMLine] = []
        self.errors: list[tuple[str, str]] = []
        self.signup_fee = True
        """`wu_apply_signup_fee` (UM's add-on path adds a filter `times_billed <= 0`)."""
        self.decimals = 2
        self.overlimits: Callable[[int], list[tuple[str, str]]] | None = None
        self.fee_credit = ZERO
        self.credit = ZERO
        self.quantum = CENT
        self.zero = ZERO
        self.m_recurring: bool = m.is_recurring
        self.m_free: bool = m.is_free
        self.tax: _Tax | None = None


def run_cart(
    m: Member | Membership,
    idx: CatalogIndex,
    plan_id: int | None,
    addons: Mapping[int, int],
    duration: int | None,
    duration_unit: str | None,
    code: DiscountCode | None,
    now: datetime,
    version: str | None,
    *,
    own_decimals: bool = False,
    overlimits: Callable[[int], list[tuple[str, str]]] | None = None,
    taxes: TaxSettings | None = None,
    location: TaxLocation | None = None,
    tax_exempt: bool = False,
) -> UMCartResult:
    """The Cart `new Cart(['cart_type' => 'upgrade', 'products' => [plan, addons...], 'membership_id' => m,
    'duration' => .., 'duration_unit' => .., 'discount_code' => ..])` with `addons` quantities, at `now`.
    `own_decimals` rounds to the currency's decimals whatever the release (what UM main does). `overlimits(new
    plan id)` is UM's over-quota check of the membership's sites (errors as (code, message)), run where UM does.
    `taxes` on: lines are taxed at `location` (as `taxes.tax_location` resolves it; UM main's cart of a pending
    membership is a new signup, which knows only the cart's own country), none when `tax_exempt`."""
    if not isinstance(m, Member):
        m = Member(m)
    main = is_main(version)
    ids = ([plan_id] if plan_id else []) + list(addons)
    st = _CartState(m, idx, now, main, addons, code, duration or None, (duration_unit or None) if duration else None)
    st.decimals = currency_decimals(m.currency) if (main or own_decimals) else 2
    st.quantum, st.zero = quantum_of(st.decimals)
    st.credit = st.zero
    st.overlimits = overlimits
    if taxes is not None and taxes.enabled:
        where = location or TaxLocation("", source="none")
        if main and m.status == "pending" and where.source != "cart":
            where = TaxLocation("", where.state, where.city, "none")
        st.tax = _Tax(taxes, where, tax_exempt, main)
    if code is not None:
        reason = _code_invalid(code, now)
        if reason:
            st.errors.append(("discount_code", reason))
            st.code = None
    if main and m.status == "pending":
        st.cart_type = "new"
        for pid in ids:
            _add_product(st, pid)
    else:
        _build_from_membership(st, ids)
    _is_valid(st)
    return _result(st, version or LATEST_RELEASE)


def _code_invalid(code: DiscountCode, now: datetime) -> str | None:
    """`Discount_Code::is_valid()` without a product (UM's checks and order: `discounts.code_refusal`; wpbridge's
    clearer wording)."""
    refusal = code_refusal(code, now)
    if refusal is None:
        return None
    kind, when = refusal
    name = code.code
    if kind == "inactive":
        return f"The discount code {name} is not active."
    if kind == "used_up":
        return f"The discount code {name} was already used the maximum number of times allowed."
    if kind == "not_started":
        return f"The discount code {name} is not valid yet (it starts on {when:%Y-%m-%d})."
    return f"The discount code {name} expired on {when:%Y-%m-%d}."


def _product(st: _CartState, pid: int) -> _Product | None:
    """The catalog product as the Cart holds it (derived once per index: `_Product`s are never changed)."""
    derived = st.idx.derived
    found = derived.get(pid)
    if found is None:
        p = st.idx.get(pid)
        if p is None:
            return None
        found = derived[pid] = _Product.of(p)
    return found  # type: ignore[return-value]


def _apply_discount(st: _CartState, line: UMLine) -> None:
    code = st.code
    if not line.discountable or code is None:
        return
    if (code.limit_products and line.product_id not in code.allowed_products) or _code_invalid(code, st.now):
        return
    label = code.code.upper()
    if line.type == "fee":
        if code.setup_fee_value > 0:
            line.set_discount(code.setup_fee_value, code.setup_fee_type, False, label)
    else:
        line.set_discount(code.value, code.type, code.apply_to_renewals, label)


def _add_line(st: _CartState, line: UMLine) -> None:
    if st.code is not None:
        _apply_discount(st, line)
    if st.tax is not None and line.taxable:
        st.tax.apply(line)
    st.lines.append(line)


def _add_product(st: _CartState, pid: int) -> bool:
    product = _product(st, pid)
    if product is None:
        st.errors.append(("missing-product", "The product you are trying to add does not exist."))
        return False
    if any(p.id == product.id for p in st.products):
        return True
    if product.is_recurring and st.duration and (
        product.duration != st.duration or product.duration_unit != st.duration_unit
    ):
        variation = product.as_variation(st.duration, st.duration_unit, st.main)
        if variation is None:
            st.errors.append(("missing-price-variations",
                              "The product you are trying to add does not exist for the selected duration."))
            return False
        product = variation
    if product.is_plan:
        if st.plan_id and st.plan_id != product.id:
            st.errors.append(("plan-already-added", "There's already a plan in this membership."))
            return False
        if st.plan_id == product.id:
            return True
        st.plan_id = product.id
    if not st.duration or not product.is_recurring:
        st.duration, st.duration_unit = product.duration, product.duration_unit
    amount, duration, unit = product.amount, product.duration, product.duration_unit
    if not product.is_free and (st.duration != product.duration or product.duration_unit != st.duration_unit):
        pv = product.price_variation(st.duration or 0, st.duration_unit or "", st.main)
        if pv is None:
            st.errors.append((
                "missing-price-variations",
                f"{product.name} does not have a valid price variation for that billing period (every "
                f"{st.duration} {st.duration_unit}(s)) and was not added to the cart.",
            ))
            return False
        duration, unit, amount = pv
    quantity = st.quantities.get(product.id, 1)
    st.products.append(product)
    _add_line(st, UMLine("product", product.id, product.name, quantity, amount, product.is_recurring, duration,
                         unit, True, product.taxable, product.tax_category))
    if not product.setup_fee:
        return True
    if not st.signup_fee:
        return True
    title = ("Signup Fee for %s" if product.setup_fee > 0 else "Signup Credit for %s") % product.name
    _add_line(st, UMLine("fee", product.id, title, quantity, product.setup_fee, False, product.duration,
                         product.duration_unit, True, product.taxable, product.tax_category))
    return True


def _membership_plan(st: _CartState) -> _Product | None:
    """`Membership::get_plan()`: the plan in the membership's period when it has a price there."""
    m = st.m
    plan = _product(st, m.plan_id)
    if plan is not None and (plan.duration != m.duration or plan.duration_unit != m.duration_unit):
        variation = plan.as_variation(m.duration, m.duration_unit, st.main)
        plan = variation or plan
    return plan




def _addon_period(st: _CartState) -> None:
    plan = _membership_plan(st)
    if plan is not None and not st.m_free:
        st.duration, st.duration_unit = plan.duration, plan.duration_unit


def _apply_membership_code(st: _CartState) -> None:
    """UM main: the membership's own code joins an add-on cart when it applies to renewals."""
    code = st.m.discount_code
    if isinstance(code, str):
        raise InputError(f"membership {st.m.id}: discount_code {code!r} is not resolved; pass the DiscountCode record",
                         field="discount_code", record_id=st.m.id)
    if isinstance(code, DiscountCode) and code.apply_to_renewals:
        st.code = code
        for line in st.lines:
            _apply_discount(st, line)


def _no_changes(st: _CartState, message: str = NO_CHANGES_MESSAGE) -> None:
    st.products, st.lines = [], []
    st.errors.append(("no_changes", message))


def _build_from_membership(st: _CartState, ids: list[int]) -> None:
    m = st.m
    if not ids:
        st.errors.append(("no_changes", NO_CHANGES_MESSAGE))
        return
    for pid in ids:
        _add_product(st, pid)
    if not st.plan_id:
        if not st.products:
            st.errors.append(("no_changes", NO_CHANGES_MESSAGE))
            return
        st.cart_type = "addon"
        _addon_period(st)
        if st.main:
            _apply_membership_code(st)
            return
        st.signup_fee = m.times_billed <= 0
        _add_product(st, m.plan_id)
        _prorate(st)
        return
    is_plan_change = m.plan_id != st.plan_id or m.duration_unit != st.duration_unit or m.duration != st.duration
    if len(st.products) > 1 and not is_plan_change:
        st.cart_type = "addon"
        _addon_period(st)
        if st.main:
            _apply_membership_code(st)
            st.products = [p for p in st.products if not (p.is_plan and p.id == m.plan_id)]
            st.lines = [ln for ln in st.lines if not (ln.product_id == m.plan_id and ln.type in ("product", "fee"))]
            st.plan_id = 0
            return
        st.signup_fee = m.times_billed <= 0
        _prorate(st)
        return
    if not is_plan_change:
        _no_changes(st)
        return
    if st.overlimits is not None:
        over = st.overlimits(st.plan_id)
        if over:
            st.errors.extend(over)
            return
    recurring = _recurring_total(st)
    if not recurring > 0 and _total(st) != 0:
        _prorate(st)
        return
    old_days, old_float = days_in_cycle_php(m.duration_unit, m.duration)
    new_days, new_float = days_in_cycle_php(st.duration_unit or "", st.duration or 0)
    amount = float(m.amount)
    recurring_total = float(recurring)
    old_ppd = amount / old_days if old_days > 0 else amount
    new_ppd = recurring_total / new_days if new_days > 0 else recurring_total
    same_product = m.plan_id == st.plan_id
    if (old_days, old_float) != (new_days, new_float):  # PHP `!==`: an int and a float always differ
        old_plan = _membership_plan(st)
        new_plan = _product(st, st.plan_id)
        pair = _same_period_plans(st, old_plan, new_plan) if old_plan and new_plan else None
        if pair is not None:
            a, b = pair
            a_days = days_in_cycle_php(a.duration_unit, a.duration)[0]
            b_days = days_in_cycle_php(b.duration_unit, b.duration)[0]
            old_ppd = float(a.amount) / a_days if a_days > 0 else float(a.amount)
            new_ppd = float(b.amount) / b_days if b_days > 0 else float(b.amount)
    if not st.m_free and old_ppd < new_ppd and old_days > new_days and m.status == "active":
        what = m.duration_unit if m.duration == 1 else f"{m.duration} {m.duration_unit}{'s' if m.duration > 1 else ''}"
        _no_changes(st, f"You already have an active {what} agreement.")
        return
    if (same_product and m.amount > recurring) or (not same_product and old_ppd > new_ppd):
        st.cart_type = "downgrade"
        if m.status in ("active", "on-hold", "trialing"):
            total = _total(st)
            _add_line(st, UMLine("credit", None, "Scheduled Swap Credit", 1, -total))
    if st.cart_type == "upgrade":
        _prorate(st)


def _same_period_plans(st: _CartState, a: _Product, b: _Product) -> tuple[_Product, _Product] | None:
    """`Cart::search_for_same_period_plans`."""
    if a.duration_unit == b.duration_unit and a.duration == b.duration:
        return a, b
    av = a.as_variation(b.duration, b.duration_unit, st.main)
    if av is not None:
        return av, b
    bv = b.as_variation(a.duration, a.duration_unit, st.main)
    if bv is not None:
        return a, bv
    if st.duration_unit and st.duration and (b.duration_unit != st.duration_unit or b.duration != st.duration):
        av = a.as_variation(st.duration, st.duration_unit, st.main)
        if av is None:
            return None
        if b.duration_unit == av.duration_unit and b.duration == av.duration:
            return av, b
        bv = b.as_variation(st.duration, st.duration_unit, st.main)
        if bv is not None:
            return av, bv
    return None


def _remaining_days(st: _CartState) -> int:
    m, now = st.m, st.now
    if not st.m_recurring:
        return 10000
    end = m.date_expiration
    if end is None or now > end:
        return 0
    return (end - now).days


def _prorate(st: _CartState) -> None:
    """`Cart::calculate_prorate_credits`."""
    m = st.m
    if m.status == "trialing":
        return
    if not st.m_recurring:  # is_lifetime() implies !is_recurring()
        credit = m.initial_amount
    else:
        days_unused = Decimal(_remaining_days(st))
        cycle = _DAYS_DEC.get(m.duration_unit, ZERO) * m.duration
        ppd = m.amount / cycle if cycle > 0 else m.amount
        today = st.now.date()
        if (m.date_created is not None and m.date_created.date() == today) or (
            m.date_renewed is not None and m.date_renewed.date() == today
        ):
            days_unused = cycle
        credit = days_unused * ppd
        if credit > m.amount:
            credit = m.amount
    if not credit:
        return
    if any(ln.type == "fee" for ln in st.lines) or st.cart_type == "upgrade":
        old_plan = _membership_plan(st)
        new_plan = _product(st, st.plan_id) if st.plan_id else None
        if old_plan is not None and new_plan is not None:
            fee_credit = old_plan.setup_fee if old_plan.setup_fee < new_plan.setup_fee else new_plan.setup_fee
            if fee_credit > 0:
                if st.tax is not None:
                    fee_credit = st.tax.fee_credit(old_plan, fee_credit)
                credit += fee_credit
                st.fee_credit = fee_credit
    credit = credit.quantize(st.quantum, ROUND_HALF_UP)
    if not credit:
        return
    st.credit = credit
    _add_line(st, UMLine("credit", None, "Credit", 1, -credit))


@lru_cache(maxsize=8)
def quantum_of(decimals: int) -> tuple[Decimal, Decimal]:
    """(rounding step, zero at that step) for `decimals`."""
    step = Decimal(1).scaleb(-decimals)
    return step, ZERO.quantize(step)


def _sums(st: _CartState) -> tuple[Decimal, Decimal]:
    """(`get_total()`, `get_recurring_total()`): line totals summed, floored at 0, rounded once. A discount that
    does not apply to renewals is left out of the recurring total (UM recomputes the line with no discount)."""
    total = recurring = ZERO
    for ln in st.lines:
        total += ln.total
        if ln.recurring:
            recurring += ln.renewal_total() if ln.discount_total else ln.total
    q = st.quantum
    return (total.quantize(q, ROUND_HALF_UP) if total > 0 else st.zero,
            recurring.quantize(q, ROUND_HALF_UP) if recurring > 0 else st.zero)


def _total(st: _CartState) -> Decimal:
    return _sums(st)[0]


def _recurring_total(st: _CartState) -> Decimal:
    return _sums(st)[1]


def _is_valid(st: _CartState) -> None:
    """`Cart::is_valid()`: the recurring lines must share one interval (adds UM's `wrong` error)."""
    if st.errors:
        return
    interval: tuple[int, str] | None = None
    for ln in st.lines:
        if not ln.recurring:
            continue
        here = (ln.duration, ln.duration_unit)
        if interval is None:
            interval = here
        if here != interval:
            st.errors.append(("wrong", f"Interval {here[0]}-{here[1]}-0 and {interval[0]}-{interval[1]}-0 do not "
                                       "match."))
            return


def _next_charge(st: _CartState) -> tuple[datetime | None, datetime | None, bool]:
    """(UM's next charge, the same by the calendar (months clamped, not spilled), dated `strtotime(NULL)`?)."""
    m = st.m
    if st.cart_type == "downgrade" and m.status in ("active", "on-hold", "trialing"):
        if m.date_expiration is None:
            return st.now, st.now, True
        return m.date_expiration, m.date_expiration, False
    smallest: datetime | None = None
    calendar: datetime | None = None
    now = st.now
    for p in st.products:
        if not p.is_recurring:
            continue
        at = php_add_period(now, p.duration, p.duration_unit)
        if smallest is None or at < smallest:
            smallest = at
        cal = add_period(now, p.duration, p.duration_unit)
        if calendar is None or cal < calendar:
            calendar = cal
    return smallest, calendar, False


def _result(st: _CartState, version: str) -> UMCartResult:
    next_charge, calendar, now_dated = _next_charge(st)
    total, recurring = _sums(st)
    return UMCartResult(
        version, st.cart_type, st.errors, st.lines, st.duration, st.duration_unit, st.credit, total, recurring,
        next_charge, now_dated, st.decimals, st.plan_id, [(p.id, st.quantities.get(p.id, 1)) for p in st.products],
        st.fee_credit, st.code.code if st.code is not None else None, calendar,
        sum((ln.tax_total for ln in st.lines), ZERO) if st.tax is not None else ZERO,
        st.tax.location if st.tax is not None else None,
    )
