"""The UM facts issue 17's design rests on (docs/ultimate-multisite.md §10.2-10.3), checked on both UM builds:
completing a payment over UM's own REST does not touch the membership (hence `wpbridge payments settle`), UM gives
a payment its invoice number when it completes (what settling relies on), and `Membership::renew()` adds a period
each time it is called (why wpbridge never uses UM's "activate membership" toggle to settle)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.integration.change_support import Rest
from tests.integration.um_support import new_um_member, um_membership, um_php
from wpbridge.models import parse_utc
from wpbridge.sandbox import SandboxInfo

NEW_PAYMENT = """
$m = wu_get_membership( $data );
$p = wu_create_payment( array( 'customer_id' => $m->get_customer_id(), 'membership_id' => $m->get_id(),
    'status' => 'pending', 'subtotal' => 24, 'total' => 24, 'gateway' => 'manual' ) );
if ( is_wp_error( $p ) ) { throw new Exception( $p->get_error_message() ); }
return $p->get_id();
"""


@pytest.fixture(params=["um_sandbox", "um_main_sandbox"])
def um(request: pytest.FixtureRequest) -> SandboxInfo:
    sb: SandboxInfo = request.getfixturevalue(request.param)
    return sb


def test_completing_a_payment_over_ums_rest_leaves_the_membership_alone(um: SandboxInfo) -> None:
    m = new_um_member(um, "basic", status="on-hold", renewed=25)
    before = um_membership(um, m.membership_id)
    pid = int(um_php(um, NEW_PAYMENT, m.membership_id))
    Rest(um).api("PUT", f"/wu/v2/payment/{pid}", {"status": "completed"})
    held = um_php(um, "$p = wu_get_payment( $data ); return array( 'status' => $p->get_status(), "
                      "'number' => (string) $p->get_meta( 'wu_invoice_number' ) );", pid)
    assert held["status"] == "completed" and held["number"] != ""  # the invoice number comes with completion
    assert um_membership(um, m.membership_id) == before  # still on-hold, same dates: nothing re-applied


def test_ums_renew_adds_a_period_each_time_it_is_called(um: SandboxInfo) -> None:
    m = new_um_member(um, "basic", renewed=10)
    dates = um_php(um, """
$out = array();
for ( $i = 0; $i < 2; $i++ ) {
    $m = wu_get_membership( $data );
    $m->renew( false, 'active' );
    $out[] = wu_get_membership( $data )->get_date_expiration();
}
return $out;
""", m.membership_id)
    first, second = (parse_utc(d) for d in dates)
    assert first is not None and second is not None and first > datetime.now(UTC)
    assert 28 <= (second - first).days <= 31  # a second renewal, a second period: settling must not do this
