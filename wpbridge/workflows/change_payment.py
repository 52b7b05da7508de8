"""Plan changes and their money: which payment a change makes, finds again, replaces or cancels (docs/DESIGN.md §4.1).

`apply` (change_apply.py) asks `plan_payment` what to do before it writes anything; the decision is made from the
quote and the membership's pending change payments only (no I/O here but `pending_change_payments`).

Why the order of the writes (payment, then the membership, then settling for `--collect paid`): a run killed
after the payment is made is finished by the next one, which finds that payment by its change key instead of
making a second; a run killed before it made the payment has written nothing. A membership write that fails (a
gateway refusal in UM's save) cancels the payment it was made with, so no payment is left for a change that
never happened; a payment left behind by a crash at that very point is recognised later (its change was never
written: the membership still is in its `before` state) and cancelled by the next change.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from ..billing.payment import (
    BEFORE_FIELDS,
    KEY_FIELDS,
    cart_products,
    change_key,
    collects_money,
    payment_lines,
    payment_totals,
    state_of,
)
from ..errors import Conflict, InputError
from ..money import round_money
from ..payment_models import Collect, Payment
from .change_quote import QuoteResult
from .change_view import product_name


@dataclass(frozen=True)
class PaymentDecision:
    """What the money of one change needs: the payment to make (`body`) or the one already made (`existing`), the
    waived amount (`--collect none`), a payment recorded as paid whose settling a crash interrupted (`settle`), and
    the earlier change payments to undo (`restore`: its change was written
    and must be reverted before it is cancelled) or just cancel (`cancel`: their change was never written)."""

    collect: Collect | None
    due_now: Decimal
    currency: str
    change_key: str | None = None
    body: dict[str, Any] | None = None
    existing: Payment | None = None
    waived: Decimal | None = None
    restore: Payment | None = None
    settle: Payment | None = None
    cancel: list[Payment] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def makes_payment(self) -> bool:
        return self.body is not None


def pending_change_payments(payments: Any, membership_id: int) -> list[Payment]:
    """The membership's pending payments that wpbridge made for a change (others are UM's own: renewals...)."""
    return [p for p in payments.list(membership_id=membership_id, status="pending") if p.wpbridge is not None]


def _membership_state(q: QuoteResult) -> dict[str, Any]:
    return q.membership.model_dump(mode="json", exclude_unset=False)


def is_written(payment: Payment, state: dict[str, Any]) -> bool:
    """The payment's change is what the membership holds now (its target's defining fields)."""
    assert payment.wpbridge is not None
    return state_of(payment.wpbridge.target, KEY_FIELDS) == state_of(state, KEY_FIELDS)


def before_state(q: QuoteResult) -> dict[str, Any]:
    """The membership's wire values of the fields the change writes, and its status: what undoing it writes back."""
    dump = _membership_state(q)
    keys = [k for k in (q.quote.target or {}) if k in dump] + [k for k in BEFORE_FIELDS if k in dump]
    state = {k: dump[k] for k in dict.fromkeys(keys)}
    for key in ("date_renewed", "date_expiration", "date_trial_end"):
        if key in state and isinstance(state[key], str):
            state[key] = state[key].replace("T", " ").removesuffix("Z")
    return state


def describe(payment: Payment, q: QuoteResult) -> str:
    """'payment #12 (30.62 USD, pending since 2026-12-03, for premium)'."""
    plan = payment.wpbridge.target.get("plan_id") if payment.wpbridge else None
    what = f", for {product_name(q.catalog, int(plan))}" if plan else ""
    since = f" since {payment.date_created:%Y-%m-%d}" if payment.date_created else ""
    total = round_money(payment.total, payment.currency)
    return f"payment #{payment.id} ({total} {payment.currency}, {payment.status}{since}{what})"


def check_collect(collect: Collect | None, reference: str) -> None:
    """`--reference` goes with `--collect paid`, and `--collect paid` needs one (InputError otherwise)."""
    if reference and collect != "paid":
        raise InputError("--reference: only with --collect paid (the money received outside)", field="reference")
    if collect == "paid" and not reference.strip():
        raise InputError("--collect paid needs --reference TEXT (the bank transfer, receipt or cash note)",
                         field="reference")


@dataclass(frozen=True)
class _Pending:
    """The membership's pending change payments, sorted by what they mean for the change asked now."""

    existing: Payment | None
    """The payment of this very change (a rerun after a crash: found again, never made twice)."""
    written: list[Payment]
    """Payments of earlier changes that are in place (unpaid changes)."""
    orphans: list[Payment]
    """Payments of changes that were never written (a crash, a refused write)."""


def _sort_pending(pending: list[Payment], key: str | None, state: dict[str, Any]) -> _Pending:
    existing = next((p for p in pending if key and p.wpbridge and p.wpbridge.change_key == key), None)
    others = [p for p in pending if p is not existing]
    written = [p for p in others if is_written(p, state)]
    return _Pending(existing, written, [p for p in others if p not in written])


def _already_applied(q: QuoteResult, found: _Pending, decision: PaymentDecision) -> PaymentDecision:
    """`no_change`: the change is in place. Its payment waits for the customer, or, recorded as paid, is settled
    now (a run cut short between the membership write and settling it)."""
    settle = next((p for p in found.written if p.wpbridge and p.wpbridge.collect == "paid"), None)
    notes = [f"{describe(p, q)} waits for the customer (settle it: wpbridge payments settle {p.id})"
             for p in found.written if p is not settle]
    if settle is not None:
        notes.append(f"{describe(settle, q)} was recorded as paid ({settle.reference}); it is settled now")
    return replace(decision, settle=settle, notes=[*decision.notes, *notes])


