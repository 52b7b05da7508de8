"""`net.payments`: the network's payments, read and written through plugin-stub's `wpbridge/v1/payments` routes.

The same routes serve both flavors (plugin-stub stores payments itself in stub mode, and works through
Ultimate Multisite's own `Payment` model, Cart and `wu_create_payment` in UM mode), so nothing here looks at the
mode. Every write is safe to resend: a change's payment is found by its change key before one is made, settling
a completed payment and cancelling a cancelled one change nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..encoding import iso_utc, to_jsonable
from ..errors import DataError, NotFound
from ..models import parse
from ..payment_models import Payment
from ..rest.transport import route
from .base import COMPANION, Context


def change_payment_route(membership_id: int) -> str:
    """`POST` here makes the payment of a change of the membership."""
    return route(COMPANION, "memberships", membership_id, "payments")


def payment_route(payment_id: int | None, action: str) -> str:
    """`POST` here settles (`action` "settle") or cancels ("cancel") a payment; `payment_id` None: the payment a
    change is about to make (shown as `{new}` in a plan of writes)."""
    if payment_id is None:
        return f"{route(COMPANION, 'payments')}/{{new}}/{action}"
    return route(COMPANION, "payments", payment_id, action)


@dataclass(frozen=True)
class PaymentWrite:
    """The answer of a payment write: the payment as stored and whether this call changed it."""

    payment: Payment
    changed: bool


class PaymentManager:
    """The payments of one network (`Network.payments`)."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._transport = ctx.transport

    def list(self, *, membership_id: int | None = None, customer_id: int | None = None,
             status: str | Iterable[str] | None = None, payment_ids: Iterable[int] | None = None) -> Iterator[Payment]:
        """Payments in id order, filtered on the server and checked again here (a filter the server ignored never
        widens the list). A payment that cannot be read is left out and remembered in `Network.unreadable` (by id
        and field), like any record of a listing."""
        wanted = _Filter.of(membership_id, customer_id, status, payment_ids)
        for row in self._ctx.companion_rows("payments", params=wanted.params()):
            payment = self._ctx.tolerant(Payment, row)
            if payment is not None and wanted.keeps(payment):
                yield payment

    def get(self, payment_id: int) -> Payment:
        """One payment; NotFound (`wpbridge_payment_not_found`) when the network has none with this id."""
        return parse(Payment, self._transport.get(route(COMPANION, "payments", payment_id)).data)

    def find(self, payment_id: int) -> Payment | None:
        try:
            return self.get(payment_id)
        except NotFound:
            return None

    def create_for_change(self, membership_id: int, body: Mapping[str, Any]) -> PaymentWrite:
        """`POST /wpbridge/v1/memberships/{id}/payments`: the payment of a change (see `workflows/payments.py` for
        the body). Idempotent by `change_key`: the payment already made for it comes back (`changed` False)."""
        where = change_payment_route(membership_id)
        data = self._transport.request("POST", where, json_body=to_jsonable(dict(body)), idempotent=True).data
        return _write(data, "created", f"POST {where}")

    def settle(self, payment_id: int, *, membership: Mapping[str, Any], settled_at: datetime,
               reference: str = "") -> PaymentWrite:
        """Complete a pending payment and write `membership` (the keys settling sets) in one server transaction;
        a completed payment comes back unchanged (`changed` False)."""
        body = {"reference": reference, "settled_at": iso_utc(settled_at), "membership": dict(membership)}
        where = payment_route(payment_id, "settle")
        data = self._transport.request("POST", where, json_body=body, idempotent=True).data
        return _write(data, "settled", f"POST {where}")

    def cancel(self, payment_id: int) -> PaymentWrite:
        """Cancel a pending payment (a cancelled one comes back unchanged)."""
        where = payment_route(payment_id, "cancel")
        data = self._transport.request("POST", where, json_body={}, idempotent=True).data
        return _write(data, "cancelled", f"POST {where}")


@dataclass(frozen=True)
class _Filter:
    """A payments listing's filters: sent to the server, and checked again on each record."""

    membership_id: int | None
    customer_id: int | None
    statuses: frozenset[str] | None
    ids: frozenset[int] | None

    @classmethod
    def of(cls, membership_id: int | None, customer_id: int | None, status: str | Iterable[str] | None,
           payment_ids: Iterable[int] | None) -> _Filter:
        statuses = frozenset([status] if isinstance(status, str) else status) if status is not None else None
        ids = frozenset(int(i) for i in payment_ids) if payment_ids is not None else None
        return cls(membership_id, customer_id, statuses, ids)

    def params(self) -> dict[str, Any]:
        params = {"membership_id": self.membership_id, "customer_id": self.customer_id,
                  "status": ",".join(sorted(self.statuses)) if self.statuses else None,
                  "payment_ids": ",".join(map(str, sorted(self.ids))) if self.ids else None}
        return {k: v for k, v in params.items() if v is not None}

    def keeps(self, p: Payment) -> bool:
        return ((self.membership_id is None or p.membership_id == self.membership_id)
                and (self.customer_id is None or p.customer_id == self.customer_id)
                and (self.statuses is None or p.status in self.statuses)
                and (self.ids is None or p.id in self.ids))


def _write(data: Any, flag: str, where: str) -> PaymentWrite:
    if not isinstance(data, dict) or not isinstance(data.get("payment"), dict):
        raise DataError(f"{where}: expected {{\"{flag}\": bool, \"payment\": {{...}}}}, got {type(data).__name__}",
                        field="payment")
    return PaymentWrite(parse(Payment, data["payment"]), bool(data.get(flag)))
