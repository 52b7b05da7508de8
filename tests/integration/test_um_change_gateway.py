"""`change apply` on a gateway-billed membership, on UM 2.4.12 and 2.4.13-beta.1 (issue 17): the quote names the
gateway and what UM's save does to it; what UM would refuse is refused before any write; a refusal during the
write is reported with the gateway's message and leaves nothing half-written (the change's payment cancelled).

The gateway is the sandbox's test gateway (`test_um_gateway.py` explains it and provides `billed_by`)."""

from __future__ import annotations

import json

from tests.integration.change_support import run, run_json
from tests.integration.test_um_gateway import OPTIONS, TEST_GATEWAY, billed_by, calls, um  # noqa: F401
from tests.integration.um_support import new_um_member, um_membership, um_php
from wpbridge.billing.gateways import UM_PAYPAL_NO_DURATION_CHANGE
from wpbridge.sandbox import SandboxInfo


def test_a_refusal_during_the_write_cancels_the_payment_and_changes_nothing(um: SandboxInfo) -> None:  # noqa: F811
    m = new_um_member(um, "basic", renewed=5)
    mid = str(m.membership_id)
    with billed_by(um, m.membership_id, TEST_GATEWAY, "sub_apply_1", mode="fail"):
        before = um_membership(um, m.membership_id)
        result = run(um, "change", "apply", mid, "--plan", "premium", "--yes", "--output", "json")
        after = um_membership(um, m.membership_id)
        made = calls(um, m.membership_id)
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["status"] == "failed" and "process_membership_update refused" in data["message"]
    assert data["payment"] is not None and data["payment"]["status"] == "cancelled"
    assert "cancelled, nothing else written" in data["message"]
    assert after == before
    assert [c["result"] for c in made] == ["fail"]
    payments = run_json(um, "payments", "list", "--membership", mid)
    assert [p["status"] for p in payments] == ["cancelled"]


def test_the_gateway_is_told_the_change_and_the_payment_stays(um: SandboxInfo) -> None:  # noqa: F811
    m = new_um_member(um, "basic", renewed=5)
    mid = str(m.membership_id)
    with billed_by(um, m.membership_id, TEST_GATEWAY, "sub_apply_2", mode="ok"):
        quote = run_json(um, "change", "quote", mid, "--plan", "premium")
        result = run(um, "change", "apply", mid, "--plan", "premium", "--yes", "--output", "json")
        made = calls(um, m.membership_id)
    assert quote["gateway"]["gateway"] == TEST_GATEWAY and quote["gateway"]["subscription_id"] == "sub_apply_2"
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ok"] and data["payment"]["status"] == "pending"
    plan = int(um.info["seeded"]["products"]["premium"])
    assert [(c["method"], c["new"]["plan_id"]) for c in made] == [("process_membership_update", plan)]


def test_paypal_and_a_period_change_are_refused_before_any_write(um: SandboxInfo) -> None:  # noqa: F811
    m = new_um_member(um, "basic", renewed=5)
    mid = str(m.membership_id)
    active = um_php(um, OPTIONS)["active_gateways"]
    with billed_by(um, m.membership_id, "paypal", "I-APPLY3", active_gateways=sorted({*active, "paypal"})):
        before = um_membership(um, m.membership_id)
        result = run(um, "change", "apply", mid, "--plan", "premium", "--period", "1:year", "--yes", "--output",
                     "json")
        after = um_membership(um, m.membership_id)
    assert result.exit_code == 3, result.output
    data = json.loads(result.stdout)
    assert data["status"] == "blocked" and UM_PAYPAL_NO_DURATION_CHANGE in data["message"]
    assert "Nothing written" in data["message"] and data["performed"] == [] and data["payment"] is None
    assert after == before
    assert run_json(um, "payments", "list", "--membership", mid) == []


def test_stripe_billing_is_named_in_the_quote(um: SandboxInfo) -> None:  # noqa: F811
    m = new_um_member(um, "basic", renewed=5)
    with billed_by(um, m.membership_id, "stripe", "sub_quote_4"):
        quote = run_json(um, "change", "quote", str(m.membership_id), "--plan", "premium")
        text = run(um, "change", "quote", str(m.membership_id), "--plan", "premium")
    assert quote["gateway"] == {"gateway": "stripe", "subscription_id": "sub_quote_4", "refusal": None,
                                "action": quote["gateway"]["action"]}
    assert "without proration" in quote["gateway"]["action"]
    assert "billed by stripe" in text.stdout
