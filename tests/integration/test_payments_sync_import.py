"""Payments in `sync` and in `export`/`import` (issue 17), on real networks of both flavors.

- `sync` reports a change's payment still pending after `[sync] payment_grace_days` (here: a run `--at` eight days
  on, a dry run on the shared sandbox), writes nothing for it and exits 0 (a finding, not a failure).
- A network's payments go through `export` and `import` into a fresh network of the other flavor with every field
  (status, amounts, line items, invoice number, gateway, gateway payment id, dates, the change they pay for),
  except what the target cannot hold, which the import names (a UM target makes its own hash and pay link); a
  second import writes nothing.

Each test makes its own member and payments on the session's sandboxes (stub: through `wu/v2` and plugin-stub's
payment routes, removed at the end; UM: by UM's own code and the payment routes) and looks only at those.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.integration.change_support import run as cli
from tests.integration.conftest import UM_LATEST, um_build
from tests.integration.stub_api_support import Api, tag
from tests.integration.test_import import env_of, network_of, report, run
from tests.integration.um_support import new_um_member, um_php
from wpbridge.sandbox import SandboxInfo, down, up
from wpbridge.workflows.snapshot import export_snapshot

W = "/wp-json/wpbridge/v1"
U = "/wp-json/wu/v2"


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def api_of(sb: SandboxInfo) -> Api:
    return Api(sb.url, (sb.api_key, sb.api_secret))


def products(sb: SandboxInfo) -> dict[str, int]:
    return dict(sb.info["seeded"]["products"])


def stub_member(api: Api, sb: SandboxInfo) -> tuple[int, int]:
    """(customer id, membership id) of a new basic member of the stub network, made through `wu/v2`."""
    t = tag()
    customer = api.ok("POST", f"{U}/customer", json={"username": f"pay{t}", "email": f"pay{t}@example.com"})
    now = datetime.now(UTC)
    made = api.ok("POST", f"{U}/membership", json={
        "customer_id": customer["id"], "plan_id": products(sb)["basic"], "status": "active", "amount": "15",
        "duration": 1, "duration_unit": "month", "recurring": True, "date_renewed": iso(now - timedelta(days=12)),
        "date_expiration": iso(now + timedelta(days=18))})
    return int(customer["id"]), int(made["id"])


def change_body(sb: SandboxInfo, total: str) -> dict[str, Any]:
    """The payment of basic -> premium for one month, as wpbridge's `change apply` sends it."""
    p = products(sb)
    return {
        "change_key": hashlib.sha256(secrets.token_bytes(16)).hexdigest(), "collect": "invoice", "reference": "",
        "cart": {"cart_type": "upgrade", "products": {str(p["premium"]): 1}, "duration": 1, "duration_unit": "month"},
        "currency": "USD", "subtotal": "39", "discount_total": "0", "tax_total": "0", "total": total,
        "line_items": [{"type": "product", "product_id": p["premium"], "title": "Premium", "quantity": 1,
                        "unit_price": "39", "subtotal": "39", "total": "39", "recurring": True, "duration": 1,
                        "duration_unit": "month"},
                       {"type": "credit", "title": "Credit", "unit_price": "-8.38", "subtotal": "-8.38",
                        "total": "-8.38"}],
        "status_before": "active", "before": {"plan_id": p["basic"], "addon_products": {}},
        "target": {"plan_id": p["premium"], "addon_products": {}},
    }


def change_payment(api: Api, sb: SandboxInfo, membership_id: int) -> dict[str, Any]:
    """A change's pending payment through plugin-stub's route; on UM priced by UM's Cart (its 409 names it)."""
    path = f"{W}/memberships/{membership_id}/payments"
    total = "30.62"
    if sb.info.get("flavor") == "ultimate-multisite":
        resp = api("POST", path, json=change_body(sb, "0.01"))
        assert resp.status_code == 409 and resp.json()["code"] == "wpbridge_payment_total_mismatch", resp.text
        total = str(resp.json()["data"]["um_total"])
    out = api.ok("POST", path, json=change_body(sb, total))
    assert out["created"] is True
    payment: dict[str, Any] = out["payment"]
    return payment


