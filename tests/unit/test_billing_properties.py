"""Properties of quote_change over generated memberships, catalogs and carts (hypothesis), both policies."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from wpbridge.billing import Cart, Quote, quote_change
from wpbridge.models import Membership, Product
from wpbridge.money import currency_decimals, round_money

BASE = datetime(2025, 1, 1, tzinfo=UTC)
UNITS = ["day", "week", "month", "year"]
STATUSES = ["active", "trialing", "on-hold", "expired", "cancelled"]

amounts = st.integers(0, 50_000_000).map(lambda i: Decimal(i).scaleb(-4))  # UM stores 4 decimals
periods = st.tuples(st.integers(1, 3), st.sampled_from(UNITS))
fees = st.one_of(st.just(Decimal(0)), amounts)
variations = st.lists(st.tuples(periods, amounts), max_size=2)
quantities = st.dictionaries(st.sampled_from([10, 11]), st.integers(1, 3), max_size=2)
days = st.integers(0, 400 * 86400)


@st.composite
def products(draw: st.DrawFn, pid: int, kind: str = "plan") -> Product:
    duration, unit = draw(periods)
    return Product.model_validate({
        "id": pid, "slug": f"p{pid}", "name": f"P{pid}", "type": kind, "amount": draw(amounts),
        "setup_fee": draw(fees), "recurring": draw(st.booleans()), "duration": duration, "duration_unit": unit,
        "product_group": "g", "list_order": pid, "available_addons": [10, 11],
        "price_variations": [
            {"duration": d, "duration_unit": u, "amount": a}
            for (d, u), a in draw(variations) if (d, u) != (duration, unit)
        ],
    })


@st.composite
def scenarios(draw: st.DrawFn, currency: str | None = None) -> dict[str, Any]:
    catalog = [draw(products(1)), draw(products(2)), draw(products(3)), draw(products(10, "package")),
               draw(products(11, "service"))]
    created = BASE + timedelta(seconds=draw(days))
    renewed = created + timedelta(seconds=draw(days)) if draw(st.booleans()) else None
    start = renewed or created
    expiration = start + timedelta(seconds=draw(st.integers(-86400, 800 * 86400))) if draw(st.booleans()) else None
    now = start + timedelta(seconds=draw(days))
    duration, unit = draw(periods)
    amount = draw(amounts)
    membership = Membership.model_validate({
        "id": 1, "customer_id": 1, "plan_id": 1, "currency": currency or draw(st.sampled_from(["USD", "JPY", "EUR"])),
        "amount": amount, "initial_amount": amount if draw(st.booleans()) else draw(amounts),
        "recurring": draw(st.booleans()), "status": draw(st.sampled_from(STATUSES)), "duration": duration,
        "duration_unit": unit, "date_created": created, "date_renewed": renewed, "date_expiration": expiration,
        "addon_products": draw(quantities),
    })
    cart_period = draw(periods) if draw(st.booleans()) else None
    cart = Cart(
        plan_id=draw(st.sampled_from([None, 1, 2, 3])),
        addons=draw(quantities),
        duration=cart_period[0] if cart_period else None,
        duration_unit=cart_period[1] if cart_period else None,
    )
    return {"membership": membership, "catalog": catalog, "cart": cart, "now": now,
            "policy": draw(st.sampled_from(["ultimate-multisite", "exact"]))}


def run(s: dict[str, Any], **changes: Any) -> Quote:
    args = {**s, **changes}
    return quote_change(args["membership"], args["catalog"], args["cart"], now=args["now"], policy=args["policy"],
                        force=True)


def worth(m: Membership) -> Decimal:
    """What the current period can be worth: the recurring amount, or what a one-time membership paid."""
    return m.initial_amount if (m.is_lifetime or not m.is_recurring) else m.amount


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_credit_never_exceeds_what_the_period_is_worth(s: dict[str, Any]) -> None:
    q = run(s)
    m, catalog = s["membership"], {p.id: p for p in s["catalog"]}
    shared_fee = min(catalog[q.current_plan_id].setup_fee, catalog[q.new_plan_id].setup_fee)
    assert Decimal(0) <= q.credit <= round_money(worth(m) + shared_fee, m.currency)
    assert q.setup_fee_credit <= q.credit


@settings(max_examples=100, deadline=None)
@given(scenarios())
def test_due_now_is_never_negative_and_the_lines_add_up(s: dict[str, Any]) -> None:
    q = run(s)
    assert q.due_now >= 0 and q.unused_credit >= 0 and q.recurring_total >= 0
    lines = sum((ln.total for ln in q.lines), Decimal(0))
    if q.policy == "ultimate-multisite":  # UM's lines are unrounded; the totals are rounded once
        lines = lines.quantize(q.due_now, ROUND_HALF_UP)
    assert lines == q.due_now - q.unused_credit
    assert q.unused_credit == 0 or q.due_now == 0


@settings(max_examples=100, deadline=None)
@given(scenarios())
def test_a_quote_is_a_pure_function_of_its_inputs(s: dict[str, Any]) -> None:
    first = run(s)
    again = run(copy.deepcopy(s))
    assert first.model_dump() == again.model_dump()
    assert s["membership"].model_dump() == copy.deepcopy(s)["membership"].model_dump()  # input untouched


@settings(max_examples=200, deadline=None)
@given(scenarios(), st.integers(0, 400 * 86400))
def test_moving_the_clock_later_never_raises_the_credit(s: dict[str, Any], later: int) -> None:
    early = run(s)
    late = run(s, now=s["now"] + timedelta(seconds=later))
    assert late.kind == early.kind
    assert late.credit <= early.credit


def _amounts(q: Quote) -> list[Decimal]:
    values = [q.credit, q.setup_fee_credit, q.due_now, q.unused_credit, q.recurring_total]
    if q.policy == "exact":  # UM's lines are unrounded (its totals are rounded)
        for ln in q.lines:
            values += [ln.unit_price, ln.total]
    if q.target is not None:
        values += [Decimal(q.target["amount"]), Decimal(q.target["initial_amount"])]
    return values


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["JPY", "KRW", "VND", "CLP"]).flatmap(lambda c: scenarios(currency=c)))
def test_zero_decimal_currencies_never_produce_fractions(s: dict[str, Any]) -> None:
    q = run(s)
    for value in _amounts(q):
        assert value == value.to_integral_value() and value.as_tuple().exponent == 0, value
    if q.target is not None:
        assert "." not in q.target["amount"] and "." not in q.target["initial_amount"]


@settings(max_examples=100, deadline=None)
@given(scenarios(currency="EUR"))
def test_two_decimal_currencies_are_rounded_to_cents(s: dict[str, Any]) -> None:
    assert currency_decimals("EUR") == 2
    for value in _amounts(run(s)):
        assert value.as_tuple().exponent == -2, value
