"""plugin-stub's payment routes (`wpbridge/v1/payments`, issue 17) on both flavors: the stub's own table and the
real Ultimate Multisite (UM's Payment model, Cart and `wu_create_payment`), plus the stub's `wu/v2/payment`
subset. Contract: plugin-stub/README.md "Payments"; rules: docs/DESIGN.md §4.1.

Every test makes its own member (stub: through `wu/v2`, removed at the end of the module; UM: by UM's own PHP, as
the other UM tests do). The one test that prices a seeded membership (bruno's upgrade, example seed) only adds a
payment to it and cancels that payment at the end; the membership itself is never written.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests

from tests.integration.change_support import network
from tests.integration.stub_api_support import TIMEOUT, Api, tag
from tests.integration.um_support import new_um_member, um_php
from wpbridge.sandbox import SandboxInfo
from wpbridge.workflows import change

W = "/wp-json/wpbridge/v1"
U = "/wp-json/wu/v2"


def key() -> str:
    return hashlib.sha256(secrets.token_bytes(16)).hexdigest()


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Flavor:
    """One network (stub or UM) and how a test makes and reads its own members there."""

    name: str
    sb: SandboxInfo
    api: Api
    new_member: Callable[[str], int]
    read_membership: Callable[[int], dict[str, Any]]
    payments: list[int] = field(default_factory=list)

    @property
    def products(self) -> dict[str, int]:
        return dict(self.sb.info["seeded"]["products"])

    def body(self, membership_id: int, *, total: str, collect: str = "invoice", change_key: str | None = None,
             plan: str = "premium", **extra: Any) -> dict[str, Any]:
        """A change's payment body: basic -> `plan` for one month, as wpbridge sends it."""
        p = self.products
        return {
            "change_key": change_key or key(), "collect": collect, "reference": extra.pop("reference", ""),
            "cart": {"cart_type": "upgrade", "products": {str(p[plan]): 1}, "duration": 1, "duration_unit": "month"},
            "currency": "USD", "subtotal": "39", "discount_total": "0", "tax_total": "0", "total": total,
            "line_items": [{"type": "product", "product_id": p[plan], "title": plan.title(), "quantity": 1,
                            "unit_price": "39", "subtotal": "39", "total": "39", "recurring": True, "duration": 1,
                            "duration_unit": "month"},
                           {"type": "credit", "title": "Credit", "unit_price": "-8.38", "subtotal": "-8.38",
                            "total": "-8.38"}],
            "status_before": "active", "before": {"plan_id": p["basic"]}, "target": {"plan_id": p[plan]},
            **extra,
        }

    def due(self, membership_id: int, plan: str = "premium") -> str:
        """What this network charges now for the change (stub: any amount; UM: its Cart's, read from the 409)."""
        if self.name == "stub":
            return "30.62"
        resp = self.api("POST", f"{W}/memberships/{membership_id}/payments",
                        json=self.body(membership_id, total="0.01", plan=plan))
        assert resp.status_code == 409 and resp.json()["code"] == "wpbridge_payment_total_mismatch", resp.text
        return str(resp.json()["data"]["um_total"])

    def create(self, membership_id: int, body: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = self.api.ok("POST", f"{W}/memberships/{membership_id}/payments", json=body)
        self.payments.append(int(out["payment"]["id"]))
        return out


# -------------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def stub(sandbox: SandboxInfo) -> Iterator[Flavor]:
    api = Api(sandbox.url, (sandbox.api_key, sandbox.api_secret))
    products = sandbox.info["seeded"]["products"]
    t = tag()
    customer = api.ok("POST", f"{U}/customer", json={"username": f"pay{t}", "email": f"pay{t}@example.com"})
    now = datetime.now(UTC)

    def new_member(plan: str) -> int:
        made = api.ok("POST", f"{U}/membership", json={
            "customer_id": customer["id"], "plan_id": products[plan], "status": "active", "amount": "15",
            "duration": 1, "duration_unit": "month", "recurring": True, "date_renewed": iso(now - timedelta(days=12)),
            "date_expiration": iso(now + timedelta(days=18)),
        })
        return int(made["id"])

    def read_membership(membership_id: int) -> dict[str, Any]:
        m = api.ok("GET", f"{U}/membership/{membership_id}")
        return {k: m[k] for k in ("status", "plan_id", "date_renewed", "date_expiration")}

    flavor = Flavor("stub", sandbox, api, new_member, read_membership)
    yield flavor
    for payment_id in flavor.payments:  # through the wu/v2 subset: payments are rows of the stub's own table
        assert api("DELETE", f"{U}/payment/{payment_id}").status_code in (200, 404)
    api.cleanup()


UM_READ = """
$m = wu_get_membership( $data );
return array( 'status' => $m->get_status(), 'plan_id' => (int) $m->get_plan_id(),
    'date_renewed' => $m->get_date_renewed(), 'date_expiration' => $m->get_date_expiration() );
"""


def um_flavor(name: str, sb: SandboxInfo) -> Flavor:
    api = Api(sb.url, (sb.api_key, sb.api_secret))

    def new_member(plan: str) -> int:
        return new_um_member(sb, plan, created=75, renewed=12, sites=0).membership_id

    return Flavor(name, sb, api, new_member, lambda mid: dict(um_php(sb, UM_READ, mid)))


@pytest.fixture(scope="module")
def um(um_sandbox: SandboxInfo) -> Flavor:
    return um_flavor("um", um_sandbox)


@pytest.fixture(params=["stub", "um"])
def flavor(request: pytest.FixtureRequest) -> Flavor:
    f: Flavor = request.getfixturevalue(request.param)
    return f


def stamp(value: str | None) -> str | None:
    """A stored date as 'Y-m-d H:i:s' (UM keeps that; the stub's wu/v2 returns the same)."""
    return None if value is None else value.replace("T", " ").removesuffix("Z")


# ----------------------------------------------------------------------------------------------------- tests


def test_nothing_is_readable_or_writable_anonymously(flavor: Flavor) -> None:
    anon = Api(flavor.sb.url, None)
    for method, path in (("GET", f"{W}/payments"), ("GET", f"{W}/payments/1"), ("POST", f"{W}/payments/1/settle"),
                         ("POST", f"{W}/payments/1/cancel"), ("POST", f"{W}/memberships/1/payments")):
        resp = anon(method, path, json={"change_key": "x"})
        assert resp.status_code == 401 and resp.json()["code"] == "rest_forbidden", (method, path, resp.text)


def test_create_is_idempotent_by_change_key(flavor: Flavor) -> None:
    mid = flavor.new_member("basic")
    total = flavor.due(mid)
    body = flavor.body(mid, total=total)
    first = flavor.create(mid, body)
    assert first["created"] is True
    p = first["payment"]
    assert p["status"] == "pending" and p["membership_id"] == mid and p["gateway"] == "manual"
    assert p["total"] == f"{Decimal(total):.4f}" and p["invoice_number"] == "" and p["hash"]
    assert p["product_id"] == flavor.products["premium"]
    assert p["wpbridge"]["change_key"] == body["change_key"] and p["wpbridge"]["settled_at"] is None
    assert p["wpbridge"]["before"] == body["before"] and p["wpbridge"]["target"] == body["target"]
    assert p["wpbridge"]["status_before"] == "active" and p["wpbridge"]["collect"] == "invoice"
    assert p["date_created"].endswith("Z")
    again = flavor.api.ok("POST", f"{W}/memberships/{mid}/payments", json=body)
    assert again["created"] is False and again["payment"]["id"] == p["id"]
    assert flavor.api.ok("GET", f"{W}/payments/{p['id']}") == again["payment"]
    listed = flavor.api("GET", f"{W}/payments", params={"membership_id": mid, "status": "pending,completed"})
    assert listed.status_code == 200 and listed.headers["X-WP-Total"] == "1"
    assert [row["id"] for row in listed.json()] == [p["id"]]
    other = flavor.create(mid, flavor.body(mid, total=total))  # another change of the same membership
    assert other["created"] is True and other["payment"]["id"] > p["id"]
    both = flavor.api.ok("GET", f"{W}/payments", params={"payment_ids": f"{other['payment']['id']},{p['id']}"})
    assert [row["id"] for row in both] == [p["id"], other["payment"]["id"]]  # id order
    page = flavor.api("GET", f"{W}/payments", params={"membership_id": mid, "per_page": 1, "page": 2})
    assert page.headers["X-WP-TotalPages"] == "2" and [r["id"] for r in page.json()] == [other["payment"]["id"]]
    assert flavor.read_membership(mid)["status"] == "active"  # ordering a change does not touch the membership
    for payment_id in (p["id"], other["payment"]["id"]):
        flavor.api.ok("POST", f"{W}/payments/{payment_id}/cancel", json={})


def test_settle_completes_the_payment_and_writes_the_membership_keys_once(flavor: Flavor) -> None:
    mid = flavor.new_member("basic")
    p = flavor.create(mid, flavor.body(mid, total=flavor.due(mid)))["payment"]
    now = datetime.now(UTC).replace(microsecond=0)
    renewed, expires = now - timedelta(hours=1), now + timedelta(days=30)
    body = {"reference": "bank-4711", "settled_at": iso(now),
            "membership": {"status": "active", "date_renewed": iso(renewed), "date_expiration": iso(expires)}}
    out = flavor.api.ok("POST", f"{W}/payments/{p['id']}/settle", json=body)
    assert out["settled"] is True and out["membership_id"] == mid
    done = out["payment"]
    assert done["status"] == "completed" and done["gateway_payment_id"] == "bank-4711"
    assert done["invoice_number"] != "" and done["wpbridge"]["settled_at"] == iso(now)
    assert done["wpbridge"]["reference"] == "bank-4711"
    held = flavor.read_membership(mid)
    assert held["status"] == "active" and held["plan_id"] == flavor.products["basic"]  # only the keys given
    assert stamp(held["date_renewed"]) == stamp(iso(renewed)) and stamp(held["date_expiration"]) == stamp(iso(expires))
    later = {"reference": "other", "membership": {"status": "expired", "date_expiration": iso(now)}}
    again = flavor.api.ok("POST", f"{W}/payments/{p['id']}/settle", json=later)
    assert again["settled"] is False and again["payment"] == done  # nothing written the second time
    assert flavor.read_membership(mid) == held
    refused = flavor.api("POST", f"{W}/payments/{p['id']}/cancel", json={})
    assert refused.status_code == 409 and refused.json()["code"] == "wpbridge_payment_not_pending"
    assert flavor.api.ok("GET", f"{W}/payments", params={"payment_ids": p["id"], "status": "completed"}) == [done]


def test_collect_paid_is_made_pending_then_settled_with_its_reference(flavor: Flavor) -> None:
    """`collect: paid` is kept in the meta only: the payment is made pending like an invoice, so that settling it
    (after wpbridge writes the membership) is what completes it and activates the membership, in one transaction."""
    mid = flavor.new_member("basic")
    out = flavor.create(mid, flavor.body(mid, total=flavor.due(mid), collect="paid", reference="cash-17"))
    p = out["payment"]
    assert out["created"] is True and p["status"] == "pending" and p["gateway_payment_id"] == ""
    assert p["invoice_number"] == "" and p["wpbridge"]["settled_at"] is None
    assert p["wpbridge"]["collect"] == "paid" and p["wpbridge"]["reference"] == "cash-17"
    done = flavor.api.ok("POST", f"{W}/payments/{p['id']}/settle",
                         json={"reference": "cash-17", "membership": {"status": "active"}})
    assert done["settled"] is True and done["payment"]["status"] == "completed"
    assert done["payment"]["gateway_payment_id"] == "cash-17" and done["payment"]["invoice_number"] != ""
    assert flavor.read_membership(mid)["status"] == "active"


def test_cancel_once_and_a_cancelled_payment_cannot_be_settled(flavor: Flavor) -> None:
    mid = flavor.new_member("basic")
    body = flavor.body(mid, total=flavor.due(mid))
    p = flavor.create(mid, body)["payment"]
    out = flavor.api.ok("POST", f"{W}/payments/{p['id']}/cancel", json={})
    assert out["cancelled"] is True and out["payment"]["status"] == "cancelled"
    again = flavor.api.ok("POST", f"{W}/payments/{p['id']}/cancel", json={})
    assert again["cancelled"] is False and again["payment"] == out["payment"]
    resp = flavor.api("POST", f"{W}/payments/{p['id']}/settle",
                      json={"membership": {"status": "active"}})
    assert resp.status_code == 409, resp.text
    err = resp.json()
    assert err["code"] == "wpbridge_payment_not_pending" and "cancelled" in err["message"]
    assert err["data"]["payment_status"] == "cancelled"
    assert flavor.api.ok("GET", f"{W}/payments/{p['id']}")["status"] == "cancelled"
    remade = flavor.create(mid, body)  # a cancelled payment does not hold its change key
    assert remade["created"] is True and remade["payment"]["id"] != p["id"]
    flavor.api.ok("POST", f"{W}/payments/{remade['payment']['id']}/cancel", json={})


BAD_CREATES: list[tuple[dict[str, Any], str]] = [
    ({"change_key": "abc"}, "change_key"),
    ({"collect": "later"}, "collect"),
    ({"total": "-1"}, "total"),
    ({"total": None}, "total"),
    ({"cart": {"cart_type": "upgrade", "products": {"999999": 1}}}, "cart.products.999999"),
    ({"cart": {"cart_type": "sideways", "products": {"1": 1}}}, "cart.cart_type"),
    ({"cart": {"cart_type": "upgrade", "products": {}}}, "cart.products"),
    ({"status_before": "asleep"}, "status_before"),
    ({"target": None}, "target"),
    ({"line_items": [{"type": "product", "colour": "red"}]}, "line_items.0.colour"),
    ({"line_items": [{"total": "x"}]}, "line_items.0.total"),
    ({"surprise": 1}, "surprise"),
]


@pytest.mark.parametrize(("change", "field_name"), BAD_CREATES)
def test_a_bad_payment_body_is_a_400_naming_the_field(flavor: Flavor, change: dict[str, Any],
                                                      field_name: str) -> None:
    mid = 1  # never reached: the body is refused first
    body = {**flavor.body(mid, total="1"), **change}
    resp = flavor.api("POST", f"{W}/memberships/{mid}/payments", json=body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["code"] == "rest_invalid_param" and resp.json()["data"]["field"] == field_name, resp.text


@pytest.mark.parametrize(("method", "path", "params", "body", "field_name"), [
    ("GET", "/payments", {"status": "lost"}, None, "status"),
    ("GET", "/payments", {"per_page": 101}, None, "per_page"),
    ("GET", "/payments", {"payment_ids": "1,x"}, None, "payment_ids.1"),
    ("POST", "/payments/1/settle", None, {"membership": {"status": "asleep"}}, "membership.status"),
    ("POST", "/payments/1/settle", None, {"membership": {"plan_id": 3}}, "membership.plan_id"),
    ("POST", "/payments/1/settle", None, {"settled_at": "yesterday"}, "settled_at"),
])
def test_bad_parameters_are_400s_naming_the_field(flavor: Flavor, method: str, path: str, params: Any, body: Any,
                                                  field_name: str) -> None:
    resp = flavor.api(method, W + path, params=params, json=body)
    assert resp.status_code == 400 and resp.json()["data"]["field"] == field_name, resp.text


def test_missing_payment_and_membership_are_404s(flavor: Flavor) -> None:
    for method, path in (("GET", "/payments/999999"), ("POST", "/payments/999999/settle"),
                         ("POST", "/payments/999999/cancel")):
        resp = flavor.api(method, W + path, json={})
        assert resp.status_code == 404 and resp.json()["code"] == "wpbridge_payment_not_found", resp.text
    resp = flavor.api("POST", f"{W}/memberships/999999/payments", json=flavor.body(999999, total="1"))
    assert resp.status_code == 404 and resp.json()["code"] == "wpbridge_membership_not_found", resp.text


def test_options_describe_the_payment_routes(flavor: Flavor) -> None:
    def options(path: str) -> dict[str, Any]:
        resp = requests.options(flavor.sb.url + W + path, auth=(flavor.sb.api_key, flavor.sb.api_secret),
                                timeout=TIMEOUT)
        assert resp.status_code == 200, resp.text
        return resp.json()  # type: ignore[no-any-return]

    listing = options("/payments")
    assert listing["schema"]["title"] == "wpbridge-payment"
    args = listing["endpoints"][0]["args"]
    assert {"membership_id", "customer_id", "status", "payment_ids", "page", "per_page"} <= args.keys()
    assert options("/memberships/1/payments")["schema"]["properties"]["change_key"]["pattern"]
    assert options("/payments/1/settle")["schema"]["title"] == "wpbridge-payment-settle"


# ------------------------------------------------------------------------------------------------ UM only


def test_um_upgrade_payment_is_ums_cart_for_a_seeded_membership(um: Flavor) -> None:
    """Bruno (example seed: Basic, renewed 12 days ago) upgrades to Premium: the payment is UM's Cart, its total
    the due now wpbridge quotes, the Cart kept in `wu_original_cart`; a wrong total stores nothing."""
    bruno = next(c for c in um.sb.info["seeded"]["customers"] if c["username"] == "bruno")
    mid = int(bruno["membership_id"])
    before = um.api.ok("GET", f"{W}/payments", params={"membership_id": mid, "per_page": 100})
    with network(um.sb) as net:
        quoted = change.quote(net, mid, now=datetime.now(UTC), plan="premium")
    assert quoted.kind == "upgrade" and quoted.quote.due_now > 0
    due = f"{quoted.quote.due_now:.2f}"
    wrong = um.api("POST", f"{W}/memberships/{mid}/payments", json=um.body(mid, total="1.00"))
    assert wrong.status_code == 409 and wrong.json()["data"] == {"status": 409, "um_total": f"{Decimal(due):.4f}",
                                                                 "total": "1.0000"}
    assert um.api.ok("GET", f"{W}/payments", params={"membership_id": mid, "per_page": 100}) == before
    body = um.body(mid, total=due)
    p = um.create(mid, body)["payment"]
    try:
        lines = p["line_items"]
        premium = um.products["premium"]
        assert [(li["type"], li["product_id"]) for li in lines] == [("product", premium), ("credit", 0)]
        assert lines[0]["total"] == "39.0000" and lines[0]["recurring"] is True
        assert Decimal(lines[1]["total"]) < 0
        assert sum(Decimal(li["total"]) for li in lines) == Decimal(p["total"]) == Decimal(due)
        assert p["subtotal"] == "39.0000" and p["currency"] == "USD"
        assert p["url"] is not None and f"payment={p['hash']}" in p["url"]  # UM's pay link
        kept = um_php(um.sb, """
$p = wu_get_payment( $data );
$cart = $p->get_meta( 'wu_original_cart' );
$change = $p->get_meta( 'wpbridge_change' );
return array( 'class' => get_class( $cart ), 'type' => $cart->get_cart_type(), 'plan' => (int) $cart->get_plan_id(),
    'total' => (float) $cart->get_total(), 'membership' => (int) $cart->get_membership()->get_id(),
    'change_key' => $change['change_key'], 'lines' => count( $p->get_line_items() ) );
""", p["id"])
        assert kept == {"class": "WP_Ultimo\\Checkout\\Cart", "type": "upgrade", "plan": premium,
                        "total": float(due), "membership": mid, "change_key": body["change_key"], "lines": 2}
        held = um.read_membership(mid)
        assert held["plan_id"] == um.products["basic"] and held["status"] == "active"  # untouched
    finally:
        um.api.ok("POST", f"{W}/payments/{p['id']}/cancel", json={})


def test_um_settle_is_one_transaction(um: Flavor) -> None:
    """The payment is completed (UM's hook numbers it and bumps `next_invoice_number`) before UM's membership
    save, which fails here (its plan no longer exists): the rollback leaves the payment pending, unnumbered, and
    UM's invoice counter where it was."""
    mid = um.new_member("basic")
    p = um.create(mid, um.body(mid, total=um.due(mid)))["payment"]
    plan = um.products["basic"]
    break_plan = """
global $wpdb;
$wpdb->update( $wpdb->base_prefix . 'wu_memberships', array( 'plan_id' => $data['plan'] ),
    array( 'id' => $data['id'] ) );
return wu_get_setting( 'next_invoice_number', 1 );
"""
    counter = um_php(um.sb, break_plan, {"id": mid, "plan": 999999})
    resp = um.api("POST", f"{W}/payments/{p['id']}/settle", json={"membership": {"status": "active"}})
    assert resp.status_code == 409 and resp.json()["code"] == "wpbridge_um_membership", resp.text
    after = um.api.ok("GET", f"{W}/payments/{p['id']}")
    assert after["status"] == "pending" and after["invoice_number"] == "" and after["wpbridge"]["settled_at"] is None
    assert um_php(um.sb, break_plan, {"id": mid, "plan": plan}) == counter  # plan restored, counter untouched
    out = um.api.ok("POST", f"{W}/payments/{p['id']}/settle", json={"membership": {"status": "active"}})
    assert out["settled"] is True and out["payment"]["invoice_number"] == str(counter)


def test_um_main_prices_and_settles_through_its_own_cart(um_main_sandbox: SandboxInfo) -> None:
    """UM main (2.4.13-beta.1): an add-on purchase no longer carries the plan and a prorated credit (only the
    add-on is charged), and `to_payment_data()` passes the Cart's currency; settling assigns UM's invoice number."""
    main = um_flavor("um-main", um_main_sandbox)
    mid = main.new_member("basic")
    storage = main.products["extra-storage"]
    body = {**main.body(mid, total="0.01"), "cart": {"cart_type": "addon", "products": {str(storage): 1}}}
    resp = main.api("POST", f"{W}/memberships/{mid}/payments", json=body)
    assert resp.status_code == 409 and resp.json()["code"] == "wpbridge_payment_total_mismatch", resp.text
    assert resp.json()["data"]["um_total"] == "5.0000"  # the add-on only, no plan line, no credit
    p = main.create(mid, {**body, "total": "5"})["payment"]
    assert [(li["type"], li["product_id"]) for li in p["line_items"]] == [("product", storage)]
    assert p["product_id"] == 0 and p["total"] == "5.0000" and p["currency"] == "USD"
    out = main.api.ok("POST", f"{W}/payments/{p['id']}/settle", json={"membership": {"status": "active"}})
    assert out["settled"] is True and out["payment"]["invoice_number"] != ""
    assert main.read_membership(mid)["status"] == "active"


# ---------------------------------------------------------------------------------------------- stub only


def test_stub_serves_ums_wu_v2_payment_subset(stub: Flavor) -> None:
    mid = stub.new_member("basic")
    membership = stub.api.ok("GET", f"{U}/membership/{mid}")
    made = stub.api.ok("POST", f"{U}/payment", json={
        "customer_id": membership["customer_id"], "membership_id": mid, "total": "15", "subtotal": "15",
        "gateway": "manual", "line_items": [{"type": "product", "product_id": membership["plan_id"], "title": "Basic",
                                             "quantity": 1, "unit_price": 15, "subtotal": 15, "total": 15}],
    })
    assert made["model"] == "payment" and made["status"] == "completed"  # UM's wu_create_payment default
    assert made["total"] == "15.0000" and made["invoice_number"] > 0 and made["hash"]
    assert made["line_items"][0]["unit_price"] == "15.0000" and made["line_items"][0]["id"].startswith("LN_")
    assert stub.api.ok("GET", f"{U}/payment/{made['id']}") == made
    pending = stub.create(mid, stub.body(mid, total="30.62"))["payment"]
    rows = stub.api("GET", f"{U}/payment", params={"membership_id": mid, "orderby": "id", "order": "ASC"})
    assert rows.headers["X-WP-Total"] == "2" and [r["id"] for r in rows.json()] == [made["id"], pending["id"]]
    only = stub.api.ok("GET", f"{U}/payment", params={"customer_id": membership["customer_id"], "status": "pending",
                                                       "membership_id": mid})
    assert [r["id"] for r in only] == [pending["id"]]
    updated = stub.api.ok("PUT", f"{U}/payment/{made['id']}", json={"status": "refunded", "refund_total": "15"})
    assert updated["status"] == "refunded" and updated["refund_total"] == "15.0000"
    assert updated["invoice_number"] == made["invoice_number"] and updated["hash"] == made["hash"]
    bad = stub.api("PUT", f"{U}/payment/{made['id']}", json={"colour": "red"})
    assert bad.status_code == 400 and bad.json()["code"] == "wu_rest_payment_invalid_set_method"
    missing = stub.api("POST", f"{U}/payment", json={"customer_id": 999999})
    assert missing.status_code == 400 and missing.json()["data"]["field"] == "customer_id"
    # The companion record of a payment made through wu/v2 has no wpbridge change.
    assert stub.api.ok("GET", f"{W}/payments/{made['id']}")["wpbridge"] is None
    assert stub.api("DELETE", f"{U}/payment/{made['id']}").json() is True


def test_stub_settle_of_a_payment_whose_membership_is_gone_writes_nothing(stub: Flavor) -> None:
    mid = stub.new_member("basic")
    p = stub.create(mid, stub.body(mid, total="30.62"))["payment"]
    assert stub.api("DELETE", f"{U}/membership/{mid}").status_code == 200
    resp = stub.api("POST", f"{W}/payments/{p['id']}/settle", json={"membership": {"status": "active"}})
    assert resp.status_code == 404 and resp.json()["code"] == "wpbridge_membership_not_found"
    assert stub.api.ok("GET", f"{W}/payments/{p['id']}")["status"] == "pending"