def new_member(api: Api, sb: SandboxInfo) -> tuple[int, int]:
    if sb.info.get("flavor") == "ultimate-multisite":
        m = new_um_member(sb, "basic", created=75, renewed=12, sites=0)
        return m.customer_id, m.membership_id
    return stub_member(api, sb)


# --------------------------------------------------------------------------------------------------- sync


def test_sync_reports_a_change_payment_pending_past_the_grace_and_writes_nothing(any_sandbox: SandboxInfo,
                                                                                 tmp_path: Path) -> None:
    sb = any_sandbox
    api = api_of(sb)
    _, mid = new_member(api, sb)
    payment = change_payment(api, sb, mid)
    later = iso(datetime.now(UTC) + timedelta(days=8))
    try:
        found = {}
        for grace, expected in (("7", True), ("10", False)):
            path = tmp_path / f"report-{grace}.json"
            result = cli(sb, "sync", "--dry-run", "--at", later, "--payment-grace-days", grace, "--report", str(path))
            data = json.loads(path.read_text())
            assert result.exit_code == 0, (result.output, data["errors"])  # a finding, never a failure
            assert data["payment_grace_days"] == int(grace)
            mine = [p for p in data["pending_payments"] if p["id"] == payment["id"]]
            assert bool(mine) is expected, data["pending_payments"]
            if mine:
                found = mine[0]
                assert f"payment {payment['id']} of membership {mid}" in result.stderr
        assert found == {"id": payment["id"], "membership_id": mid, "customer_id": payment["customer_id"],
                         "total": f"{float(payment['total']):.2f}", "currency": "USD",
                         "date_created": payment["date_created"], "days_pending": found["days_pending"],
                         "url": payment["url"]}
        assert found["days_pending"] in (7, 8)  # created moments ago, the run is 8 days on
        assert api.ok("GET", f"{W}/payments/{payment['id']}") == payment  # never a write, never a revert
    finally:
        api.ok("POST", f"{W}/payments/{payment['id']}/cancel", json={})
        if sb.info.get("flavor") != "ultimate-multisite":
            assert api("DELETE", f"{U}/payment/{payment['id']}").status_code in (200, 404)
            api.cleanup()


# --------------------------------------------------------------------------------------------------- import


def stub_payments(api: Api, sb: SandboxInfo, customer_id: int, membership_id: int) -> list[int]:
    """A completed card payment (a discounted, taxed line and a credit), a refunded one of no membership, a change's
    pending payment, and a change's payment settled with a reference (completed, invoice number, settled_at)."""
    p = products(sb)
    line = {"type": "product", "product_id": p["premium"], "title": "Premium", "quantity": 1, "unit_price": "49",
            "subtotal": "49", "discount_total": "5.5", "tax_rate": "10", "tax_total": "4.35", "total": "47.85",
            "recurring": True, "duration": 1, "duration_unit": "month"}
    credit = {"type": "credit", "title": "Credit", "unit_price": "-8.38", "subtotal": "-8.38", "total": "-8.38"}
    card = api.ok("POST", f"{U}/payment", json={
        "customer_id": customer_id, "membership_id": membership_id, "status": "completed", "currency": "USD",
        "subtotal": "40.62", "discount_total": "5.5", "tax_total": "4.35", "total": "39.47", "gateway": "stripe",
        "gateway_payment_id": "pi_3Nx", "discount_code": "SPRING", "product_id": p["premium"],
        "line_items": [line, credit]})
    refunded = api.ok("POST", f"{U}/payment", json={
        "customer_id": customer_id, "status": "refunded", "subtotal": "15", "total": "15", "refund_total": "15",
        "gateway": "manual"})
    pending = change_payment(api, sb, membership_id)
    settled = change_payment(api, sb, membership_id)
    api.ok("POST", f"{W}/payments/{settled['id']}/settle", json={
        "reference": "bank-4711", "settled_at": iso(datetime.now(UTC)), "membership": {"status": "active"}})
    return [int(card["id"]), int(refunded["id"]), int(pending["id"]), int(settled["id"])]


