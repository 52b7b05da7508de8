"""`change quote --period N:UNIT` without `--plan` asks for the current plan in that period, and names it in the cart
as UM's Change form does: the quote is UM's Cart of that cart, with no deviation for the plan left out (the engine's
Cart without a plan declares what UM's Cart of the add-ons alone answers; tests/unit/test_billing_deviations.py)."""

from __future__ import annotations

from tests.unit.workflow_support import NOW, FakeNetwork, example_data
from wpbridge.workflows.change_quote import quote


def test_a_period_alone_names_the_current_plan() -> None:
    r = quote(FakeNetwork(example_data()), 3, now=NOW, period="1:year")
    assert (r.cart.plan_id, r.quote.kind) == (r.membership.plan_id, "upgrade")
    assert not [d for d in r.quote.deviations if d.field in ("kind", "error")]
