"""Run scenarios through the real Cart (`cart_batch.php`, one PHP process) and convert them for `quote_change`."""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from wpbridge.billing import Cart, TaxLocation, TaxRate, TaxSettings, tax_location
from wpbridge.models import DiscountCode, Membership, PriceVariation, Product

REPO = Path(__file__).resolve().parents[2]
CART_BATCH_CANDIDATES = (
    REPO.parent / "shared" / "ultimate-multisite" / "tools" / "cart_batch.php",
    Path("/work/shared/ultimate-multisite/tools/cart_batch.php"),
)


def cart_batch_path() -> Path | None:
    for path in CART_BATCH_CANDIDATES:
        if path.is_file():
            return path
    return None


def run_oracle(script: Path, scenarios: list[dict[str, Any]], url: str, docroot: str, *,
               timeout: float = 900, args: list[str] | None = None) -> list[dict[str, Any]]:
    """A PHP oracle's answer for each scenario, in order: one `php SCRIPT --um-json=F` process, JSON lines in and
    out (cart_batch.php, form_batch.php, limits_batch.php all speak this)."""
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "um.json"
        conf.write_text(json.dumps({"url": url, "docroot": docroot}))
        payload = "".join(json.dumps(s) + "\n" for s in scenarios)
        proc = subprocess.run(["php", str(script), f"--um-json={conf}", *(args or [])], input=payload,
                              capture_output=True, text=True, timeout=timeout, check=False)
    out = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or len(out) != len(scenarios):
        raise RuntimeError(f"{script.name}: exit {proc.returncode}, {len(out)} of {len(scenarios)} answers: "
                           f"{proc.stderr.strip()[-500:]}")
    return out


MEMBER_CODE = Path(__file__).resolve().parent / "cart_batch_member_code.php"


def run_batch(scenarios: list[dict[str, Any]], url: str, docroot: str, *, timeout: float = 900) -> list[dict[str, Any]]:
    """The real Cart's result for each scenario, in order (one `php cart_batch.php` process; through
    `cart_batch_member_code.php` when a scenario gives the membership its own code, `membership.discount`)."""
    tool = cart_batch_path()
    if tool is None:
        raise RuntimeError("cart_batch.php not found (../shared/ultimate-multisite/tools/)")
    if any(s.get("membership", {}).get("discount") for s in scenarios):
        return run_oracle(MEMBER_CODE, scenarios, url, docroot, timeout=timeout, args=[f"--cart-batch={tool}"])
    return run_oracle(tool, scenarios, url, docroot, timeout=timeout)


def _dt(value: str | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _dec(value: Any) -> Decimal:
    return Decimal(repr(float(value))) if not isinstance(value, str) else Decimal(value)


@dataclass
class Converted:
    membership: Membership
    catalog: list[Product]
    cart: Cart
    now: datetime
    ids: dict[str, int]
    taxes: TaxSettings | None = None
    location: TaxLocation | None = None
    tax_exempt: bool = False

    def key_of(self, product_id: int) -> str:
        for k, v in self.ids.items():
            if v == product_id:
                return k
        return str(product_id)


def convert(s: dict[str, Any]) -> Converted:
    """The scenario as wpbridge's records: products get ids 1.. in key order, the membership id 1."""
    specs = {**s.get("plans", {}), **s.get("products", {})}
    ids = {key: i + 1 for i, key in enumerate(specs)}
    currency = s.get("currency", "USD")
    catalog = []
    for key, p in specs.items():
        catalog.append(Product(
            id=ids[key], slug=key, name=f"Probe {key}", type=p.get("type", "plan"),
            amount=_dec(p.get("amount", 0)), setup_fee=_dec(p.get("setup_fee", 0)), currency=currency,
            recurring=p.get("recurring", True), duration=p.get("duration", 1),
            duration_unit=p.get("duration_unit", "month"),
            price_variations=[PriceVariation(duration=v["duration"], duration_unit=v["duration_unit"],
                                             amount=_dec(v["amount"])) for v in p.get("price_variations", [])],
            available_addons=[ids[a] for a in p.get("available_addons", [])],
            product_group=p.get("product_group") or None, list_order=p.get("list_order", 0), active=True,
            taxable=p.get("taxable", True), tax_category=p.get("tax_category", "default"),
        ))
    m = s["membership"]
    plan = specs[m["plan"]]
    membership = Membership(
        id=1, customer_id=1, plan_id=ids[m["plan"]],
        addon_products={ids[k]: q for k, q in m.get("addon_products", {}).items()},
        currency=currency, amount=_dec(m.get("amount", plan.get("amount", 0))),
        initial_amount=_dec(m.get("initial_amount", plan.get("amount", 0))),
        duration=m.get("duration", plan.get("duration", 1)),
        duration_unit=m.get("duration_unit", plan.get("duration_unit", "month")),
        recurring=m.get("recurring", True), times_billed=m.get("times_billed", 1), status=m.get("status", "active"),
        date_created=_dt(m.get("date_created")), date_renewed=_dt(m.get("date_renewed")),
        date_expiration=_dt(m.get("date_expiration")),
    )
    if m.get("discount"):
        membership = membership.model_copy(update={"discount_code": _code(m["discount"], "MEMBER")})
    c = s.get("cart", {})
    code = _code(c["discount"], "PROBE") if c.get("discount") else None
    cart = Cart(plan_id=ids[c["plan"]] if c.get("plan") else None,
                addons={ids[k]: q for k, q in (c.get("addons") or {}).items()},
                duration=c.get("duration"), duration_unit=c.get("duration_unit"), discount_code=code)
    now = _dt(s["now"])
    assert now is not None
    taxes, location, exempt = convert_taxes(s)
    return Converted(membership, catalog, cart, now, ids, taxes, location, exempt)


def _code(d: dict[str, Any], default: str) -> DiscountCode:
    """A scenario's `discount` (the cart's, or the membership's own) as the record the Cart is given."""
    return DiscountCode(code=d.get("code", default), type=d.get("type", "percentage"), value=_dec(d.get("value", 0)),
                        setup_fee_type=d.get("setup_fee_type", "percentage"),
                        setup_fee_value=_dec(d.get("setup_fee_value", 0)),
                        apply_to_renewals=bool(d.get("apply_to_renewals")), active=d.get("active", True),
                        date_expiration=_dt(d.get("date_expiration")))


def convert_taxes(s: dict[str, Any]) -> tuple[TaxSettings | None, TaxLocation | None, bool]:
    """The scenario's `tax`, `customer` and cart location as `quote_change`'s tax arguments: the settings, the
    location resolved as UM's Cart resolves it (`tax_location`) and the exemption. No `tax` key: no taxes (the
    sandbox's UM has taxes off)."""
    t = s.get("tax")
    if not t:
        return None, None, False
    rates = tuple(TaxRate(category=r.get("category", "default"), country=r.get("country", ""),
                          state=r.get("state", ""), city=r.get("city", ""), rate=Decimal(str(r.get("rate", "0"))),
                          title=r.get("title", "")) for r in t.get("rates", []))
    settings = TaxSettings(enabled=bool(t.get("enable")), inclusive=bool(t.get("inclusive")), rates=rates)
    c, customer = s.get("cart", {}), s.get("customer", {})
    cart_location = TaxLocation(c.get("country", ""), c.get("state", ""), c.get("city", ""))
    location = tax_location(cart_location, customer.get("billing_country", ""), customer.get("ip_country", ""))
    return settings, location, bool(t.get("exempt"))