UM_PAYMENTS = """
$line = new \\WP_Ultimo\\Checkout\\Line_Item( array( 'type' => 'product', 'product_id' => $data['premium'],
    'title' => 'Premium', 'quantity' => 2, 'unit_price' => 44.0, 'recurring' => true, 'duration' => 1,
    'duration_unit' => 'month', 'tax_rate' => 5.0 ) );
$card = wu_create_payment( array( 'customer_id' => $data['customer_id'], 'membership_id' => $data['membership_id'],
    'product_id' => $data['premium'], 'status' => 'completed', 'currency' => 'USD', 'subtotal' => 88.0,
    'tax_total' => 4.4, 'total' => 92.4, 'gateway' => 'stripe', 'gateway_payment_id' => 'pi_um_1',
    'line_items' => array( $line ) ) );
if ( is_wp_error( $card ) ) { throw new Exception( $card->get_error_message() ); }
$part = wu_create_payment( array( 'customer_id' => $data['customer_id'], 'membership_id' => 0,
    'status' => 'partially-refunded', 'subtotal' => 20.0, 'total' => 20.0, 'gateway' => 'paypal',
    'gateway_payment_id' => 'PAY-9' ) );
if ( is_wp_error( $part ) ) { throw new Exception( $part->get_error_message() ); }
$part->set_refund_total( 7.5 );
$part->save();
return array( $card->get_id(), $part->get_id() );
"""


def um_payments(api: Api, sb: SandboxInfo, customer_id: int, membership_id: int) -> list[int]:
    """UM's own payments (a card payment whose line UM priced, with tax; a partial refund of no membership), a
    change's pending payment and a settled one (UM's Cart lines, UM's invoice number)."""
    made = um_php(sb, UM_PAYMENTS, {"customer_id": customer_id, "membership_id": membership_id,
                                    "premium": products(sb)["premium"]})
    pending = change_payment(api, sb, membership_id)
    settled = change_payment(api, sb, membership_id)
    api.ok("POST", f"{W}/payments/{settled['id']}/settle", json={
        "reference": "bank-4711", "settled_at": iso(datetime.now(UTC)), "membership": {"status": "active"}})
    return [int(made[0]), int(made[1]), int(pending["id"]), int(settled["id"])]


def payment_view(export: dict[str, Any], payment: dict[str, Any], *, source_id: int, membership: Any,
                 keep_hash: bool) -> dict[str, Any]:
    """A payment by natural keys: its customer's email, its products' slugs, the source's ids of itself and of its
    membership; without what is the network's own (id, pay link, date_modified; the hash unless kept)."""
    slug = {p["id"]: p["slug"] for p in export["catalog"]}
    email = {c["id"]: c["user_email"] for c in export["customers"]}

    def state(s: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in s.items() if k not in ("plan_id", "addon_products")}
        out["plan"] = slug.get(s.get("plan_id"))
        out["addons"] = {slug[int(k)]: q for k, q in dict(s.get("addon_products") or {}).items()}
        return out

    out = {k: v for k, v in payment.items() if k not in ("id", "url", "date_modified", "hash")}
    if keep_hash:
        out["hash"] = payment["hash"]
    out.update(source_id=source_id, customer=email[payment["customer_id"]], membership=membership,
               product=slug.get(payment.get("product_id")))
    del out["customer_id"], out["membership_id"], out["product_id"]
    out["line_items"] = [{**{k: v for k, v in line.items() if k != "product_id"},
                          "product": slug.get(line.get("product_id"))} for line in payment["line_items"]]
    if payment.get("wpbridge"):
        out["wpbridge"] = {**payment["wpbridge"], "before": state(payment["wpbridge"]["before"]),
                           "target": state(payment["wpbridge"]["target"])}
    return out


