"""Issue 17 end to end, on both flavors (`any_sandbox`: stub and the real UM 2.4.12; UM main where it differs):
a change that costs money leaves a payment (UM's own, made by UM's Cart in UM mode), once; `paid` completes it;
`none` says it was waived; an expired membership comes back when its payment is settled, once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.integration.change_support import network, run, run_json
from tests.integration.test_any_flavor import fresh
from tests.integration.um_support import um_php
from wpbridge.models import parse_utc
from wpbridge.sandbox import SandboxInfo
from wpbridge.workflows import change


def apply(sb: SandboxInfo, *args: str) -> tuple[int, dict[str, Any]]:
    result = run(sb, "change", "apply", *args, "--yes", "--output", "json")
    assert result.stdout.strip(), result.output
    return result.exit_code, json.loads(result.stdout)


def membership(sb: SandboxInfo, mid: int) -> dict[str, Any]:
    return dict(run_json(sb, "memberships", "show", str(mid))["membership"])


def test_an_upgrade_invoices_the_due_now_once(any_sandbox: SandboxInfo) -> None:
    mid, _ = fresh(any_sandbox, "basic", renewed=10)
    code, out = apply(any_sandbox, str(mid), "--plan", "premium")
    assert code == 0 and out["ok"], out["message"]
    due = Decimal(out["quote"]["due_now"])
    assert due > 0 and out["collect"] == "invoice" and out["waived"] is None
    pay = out["payment"]
    assert pay["status"] == "pending" and Decimal(pay["total"]) == due and pay["currency"] == "USD"
    shown = run_json(any_sandbox, "payments", "show", str(pay["id"]))
    assert shown["membership_id"] == mid and Decimal(shown["total"]) == due
    kinds = [(li["type"], Decimal(li["total"])) for li in shown["line_items"]]
    assert ("product", Decimal(39)) in kinds and any(t == "credit" and v < 0 for t, v in kinds)
    assert sum(v for _, v in kinds).quantize(Decimal("0.01")) == due
    assert shown["wpbridge"]["status_before"] == "active" and shown["wpbridge"]["collect"] == "invoice"
    if any_sandbox.info.get("flavor") == "ultimate-multisite":
        assert pay["url"] and f"payment={shown['hash']}" in pay["url"]  # UM's pay link
    assert membership(any_sandbox, mid)["status"] == "active"  # the customer keeps the access they had
    again_code, again = apply(any_sandbox, str(mid), "--plan", "premium")
    assert again_code == 0 and again["status"] == "unchanged"
    listed = run_json(any_sandbox, "payments", "list", "--membership", str(mid))
    assert [p["id"] for p in listed] == [pay["id"]]


def test_um_checkout_makes_the_payment_with_its_cart(um_sandbox: SandboxInfo) -> None:
    mid, _ = fresh(um_sandbox, "basic", renewed=10)
    code, out = apply(um_sandbox, str(mid), "--plan", "premium")
    assert code == 0 and out["ok"], out["message"]
    held = um_php(um_sandbox, """
$p = wu_get_payment( $data );
$cart = $p->get_meta( 'wu_original_cart' );
return array( 'cart' => is_object( $cart ) ? get_class( $cart ) : null,
    'cart_type' => is_object( $cart ) ? $cart->get_cart_type() : null, 'total' => (string) $p->get_total(),
    'status' => $p->get_status(), 'gateway' => $p->get_gateway(), 'lines' => count( $p->get_line_items() ) );
