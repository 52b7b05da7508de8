"""Issue 17: a change that costs money leaves a payment (or says in words that it was waived), once.

The money rules with DESIGN §4's worked numbers (pure), then `apply` on the unit tests' in-memory network:
invoice, paid, none, idempotence, a crash between the payment and the membership, a refused membership write, a
pending earlier change (refused, or replaced), settlement of an expired membership."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.unit.workflow_support import NOW, FakeNetwork, example_data, membership
from wpbridge.billing import Cart, quote_change
from wpbridge.billing.payment import (
    change_key,
    collects_money,
    payment_lines,
    payment_totals,
    settled_state,
    state_of,
)
from wpbridge.errors import Conflict, InputError, ServerError
from wpbridge.models import Membership, Product
from wpbridge.payment_models import Payment, PaymentChange
from wpbridge.workflows import change as flow

D = Decimal
AT = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def plan(pid: int, amount: str, **kw: Any) -> Product:
    return Product.model_validate({"id": pid, "slug": f"p{pid}", "name": f"Plan {pid}", "amount": amount,
                                   "product_group": "g", "list_order": pid, **kw})


def member(**kw: Any) -> Membership:
    data: dict[str, Any] = {"id": 7, "customer_id": 1, "plan_id": 1, "amount": "10", "initial_amount": "10",
                            "status": "active", "duration": 1, "duration_unit": "month",
                            "date_created": AT - timedelta(days=40), "date_renewed": AT - timedelta(days=15),
                            "date_expiration": AT + timedelta(days=15, hours=3), **kw}
    return Membership.model_validate(data)


# --------------------------------------------------------------------------- the money rules (pure)


def test_worked_10_to_20_the_payment_is_the_due_now() -> None:
    q = quote_change(member(), [plan(1, "10"), plan(2, "20")], Cart(plan_id=2), now=AT)
    assert collects_money(q)
    lines = payment_lines(q)
    assert [(li.type, li.subtotal, li.total) for li in lines] == [("product", D("20"), D("20")),
                                                                  ("credit", D("-4.93"), D("-4.93"))]
    t = payment_totals(lines, "USD")
    assert (t.subtotal, t.discount_total, t.tax_total, t.total) == (D("20.00"), D("0.00"), D("0.00"), D("15.07"))
    assert t.total == q.due_now


def test_worked_setup_fees_payment_lines() -> None:
    created_today = {"date_created": AT - timedelta(hours=2), "date_renewed": None,
                     "date_expiration": AT + timedelta(days=30, hours=22)}
    q = quote_change(member(**created_today), [plan(1, "10", setup_fee="15"), plan(2, "20", setup_fee="35")],
                     Cart(plan_id=2), now=AT)
    t = payment_totals(payment_lines(q), "USD")
    assert (t.subtotal, t.total) == (D("55.00"), D("30.00"))  # 20 + 35 charged, 25 credited


def test_no_payment_for_a_downgrade_or_a_trial_free_change() -> None:
    down = quote_change(member(plan_id=2, amount="30"), [plan(1, "12"), plan(2, "30")], Cart(plan_id=1), now=AT)
    assert down.kind == "downgrade" and down.due_now == 0 and not collects_money(down)


def test_change_key_is_stable_across_spellings_and_moves_with_the_state_before() -> None:
    before = state_of({"plan_id": "1", "amount": "10.0000", "addon_products": {"5": 1},
                       "date_expiration": "2025-03-25 15:00:00"}, ("plan_id", "amount", "addon_products"))
    same = state_of({"plan_id": 1, "amount": "10", "addon_products": {5: 1}}, ("plan_id", "amount", "addon_products"))
    target = {"plan_id": 2, "amount": "20.00", "duration": 1, "duration_unit": "month"}
    assert change_key(7, before, target) == change_key(7, same, {**target, "amount": "20", "date_renewed": "x"})
    renewed = {**same, "date_expiration": "2025-04-25 15:00:00"}
    assert change_key(7, before, target) != change_key(7, renewed, target)
    assert change_key(7, before, target) != change_key(8, before, target)


@pytest.mark.parametrize(("before", "restarts"), [("expired", True), ("cancelled", True), ("on-hold", True),
                                                  ("pending", True), ("active", False), ("trialing", False)])
def test_settled_state(before: str, restarts: bool) -> None:
    change = PaymentChange(change_key="k", status_before=before)
    at = datetime(2026, 1, 31, 9, 30, tzinfo=UTC)
    state = settled_state(change, duration=1, duration_unit="month", lifetime=False, settled_at=at)
    if restarts:  # a new period from settlement, by the calendar (Jan 31 + 1 month = Feb 28)
        assert state == {"status": "active", "date_renewed": "2026-01-31 09:30:00",
                         "date_expiration": "2026-02-28 09:30:00"}
    else:
        assert state == {"status": "active"}
    assert settled_state(change, duration=1, duration_unit="month", lifetime=True, settled_at=at) == {
        "status": "active"}


def test_payment_reads_um_blanks() -> None:
    p = Payment.model_validate({"id": "12", "customer_id": "3", "membership_id": "0", "status": "pending",
                                "total": 30.62, "line_items": {}, "invoice_number": "", "wpbridge": None})
    assert p.membership_id is None and p.total == D("30.62") and p.line_items == [] and p.invoice_number is None


# --------------------------------------------------------------------------- apply


def killed_after_the_payment(net: FakeNetwork) -> None:
    """An upgrade of membership 2 to premium whose run dies right after its payment was made."""
    def crash(write: flow.Write) -> None:
        if write.kind == "payment":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        flow.apply(net, 2, now=NOW, plan="premium", after_write=crash)


def test_upgrade_invoices_the_due_now_once() -> None:
    net = FakeNetwork()
    result = flow.apply(net, 2, now=NOW, plan="premium")
    assert result.ok and result.payment is not None
    [payment] = net.payments.list()
    assert payment.status == "pending" and payment.total == result.quote.quote.due_now > 0
    assert sum((li.total for li in payment.line_items), D(0)).quantize(D("0.01")) == payment.total
    assert payment.wpbridge is not None and payment.wpbridge.status_before == "active"
    data = result.as_dict()
    assert data["payment"]["id"] == payment.id and data["payment"]["total"] == str(payment.total)
    assert data["collect"] == "invoice" and data["waived"] is None
    again = flow.apply(net, 2, now=NOW, plan="premium")
    assert again.status == "unchanged" and len(list(net.payments.list())) == 1
    assert any(f"payment #{payment.id}" in n and "waits for the customer" in n for n in again.money.notes)


def test_crash_between_payment_and_membership_then_rerun_makes_no_second_payment() -> None:
    net = FakeNetwork()
    killed_after_the_payment(net)
    assert net.writes == [] and len(list(net.payments.list())) == 1
    rerun = flow.apply(net, 2, now=NOW + timedelta(minutes=5), plan="premium")
    assert rerun.ok and rerun.status == "applied"
    assert [w.kind for w in rerun.performed][:1] == ["membership"]
    [payment] = net.payments.list()
    assert rerun.payment is not None and rerun.payment.id == payment.id
    assert net.memberships.get(2).amount == D("39")


def test_a_refused_membership_write_cancels_its_payment() -> None:
    net = FakeNetwork()

    def refuse(membership_id: int, state: Any) -> Membership:
        raise ServerError("gateway said no: card declined", status=500)

    net.memberships.update = refuse  # type: ignore[method-assign]
    result = flow.apply(net, 2, now=NOW, plan="premium")
    assert result.status == "failed" and not result.ok and "card declined" in result.message
    [payment] = net.payments.list()
    assert payment.status == "cancelled" and "cancelled, nothing else written" in result.message


def test_collect_none_waives_in_words() -> None:
    net = FakeNetwork()
    result = flow.apply(net, 2, now=NOW, plan="premium", collect="none")
    assert result.ok and result.payment is None and not list(net.payments.list())
    data = result.as_dict()
    assert data["payment"] is None and data["waived"] == str(result.quote.quote.due_now) and data["collect"] == "none"
    assert "WAIVED" in result.message


def test_collect_paid_needs_a_reference_and_settles_at_once() -> None:
    net = FakeNetwork()
    with pytest.raises(InputError, match="--reference"):
        flow.apply(net, 2, now=NOW, plan="premium", collect="paid")
    with pytest.raises(InputError, match="only with --collect paid"):
        flow.apply(net, 2, now=NOW, plan="premium", reference="x")
    result = flow.apply(net, 2, now=NOW, plan="premium", collect="paid", reference="BANK-2026-118")
    assert result.ok
    [payment] = net.payments.list()
    assert payment.status == "completed" and payment.reference == "BANK-2026-118" and payment.invoice_number
    assert net.memberships.get(2).status == "active"


def test_expired_membership_paid_comes_back_with_a_new_period() -> None:
    data = example_data()
    data["memberships"][1] = membership(2, "basic", amount="15", status="expired", expires_in_days=-20)
    net = FakeNetwork(data)
    invoiced = flow.apply(net, 2, now=NOW, plan="premium")
    assert invoiced.ok and net.memberships.get(2).status == "expired"  # no access until paid, as before the change
    assert invoiced.payment is not None and invoiced.payment.wpbridge is not None
    assert invoiced.payment.wpbridge.status_before == "expired"
    settled_at = NOW + timedelta(days=2)
    state = settled_state(invoiced.payment.wpbridge, duration=1, duration_unit="month", lifetime=False,
                          settled_at=settled_at)
    net.payments.settle(invoiced.payment.id, membership=state, settled_at=settled_at)
    m = net.memberships.get(2)
    assert m.status == "active" and m.date_renewed == settled_at
    assert m.date_expiration == datetime(2026, 7, 3, 12, 0, tzinfo=UTC) if settled_at.day == 3 else True


def test_a_pending_earlier_change_is_refused_then_replaced() -> None:
    net = FakeNetwork()
    first = flow.apply(net, 2, now=NOW, plan="premium")
    assert first.payment is not None
    with pytest.raises(Conflict, match=f"payment #{first.payment.id}.*--replace-pending"):
        flow.apply(net, 2, now=NOW, addons=["extra-storage:1"])
    assert net.memberships.get(2).plan_id == first.quote.quote.new_plan_id
    replaced = flow.apply(net, 2, now=NOW, addons=["extra-storage:1"], replace_pending=True)
    assert replaced.ok, replaced.message
    old = net.payments.get(first.payment.id)
    assert old.status == "cancelled"
    assert net.memberships.get(2).plan_id == first.quote.membership.plan_id  # back to basic, with the add-on
    assert replaced.quote.quote.kind == "addon" and replaced.payment is not None
    assert replaced.payment.id != old.id and replaced.payment.status == "pending"
    assert [p.status for p in net.payments.list()] == ["cancelled", "pending"]


def test_an_orphan_payment_is_cancelled_by_the_next_change() -> None:
    net = FakeNetwork()
    killed_after_the_payment(net)
    other = flow.apply(net, 2, now=NOW, addons=["extra-storage:1"])
    assert other.ok
    statuses = [p.status for p in net.payments.list()]
    assert statuses == ["cancelled", "pending"]
    assert any("never written" in n for n in other.money.notes)


def test_downgrade_leaves_no_payment() -> None:
    net = FakeNetwork()
    result = flow.apply(net, 3, now=NOW, plan="free")
    assert result.status == "scheduled" and result.payment is None and not list(net.payments.list())
    assert result.as_dict()["payment"] is None and result.as_dict()["waived"] is None


def test_a_gateway_refusal_is_known_before_any_write() -> None:
    data = example_data()
    data["info"]["mode"] = "um"
    data["memberships"][1] = {**membership(2, "basic", amount="15"), "gateway": "stripe"}  # no subscription id
    net = FakeNetwork(data)
    result = flow.apply(net, 2, now=NOW, plan="premium")
    assert result.status == "blocked" and "no subscription id" in result.message and "Nothing written" in result.message
    assert net.writes == [] and not list(net.payments.list())
    assert result.quote.as_dict()["gateway"]["refusal"]


def test_a_gateway_billed_membership_is_named_in_the_quote() -> None:
    data = example_data()
    data["info"]["mode"] = "um"
    data["memberships"][1] = {**membership(2, "basic", amount="15"), "gateway": "stripe",
                              "gateway_subscription_id": "sub_123"}
    q = flow.quote(FakeNetwork(data), 2, now=NOW, plan="premium")
    assert q.gateway is not None and q.gateway.gateway == "stripe" and q.gateway.subscription_id == "sub_123"
    assert any("billed by stripe" in n and "without proration" in n for n in q.notes)


def test_the_lock_is_not_held_while_a_person_confirms_and_a_change_meanwhile_is_caught() -> None:
    """Issue 20 item 18: the server lock (TTL 300 s) lapsed while apply waited at its prompt, so another run could
    change the membership and the first then wrote over it. Now the question is asked without the lock; under
    the lock the change is quoted again and written only if it is exactly what was confirmed."""
    net = FakeNetwork()
    held_while_asked: list[object] = []

    def meanwhile(q: flow.QuoteResult, writes: list[flow.Write]) -> bool:
        held_while_asked.append(net.lock)
        net.memberships.update(2, {"amount": "16.00"})  # another run (or an admin) changes the membership
        return True

    result = flow.apply(net, 2, now=NOW, plan="premium", confirm=meanwhile)
    assert held_while_asked == [None]
    assert result.status == "declined" and "changed while the change was being confirmed" in result.message
    assert net.writes == [("membership", 2)] and not list(net.payments.list())  # only the other run's write
    calm = flow.apply(net, 2, now=NOW, plan="premium", confirm=lambda q, w: True)
    assert calm.ok and calm.status == "applied"
