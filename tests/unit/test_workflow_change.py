"""wpbridge.workflows.change over an in-memory network: request parsing, quotes, apply's writes and idempotence."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.unit.workflow_support import IDS, NOW, FakeNetwork, example_data
from wpbridge.errors import InputError
from wpbridge.limits import differing_modules, effective_limitations
from wpbridge.models import Limitations
from wpbridge.workflows import change as flow

# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(("text", "expected"), [("1:month", (1, "month")), ("12:months", (12, "month")),
                                                 (" 1 : year ", (1, "year")), ("2:Week", (2, "week"))])
def test_parse_period(text: str, expected: tuple[int, str]) -> None:
    assert flow.parse_period(text) == expected


@pytest.mark.parametrize("text", ["1-year", "year", "0:month", "1:fortnight", "-1:month", "1:", ":month", ""])
def test_parse_period_refuses(text: str) -> None:
    with pytest.raises(InputError, match="expected N:UNIT"):
        flow.parse_period(text)


def test_parse_addon() -> None:
    assert flow.parse_addon("extra-storage") == ("extra-storage", 1)
    assert flow.parse_addon("5:3") == ("5", 3)
    assert flow.parse_addon("x:0") == ("x", 0)  # hold none: a removal (issue 21 item 10)
    for bad in ("", ":2", "x:two", "x:-1"):
        with pytest.raises(InputError, match="expected SLUG or ID"):
            flow.parse_addon(bad)


def test_parse_at() -> None:
    assert flow.parse_at("2026-05-16T12:00:00Z") == NOW
    assert flow.parse_at("2026-05-16 14:00:00+02:00") == NOW
    assert flow.parse_at("2026-05-16T12:00:00") == NOW  # no offset: UTC
    with pytest.raises(InputError, match="not an ISO 8601"):
        flow.parse_at("tomorrow")


# --------------------------------------------------------------------------- quotes


def test_upgrade_mid_cycle_credit() -> None:
    """Basic $15, 15.5 days left (15 whole), renewed 10 days ago: credit 15 x 15 / 30.4375 = 7.39; due 31.61."""
    q = flow.quote(FakeNetwork(), 2, now=NOW, plan="premium")
    assert q.kind == "upgrade"
    assert q.quote.credit == Decimal("7.39") and q.quote.due_now == Decimal("31.61")
    assert q.quote.recurring_total == Decimal("39.00")
    assert q.as_dict()["new"]["plan"]["slug"] == "premium"


def test_plan_by_id_and_period() -> None:
    q = flow.quote(FakeNetwork(), 2, now=NOW, plan=str(IDS["premium"]), period="1:year")
    assert q.kind == "upgrade" and (q.quote.duration, q.quote.duration_unit) == (1, "year")
    assert q.quote.recurring_total == Decimal("390.00")
    assert q.quote.target is not None and q.quote.target["duration_unit"] == "year"


def test_no_change_and_addon_quantities_are_totals() -> None:
    net = FakeNetwork()
    assert flow.quote(net, 3, now=NOW).kind == "no_change"
    assert flow.quote(net, 3, now=NOW, plan="premium").message.startswith("This cart proposes no changes")
    held = flow.quote(net, 3, now=NOW, addons=["extra-storage:1"])
    assert held.kind == "no_change" and held.notes == ["already holds 1 x Extra storage"]
    more = flow.quote(net, 3, now=NOW, addons={"extra-storage": 3})
    assert more.kind == "addon" and more.cart.addons == {IDS["extra-storage"]: 2}
    assert more.quote.due_now == Decimal("10.00")
    assert "holds 1 x Extra storage: adds 2 to reach 3" in more.notes


def test_holding_fewer_addons_is_a_removal() -> None:  # was refused; tests/unit/test_workflow_addon_removal.py
    data = example_data()
    data["memberships"][2]["addon_products"] = {str(IDS["extra-storage"]): 3}
    q = flow.quote(FakeNetwork(data), 3, now=NOW, addons=["extra-storage:2"])
    assert q.kind == "downgrade" and q.quote.target is not None
    assert q.quote.target["addon_products"] == {IDS["extra-storage"]: 2}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"plan": "gold"}, "unknown plan 'gold': no plan has that slug or id (plans: free, basic, premium)"),
    ({"plan": "extra-storage"}, "plan 'extra-storage': Extra storage (id 5) is a package, not a plan"),
    ({"addons": ["premium"]}, "add-on 'premium': Premium is a plan"),
    ({"addons": ["nope:2"]}, "unknown add-on 'nope'"),
    ({"addons": ["extra-storage", "5:2"]}, "Extra storage is requested twice"),
    ({"period": "1-month"}, "period '1-month'"),
    ({"plan": "premium", "period": "1:week"}, "does not exist for the selected duration"),
])
def test_bad_requests(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InputError) as err:
        flow.quote(FakeNetwork(), 2, now=NOW, **kwargs)  # type: ignore[arg-type]
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_unknown_membership_and_naive_now() -> None:
    with pytest.raises(InputError, match=r"^membership 99 does not exist$"):
        flow.quote(FakeNetwork(), 99, now=NOW, plan="premium")
    with pytest.raises(InputError, match="timezone-aware"):
        flow.quote(FakeNetwork(), 2, now=datetime(2026, 5, 16), plan="premium")


def test_plan_outside_group_reason_and_force() -> None:
    with pytest.raises(InputError) as err:
        flow.quote(FakeNetwork(), 1, now=NOW, plan="basic")
    assert str(err.value).startswith(
        "plan 'basic' is not offered to membership 1: Basic has no plan group, and the current plan Free is in "
        "group 'High End' (offered: free, premium); add --force"
    )
    forced = flow.quote(FakeNetwork(), 1, now=NOW, plan="basic", force=True)
    assert forced.kind == "upgrade" and forced.notes[0].startswith("forced: Basic is not offered")


def test_addon_not_offered() -> None:
    with pytest.raises(InputError, match=r"Unlimited visits is not offered as an add-on of Basic \(membership 2\)"):
        flow.quote(FakeNetwork(), 2, now=NOW, addons=["unlimited-visits"])
    assert flow.quote(FakeNetwork(), 2, now=NOW, addons=["unlimited-visits"], force=True).kind == "addon"


def test_options() -> None:
    result = flow.options(FakeNetwork(), 1)
    data = result.as_dict()
    assert [(p["slug"], p["relation"]) for p in data["plans"]] == [("free", "current"), ("premium", "upgrade")]
    assert [a["slug"] for a in data["addons"]] == ["unlimited-visits", "extra-storage", "site-setup"]


# --------------------------------------------------------------------------- apply


def _in_line(net: FakeNetwork, mid: int) -> bool:
    m = net.memberships.get(mid)
    catalog = net.products.catalog()
    return all(not differing_modules(effective_limitations(m, catalog, s), net.quotas_of([s.blog_id])[s.blog_id])
               for s in net.sites.list(membership_id=mid))


def test_apply_upgrade_then_again_is_a_no_op() -> None:
    net = FakeNetwork()
    result = flow.apply(net, 3, now=NOW, addons=["unlimited-visits"])
    assert result.status == "applied" and result.ok and result.quote.kind == "addon"
    assert net.writes == [("membership", 3), ("site_quota", 13), ("site_quota", 14)]
    assert [c.ok for c in result.verification] == [True, True, True, True]  # membership, 2 quotas, the payment
    assert result.verification[-1].what.startswith("payment #") and "pending" in result.verification[-1].detail
    assert net.memberships.get(3).addon_products == {IDS["extra-storage"]: 1, IDS["unlimited-visits"]: 1}
    assert _in_line(net, 3)
    again = flow.apply(net, 3, now=NOW, addons=["unlimited-visits"])
    assert again.status == "unchanged" and again.ok and not again.planned
    assert again.message == "membership 3 is already in that state; its sites' quotas match; nothing written"
    assert len(net.writes) == 3


def test_crash_between_writes_then_rerun_finishes() -> None:
    net = FakeNetwork()

    def crash(write: flow.Write) -> None:
        if write.kind == "membership":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        flow.apply(net, 1, now=NOW, plan="premium", after_write=crash)
    assert net.writes == [("membership", 1)] and not _in_line(net, 1)
    rerun = flow.apply(net, 1, now=NOW, plan="premium")
    assert rerun.quote.kind == "no_change" and rerun.status == "applied"
    assert [w.kind for w in rerun.performed] == ["site_quota"]
    assert rerun.message.endswith("1 site quota(s) to bring in line")
    assert _in_line(net, 1)


def test_failed_quota_write_then_rerun() -> None:
    net = FakeNetwork()
    net.fail_quota = {14}
    result = flow.apply(net, 3, now=NOW, addons=["extra-storage:2"])
    assert result.status == "failed" and not result.ok
    assert [(w.kind, w.record_id) for w in result.performed] == [("payment", 3), ("membership", 3),
                                                                 ("site_quota", 13)]
    assert [w.record_id for w, _ in result.failed] == [14] and "injected failure" in result.message
    assert [c.ok for c in result.verification] == [True, True, False, True]
    net.fail_quota = set()
    rerun = flow.apply(net, 3, now=NOW, addons=["extra-storage:2"])
    assert rerun.ok and [(w.kind, w.record_id) for w in rerun.performed] == [("site_quota", 14)]


def test_downgrade_is_scheduled_once() -> None:
    net = FakeNetwork()
    before = net.memberships.get(3)
    result = flow.apply(net, 3, now=NOW, plan="free")
    assert result.status == "scheduled" and result.quote.quote.due_now == 0
    assert net.writes == [("scheduled_change", 3)]
    assert net.memberships.get(3) == before
    stored = net.schedule.get(3)
    assert stored is not None and stored.scheduled_for == before.date_expiration
    assert stored.target["plan_id"] == IDS["free"]
    again = flow.apply(net, 3, now=NOW, plan="free")
    assert again.status == "unchanged" and again.message.startswith("already scheduled: Free from")
    assert len(net.writes) == 1
    upgrade = flow.quote(net, 3, now=NOW, addons=["unlimited-visits"])
    assert any("is scheduled for" in n and "it stays scheduled" in n for n in upgrade.notes)


def test_blocked_downgrade_writes_nothing() -> None:
    net = FakeNetwork(example_data(posts={13: 12}))
    result = flow.apply(net, 3, now=NOW, plan="free")
    assert result.status == "blocked" and not result.ok and net.writes == []
    assert "Site 13 (example.test/s13/): Your site currently has 12 posts but the new plan is limited to 10 posts. " \
           "You must trash 2 posts" in result.message


def test_dry_run_and_declined() -> None:
    net = FakeNetwork()
    seen: list[list[flow.Write]] = []
    dry = flow.apply(net, 2, now=NOW, plan="premium", dry_run=True)
    assert dry.status == "dry_run" and [w.kind for w in dry.planned] == ["payment", "membership", "site_quota"]
    assert not list(net.payments.list())
    declined = flow.apply(net, 2, now=NOW, plan="premium",
                          confirm=lambda _q, writes: bool(seen.append(writes)) and False)
    assert declined.status == "declined" and not declined.ok and len(seen) == 1
    assert net.writes == []
    body = dry.planned[1].body
    assert body["plan_id"] == IDS["premium"] and body["amount"] == "39.00"
    assert "plan: Basic -> Premium" in dry.planned[1].changes and "amount: 15.00 -> 39.00" in dry.planned[1].changes
    assert "post_types.post: 100 -> 1000" in dry.planned[2].changes


def test_quota_changes_wording() -> None:
    old = Limitations.model_validate({"disk_space": {"enabled": True, "limit": 100},
                                      "users": {"enabled": True, "limit": {"editor": {"enabled": False}}},
                                      "domain_mapping": {"enabled": True, "limit": False}})
    new = Limitations.model_validate({"disk_space": {"enabled": True, "limit": 0},
                                      "users": {"enabled": True, "limit": {"editor": {"enabled": True, "number": 3}}},
                                      "domain_mapping": {"enabled": True, "limit": True}})
    assert flow.quota_changes(old, new) == ("disk_space: 100 -> unlimited", "domain_mapping: none -> unlimited",
                                            "users.editor: off -> 3")
    assert flow.quota_changes(None, new)[0] == "disk_space: - -> unlimited"


def test_describe() -> None:
    detail = flow.describe(FakeNetwork(), 3)
    data = detail.as_dict()
    assert data["plan"]["slug"] == "premium" and data["addons"][0]["quantity"] == 1
    assert data["effective_quota"]["disk_space"]["limit"] == 6000
    assert [s["blog_id"] for s in data["sites"]] == [13, 14] and all(s["quota_in_sync"] for s in data["sites"])
    assert datetime.fromisoformat(data["membership"]["date_expiration"]).tzinfo == UTC


def test_a_different_scheduled_change_is_replaced() -> None:
    net = FakeNetwork()
    flow.apply(net, 3, now=NOW, plan="free")
    stored = net.schedule.get(3)
    assert stored is not None
    net.schedule.put(stored.model_copy(update={"target": {**stored.target, "amount": "1.00"}}))
    result = flow.apply(net, 3, now=NOW, plan="free")
    assert result.status == "scheduled" and "(replaces the change scheduled before)" in result.planned[0].changes[0]
    again = net.schedule.get(3)
    assert again is not None and Decimal(again.target["amount"]) == Decimal(stored.target["amount"])