def _replacing(q: QuoteResult, found: _Pending, decision: PaymentDecision, replace_pending: bool) -> PaymentDecision:
    """A new change while an earlier one is unpaid: refused naming its payment, or (`--replace-pending`) that change
    undone and its payment cancelled first."""
    first = found.written[0]
    if not replace_pending:
        raise Conflict(
            f"membership {q.membership.id} has {describe(first, q)} for an earlier change, not paid yet: settle it "
            f"(wpbridge payments settle {first.id}) or replace that change with --replace-pending",
            status=409, code="wpbridge_payment_pending", record_id=q.membership.id)
    note = f"{describe(first, q)} is replaced: its change is undone and the payment cancelled"
    return replace(decision, restore=first, cancel=[*decision.cancel, *found.written[1:]],
                   notes=[*decision.notes, note])


def plan_payment(q: QuoteResult, pending: list[Payment], *, collect: Collect | None, reference: str,
                 replace_pending: bool) -> PaymentDecision:
    """Decide the money of the change `q` given the membership's pending change payments (see module docstring).

    Raises Conflict naming the payment when an earlier change's payment is pending and `replace_pending` is not
    set; InputError for a `--collect`/`--reference` that does not fit the change."""
    check_collect(collect, reference)
    quote, m = q.quote, q.membership
    needs = collects_money(quote) and quote.target is not None
    before = before_state(q)
    key = change_key(m.id, state_of(before, BEFORE_FIELDS), state_of(quote.target or {}, KEY_FIELDS)) if needs \
        else None
    found = _sort_pending(pending, key, _membership_state(q))
    decision = PaymentDecision(
        collect=None, due_now=quote.due_now, currency=quote.currency, change_key=key, cancel=found.orphans,
        notes=[f"{describe(p, q)} was made for a change that was never written: it is cancelled"
               for p in found.orphans])
    if found.written:
        decision = (_already_applied(q, found, decision) if quote.kind == "no_change"
                    else _replacing(q, found, decision, replace_pending))
    if not needs:
        return decision
    how: Collect = collect or "invoice"
    if how == "none":
        return replace(decision, collect="none", waived=quote.due_now)
    if found.existing is not None:
        return replace(decision, collect=how, existing=found.existing)
    return replace(decision, collect=how, body=payment_body(q, key or "", how, reference, before))


def payment_body(q: QuoteResult, key: str, collect: Collect, reference: str,
                 before: dict[str, Any]) -> dict[str, Any]:
    """The body of `POST /wpbridge/v1/memberships/{id}/payments` (plugin-stub/README.md "Payments")."""
    quote, m, cart = q.quote, q.membership, q.cart
    lines = payment_lines(quote)
    totals = payment_totals(lines, quote.currency)
    if totals.total != quote.due_now:
        raise InputError(f"membership {m.id}: the payment's lines add up to {totals.total}, the quote's due now is "
                         f"{quote.due_now}", record_id=m.id)
    # the code given, else the membership's own (UM main's add-on carts) when it took something off: UM's Cart
    # refuses by name a code no longer valid, which its add-on cart holds without checking
    code = cart.discount_code.code if cart.discount_code is not None else quote.discount_code
    if cart.discount_code is None and not any(ln.type == "discount" for ln in quote.lines):
        code = None
    um_cart: dict[str, Any] = {"cart_type": quote.kind, "products": cart_products(cart.plan_id, m.plan_id, cart.addons),
                               "duration": cart.duration, "duration_unit": cart.duration_unit, "discount_code": code}
    where = q.taxes.location if q.taxes is not None else None
    if where is not None and where.source == "cart":  # --country: UM's Cart is told, as its checkout form would
        um_cart.update(country=where.country, state=where.state, city=where.city)
    return {
        "change_key": key, "collect": collect, "reference": reference, "cart": um_cart,
        "currency": quote.currency, "subtotal": totals.subtotal, "discount_total": totals.discount_total,
        "tax_total": totals.tax_total, "total": totals.total,
        "line_items": [li.model_dump(mode="json") for li in lines],
        "status_before": m.status, "before": before, "target": dict(quote.target or {}),
    }


def with_money(what: str, money: PaymentDecision) -> str:
    """What a change's writes achieve (`what`), with how its due now is collected."""
    if money.waived is not None:
        return f"{what}; due now {money.waived} {money.currency} WAIVED (--collect none): no payment"
    if money.existing is not None:
        return f"{what}; its payment #{money.existing.id} was already made ({money.existing.status})"
    if money.body is not None:
        how = "invoiced" if money.collect == "invoice" else "paid"
        return f"{what}; due now {money.due_now} {money.currency} {how}"
    return what


def payment_summary(payment: Payment | None) -> dict[str, Any] | None:
    """The `payment` of apply's JSON: id, status, total (string), currency, pay link; None when none was made."""
    if payment is None:
        return None
    return {"id": payment.id, "status": payment.status, "total": str(payment.total), "currency": payment.currency,
            "url": payment.url, "invoice_number": payment.invoice_number or None,
            "reference": payment.reference or None}
