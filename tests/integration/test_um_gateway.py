"""UM's `Membership::save()` and the membership's payment gateway, on UM 2.4.12 and 2.4.13-beta.1: a write of the
membership's new state over `PUT /wu/v2/membership/{id}` is handed to the gateway, and a gateway that refuses
fails the write (docs/ultimate-multisite.md §10.4).

The gateway is the sandbox's test gateway `wpbridge-test` (wpbridge/sandbox/recipe/um-test-gateway.php, installed
in test mode only): it records every call in the network option `wpbridge_test_gateway_calls` and answers as the
network option `wpbridge_test_gateway_mode` says ('ok', 'fail': a WP_Error, 'throw': an exception). Tests set
those options and the membership's gateway fields from a PHP CLI boot (`um_php`), each on a fresh member, and
put back the options (and UM's settings) they change.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.integration.change_support import network
from tests.integration.um_support import new_um_member, um_membership, um_php
from wpbridge.billing.gateways import (
    UM_NO_SUBSCRIPTION_ID,
    UM_PAYPAL_NO_DURATION_CHANGE,
    gateway_effect,
    save_push,
)
from wpbridge.sandbox import SandboxInfo
from wpbridge.sandbox.um import TEST_GATEWAY_FILE, install_test_gateway

TEST_GATEWAY = "wpbridge-test"
TIMEOUT = 60

GATEWAY_STATE = """
$m = wu_get_membership( $data );
return array( 'gateway' => $m->get_gateway(), 'gateway_customer_id' => $m->get_gateway_customer_id(),
    'gateway_subscription_id' => $m->get_gateway_subscription_id(), 'auto_renew' => (bool) $m->get_auto_renew() );
"""

SET_GATEWAY = """
update_network_option( null, 'wpbridge_test_gateway_mode', 'ok' );
$m = wu_get_membership( $data['id'] );
$m->set_gateway( $data['gateway'] );
$m->set_gateway_customer_id( $data['gateway_customer_id'] );
$m->set_gateway_subscription_id( $data['gateway_subscription_id'] );
$m->set_auto_renew( $data['auto_renew'] );
$saved = $m->save();
if ( is_wp_error( $saved ) ) { throw new Exception( $saved->get_error_message() ); }
return wu_get_membership( $data['id'] )->get_gateway();
"""

OPTIONS = """
$mode = get_network_option( null, 'wpbridge_test_gateway_mode', null );
return array( 'mode' => $mode, 'active_gateways' => (array) wu_get_setting( 'active_gateways', array() ) );
"""

RESTORE = """
if ( null === $data['mode'] ) { delete_network_option( null, 'wpbridge_test_gateway_mode' ); }
else { update_network_option( null, 'wpbridge_test_gateway_mode', $data['mode'] ); }
$calls = (array) get_network_option( null, 'wpbridge_test_gateway_calls', array() );
$left = array_values( array_filter( $calls, function ( $c ) use ( $data ) {
    return (int) $c['membership_id'] !== (int) $data['id']; } ) );
if ( $left ) { update_network_option( null, 'wpbridge_test_gateway_calls', $left ); }
else { delete_network_option( null, 'wpbridge_test_gateway_calls' ); }
if ( (array) wu_get_setting( 'active_gateways', array() ) !== $data['active_gateways'] ) {
    wu_save_setting( 'active_gateways', $data['active_gateways'] );
}
return true;
"""


@pytest.fixture(params=["um_sandbox", "um_main_sandbox"])
def um(request: pytest.FixtureRequest) -> SandboxInfo:
    """Each test on both UM builds, with the test gateway in place (a reused sandbox started before it existed
    gets it now; it needs test mode)."""
    sb: SandboxInfo = request.getfixturevalue(request.param)
    docroot = Path(sb.info["docroot"])
    if not (docroot / "wp-content" / "mu-plugins" / TEST_GATEWAY_FILE).is_file():
        assert sb.info.get("test_mode"), "the test gateway is installed only in a sandbox in test mode"
        assert install_test_gateway(docroot)
    return sb


@contextmanager
def billed_by(sb: SandboxInfo, membership_id: int, gateway: str, subscription_id: str = "",
              mode: str = "ok", active_gateways: list[str] | None = None) -> Iterator[None]:
    """The membership billed by `gateway` (subscription `subscription_id`) and the test gateway in `mode`, for the
    block; afterwards the membership's gateway fields, the mode, the calls log and UM's active gateways as they
    were."""
    before, options = um_php(sb, GATEWAY_STATE, membership_id), um_php(sb, OPTIONS)
    try:
        um_php(sb, SET_GATEWAY, {"id": membership_id, "gateway": gateway, "auto_renew": True,
                                 "gateway_customer_id": f"cus_{membership_id}" if subscription_id else "",
                                 "gateway_subscription_id": subscription_id})
        um_php(sb, """
