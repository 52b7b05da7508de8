"""`GET /wpbridge/v1/memberships/discount-codes` on UM: a membership whose code UM has not copied from its first
payment's cart yet (UM's Membership::get_discount_code() does that on its first read, and writes it) is read from
that cart in bulk and without writing (it loaded UM's model per membership, ~14 ms each, and timed out past a few
thousand just imported: bench/RESULTS.md). The judge is UM's own getter, asked after our read."""

from __future__ import annotations

import secrets

from tests.integration.stub_api_support import Api
from tests.integration.um_support import new_um_member, um_php
from wpbridge.sandbox import SandboxInfo

FIRST_PAYMENT_WITH_CODE = """
$code = wu_create_discount_code( array( 'code' => $data['code'], 'name' => 'First cart', 'description' => 'test',
    'value' => 10, 'type' => 'percentage', 'setup_fee_value' => 0, 'active' => true, 'max_uses' => 0 ) );
if ( is_wp_error( $code ) ) { return $code->get_error_message(); }
$m    = wu_get_membership( $data['membership_id'] );
$cart = new \\WP_Ultimo\\Checkout\\Cart( array( 'products' => array( $m->get_plan_id() ),
    'discount_code' => $data['code'], 'customer_id' => $m->get_customer_id() ) );
$first = wu_create_payment( array( 'customer_id' => $m->get_customer_id(), 'membership_id' => $m->get_id(),
    'status' => 'completed', 'gateway' => 'manual', 'total' => 10, 'subtotal' => 10, 'currency' => 'USD' ) );
if ( is_wp_error( $first ) ) { return $first->get_error_message(); }
$first->update_meta( 'wu_original_cart', $cart );
$m->delete_meta( 'discount_code' );
$m->delete_meta( 'verified_payment_discount' );
return (string) $cart->get_discount_code()->get_code();
"""

META = """
global $wpdb;
return (int) $wpdb->get_var( $wpdb->prepare( "SELECT COUNT(*) FROM {$wpdb->base_prefix}wu_membershipmeta
    WHERE wu_membership_id = %d AND meta_key IN ('discount_code', 'verified_payment_discount')", $data ) );
"""

UM_OWN = "$c = wu_get_membership( $data )->get_discount_code(); return is_object( $c ) ? $c->get_code() : $c;"


def test_a_code_only_in_the_first_payments_cart_is_read_without_writing(um_sandbox: SandboxInfo) -> None:
    member = new_um_member(um_sandbox, "basic")
    code = "FIRST" + secrets.token_hex(3).upper()
    assert um_php(um_sandbox, FIRST_PAYMENT_WITH_CODE, {"membership_id": member.membership_id, "code": code}) == code
    assert um_php(um_sandbox, META, member.membership_id) == 0  # UM has not read it yet
    api = Api(um_sandbox.url, (um_sandbox.api_key, um_sandbox.api_secret))
    listed = {int(r["membership_id"]): r["discount_code"]
              for r in api.ok("GET", "/wp-json/wpbridge/v1/memberships/discount-codes")["memberships"]}
    assert listed.get(member.membership_id) == code
    assert um_php(um_sandbox, META, member.membership_id) == 0  # read, not written
    assert um_php(um_sandbox, UM_OWN, member.membership_id) == code  # what UM's own getter finds
