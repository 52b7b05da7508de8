"""`wpbridge export` writes the network's payments, and a snapshot reads them back as `Network.payments` does."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from tests.unit.workflow_support import NOW, FakeNetwork, example_data
from wpbridge.errors import DataError, NotFound
from wpbridge.workflows.snapshot import Snapshot, write_snapshot

CHANGE = {"change_key": "b" * 64, "collect": "invoice", "reference": "", "status_before": "expired",
          "before": {"plan_id": 2, "addon_products": {}}, "target": {"plan_id": 3, "addon_products": {"5": 1}},
          "settled_at": None}


def payment_rows() -> list[dict[str, Any]]:
    line = {"id": "LN_PRODUCT_AB12", "type": "product", "product_id": 3, "title": "Premium", "description": "",
            "quantity": 1, "unit_price": "44.0000", "subtotal": "44.0000", "discount_total": "0.0000",
            "tax_rate": "0.0000", "tax_total": "0.0000", "total": "44.0000", "recurring": True, "duration": 1,
            "duration_unit": "month"}
    credit = {**line, "id": "LN_CREDIT_CD34", "type": "credit", "product_id": 0, "title": "Credit",
              "unit_price": "-13.3800", "subtotal": "-13.3800", "total": "-13.3800", "recurring": False}
    return [
        {"id": 4, "customer_id": 2, "membership_id": 2, "parent_id": 0, "status": "pending", "currency": "USD",
         "subtotal": "44.0000", "discount_total": "0.0000", "tax_total": "0.0000", "total": "30.6200",
         "refund_total": "0.0000", "discount_code": "", "gateway": "manual", "gateway_payment_id": "",
         "product_id": 3, "line_items": [line, credit], "invoice_number": "", "hash": "XK2PQ",
         "url": "http://src.test/register/?payment=XK2PQ", "date_created": "2026-05-10T08:00:00Z",
         "date_modified": "2026-05-10T08:00:00Z", "wpbridge": CHANGE},
        {"id": 9, "customer_id": 3, "membership_id": 3, "parent_id": 0, "status": "completed", "currency": "USD",
         "subtotal": "49.0000", "discount_total": "5.5000", "tax_total": "1.2000", "total": "44.7000",
         "refund_total": "0.0000", "discount_code": "SPRING", "gateway": "stripe",
         "gateway_payment_id": "pi_123", "product_id": 3, "line_items": [line], "invoice_number": "17",
         "hash": "ZZ9", "url": None, "date_created": "2026-04-01T00:00:00Z",
         "date_modified": "2026-04-02T00:00:00Z", "wpbridge": None},
    ]


def test_export_writes_the_payments_and_a_snapshot_reads_them_back() -> None:
    net = FakeNetwork()
    for row in payment_rows():
        net.payments.rows[row["id"]] = row
    buf = io.StringIO()
    counts = write_snapshot(net, buf, now=NOW, source_url="http://src.test")
    assert counts["payments"] == 2
    data = json.loads(buf.getvalue())
    assert [p["id"] for p in data["payments"]] == [4, 9]
    assert data["payments"][0]["total"] == "30.6200" and data["payments"][0]["wpbridge"]["change_key"] == "b" * 64
    snap = Snapshot(data)
    assert snap.payments is not None
    assert list(snap.payments.list()) == list(net.payments.list())
    assert [p.id for p in snap.payments.list(status="pending")] == [4]
    assert [p.id for p in snap.payments.list(membership_id=3)] == [9]
    assert [p.id for p in snap.payments.list(customer_id=2, status=["pending", "completed"])] == [4]
    assert [p.id for p in snap.payments.list(payment_ids=[9, 10])] == [9]
    assert snap.payments.get(9).invoice_number == "17"
    assert snap.payments.find(5) is None
    with pytest.raises(NotFound, match="payment 5 is not in"):
        snap.payments.get(5)


def test_a_snapshot_without_payments_does_not_claim_none() -> None:
    snap = Snapshot(example_data())
    assert snap.payments is None  # written before payments were exported: unknown, not "no payments"
    buf = io.StringIO()
    counts = write_snapshot(snap, buf, now=NOW)
    assert "payments" not in counts and "payments" not in json.loads(buf.getvalue())


def test_a_bad_payment_is_named() -> None:
    data = example_data()
    data["payments"] = [{"id": 1, "status": "paid-ish"}]
    with pytest.raises(DataError, match="section 'payments'"):
        Snapshot(data)
