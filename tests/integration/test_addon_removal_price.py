"""The price a removal takes off, against UM's own `wu_get_membership_product_price` (issue 21 item 10).

UM's change Cart cannot price a removal (it only adds add-ons), so the shape is not one of the Cart differential's
(tests/cartdiff); the price UM's account page and admin screen take off is this function's, which builds a `new`
Cart of the add-on in the membership's period with the membership's discount code. Each case runs it on the real
UM 2.4.12 (one PHP run, the membership's code and billing country set in memory only) and compares
`billing.addon_removal.um_product_price`."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from tests.integration.change_support import network
from tests.integration.test_change_taxes import taxes
from tests.integration.um_support import new_um_member, um_php
from wpbridge.billing.addon_removal import um_product_price
from wpbridge.billing.taxes import TaxLocation
from wpbridge.models import DiscountCode
from wpbridge.sandbox import SandboxInfo

UM_PRICES = """
$out = array();
foreach ( $data['cases'] as $c ) {
    $m = wu_get_membership( $c['membership'] );
    if ( $c['code'] ) {
        $dc = new \\WP_Ultimo\\Models\\Discount_Code();
        $dc->set_code( 'DIFF' ); $dc->set_name( 'DIFF' ); $dc->set_active( true );
        $dc->set_type( $c['code']['type'] ); $dc->set_value( $c['code']['value'] );
        $dc->set_apply_to_renewals( (bool) $c['code']['apply_to_renewals'] );
        $dc->set_limit_products( (bool) $c['code']['limit_products'] );
        $dc->set_allowed_products( $c['code']['allowed_products'] );
        $dc->set_limit_billing_periods( (bool) $c['code']['limit_billing_periods'] );
        $dc->set_allowed_billing_periods( $c['code']['allowed_billing_periods'] );
        $m->set_discount_code( $dc );
    }
    if ( $c['country'] ) {
        $m->set_billing_address( array( 'billing_country' => $c['country'] ) );
    }
    $v = wu_get_membership_product_price( $m, $c['product'], $c['quantity'] );
    $out[] = is_wp_error( $v ) ? null : (string) $v;
}
return $out;
"""

CODES: dict[str, dict[str, Any] | None] = {
    "none": None,
    "10%": {"type": "percentage", "value": 10},
    "33.3%": {"type": "percentage", "value": 33.3},
    "3 off": {"type": "absolute", "value": 3},
    "50 off": {"type": "absolute", "value": 50},
    "other products": {"type": "percentage", "value": 10, "limit_products": True, "allowed_products": ["premium"]},
    "yearly only": {"type": "percentage", "value": 10, "limit_billing_periods": True,
                    "allowed_billing_periods": ["1-year"]},
    "monthly only": {"type": "percentage", "value": 25, "limit_billing_periods": True,
                     "allowed_billing_periods": ["1-month"]},
}


def code_fields(spec: dict[str, Any], ids: dict[str, int]) -> dict[str, Any]:
    return {"type": spec["type"], "value": spec["value"], "apply_to_renewals": spec.get("apply_to_renewals", False),
            "limit_products": spec.get("limit_products", False),
            "allowed_products": [ids[s] for s in spec.get("allowed_products", [])],
            "limit_billing_periods": spec.get("limit_billing_periods", False),
            "allowed_billing_periods": spec.get("allowed_billing_periods", [])}


@pytest.mark.parametrize("tax", ["none", "exclusive", "inclusive"])
def test_the_price_removed_is_ums(um_sandbox: SandboxInfo, tax: str) -> None:
    """Every code of CODES x both periods x the products, without taxes, and with FR 20 % (prices without and with
    the tax) at the membership's billing address."""
    if tax == "none":
        assert compare(um_sandbox, None)[("none", "month", "extra-storage", 1)] == "5"
        return
    with taxes(um_sandbox, inclusive=tax == "inclusive"):
        prices = compare(um_sandbox, "FR")
    assert prices[("none", "month", "extra-storage", 1)] == ("5" if tax == "inclusive" else "6")  # FR 20 %


def compare(um_sandbox: SandboxInfo, country: str | None) -> dict[tuple[str, str, str, int], str | None]:
    """UM's price of each case, checked against wpbridge's; returned by (code, period unit, product, quantity)."""
    monthly = new_um_member(um_sandbox, "premium", renewed=5, addons={"extra-storage": 3})
    yearly = new_um_member(um_sandbox, "premium", renewed=5, period=(1, "year"))
    ids: dict[str, int] = um_sandbox.info["seeded"]["products"]
    cases = []
    for code_name, spec in CODES.items():
        for membership in (monthly.membership_id, yearly.membership_id):
            for product, quantities in (("extra-storage", (1, 3)), ("unlimited-visits", (2,)), ("site-setup", (1,)),
                                        ("premium", (1,))):
                for qty in quantities:
                    cases.append({"membership": membership, "product": ids[product], "quantity": qty,
                                  "code": code_fields(spec, ids) if spec else None, "name": code_name,
                                  "country": country})
    um = um_php(um_sandbox, UM_PRICES, {"cases": cases})
    now = datetime.now(UTC)
    with network(um_sandbox) as net:
        catalog = {p.id: p for p in net.products.catalog()}
        members = {mid: net.memberships.get(mid) for mid in (monthly.membership_id, yearly.membership_id)}
        settings = net.taxes.settings() if country else None
    tax = (settings, TaxLocation(country, source="renewal"), False) if settings and country else None
    wrong = []
    prices = {}
    for case, theirs in zip(cases, um, strict=True):
        code = None
        if case["code"]:
            code = DiscountCode.model_validate({"id": 1, "code": "DIFF", **case["code"]})
        m = members[case["membership"]].model_copy(update={"discount_code": code})
        ours = um_product_price(catalog[case["product"]], case["quantity"], m, now, tax)
        same = (ours is None and theirs is None) or (
            ours is not None and theirs is not None and abs(ours - Decimal(theirs)) < Decimal("0.005"))
        prices[(case["name"], m.duration_unit, catalog[case["product"]].slug, case["quantity"])] = theirs
        if not same:
            wrong.append(f"{case['name']}, {m.duration_unit}, {catalog[case['product']].slug} x {case['quantity']}: "
                         f"UM {theirs}, wpbridge {ours}")
    assert not wrong, "\n".join(wrong)
    assert len(cases) > 60
    return prices