""", out["payment"]["id"])
    assert held["cart"] == "WP_Ultimo\\Checkout\\Cart" and held["cart_type"] == "upgrade"
    assert Decimal(held["total"]) == Decimal(out["quote"]["due_now"]) and held["status"] == "pending"
    assert held["gateway"] == "manual" and held["lines"] >= 2


def test_paid_with_a_reference_completes_it(any_sandbox: SandboxInfo) -> None:
    mid, _ = fresh(any_sandbox, "basic", renewed=3)
    code, out = apply(any_sandbox, str(mid), "--addon", "extra-storage:1", "--collect", "paid",
                      "--reference", "BANK-118")
    assert code == 0 and out["ok"], out["message"]
    pay = out["payment"]
    assert pay["status"] == "completed" and pay["reference"] == "BANK-118" and pay["invoice_number"]
    assert membership(any_sandbox, mid)["status"] == "active"
    bad = run(any_sandbox, "change", "apply", str(mid), "--addon", "extra-storage:2", "--collect", "paid", "--yes")
    assert bad.exit_code == 2 and "--reference" in bad.stderr


def test_none_waives_in_words(any_sandbox: SandboxInfo) -> None:
    mid, _ = fresh(any_sandbox, "basic", renewed=3)
    code, out = apply(any_sandbox, str(mid), "--plan", "premium", "--collect", "none")
    assert code == 0 and out["ok"] and out["payment"] is None
    assert Decimal(out["waived"]) == Decimal(out["quote"]["due_now"]) > 0
    assert run_json(any_sandbox, "payments", "list", "--membership", str(mid)) == []
    text = run(any_sandbox, "change", "apply", str(mid), "--plan", "premium", "--yes")
    assert text.exit_code == 0  # already in place: nothing more to waive


def test_an_expired_membership_comes_back_when_paid_once(any_sandbox: SandboxInfo) -> None:
    mid, _ = fresh(any_sandbox, "basic", status="expired", created=60)
    code, out = apply(any_sandbox, str(mid), "--plan", "premium")
    assert code == 0 and out["ok"], out["message"]
    assert out["payment"]["status"] == "pending" and membership(any_sandbox, mid)["status"] == "expired"
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    settle = run(any_sandbox, "payments", "settle", str(out["payment"]["id"]), "--reference", "cash", "--yes",
                 "--at", at.isoformat(), "--output", "json")
    assert settle.exit_code == 0, settle.output
    done = json.loads(settle.stdout)
    assert done["settled"] and done["payment"]["status"] == "completed" and done["payment"]["invoice_number"]
    m = membership(any_sandbox, mid)
    assert m["status"] == "active" and parse_utc(m["date_renewed"]) == at
    expires = parse_utc(m["date_expiration"])
    assert expires is not None and 28 <= (expires - at).days <= 31  # a new month from the settlement
    twice = run(any_sandbox, "payments", "settle", str(out["payment"]["id"]), "--yes", "--output", "json")
    assert twice.exit_code == 0 and not json.loads(twice.stdout)["settled"]
    assert membership(any_sandbox, mid) == m  # settling twice changes nothing


def test_a_pending_change_is_refused_then_replaced(any_sandbox: SandboxInfo) -> None:
    mid, _ = fresh(any_sandbox, "basic", renewed=10)
    before = membership(any_sandbox, mid)
    code, first = apply(any_sandbox, str(mid), "--plan", "premium")
    assert code == 0 and first["payment"]["status"] == "pending"
    refused = run(any_sandbox, "change", "apply", str(mid), "--addon", "extra-storage:1", "--yes")
    assert refused.exit_code == 1 and f"payment #{first['payment']['id']}" in refused.stderr
    assert "--replace-pending" in refused.stderr
    code, second = apply(any_sandbox, str(mid), "--addon", "extra-storage:1", "--replace-pending")
    assert code == 0 and second["ok"], second["message"]
    old = run_json(any_sandbox, "payments", "show", str(first["payment"]["id"]))
    assert old["status"] == "cancelled"
    now = membership(any_sandbox, mid)
    assert now["plan_id"] == before["plan_id"]  # the unpaid upgrade was undone, the add-on bought on basic
    assert second["payment"]["status"] == "pending" and second["payment"]["id"] != first["payment"]["id"]


def test_a_crash_after_the_payment_is_finished_without_a_second_one(any_sandbox: SandboxInfo) -> None:
    mid, _ = fresh(any_sandbox, "basic", renewed=10)

    def crash(write: change.Write) -> None:
        if write.kind == "payment":
            raise KeyboardInterrupt

    with network(any_sandbox) as net, pytest.raises(KeyboardInterrupt):
        change.apply(net, mid, now=datetime.now(UTC), plan="premium", after_write=crash)
    assert membership(any_sandbox, mid)["plan_id"] == fresh_plan(any_sandbox, "basic")
    code, out = apply(any_sandbox, str(mid), "--plan", "premium")
    assert code == 0 and out["ok"], out["message"]
    assert len(run_json(any_sandbox, "payments", "list", "--membership", str(mid))) == 1


def fresh_plan(sb: SandboxInfo, slug: str) -> int:
    return int(next(p["id"] for p in run_json(sb, "products", "list") if p["slug"] == slug))


def test_um_main_makes_the_add_on_payment_of_its_own_cart(um_main_sandbox: SandboxInfo) -> None:
    """UM main charges an add-on cart the add-on only (no plan line, no credit): the payment says the same."""
    mid, _ = fresh(um_main_sandbox, "basic", renewed=10)
    code, out = apply(um_main_sandbox, str(mid), "--addon", "extra-storage:1")
    assert code == 0 and out["ok"], out["message"]
    shown = run_json(um_main_sandbox, "payments", "show", str(out["payment"]["id"]))
    assert {li["type"] for li in shown["line_items"]} <= {"product", "fee"}
    assert Decimal(shown["total"]) == Decimal(out["quote"]["due_now"])


def test_paid_on_an_expired_membership_brings_it_back_at_once(any_sandbox: SandboxInfo) -> None:
    mid, _ = fresh(any_sandbox, "basic", status="expired", created=60)
    code, out = apply(any_sandbox, str(mid), "--addon", "extra-storage:1", "--collect", "paid", "--reference", "tx-9")
    assert code == 0 and out["ok"], out["message"]
    assert out["payment"]["status"] == "completed" and out["payment"]["reference"] == "tx-9"
    m = membership(any_sandbox, mid)
    assert m["status"] == "active"
    expires = parse_utc(m["date_expiration"])
    assert expires is not None and expires > datetime.now(UTC) + timedelta(days=27)