update_network_option( null, 'wpbridge_test_gateway_mode', $data['mode'] );
if ( null !== $data['active'] ) { wu_save_setting( 'active_gateways', $data['active'] ); }
return true;""", {"mode": mode, "active": active_gateways})
        yield
    finally:
        um_php(sb, SET_GATEWAY, {"id": membership_id, **before})
        um_php(sb, RESTORE, {"id": membership_id, **options})


def calls(sb: SandboxInfo, membership_id: int) -> list[dict[str, Any]]:
    """The test gateway's calls for this membership, in order."""
    every = um_php(sb, "return array_values( (array) get_network_option( null, 'wpbridge_test_gateway_calls', "
                       "array() ) );")
    return [c for c in every if int(c["membership_id"]) == membership_id]


def put(sb: SandboxInfo, membership_id: int, body: dict[str, Any]) -> requests.Response:
    return requests.put(f"{sb.url}/wp-json/wu/v2/membership/{membership_id}", json=body,
                        auth=(sb.api_key, sb.api_secret), timeout=TIMEOUT)


def held(sb: SandboxInfo, membership_id: int) -> dict[str, Any]:
    """What UM holds: the billing state and the gateway fields (dates left out)."""
    state = um_membership(sb, membership_id)
    return {**{k: state[k] for k in ("plan_id", "addon_products", "amount", "status", "duration", "duration_unit",
                                       "date_expiration")},
            **um_php(sb, GATEWAY_STATE, membership_id)}


def ids(sb: SandboxInfo) -> dict[str, int]:
    products: dict[str, int] = sb.info["seeded"]["products"]
    return products


# ------------------------------------------------------------------ what UM hands to the gateway


def test_a_plan_change_is_handed_to_the_gateway_with_the_new_state(um: SandboxInfo) -> None:
    m = new_um_member(um, "basic", renewed=5)
    p = ids(um)
    body = {"plan_id": p["premium"], "addon_products": {str(p["extra-storage"]): 2}, "amount": "49.00",
            "duration": 1, "duration_unit": "month"}
    with billed_by(um, m.membership_id, TEST_GATEWAY, "sub_wpb_1"):
        resp = put(um, m.membership_id, body)
        assert resp.status_code == 200, resp.text
        [call] = calls(um, m.membership_id)
        now = held(um, m.membership_id)
    assert call["method"] == "process_membership_update" and call["result"] == "ok"
    assert call["subscription_id"] == "sub_wpb_1"
    old, new = call["old"], call["new"]
    assert (old["plan_id"], Decimal(old["amount"]), old["addon_products"]) == (p["basic"], Decimal(15), {})
    assert (new["plan_id"], Decimal(new["amount"]), new["addon_products"]) == (
        p["premium"], Decimal(49), {str(p["extra-storage"]): 2})
    assert (new["duration"], new["duration_unit"]) == (old["duration"], old["duration_unit"]) == (1, "month")
    assert now["plan_id"] == p["premium"] and Decimal(now["amount"]) == 49
    assert now["gateway"] == TEST_GATEWAY and now["gateway_subscription_id"] == "sub_wpb_1"  # the gateway kept it


BODIES = {
    "amount": {"amount": "20"},
    "same amount, other spelling": {"amount": "15.00", "date_expiration": "2031-01-01 00:00:00"},
    "plan": {"plan_id": "premium"},
    "add-on": {"addon_products": {"extra-storage": 1}},
    "duration": {"duration": 3},
    "unit": {"duration_unit": "year"},
    "dates": {"date_expiration": "2031-01-01 00:00:00", "date_renewed": "2026-11-01 00:00:00"},
    "initial amount": {"initial_amount": "99"},
    "recurring": {"recurring": False},
}


@pytest.mark.parametrize("what", list(BODIES))
def test_ums_triggers_are_the_ones_save_push_predicts(um: SandboxInfo, what: str) -> None:
    """UM calls process_membership_update exactly when wpbridge.billing.gateways.save_push says so."""
    m = new_um_member(um, "basic", renewed=5)
    p = ids(um)
    body = {k: (p[v] if k == "plan_id" else v) for k, v in BODIES[what].items()}
    if "addon_products" in body:
        body["addon_products"] = {str(p[slug]): qty for slug, qty in body["addon_products"].items()}
    with network(um) as net:
        before = net.memberships.get(m.membership_id)
    with billed_by(um, m.membership_id, TEST_GATEWAY, "sub_wpb_2"):
        resp = put(um, m.membership_id, body)
        assert resp.status_code == 200, resp.text
        pushed = [c for c in calls(um, m.membership_id) if c["method"] == "process_membership_update"]
    assert bool(pushed) == save_push(before, body).any


# ------------------------------------------------------------------ a gateway that fails


