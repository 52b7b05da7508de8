"""Issue 19, "Discount codes", on both flavors: the membership's own code (the one it was bought with) on a change,
as each UM release treats it. `change quote` reads the membership's code from the network (UM: the Discount_Code
object in its meta, which UM's REST copies without restrictions; stub: the code string) and finds the record
through `net.discount_codes`; UM main's add-on cart (class-cart.php 2.4.13-beta.1:927-950) applies it when it
applies to renewals, in its own line; 2.4.12 never carries it into a change. Each test makes its own code and
removes it (and the membership's link to it) afterwards."""

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

UM_MAKE = """
global $wpdb;
$wpdb->insert( $wpdb->base_prefix . 'wu_discount_codes', array( 'name' => $data['code'], 'code' => $data['code'],
    'description' => '', 'uses' => 0, 'max_uses' => 0, 'apply_to_renewals' => 1, 'type' => 'percentage',
    'value' => 20, 'setup_fee_type' => 'percentage', 'setup_fee_value' => 0, 'active' => 1,
    'date_created' => gmdate( 'Y-m-d H:i:s' ) ) );
$id = $wpdb->insert_id;
wu_get_membership( $data['membership'] )->update_meta( 'discount_code', wu_get_discount_code( $id ) );
return $id;
"""
UM_DROP = """
global $wpdb;
wu_get_membership( $data['membership'] )->delete_meta( 'discount_code' );
return $wpdb->delete( $wpdb->base_prefix . 'wu_discount_codes', array( 'id' => $data['id'] ) );
"""


def is_um(sb: SandboxInfo) -> bool:
    return sb.info.get("flavor") == "ultimate-multisite"


@contextmanager
def own_code(sb: SandboxInfo, mid: int) -> Iterator[str]:
    """A 20 % renewals code, made the membership's own for the block."""
    name = "WPM" + secrets.token_hex(4).upper()
    rest = Rest(sb)
    if is_um(sb):
        cid = int(um_php(sb, UM_MAKE, {"code": name, "membership": mid}))
    else:
        cid = int(rest.api("POST", "/wu/v2/discount_code", {"name": name, "code": name, "type": "percentage",
                                                            "value": 20, "apply_to_renewals": True})["id"])
        rest.api("PUT", f"/wu/v2/membership/{mid}", {"discount_code": name})
    try:
        yield name
    finally:
        if is_um(sb):
            um_php(sb, UM_DROP, {"id": cid, "membership": mid})
        else:
            rest.api("PUT", f"/wu/v2/membership/{mid}", {"discount_code": False})
            rest.api("DELETE", f"/wu/v2/discount_code/{cid}")


def test_the_membership_code_per_release(any_sandbox: SandboxInfo) -> None:
    sb = any_sandbox
    mid, _ = fresh(sb, "basic", renewed=10)
    with own_code(sb, mid) as name:
        main = run_json(sb, "change", "quote", str(mid), "--addon", "extra-storage", "--um-version", "2.4.13-beta.1")
        [line] = [ln for ln in main["lines"] if ln["type"] == "discount"]
        assert line["title"] == f"Discount {name} (the membership's own code) on Extra storage"
        product = next(ln for ln in main["lines"] if ln["type"] == "product")
        assert Decimal(line["total"]) == -(Decimal(product["total"]) * Decimal("0.2")).quantize(Decimal("0.01"))
        assert any(n.startswith(f"the membership's own code {name} applies") for n in main["notes"])
        latest = run_json(sb, "change", "quote", str(mid), "--addon", "extra-storage", "--um-version", "2.4.12",
                          "--at", main["at"])
        assert not [ln for ln in latest["lines"] if ln["type"] == "discount"]
        upgrade = run_json(sb, "change", "quote", str(mid), "--plan", "premium", "--um-version", "2.4.13-beta.1",
                           "--at", main["at"])
        assert not [ln for ln in upgrade["lines"] if ln["type"] == "discount"]


def test_um_main_add_on_payment_carries_the_membership_code(um_main_sandbox: SandboxInfo) -> None:
    """On UM main the add-on purchase's payment is made by UM's own Cart, which applies the membership's code itself
    (and refuses a total that is not the quote's): the payment's total is the quote's, the discount in it."""
    sb = um_main_sandbox
    mid, _ = fresh(sb, "basic", renewed=10)
    with own_code(sb, mid) as name:
        result = run(sb, "change", "apply", str(mid), "--addon", "extra-storage", "--yes", "--output", "json")
        out = json.loads(result.stdout)
        assert result.exit_code == 0 and out["ok"], out.get("message")
        q = out["quote"]
        [line] = [ln for ln in q["lines"] if ln["type"] == "discount"]
        assert name in line["title"] and Decimal(out["payment"]["total"]) == Decimal(q["due_now"])
        shown = run_json(sb, "payments", "show", str(out["payment"]["id"]))
        assert shown["discount_code"] == name  # UM's Cart held the membership's code (its payment-level
        product = next(li for li in shown["line_items"] if li["type"] == "product")  # discount_total stays 0)
        assert Decimal(product["discount_total"]) == -Decimal(line["total"]) > 0
