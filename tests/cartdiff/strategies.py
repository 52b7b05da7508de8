"""Hypothesis strategies for plan-change scenarios in `cart_batch.php`'s format (the real Cart's oracle).

A scenario is a JSON object: products (plans and add-ons with prices, setup fees, periods, price variations,
add-on lists), a membership (plan, status, amounts, period, dates, add-ons held), the cart (plan, add-ons with
quantities, period, discount code) and a pinned `now`. `scenarios(n, seed)` draws n of them deterministically.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hseed
from hypothesis import strategies as st

UNITS = ("day", "week", "month", "year")
CURRENCIES = ("USD", "USD", "EUR", "GBP", "JPY", "KRW", "HUF")
AMOUNTS = ("0", "5", "9.99", "10", "12.5", "19.99", "20", "25", "29", "30", "49.99", "99", "100", "120", "240",
           "500", "1000", "3000", "0.01", "7.77")
FEES = ("0", "0", "0", "3", "5", "9.99", "15", "35", "100")
# month ends, leap days, year ends: where calendar arithmetic differs
NOWS = ("2024-01-31", "2024-02-29", "2024-03-31", "2025-01-30", "2025-05-31", "2026-01-31", "2026-02-28",
        "2026-03-31", "2026-08-31", "2026-10-31", "2026-11-30", "2026-12-31", "2027-06-15", "2028-02-29",
        "2026-07-29", "2026-04-30")
STATUSES = ("active", "active", "active", "active", "on-hold", "trialing", "expired", "cancelled", "pending")


def _period() -> st.SearchStrategy[tuple[int, str]]:
    return st.tuples(st.sampled_from((1, 1, 1, 1, 2, 3, 6, 12)), st.sampled_from(UNITS))


@st.composite
def product(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    duration, unit = draw(st.sampled_from(((1, "month"),) * 3 + ((1, "year"),)) | _period())
    p: dict[str, Any] = {
        "type": kind,
        "amount": float(draw(st.sampled_from(AMOUNTS))),
        "setup_fee": float(draw(st.sampled_from(FEES))),
        "duration": duration,
        "duration_unit": unit,
        "recurring": draw(st.sampled_from((True, True, True, True, False))),
    }
    # mostly the usual pair (monthly and yearly prices), sometimes anything
    usual = [((1, "year") if unit == "month" else (1, "month"), draw(st.sampled_from(AMOUNTS)))]
    variations = draw(st.sampled_from((usual, usual, [])) | st.lists(st.tuples(_period(), st.sampled_from(AMOUNTS)),
                                                                      max_size=3))
    pv = []
    seen = {(duration, unit)}
    for (d, u), a in variations:
        if (d, u) in seen:
            continue
        seen.add((d, u))
        pv.append({"duration": d, "duration_unit": u, "amount": float(a)})
    if pv:
        p["price_variations"] = pv
    return p


@st.composite
def scenario(draw: st.DrawFn) -> dict[str, Any]:
    n_plans = draw(st.integers(1, 4))
    n_addons = draw(st.integers(0, 3))
    products: dict[str, dict[str, Any]] = {}
    for i in range(n_plans):
        products[f"p{i}"] = draw(product("plan"))
    addon_keys = [f"a{i}" for i in range(n_addons)]
    for key in addon_keys:
        products[key] = draw(product(draw(st.sampled_from(("package", "service")))))
    for i in range(n_plans):
        if addon_keys:
            products[f"p{i}"]["available_addons"] = draw(st.lists(st.sampled_from(addon_keys), unique=True))
        products[f"p{i}"]["product_group"] = draw(st.sampled_from(("", "g1", "g1", "g2")))
        products[f"p{i}"]["list_order"] = draw(st.integers(0, 5))
    day = datetime.fromisoformat(draw(st.sampled_from(NOWS)))
    now = day + timedelta(hours=draw(st.integers(0, 23)), minutes=draw(st.sampled_from((0, 17, 59))))
    plan_key = draw(st.sampled_from(list(products)[:n_plans]))
    plan = products[plan_key]
    # the membership's period: the plan's own, one of its variations, or anything
    periods = [(plan["duration"], plan["duration_unit"], plan["amount"])] + [
        (v["duration"], v["duration_unit"], v["amount"]) for v in plan.get("price_variations", [])]
    m_duration, m_unit, m_amount = draw(st.one_of(st.sampled_from(periods),
                                                  st.tuples(st.sampled_from((1, 2, 12)), st.sampled_from(UNITS),
                                                            st.sampled_from(AMOUNTS).map(float))))
    if draw(st.integers(0, 9)) == 0:
        m_amount = float(draw(st.sampled_from(AMOUNTS)))
    recurring = draw(st.sampled_from((True, True, True, True, False)))
    status = draw(st.sampled_from(STATUSES))
    created_days = draw(st.sampled_from((0, 0.05, 1, 3, 15, 29, 40, 200, 400)))
    created = (now - timedelta(days=created_days) if created_days
               else now.replace(hour=0, minute=0) + timedelta(minutes=1))
    lifetime = not recurring and draw(st.booleans())
    membership: dict[str, Any] = {
        "plan": plan_key,
        "status": status,
        "amount": m_amount,
        "initial_amount": float(draw(st.sampled_from((str(m_amount), *AMOUNTS[:6])))),
        "duration": m_duration,
        "duration_unit": m_unit,
        "recurring": recurring,
        "times_billed": draw(st.sampled_from((0, 1, 1, 2, 5))),
        "date_created": _fmt(created),
    }
    renewed = draw(st.sampled_from((None, None, "today", 1, 10, 30)))
    if renewed == "today":
        membership["date_renewed"] = _fmt(now.replace(hour=0, minute=0, second=0) + timedelta(seconds=30))
    elif renewed is not None:
        membership["date_renewed"] = _fmt(now - timedelta(days=float(renewed)))
    if lifetime:
        membership["date_expiration"] = None
    else:
        expires = draw(st.sampled_from((-3, -0.5, 0.3, 1, 2.5, 9.9, 14, 15, 15.5, 29.9, 30, 45, 180, 364, 366)))
        membership["date_expiration"] = _fmt(now + timedelta(days=expires, hours=draw(st.integers(0, 3))))
    if addon_keys and draw(st.booleans()):
        membership["addon_products"] = draw(st.dictionaries(st.sampled_from(addon_keys), st.integers(1, 3),
                                                            max_size=2))
    plan_keys = list(products)[:n_plans]
    others = [k for k in plan_keys if k != plan_key]
    cart: dict[str, Any] = {  # mostly another plan; sometimes the same one, or none (add-ons only)
        "plan": draw(st.sampled_from(others * 3 + [plan_key, None]) if others else st.sampled_from([plan_key, None])),
    }
    if addon_keys:
        cart["addons"] = draw(st.dictionaries(st.sampled_from(addon_keys), st.sampled_from((1, 1, 2, 3)),
                                              min_size=1 if cart["plan"] in (None, plan_key) else 0, max_size=2))
    # a period without a plan: to wpbridge the current plan in that period (no plan = keep the current one), to
    # UM's Cart the add-ons alone in that period; mostly such carts name the current plan, sometimes not (a declared
    # deviation: the quote says what UM's Cart answers for the add-ons alone)
    if draw(st.integers(0, 9)) < 4:
        if cart["plan"] is None and draw(st.integers(0, 3)) > 0:
            cart["plan"] = plan_key
        new = products[cart["plan"] or plan_key]
        new_periods = [(new["duration"], new["duration_unit"])] + [
            (v["duration"], v["duration_unit"]) for v in new.get("price_variations", [])]
        duration, unit = draw(st.sampled_from(new_periods * 4) | _period())
        cart["duration"], cart["duration_unit"] = duration, unit
    if draw(st.integers(0, 3)) == 0:
        cart["discount"] = {
            "code": "D",
            "type": draw(st.sampled_from(("percentage", "absolute"))),
            "value": float(draw(st.sampled_from(("10", "50", "33.33", "5", "100", "2.5")))),
            "setup_fee_type": draw(st.sampled_from(("percentage", "absolute"))),
            "setup_fee_value": float(draw(st.sampled_from(("0", "0", "50", "5", "100")))),
            "apply_to_renewals": draw(st.booleans()),
        }
    if draw(st.integers(0, 3)) == 0:
        membership["discount"] = draw(member_code(now))
    return {"now": _fmt(now), "currency": draw(st.sampled_from(CURRENCIES)), "products": products,
            "membership": membership, "cart": cart}


@st.composite
def member_code(draw: st.DrawFn, now: datetime) -> dict[str, Any]:
    """The membership's own discount code (UM keeps the code it was bought with): mostly one that applies to
    renewals (UM 2.4.13 carries those into add-on carts), sometimes inactive or expired."""
    code: dict[str, Any] = {
        "code": "M",
        "type": draw(st.sampled_from(("percentage", "absolute"))),
        "value": float(draw(st.sampled_from(("10", "50", "33.33", "5", "100", "2.5")))),
        "setup_fee_type": draw(st.sampled_from(("percentage", "absolute"))),
        "setup_fee_value": float(draw(st.sampled_from(("0", "0", "50", "5")))),
        "apply_to_renewals": draw(st.sampled_from((True, True, True, False))),
    }
    state = draw(st.sampled_from(("ok",) * 6 + ("inactive", "expired")))
    if state == "inactive":
        code["active"] = False
    elif state == "expired":
        code["date_expiration"] = _fmt(now - timedelta(days=2))
    return code


def _fmt(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S")


def draw(strategy: st.SearchStrategy[dict[str, Any]], n: int, seed: int, prefix: str) -> list[dict[str, Any]]:
    """n examples of `strategy` drawn by Hypothesis (generate phase only, so no shrinking), reproducible from
    `seed`, each given the id `{prefix}{seed}-{i}`."""
    out: list[dict[str, Any]] = []

    @hseed(seed)
    @settings(max_examples=n, phases=[Phase.generate], database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(s: dict[str, Any]) -> None:
        out.append(s)

    collect()
    for i, s in enumerate(out):
        s["id"] = f"{prefix}{seed}-{i}"
    return out


def scenarios(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """n Cart scenarios, reproducible from `seed`."""
    return draw(scenario(), n, seed, "s")


# ---- taxes (cart_batch.php's `tax`, `customer`, per-product `taxable`/`tax_category`, cart country/state/city)

COUNTRIES = ("FR", "FR", "DE", "US", "US", "GB", "0")
RATE_COUNTRIES = ("FR", "FR", "DE", "US", "US", "GB", "*", "fr")
RATE_STATES = ("", "", "", "CA", "CA,NY", "NY, CA", "ca", "*", "TX,0", "NY")
RATE_CITIES = ("", "", "", "Paris", "Paris,Lyon", "*", "paris", "Los Angeles")
CART_STATES = ("", "", "CA", "NY", " CA", "TX", "*")
CART_CITIES = ("", "", "Paris", "Lyon", "Los Angeles", "paris")
RATES = ("20", "20", "7.25", "0", "5.5", "19", "8.875", "10", "21", "25", "100", "33.33")
CATEGORIES = ("default", "default", "default", "reduced", "digital")
# prices where the tax's float lands a half-cent off the exact value (5.43 at 20 % inclusive: UM 0.90, exact 0.905)
TAX_AMOUNTS = ("5.43", "5.67", "4915.59", "10", "9.99", "19.99", "100", "0.03", "12.5")


@st.composite
def tax_rate(draw: st.DrawFn, home: str) -> dict[str, Any]:
    """A rate, most often of the scenario's `home` country (the one its customer and cart mostly name)."""
    return {"category": draw(st.sampled_from(CATEGORIES)),
            "country": draw(st.sampled_from((home,) * 6 + RATE_COUNTRIES)),
            "state": draw(st.sampled_from(RATE_STATES)), "city": draw(st.sampled_from(RATE_CITIES)),
            "rate": draw(st.sampled_from(RATES)), "title": f"T{draw(st.integers(0, 99))}"}