def test_a_gateway_refusal_fails_the_write_and_leaves_the_membership_as_it_was(um: SandboxInfo) -> None:
    m = new_um_member(um, "basic", renewed=5)
    p = ids(um)
    with billed_by(um, m.membership_id, TEST_GATEWAY, "sub_wpb_3", mode="fail"):
        before = held(um, m.membership_id)
        resp = put(um, m.membership_id, {"plan_id": p["premium"], "amount": "39.00", "duration": 1,
                                         "duration_unit": "year"})
        after = held(um, m.membership_id)
        [call] = calls(um, m.membership_id)
    # UM passes the gateway's WP_Error through: its code and message, HTTP 500 (no status in the error's data)
    assert resp.status_code == 500
    assert resp.json() == {"code": "wpbridge_test_gateway_refused", "data": None,
                           "message": "wpbridge test gateway: process_membership_update refused (mode 'fail')."}
    assert after == before  # nothing of the membership was written
    assert call["result"] == "fail"
    assert (call["new"]["plan_id"], call["new"]["duration_unit"]) == (p["premium"], "year")


def test_a_gateway_exception_is_a_critical_error_and_nothing_is_written(um: SandboxInfo) -> None:
    m = new_um_member(um, "basic", renewed=5)
    with billed_by(um, m.membership_id, TEST_GATEWAY, "sub_wpb_4", mode="throw"):
        before = held(um, m.membership_id)
        resp = put(um, m.membership_id, {"amount": "25"})
        after = held(um, m.membership_id)
        assert [c["result"] for c in calls(um, m.membership_id)] == ["throw"]
    assert resp.status_code == 500 and resp.json()["code"] == "internal_server_error"  # UM does not catch it
    assert "critical error" in resp.json()["message"]
    assert after == before


def test_a_write_that_also_changes_the_gateway_cancels_the_old_subscription_instead(um: SandboxInfo) -> None:
    m = new_um_member(um, "basic", renewed=5)
    with billed_by(um, m.membership_id, TEST_GATEWAY, "sub_wpb_5", mode="fail"):
        resp = put(um, m.membership_id, {"amount": "30", "gateway": "manual"})
        made = calls(um, m.membership_id)
        now = held(um, m.membership_id)
    assert resp.status_code == 200, resp.text  # the cancellation's refusal is ignored by UM
    assert [(c["method"], c["subscription_id"]) for c in made] == [("process_cancellation", "sub_wpb_5")]
    assert now["gateway"] == "manual" and Decimal(now["amount"]) == 30


# ------------------------------------------------------------------ UM's own gateways, in UM's words


def test_stripe_without_a_subscription_id_refuses_every_pushed_change(um: SandboxInfo) -> None:
    m = new_um_member(um, "basic", renewed=5)
    body = {"amount": "39.00", "plan_id": ids(um)["premium"]}
    with billed_by(um, m.membership_id, "stripe", ""):
        with network(um) as net:
            effect = gateway_effect(net.memberships.get(m.membership_id), body)
        before = held(um, m.membership_id)
        resp = put(um, m.membership_id, body)
        after = held(um, m.membership_id)
    assert resp.status_code == 500
    assert resp.json() == {"code": "wu_stripe_no_subscription_id", "message": UM_NO_SUBSCRIPTION_ID, "data": None}
    assert effect.refusal is not None and resp.json()["message"] in effect.refusal
    assert after == before


def test_paypal_refuses_a_period_change_in_the_words_gateway_effect_quotes(um: SandboxInfo) -> None:
    """UM main registers the legacy PayPal gateway only when it is active (or has credentials): made active here,
    as on a network whose memberships PayPal bills."""
    m = new_um_member(um, "basic", renewed=5)
    active = um_php(um, OPTIONS)["active_gateways"]
    body = {"duration": 1, "duration_unit": "year", "amount": "150"}
    with billed_by(um, m.membership_id, "paypal", "I-WPB6", active_gateways=sorted({*active, "paypal"})):
        with network(um) as net:
            effect = gateway_effect(net.memberships.get(m.membership_id), body)
        before = held(um, m.membership_id)
        resp = put(um, m.membership_id, body)
        after = held(um, m.membership_id)
    assert resp.status_code == 500
    assert resp.json() == {"code": "wu_paypal_no_duration_change", "message": UM_PAYPAL_NO_DURATION_CHANGE,
                           "data": None}
    assert effect.refusal is not None and resp.json()["message"] in effect.refusal
    assert after == before


def test_the_free_gateway_is_cleared_with_auto_renew_on_an_amount_change(um: SandboxInfo) -> None:
    m = new_um_member(um, "basic", renewed=5)
    with billed_by(um, m.membership_id, "free"):
        with network(um) as net:
            effect = gateway_effect(net.memberships.get(m.membership_id), {"amount": "39"})
        resp = put(um, m.membership_id, {"amount": "39"})
        now = held(um, m.membership_id)
    assert resp.status_code == 200, resp.text
    assert (now["gateway"], now["auto_renew"]) == ("", False)  # UM's base gateway update
    assert effect.gateway is None and "clears the membership's gateway" in effect.action
