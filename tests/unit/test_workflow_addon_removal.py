"""`change quote|apply --addon SLUG:N` with N below what the membership holds (issue 21 item 10): removing add-ons as
Ultimate Multisite's own screens do (workflows.change_removal over the in-memory network)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.unit.workflow_support import IDS, NOW, FakeNetwork, example_data
from wpbridge.errors import InputError
from wpbridge.workflows import change as flow

STORAGE = IDS["extra-storage"]


def two_storage() -> FakeNetwork:
    data = example_data()
    data["memberships"][2]["addon_products"] = {str(STORAGE): 2}
    data["memberships"][2]["amount"] = "49"
    return FakeNetwork(data)


def test_holding_fewer_is_quoted_as_ums_account_page_removal() -> None:
    q = flow.quote(two_storage(), 3, now=NOW, addons=["extra-storage:0"])
    assert (q.kind, q.quote.due_now, q.quote.recurring_total) == ("downgrade", Decimal("0.00"), Decimal("39.00"))
    m = q.membership
    assert q.quote.scheduled_for == m.date_expiration and q.quote.target is not None
    assert q.quote.target["addon_products"] == {}
    assert any("removes 2 x Extra storage (holds 2, keeps 0) at the end of the period" in n for n in q.notes)
    assert any(n.startswith("quota from ") and "disk_space" in n for n in q.notes), q.notes


def test_apply_schedules_it_and_a_second_run_writes_nothing() -> None:
    net = two_storage()
    result = flow.apply(net, 3, now=NOW, addons=["extra-storage:1"])
    assert result.ok and result.status == "scheduled", result.message
    assert [w.kind for w in result.performed] == ["scheduled_change"]
    held = net.schedule.get(3)
    assert held is not None and held.target["addon_products"] == {str(STORAGE): 1} and held.target["amount"] == "44.00"
    assert net.memberships.get(3).addon_products == {STORAGE: 2}  # nothing changes before the date
    again = flow.apply(net, 3, now=NOW, addons=["extra-storage:1"])
    assert again.status == "unchanged" and again.performed == []
    # one more removed from the scheduled state: the scheduled change is replaced, holding 0
    more = flow.apply(net, 3, now=NOW, addons=["extra-storage:0"])
    held = net.schedule.get(3)
    assert more.ok and held is not None and held.target["addon_products"] == {} and held.target["amount"] == "39.00"


def test_remove_now_writes_the_membership_and_the_quotas() -> None:
    net = two_storage()
    result = flow.apply(net, 3, now=NOW, addons=["extra-storage:0"], removal="now")
    assert result.ok and result.status == "applied", result.message
    kinds = [w.kind for w in result.performed]
    assert kinds[0] == "membership" and "site_quota" in kinds
    m = net.memberships.get(3)
    assert m.addon_products == {} and m.amount == Decimal("39")
    assert result.payment is None  # nothing is charged, nothing refunded
    kept = two_storage()
    flow.apply(kept, 3, now=NOW, addons=["extra-storage:0"], removal="now_keep_amount")
    assert kept.memberships.get(3).amount == Decimal("49")


def test_a_removal_mixed_with_another_change_says_what_to_do() -> None:
    with pytest.raises(InputError, match=r"removing an add-on is a change of its own .* also asks for a plan: make "
                                         r"the removal first \(wpbridge change apply 3 --addon extra-storage:0\)"):
        flow.quote(two_storage(), 3, now=NOW, plan="basic", addons=["extra-storage:0"])


def test_not_holding_it_is_nothing_to_remove() -> None:
    q = flow.quote(FakeNetwork(), 2, now=NOW, addons=["extra-storage:0"])
    assert q.kind == "no_change" and q.notes == ["does not hold Extra storage: nothing to remove"]


def test_an_addon_ums_screens_cannot_remove_is_removed_and_said() -> None:
    data = example_data()
    data["memberships"][2]["addon_products"] = {str(IDS["unlimited-visits"]): 1, str(STORAGE): 2}
    q = flow.quote(FakeNetwork(data), 3, now=NOW, addons=["extra-storage:0"])
    assert q.kind == "downgrade" and any("UM's own screens would remove nothing here" in n for n in q.notes)
    first = flow.quote(FakeNetwork(data), 3, now=NOW, addons=["unlimited-visits:0"])
    assert not any("would remove nothing" in n for n in first.notes)


def test_the_membership_code_named_by_its_code_is_taken_off_the_price_removed() -> None:
    data = example_data()
    data["memberships"][2].update({"addon_products": {str(STORAGE): 2}, "amount": "48", "discount_code": "save10"})
    data["discount_codes"] = [{"id": 1, "code": "SAVE10", "type": "percentage", "value": "10",
                               "apply_to_renewals": True}]
    q = flow.quote(FakeNetwork(data), 3, now=NOW, addons=["extra-storage:0"])
    assert q.quote.recurring_total == Decimal("39.00")  # 48 - (10 - 10 %)
    assert any("the amount falls by 9.00" in n for n in q.notes)


def test_json_names_the_addons_removed() -> None:
    q = flow.quote(two_storage(), 3, now=NOW, addons=["extra-storage:1"]).as_dict()
    assert q["new"]["addons_removed"] == [{"id": STORAGE, "slug": "extra-storage", "name": "Extra storage",
                                           "quantity": 1}]
    assert flow.quote(two_storage(), 3, now=NOW, plan="free").as_dict()["new"]["addons_removed"] == []


def test_no_period_end_says_to_remove_it_now() -> None:
    data = example_data()
    data["memberships"][2].update({"addon_products": {str(STORAGE): 1}, "date_expiration": None})
    q = flow.quote(FakeNetwork(data), 3, now=NOW, addons=["extra-storage:0"])
    assert q.kind == "blocked" and q.message == "Schedule date is invalid."
    assert any("remove it now instead (--remove-now)" in n for n in q.notes)
    assert flow.quote(FakeNetwork(data), 3, now=NOW, addons=["extra-storage:0"], removal="now").kind == "downgrade"


def test_a_gateway_refusal_does_not_stop_the_account_pages_removal_but_stops_a_removal_now() -> None:
    data = example_data()
    data["info"]["mode"] = "um"
    data["memberships"][2].update({"addon_products": {str(STORAGE): 1}, "gateway": "stripe"})
    q = flow.quote(FakeNetwork(data), 3, now=NOW, addons=["extra-storage:0"])
    assert q.gateway is not None and q.gateway.refusal is None
    assert any("stripe will refuse the new amount" in n and "keeps billing the old amount" in n for n in q.notes)
    now = flow.quote(FakeNetwork(data), 3, now=NOW, addons=["extra-storage:0"], removal="now")
    assert now.gateway is not None and now.gateway.refusal  # UM's save returns the gateway's error: nothing saved
    assert flow.apply(FakeNetwork(data), 3, now=NOW, addons=["extra-storage:0"], removal="now").status == "blocked"