@st.composite
def tax_scenario(draw: st.DrawFn) -> dict[str, Any]:
    """A plan-change scenario with UM's taxes: settings and rates (per country, state, city and category,
    inclusive or not), taxable or not products of some category, the customer's billing and IP countries, the
    cart's location, and sometimes an exempt customer."""
    s = draw(scenario())
    home = draw(st.sampled_from(("FR", "US", "DE")))
    s["tax"] = {"enable": draw(st.sampled_from((True,) * 9 + (False,))),
                "inclusive": draw(st.booleans()),
                "exempt": draw(st.sampled_from((False,) * 7 + (True,))),
                "rates": draw(st.lists(tax_rate(home), min_size=1, max_size=6))}
    for p in s["products"].values():
        if draw(st.integers(0, 6)) == 0:
            p["taxable"] = False
        category = draw(st.sampled_from((None, None, None, *CATEGORIES)))
        if category is not None:
            p["tax_category"] = category
        if draw(st.integers(0, 3)) == 0:
            p["amount"] = float(draw(st.sampled_from(TAX_AMOUNTS)))
    countries = (home,) * 6 + ("",) * 3 + COUNTRIES
    customer = {"billing_country": draw(st.sampled_from(countries)), "ip_country": draw(st.sampled_from(countries))}
    s["customer"] = {k: v for k, v in customer.items() if v}
    cart = s["cart"]
    if draw(st.booleans()):
        cart["country"] = draw(st.sampled_from((home,) * 4 + COUNTRIES))
    if draw(st.booleans()):
        cart["state"] = draw(st.sampled_from(CART_STATES))
    if draw(st.booleans()):
        cart["city"] = draw(st.sampled_from(CART_CITIES))
    return s


def tax_scenarios(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """n Cart scenarios with taxes, reproducible from `seed`."""
    return draw(tax_scenario(), n, seed, "t")
