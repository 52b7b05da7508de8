"""An in-memory `payments` manager for the unit tests' FakeNetwork, with the server's semantics of
plugin-stub/README.md "Payments" (idempotent create by change key, settle = payment completed + membership keys in one
step, cancel only from pending). The integration tests check the real routes on both flavors."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from wpbridge.errors import Conflict, NotFound
from wpbridge.managers.payments import PaymentWrite
from wpbridge.models import Membership
from wpbridge.payment_models import Payment


class FakePayments:
    def __init__(self, net: Any) -> None:
        self.net = net
        self.rows: dict[int, dict[str, Any]] = {}
        self.calls: list[tuple[str, int]] = []
        self.fail_create: str | None = None

    def _payment(self, pid: int) -> Payment:
        return Payment.model_validate(self.rows[pid])

    def list(self, *, membership_id: int | None = None, customer_id: int | None = None,
             status: str | Iterable[str] | None = None,
             payment_ids: Iterable[int] | None = None) -> Iterator[Payment]:
        statuses = {status} if isinstance(status, str) else set(status) if status is not None else None
        for pid in sorted(self.rows):
            p = self._payment(pid)
            if membership_id is not None and p.membership_id != membership_id:
                continue
            if customer_id is not None and p.customer_id != customer_id:
                continue
            if statuses is not None and p.status not in statuses:
                continue
            if payment_ids is not None and pid not in set(payment_ids):
                continue
            yield p

    def get(self, payment_id: int) -> Payment:
        if payment_id not in self.rows:
            raise NotFound(f"no payment {payment_id}", status=404, code="wpbridge_payment_not_found")
        return self._payment(payment_id)

    def create_for_change(self, membership_id: int, body: Mapping[str, Any]) -> PaymentWrite:
        self.calls.append(("create", membership_id))
        if self.fail_create:
            raise Conflict(self.fail_create, status=409, code="wpbridge_payment_total_mismatch")
        for pid, row in self.rows.items():
            meta = row.get("wpbridge") or {}
            if (row["membership_id"] == membership_id and meta.get("change_key") == body["change_key"]
                    and row["status"] in ("pending", "completed")):
                return PaymentWrite(self._payment(pid), False)
        pid = max(self.rows, default=0) + 1
        customer = self.net.stored[membership_id]["customer_id"]
        self.rows[pid] = {
            "id": pid, "customer_id": customer, "membership_id": membership_id, "status": "pending",
            "currency": body["currency"], "subtotal": body["subtotal"], "discount_total": body["discount_total"],
            "tax_total": body["tax_total"], "total": body["total"], "gateway": "manual",
            "line_items": body["line_items"], "hash": f"H{pid}", "url": None,
            "date_created": "2026-12-01T00:00:00Z",
            "wpbridge": {k: body[k] for k in ("change_key", "collect", "reference", "status_before", "before",
                                              "target")},
        }
        return PaymentWrite(self._payment(pid), True)

    def settle(self, payment_id: int, *, membership: Mapping[str, Any], settled_at: datetime,
               reference: str = "") -> PaymentWrite:
        self.calls.append(("settle", payment_id))
        row = self.rows[payment_id]
        if row["status"] == "completed":
            return PaymentWrite(self._payment(payment_id), False)
        if row["status"] != "pending":
            raise Conflict(f"payment {payment_id} is {row['status']}", status=409,
                           code="wpbridge_payment_not_pending")
        row.update(status="completed", invoice_number=str(payment_id), gateway_payment_id=reference or "")
        row["wpbridge"] = {**row["wpbridge"], "settled_at": settled_at.isoformat()}
        mid = row["membership_id"]
        self.net.stored[mid].update(membership)
        self.net._memberships[mid] = Membership.model_validate(self.net.stored[mid])
        return PaymentWrite(self._payment(payment_id), True)

    def cancel(self, payment_id: int) -> PaymentWrite:
        self.calls.append(("cancel", payment_id))
        row = self.rows[payment_id]
        if row["status"] == "cancelled":
            return PaymentWrite(self._payment(payment_id), False)
        if row["status"] != "pending":
            raise Conflict(f"payment {payment_id} is {row['status']}", status=409,
                           code="wpbridge_payment_not_pending")
        row["status"] = "cancelled"
        return PaymentWrite(self._payment(payment_id), True)