def round_trip(source: SandboxInfo, target_flavor: dict[str, Any], tmp_path: Path,
               make: Any) -> None:
    api = api_of(source)
    customer_id, membership_id = new_member(api, source)
    ids = make(api, source, customer_id, membership_id)
    export = tmp_path / "source.json"
    try:
        with network_of(source) as net:
            export_snapshot(net, export, now=datetime.now(UTC), source_url=source.url)
    finally:
        if source.info.get("flavor") != "ultimate-multisite":
            for pid in ids:
                assert api("DELETE", f"{U}/payment/{pid}").status_code in (200, 404)
            api.cleanup()
    data = json.loads(export.read_text())
    data["payments"] = [p for p in data["payments"] if p["id"] in ids]  # this test's payments only
    assert sorted(p["id"] for p in data["payments"]) == sorted(ids)
    export.write_text(json.dumps(data))
    statuses = {p["status"] for p in data["payments"]}
    assert {"completed", "pending"} <= statuses and any(p["wpbridge"] for p in data["payments"])

    target = up(seed="none", **target_flavor)
    try:
        env = env_of(target, tmp_path)
        to_um = target_flavor.get("flavor") == "ultimate-multisite"
        first = run(env, str(export), "--yes", "--report", str(tmp_path / "first.json"))
        assert first.returncode == 0, first.stderr + first.stdout
        done = report(tmp_path / "first.json")
        assert done["summary"]["by_kind"]["payment"] == {"create": len(ids)}, done["summary"]
        assert done["errors"] == [] and done["summary"]["failed"] == 0
        if to_um:  # what UM cannot hold is named, in the report and on stderr, never dropped silently
            paid = (f"{len(ids)} payments: not kept: their hash and pay link (Ultimate Multisite derives both from"
                    " the payment's own id on this network)")
            assert paid in done["not_kept"]
            # Besides the payments, only what the stub's seed holds and UM's records have no place for (the
            # billing addresses' billing_name line, a cancelled membership's gateway: see test_import_round_trip).
            assert all(line == paid or _shared_network_loss(line) for line in done["not_kept"]), done["not_kept"]
            assert f"import: {len(ids)} payments: not kept: their hash" in first.stderr
            assert all("not kept: hash" in s["note"] for s in done["plan"] if s["kind"] == "payment")
        else:
            assert all(_shared_network_loss(line) for line in done["not_kept"]), done["not_kept"]

        with network_of(target) as net:
            out = tmp_path / "target.json"
            export_snapshot(net, out, now=datetime.now(UTC), source_url=target.url)
            keys = {int(k["payment_id"]): str(k["source_key"]) for k in api_of(target).ok(
                "GET", f"{W}/import/payment-keys", params={"per_page": 100})}
            members = {int(k["membership_id"]): str(k["source_key"]) for k in net.imports.membership_keys()}
        copy = json.loads(out.read_text())
        origin = source.url.rstrip("/")
        want = {p["id"]: payment_view(data, p, source_id=p["id"], keep_hash=not to_um,
                                      membership=p["membership_id"])
                for p in data["payments"]}
        have = {}
        for p in copy["payments"]:
            sid = int(keys[p["id"]].removeprefix(f"{origin}/payment/"))
            member = members[p["membership_id"]] if p["membership_id"] else None
            have[sid] = payment_view(copy, p, source_id=sid, keep_hash=not to_um,
                                     membership=int(member.removeprefix(f"{origin}/membership/")) if member else None)
        assert set(have) == set(want)
        for sid, payment in want.items():
            assert have[sid] == payment, sid  # every field, line by line

        again = run(env, str(export), "--yes", "--report", str(tmp_path / "again.json"))
        assert again.returncode == 0, again.stderr + again.stdout
        second = report(tmp_path / "again.json")
        assert second["summary"]["writes"] == 0, second["writes"]
        assert second["summary"]["by_kind"]["payment"] == {"unchanged": len(ids)}
        assert second["not_kept"] == []
    finally:
        down(target.dir, purge=os.environ.get("WPBRIDGE_TEST_KEEP") != "1")


def test_stub_payments_import_into_ultimate_multisite_with_every_field(sandbox: SandboxInfo, tmp_path: Path) -> None:
    round_trip(sandbox, {"flavor": "ultimate-multisite", "um_plugin": um_build(UM_LATEST)}, tmp_path, stub_payments)


def test_ultimate_multisite_payments_import_into_the_stub_with_every_field(um_sandbox: SandboxInfo,
                                                                           tmp_path: Path) -> None:
    round_trip(um_sandbox, {}, tmp_path, um_payments)


def _shared_network_loss(line: str) -> bool:
    """A not-kept line that is about the shared source network, not this test's payments: billing-address lines
    and a cancelled membership's gateway UM has no place for (see test_import_round_trip), and a membership whose
    code another test deleted since (imported without it), and a UM source's mapped domain (a subdomain sandbox maps
    one) on a stub target, which keeps none."""
    return ("billing_address" in line or "gateway" in line
            or ("membership code" in line and "neither in the file nor on the network" in line)
            or (line.startswith("domain ") and "keeps no mapped domains" in line))
