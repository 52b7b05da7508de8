"""Payments: list, show and settle (`wpbridge payments ...`), over `net.payments`.

Settling a change's payment (docs/DESIGN.md §4.1): the payment becomes completed (with the reference, an invoice
number) and the membership what a paid change makes it, once: `active`, and a new period from the settlement
when it was expired, cancelled, on-hold or pending when the change was ordered. The server does both in one
transaction; a payment already completed is left as it is (UM's own "activate membership" toggle renews again
each time it is used: settling twice here changes nothing). Settling runs under the membership's lock, like a
change, so it never interleaves with one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..billing.payment import settled_state
from ..errors import Conflict, InputError, NotFound
from ..money import round_money
from ..payment_models import Payment
from . import NetworkWriter
from .change_apply import membership_lock, undo_unpaid_change
from .change_payment import is_written


@dataclass(frozen=True)
class SettleResult:
    """What settling did: `settled` False when the payment was already completed (nothing written)."""

    payment: Payment
    settled: bool
    membership_state: dict[str, Any]
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"settled": self.settled, "message": self.message, "membership": self.membership_state,
                "payment": self.payment.model_dump(mode="json")}


def get_payment(network: NetworkWriter, payment_id: int) -> Payment:
    """The payment, or InputError (exit 2) naming the id when the network has none."""
    try:
        return network.payments.get(payment_id)
    except NotFound:
        raise InputError(f"payment {payment_id} does not exist", record_id=payment_id) from None


def settle(network: NetworkWriter, payment_id: int, *, now: datetime, reference: str = "",
           dry_run: bool = False) -> SettleResult:
    """Settle a pending change payment (see the module docstring). Refused (Conflict) for a payment that is
    cancelled, failed or refunded, and for one wpbridge did not make for a change (UM's renewals and checkouts
    are settled in UM's own screens, which renew as UM does)."""
    payment = get_payment(network, payment_id)
    if payment.status == "completed":
        return SettleResult(payment, False, {}, f"payment #{payment.id} is already completed; nothing written")
    if payment.status != "pending":
        raise Conflict(f"payment #{payment.id} is {payment.status}: only a pending payment can be settled",
                       status=409, code="wpbridge_payment_not_pending", record_id=payment.id)
    if payment.wpbridge is None or not payment.membership_id:
        raise Conflict(f"payment #{payment.id} was not made by wpbridge for a plan change: settle it in Ultimate "
                       "Multisite's Payments screen (UM renews the membership as it does for its own payments)",
                       status=409, code="wpbridge_not_a_change_payment", record_id=payment.id)
    membership_id = payment.membership_id

    def run() -> SettleResult:
        fresh = get_payment(network, payment_id)
        if fresh.status == "completed":
            return SettleResult(fresh, False, {}, f"payment #{fresh.id} is already completed; nothing written")
        m = network.memberships.get(membership_id)
        state = settled_state(fresh.wpbridge, duration=m.duration, duration_unit=m.duration_unit,
                              lifetime=m.is_lifetime, settled_at=now)
        what = ", ".join(f"{k} {v}" for k, v in state.items())
        amount = f"{round_money(fresh.total, fresh.currency)} {fresh.currency}"
        if dry_run:
            return SettleResult(fresh, False, state, f"would settle payment #{fresh.id} ({amount}); membership "
                                                     f"{membership_id}: {what}")
        done = network.payments.settle(fresh.id, membership=state, settled_at=now,
                                       reference=reference or (fresh.wpbridge.reference if fresh.wpbridge else ""))
        return SettleResult(done.payment, done.changed, state,
                            f"payment #{fresh.id} settled ({amount}); membership {membership_id}: {what}"
                            if done.changed else
                            f"payment #{fresh.id} is already completed; nothing written")

    if dry_run:
        return run()
    with membership_lock(network, membership_id):
        return run()


def cancel(network: NetworkWriter, payment_id: int) -> tuple[Payment, bool, str]:
    """Cancel a pending payment. A change payment whose change is in place has that change undone first (the
    membership back to its state before the change), so no change is left without its payment."""
    payment = get_payment(network, payment_id)
    if payment.status == "cancelled":
        return payment, False, f"payment #{payment.id} is already cancelled; nothing written"
    if payment.status != "pending":
        raise Conflict(f"payment #{payment.id} is {payment.status}: only a pending payment can be cancelled",
                       status=409, code="wpbridge_payment_not_pending", record_id=payment.id)
    if payment.wpbridge is None or not payment.membership_id:
        done = network.payments.cancel(payment.id)
        return done.payment, done.changed, f"payment #{payment.id} cancelled"
    membership_id = payment.membership_id
    with membership_lock(network, membership_id):
        m = network.memberships.get(membership_id)
        if is_written(payment, m.model_dump(mode="json")):
            cancelled = undo_unpaid_change(network, membership_id, payment)
            return cancelled, True, (f"payment #{payment.id} cancelled and its change undone: membership "
                                     f"{membership_id} is back to its state before the change")
        done = network.payments.cancel(payment.id)
        return done.payment, done.changed, f"payment #{payment.id} cancelled (its change was never written)"
