"""Issue 19, "Discount codes", on both flavors: `change quote|apply --discount-code CODE` looks the code up on the
network and applies it as UM's Cart does; the change's payment carries it (in UM mode UM's own Cart makes the
payment, and refuses with 409 `wpbridge_payment_total_mismatch` a total that differs from the quote: the Cart must
hold the code too); settling that payment counts one use of the code, settling it again none. Each test makes
its own codes (unique names) and deletes them."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from tests.integration.change_support import Rest, run, run_json
from tests.integration.test_any_flavor import fresh
from tests.integration.um_support import um_php
from wpbridge.sandbox import SandboxInfo

CENT = Decimal("0.01")

UM_MAKE = """
global $wpdb;
$wpdb->insert( $wpdb->base_prefix . 'wu_discount_codes', array( 'name' => $data['code'], 'code' => $data['code'],
    'description' => '', 'uses' => $data['uses'], 'max_uses' => $data['max_uses'], 'apply_to_renewals' => 0,
    'type' => 'percentage', 'value' => $data['value'], 'setup_fee_type' => 'percentage', 'setup_fee_value' => 0,
    'active' => $data['active'] ? 1 : 0, 'date_created' => gmdate( 'Y-m-d H:i:s' ) ) );
return $wpdb->insert_id;
"""

UM_USES = "return (int) wu_get_discount_code( $data )->get_uses();"
UM_DROP = "global $wpdb; return $wpdb->delete( $wpdb->base_prefix . 'wu_discount_codes', array( 'id' => $data ) );"


def is_um(sb: SandboxInfo) -> bool:
    return sb.info.get("flavor") == "ultimate-multisite"


@contextmanager
def a_code(sb: SandboxInfo, *, value: int = 10, active: bool = True, uses: int = 0,
           max_uses: int = 0) -> Iterator[tuple[str, int]]:
    """A new percentage code (its name, its id) for the block, then deleted."""
    name = "WPB" + secrets.token_hex(4).upper()
    fields = {"code": name, "value": value, "active": active, "uses": uses, "max_uses": max_uses}
    if is_um(sb):
        cid = int(um_php(sb, UM_MAKE, fields))
    else:
        cid = int(Rest(sb).api("POST", "/wu/v2/discount_code", {**fields, "name": name, "type": "percentage"})["id"])
    try:
        yield name, cid
    finally:
        if is_um(sb):
            um_php(sb, UM_DROP, cid)
        else:
            Rest(sb).api("DELETE", f"/wu/v2/discount_code/{cid}")


def uses_of(sb: SandboxInfo, cid: int) -> int:
    if is_um(sb):
        return int(um_php(sb, UM_USES, cid))
    return int(Rest(sb).api("GET", f"/wu/v2/discount_code/{cid}")["uses"])


def test_a_code_is_quoted_paid_for_and_counted_once(any_sandbox: SandboxInfo) -> None:
    sb = any_sandbox
    mid, _ = fresh(sb, "basic", renewed=10)
    with a_code(sb) as (name, cid):
        plain = run_json(sb, "change", "quote", str(mid), "--plan", "premium")
        q = run_json(sb, "change", "quote", str(mid), "--plan", "premium", "--at", plain["at"],
                     "--discount-code", name.lower())
        [disc] = [ln for ln in q["lines"] if ln["type"] == "discount"]
        assert Decimal(disc["total"]) < 0 and name in disc["title"]
        assert Decimal(q["due_now"]) == Decimal(plain["due_now"]) + Decimal(disc["total"])
        assert any(n.startswith(f"discount code {name}: 10% off") for n in q["notes"])
        result = run(sb, "change", "apply", str(mid), "--plan", "premium", "--discount-code", name, "--yes",
                     "--output", "json")
        out = json.loads(result.stdout)
        assert result.exit_code == 0 and out["ok"], out["message"]
        pid = out["payment"]["id"]
        shown = run_json(sb, "payments", "show", str(pid))
        assert shown["discount_code"] == name
        # the discount: a line of its own (stub: wpbridge's lines) or on the product line (UM's Cart's line items);
        # UM's own payment keeps discount_total 0 (Cart::to_payment_data() passes it as 'discounts', which the
        # Payment model does not know), as at UM's checkout
        lines = shown["line_items"]
        off = -sum((Decimal(str(li["total"])) for li in lines if li["type"] == "discount"), Decimal(0)) + sum(
            (Decimal(str(li["discount_total"])) for li in lines if li["type"] != "discount"), Decimal(0))
        assert off.quantize(CENT) == -Decimal(disc["total"]).quantize(CENT)
        if not is_um(sb):
            assert Decimal(shown["discount_total"]).quantize(CENT) == off.quantize(CENT)
        assert Decimal(shown["total"]).quantize(CENT) == Decimal(out["quote"]["due_now"]).quantize(CENT)
        assert uses_of(sb, cid) == 0
        settled = run(sb, "payments", "settle", str(pid), "--reference", "bank 1", "--yes")
        assert settled.exit_code == 0, settled.output
        assert uses_of(sb, cid) == 1
        again = run(sb, "payments", "settle", str(pid), "--reference", "bank 1", "--yes")
        assert again.exit_code == 0, again.output
        assert uses_of(sb, cid) == 1


def test_codes_ums_cart_refuses_are_exit_2_naming_them(any_sandbox: SandboxInfo) -> None:
    sb = any_sandbox
    mid, _ = fresh(sb, "basic", renewed=10)
    with a_code(sb, active=False) as (off, _), a_code(sb, uses=2, max_uses=2) as (used, _):
        for name, words in ((off, "This coupon code is not valid. (it is not active)"),
                            (used, "This discount code was already redeemed the maximum amount of times allowed.")):
            res = run(sb, "change", "quote", str(mid), "--plan", "premium", "--discount-code", name)
            assert res.exit_code == 2 and f"discount code {name}: {words}" in res.output, res.output
            res = run(sb, "change", "apply", str(mid), "--plan", "premium", "--discount-code", name, "--yes")
            assert res.exit_code == 2, res.output
    res = run(sb, "change", "quote", str(mid), "--plan", "premium", "--discount-code", "NOSUCHCODE")
    assert res.exit_code == 2
    assert "The code NOSUCHCODE does not exist or is no longer valid." in res.output


def test_discount_codes_list_and_show_read_every_field(any_sandbox: SandboxInfo) -> None:
    """UM's REST reads `allowed_products` as null; `discount-codes` reads UM's meta through plugin-stub."""
    sb = any_sandbox
    basic = int(sb.info["seeded"]["products"]["basic"])
    with a_code(sb, uses=1, max_uses=4) as (name, cid):
        if is_um(sb):
            um_php(sb, "$c = wu_get_discount_code( $data['id'] ); $c->set_limit_products( true ); "
                       "$c->set_allowed_products( array( $data['p'] ) ); return $c->save();", {"id": cid, "p": basic})
        else:
            Rest(sb).api("PUT", f"/wu/v2/discount_code/{cid}", {"limit_products": True, "allowed_products": [basic]})
        listed = {c["code"]: c for c in run_json(sb, "discount-codes", "list")}
        assert listed[name]["allowed_products"] == [basic] and listed[name]["limit_products"] is True
        shown = run_json(sb, "discount-codes", "show", str(cid))
        assert (shown["code"], shown["uses"], shown["max_uses"], Decimal(shown["value"])) == (name, 1, 4, 10)
        text = run(sb, "discount-codes", "show", name.lower()).stdout
        assert "1 of 4" in text and str(basic) in text
