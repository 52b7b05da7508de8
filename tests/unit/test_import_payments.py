"""`wpbridge import` of payments: read by natural keys, planned (create / unchanged / conflict / update, what the
target cannot hold named), written with the target's ids, parents first. The real routes: tests/integration/
test_payments_sync_import.py."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

from wpbridge.managers.flavor import STUB, UM
from wpbridge.models import Limitations, Membership
from wpbridge.payment_models import Payment
from wpbridge.rest.batch import BatchItem, BatchItemResult, BatchResult
from wpbridge.sandbox.example import example_catalog
from wpbridge.workflows.importer_apply import Applier
from wpbridge.workflows.importer_input import check_references, read_json
from wpbridge.workflows.importer_plan import TargetState, build_plan, not_kept_summary, read_target_payments

CATALOG = example_catalog()
SHIFT = 10
"""The target's product ids are the file's + SHIFT: every id a payment carries must be mapped."""
TARGET_CATALOG = [p.model_copy(update={"id": p.id + SHIFT, "available_addons": [a + SHIFT for a in p.available_addons]})
                  for p in CATALOG]
ORIGIN = "http://old.example.com"
CHANGE = {"change_key": "c" * 64, "collect": "paid", "reference": "bank-1", "status_before": "expired",
          "before": {"plan_id": 2, "addon_products": {}, "amount": "15"},
          "target": {"plan_id": 3, "addon_products": {"5": 2}, "amount": "49"},
          "settled_at": "2026-11-02T10:00:00Z"}
LINE = {"id": "LN_PRODUCT_A1", "type": "product", "product_id": 3, "title": "Premium", "description": "",
        "quantity": 1, "unit_price": "49.0000", "subtotal": "49.0000", "discount_total": "5.5000",
        "tax_rate": "10.0000", "tax_total": "4.3500", "total": "47.8500", "recurring": True, "duration": 1,
        "duration_unit": "month"}
CREDIT = {**LINE, "id": "LN_CREDIT_B2", "type": "credit", "product_id": 0, "title": "Credit",
          "unit_price": "-8.3800", "subtotal": "-8.3800", "discount_total": "0", "tax_rate": "0", "tax_total": "0",
          "total": "-8.3800", "recurring": False, "duration": 0, "duration_unit": ""}


def payment(pid: int, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": pid, "customer_id": 1, "membership_id": 7, "parent_id": 0, "status": "completed", "currency": "USD",
        "subtotal": "40.6200", "discount_total": "5.5000", "tax_total": "4.3500", "total": "39.4700",
        "refund_total": "0.0000", "discount_code": "SPRING", "gateway": "stripe", "gateway_payment_id": "pi_1",
        "product_id": 3, "line_items": [LINE, CREDIT], "invoice_number": "17", "hash": "HASH1",
        "url": f"{ORIGIN}/register/?payment=HASH1", "date_created": "2026-11-01T08:00:00Z",
        "date_modified": "2026-11-02T08:00:00Z", "wpbridge": CHANGE,
    }
    data.update(changes)
    return data


def export(payments: list[dict[str, Any]] | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "format": "wpbridge-snapshot", "version": 1, "exported_at": "2026-11-30T00:00:00Z", "source_url": ORIGIN,
        "catalog": [p.model_dump(mode="json") for p in CATALOG],
        "customers": [{"id": 1, "user_id": 5, "user_email": "ann@example.com", "user_login": "ann1"},
                      {"id": 2, "user_id": 6, "user_email": "bob@example.com", "user_login": "bob1"}],
        "memberships": [{"id": 7, "customer_id": 1, "plan_id": 3, "addon_products": {"5": 2}, "amount": "49",
                         "status": "active"},
                        {"id": 8, "customer_id": 2, "plan_id": 2, "amount": "15", "status": "active"}],
        "sites": [], "quotas": [], "usage": [], "scheduled_changes": [],
    }
    if payments is not None:
        data["payments"] = payments
    return data


def source(payments: list[dict[str, Any]] | None):  # type: ignore[no-untyped-def]
    src = read_json(json.dumps(export(payments)))
    check_references(src, TARGET_CATALOG)
    return src


def target(mode: str = "stub", **kw: Any) -> TargetState:
    base: dict[str, Any] = dict(flavor=UM if mode == "um" else STUB, domain="net.example", path="/",
                                subdomain=False, catalog=TARGET_CATALOG,
                                customers=[], memberships={}, keys={}, sites={}, scheduled={})
    base.update(kw)
    return TargetState(**base)


KEY1 = f"{ORIGIN}/payment/1"


# --------------------------------------------------------------------------------------------------- reading


def test_payments_are_read_by_natural_keys() -> None:
    src = source([payment(1), payment(2, membership_id=None, parent_id=1, product_id=None, line_items=[],
                                       wpbridge=None, hash="", invoice_number="")])
    assert src.issues == [] and src.payments_given and src.records == 2 + 2 + len(CATALOG) + 2
    first, second = src.payments
    assert (first.key, first.customer, first.membership, first.product, first.parent, first.source_id) == (
        KEY1, "ann@example.com", f"{ORIGIN}/membership/7", "premium", None, 1)
    assert [line["product"] for line in first.lines] == ["premium", None]
    assert "product_id" not in first.lines[0] and first.lines[1]["total"] == "-8.3800"
    assert first.change is not None
    assert first.change["before"] == {"plan": "basic", "addons": {}, "amount": "15"}
    assert first.change["target"] == {"plan": "premium", "addons": {"extra-storage": 2}, "amount": "49"}
    assert first.change["settled_at"] == "2026-11-02T10:00:00Z" and first.change["reference"] == "bank-1"
    assert str(first.fields["total"]) == "39.4700" and first.fields["invoice_number"] == "17"
    assert (second.membership, second.parent, second.product, second.change) == (None, KEY1, None, None)


def test_an_export_without_payments_claims_nothing() -> None:
    src = source(None)
    assert src.payments == [] and not src.payments_given and src.issues == []


def test_bad_references_are_issues_naming_the_payment() -> None:
    src = source([
        payment(1, customer_id=9),
        payment(2, customer_id=2),  # membership 7 is ann's
        payment(3, line_items=[{**LINE, "product_id": 99}]),
        payment(4, parent_id=5),  # a parent must come first
        payment(5, wpbridge={**CHANGE, "target": {"plan_id": 98}}),
        payment(6, membership_id=42),
    ])
    messages = [(i.where, i.field, i.message) for i in src.issues]
    assert messages == [
        ("payments[0] (id 1)", "customer_id", "customer_id 9 is not among the file's customers"),
        ("payments[1] (id 2)", "customer_id", "customer_id 2 does not own membership 7"),
        ("payments[2] (id 3)", "line_items.0.product_id", "line_items[0]: product 99 is not in the file's catalog"),
        ("payments[3] (id 4)", "parent_id", "parent_id 5 is not a payment listed before it"),
        ("payments[4] (id 5)", "wpbridge.target.plan_id", "wpbridge.target: plan_id 98 is not in the file's catalog"),
        ("payments[5] (id 6)", "membership_id", "membership_id 42 is not among the file's memberships"),
    ]
    assert not any(p.valid for p in src.payments)
    src.drop_invalid()
    assert src.payments == []


def test_skip_invalid_leaves_out_the_payments_of_a_record_left_out() -> None:
    data = export([payment(1), payment(2, customer_id=2, membership_id=8, wpbridge=None),
                   payment(3, customer_id=2, membership_id=8, parent_id=2, wpbridge=None)])
    data["memberships"][1]["plan_id"] = 77  # bob's membership is invalid: his payments go with it
    src = read_json(json.dumps(data))
    src.drop_invalid()
    assert [p.key for p in src.payments] == [KEY1]


# --------------------------------------------------------------------------------------------------- planning


def stored(pid: int = 40, **changes: Any) -> Payment:
    """The target's copy of payment 1 as an earlier import wrote it (target ids: products + SHIFT, customer 70,
    membership 700)."""
    change = {**CHANGE, "before": {"plan_id": 2 + SHIFT, "addon_products": [], "amount": "15"},
              "target": {"plan_id": 3 + SHIFT, "addon_products": {str(5 + SHIFT): 2}, "amount": "49"}}
    lines = [{**LINE, "product_id": 3 + SHIFT}, {**CREDIT, "total": "-8.38"}]
    data = payment(pid, customer_id=70, membership_id=700, product_id=3 + SHIFT, line_items=lines, hash="OWN9",
                   url=None, date_modified="2026-12-01T00:00:00Z", wpbridge=change)
    data.update(changes)
    return Payment.model_validate(data)


def existing(mode: str = "stub", **changes: Any) -> TargetState:
    t = target(mode, customers=[{"id": 70, "email": "ann@example.com", "username": "ann1"}],
               memberships={700: Membership.model_validate({"id": 700, "customer_id": 70, "plan_id": 3 + SHIFT,
                                                           "addon_products": {str(5 + SHIFT): 2}, "amount": "49",
                                                           "status": "active"})},
               keys={f"{ORIGIN}/membership/7": 700})
    read_target_payments(t, [{"source_key": KEY1, "payment_id": 40}], lambda ids: [stored(40, **changes)])
    return t


def payment_steps(plan: Any) -> list[tuple[str, str, int | None]]:
    return [(s.key, s.action, s.target_id) for s in plan.of("payment")]


def test_a_fresh_target_creates_them_and_um_names_the_hash_it_cannot_keep() -> None:
    src = source([payment(1), payment(2, hash="")])
    plan = build_plan(src, target("stub"))
    assert payment_steps(plan) == [(KEY1, "create", None), (f"{ORIGIN}/payment/2", "create", None)]
    assert [s.note for s in plan.of("payment")] == ["", ""] and not_kept_summary(plan) == []
    plan = build_plan(src, target("um"))
    assert plan.of("payment")[0].note == ("not kept: hash HASH1 (Ultimate Multisite derives a payment's hash, and its"
                                          " pay link, from the payment's own id)")
    assert plan.of("payment")[1].note == ""  # no hash to lose
    assert not_kept_summary(plan) == ["1 payment: not kept: their hash and pay link (Ultimate Multisite derives"
                                      " both from the payment's own id on this network)"]
    assert plan.of("payment")[0].to_json()["note"].startswith("not kept: hash HASH1")


def test_the_stub_names_an_invoice_number_that_is_not_a_number() -> None:
    plan = build_plan(source([payment(1, invoice_number="INV-7")]), target("stub"))
    assert "invoice number 'INV-7'" in plan.of("payment")[0].note
    assert not_kept_summary(plan) == ["1 payment: not kept: invoice numbers that are not numbers (the stub keeps"
                                      " invoice numbers as numbers)"]


def test_a_payment_found_by_its_key_is_unchanged_when_every_field_matches() -> None:
    plan = build_plan(source([payment(1)]), existing("um"))  # the target's own hash and dates are not compared
    assert payment_steps(plan) == [(KEY1, "unchanged", 40)]
    assert plan.of("payment")[0].note == "" and not_kept_summary(plan) == []
    plan = build_plan(source([payment(1)]), existing("stub"))  # the stub keeps the hash: compared there
    assert plan.of("payment")[0].differences == {"hash": ("OWN9", "HASH1")}


def test_differences_are_conflicts_unless_update_and_identity_is_never_updated() -> None:
    src = source([payment(1, status="refunded", refund_total="39.47", hash="OWN9")])
    plan = build_plan(src, existing())
    step = plan.of("payment")[0]
    assert step.action == "conflict" and set(step.differences) == {"status", "refund_total"}
    assert build_plan(src, existing(), update=True).of("payment")[0].action == "update"
    lines = build_plan(source([payment(1, hash="OWN9", line_items=[LINE])]), existing())
    assert lines.of("payment")[0].differences == {"line_items": ("2 lines", "the file's 1 lines")}
    change = build_plan(source([payment(1, hash="OWN9", wpbridge={**CHANGE, "reference": "cash"})]), existing())
    assert set(change.of("payment")[0].differences) == {"wpbridge"}
    other = build_plan(source([payment(1, hash="OWN9")]), existing(customer_id=71, membership_id=None), update=True)
    step = other.of("payment")[0]
    assert step.action == "conflict" and "another customer or membership" in step.note


# --------------------------------------------------------------------------------------------------- writing


class FakeServer:
    """The import routes, as plugin-stub answers them (ensures by key; the payment row back)."""

    def __init__(self) -> None:
        self.batches: list[list[BatchItem]] = []
        self.next_id = 100
        # the managers an import writes through
        self.products = SimpleNamespace(catalog=lambda: TARGET_CATALOG)
        self.imports = SimpleNamespace(batch=self.batch)
        self.quotas = SimpleNamespace(list=lambda blog_ids: [], put_many=self.put_many)

    def batch(self, items: Sequence[BatchItem], *, limit: int | None = None) -> BatchResult:
        self.batches.append(list(items))
        out = []
        for item in items:
            self.next_id += 1
            body = dict(item.body or {})
            if item.path.endswith("/customers"):
                data: dict[str, Any] = {"created": True, "customer": {"id": self.next_id}}
            elif item.path.endswith("/memberships"):
                data = {"created": True, "membership": {"id": self.next_id, "customer_id": body["customer_id"],
                                                        "plan_id": body["plan_id"], "status": "active"}}
            else:
                data = {"created": True, "payment": {"id": self.next_id, **body}}
            out.append(BatchItemResult(item.key, True, 200, None, data))
        return BatchResult(items=out, batches=1)

    def put_many(self, quotas: Mapping[int, Limitations], *, batch_limit: int | None = None) -> BatchResult:
        return BatchResult(items=[], batches=1)


def test_writes_carry_the_targets_ids_and_parents_go_first() -> None:
    src = source([payment(1), payment(2, parent_id=1, membership_id=None, wpbridge=None, line_items=[])])
    server = FakeServer()
    for mode in ("stub", "um"):
        server.batches.clear()
        plan = build_plan(src, target(mode))
        out = Applier(server, plan).run()  # type: ignore[arg-type]
        payments = [b for b in server.batches if b[0].path.endswith("/payments")]
        assert [len(b) for b in payments] == [1, 1]  # the parent, then the payment that names it
        first, second = payments[0][0].body or {}, payments[1][0].body or {}
        made = {w.key: w.id for w in out.writes}
        made.update(customer=made["ann@example.com"], membership=made[f"{ORIGIN}/membership/7"])
        assert first["source_key"] == KEY1 and first["product_id"] == 3 + SHIFT
        assert (first["customer_id"], first["membership_id"]) == (made["customer"], made["membership"])
        assert [line["product_id"] for line in first["line_items"]] == [3 + SHIFT, 0]
        assert first["wpbridge"]["before"] == {"plan_id": 2 + SHIFT, "addon_products": {}, "amount": "15"}
        assert first["wpbridge"]["target"] == {"plan_id": 3 + SHIFT, "addon_products": {str(5 + SHIFT): 2},
                                               "amount": "49"}
        assert first["date_created"] == "2026-11-01 08:00:00" and first["total"] == "39.4700"
        assert ("hash" in first) is (mode == "stub")  # UM makes its own: not sent, named in the plan
        assert second["parent_id"] == out.writes[-2].id and second["membership_id"] == 0
        assert [(w.kind, w.status) for w in out.writes if w.kind == "payment"] == [("payment", "done")] * 2
        assert "payments" in out.phases


def test_a_payment_whose_membership_failed_is_skipped_with_its_children() -> None:
    src = source([payment(1), payment(2, parent_id=1, wpbridge=None)])
    plan = build_plan(src, target())

    class Refusing(FakeServer):
        def batch(self, items: Sequence[BatchItem], *, limit: int | None = None) -> BatchResult:
            if items[0].path.endswith("/memberships"):
                self.batches.append(list(items))
                from wpbridge.errors import InvalidRequestError
                err = InvalidRequestError("plan_id: refused", status=400, code="rest_invalid_param")
                return BatchResult(items=[BatchItemResult(i.key, False, 400, err) for i in items], batches=1)
            return super().batch(items, limit=limit)

    server = Refusing()
    out = Applier(server, plan).run()  # type: ignore[arg-type]
    status = {w.key: (w.status, w.error) for w in out.writes if w.kind == "payment"}
    assert status[KEY1] == ("skipped", f"its membership ({ORIGIN}/membership/7) was not imported")
    assert status[f"{ORIGIN}/payment/2"][0] == "skipped"
    assert not any(b[0].path.endswith("/payments") for b in server.batches)
