"""Pure parts of `sync`: what a site should hold, the merge join of two ordered streams, "already applied",
due-ness, the suspended quota and the report schema check."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from wpbridge.errors import DataError, InputError
from wpbridge.limits import differing_modules, effective_limitations
from wpbridge.models import Limitations, Membership, ScheduledChange, Site
from wpbridge.network import SiteQuota
from wpbridge.sandbox.example import example_catalog
from wpbridge.workflows.membership_state import with_state
from wpbridge.workflows.sync import (
    SUSPENDED_QUOTA,
    QuotaMemo,
    SyncOptions,
    already_applied,
    chunks,
    is_due,
    join_quotas,
    plan_site,
    target_quota,
)
from wpbridge.workflows.sync.report import (
    ChangeEntry,
    ErrorEntry,
    ReportCollector,
    ReportHeader,
    ReportSpool,
    ScheduledEntry,
    Summary,
    SyncReport,
    validate_report,
)

CATALOG = example_catalog()
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def member(mid: int = 7, plan: int = 2, status: str = "active", **extra: Any) -> Membership:
    return Membership.model_validate({"id": mid, "customer_id": 1, "plan_id": plan, "status": status,
                                      "amount": "15", **extra})


def site(blog_id: int = 3, membership_id: int | None = 7, **extra: Any) -> Site:
    return Site.model_validate({"blog_id": blog_id, "membership_id": membership_id, "type": "customer_owned",
                                **extra})


def quota(**modules: Any) -> Limitations:
    return Limitations.model_validate(modules)


# --------------------------------------------------------------------------- target_quota / plan_site


def test_active_membership_targets_its_effective_quota() -> None:
    m = member(addon_products={5: 2})  # basic (1000 MB) + 2 x extra storage (+1000 MB each)
    target, reason = target_quota(site(), m, CATALOG, "keep")
    assert reason == "membership"
    assert target is not None and target.disk_space is not None
    assert target.disk_space.limit == 3000
    assert not differing_modules(target, effective_limitations(m, CATALOG, site=site()))


def test_site_already_holding_its_quota_needs_no_write() -> None:
    m = member()
    current = effective_limitations(m, CATALOG, site=site())
    change, reason = plan_site(site(), current, m, CATALOG, "keep")
    assert change is None and reason == "in-sync"


def test_out_of_date_quota_becomes_a_change_with_before_and_after() -> None:
    m = member(plan=3)
    stale = effective_limitations(member(plan=2), CATALOG)
    change, reason = plan_site(site(), stale, m, CATALOG, "keep")
    assert change is not None and reason == "membership"
    assert change.before == stale
    assert change.after.disk_space is not None and change.after.disk_space.limit == 5000
    assert (change.blog_id, change.membership_id) == (3, 7)


def test_site_without_quota_gets_one() -> None:
    change, _ = plan_site(site(), None, member(), CATALOG, "keep")
    assert change is not None and change.before is None


@pytest.mark.parametrize("status", ["expired", "cancelled"])
def test_inactive_membership_keep_leaves_the_site_alone(status: str) -> None:
    stale = quota(disk_space={"limit": 1})
    change, reason = plan_site(site(), stale, member(status=status), CATALOG, "keep")
    assert change is None and reason == "inactive-kept"


@pytest.mark.parametrize("status", ["expired", "cancelled"])
def test_inactive_membership_suspend_writes_the_suspended_quota(status: str) -> None:
    current = effective_limitations(member(), CATALOG)
    change, reason = plan_site(site(), current, member(status=status), CATALOG, "suspend")
    assert change is not None and reason == "suspended"
    assert change.after == SUSPENDED_QUOTA
    again, reason = plan_site(site(), SUSPENDED_QUOTA, member(status=status), CATALOG, "suspend")
    assert again is None and reason == "in-sync"


@pytest.mark.parametrize("status", ["pending", "trialing", "on-hold", "active"])
def test_other_statuses_get_the_plan_quota(status: str) -> None:
    _, reason = target_quota(site(), member(status=status), CATALOG, "suspend")
    assert reason == "membership"


def test_suspended_quota_closes_the_site_without_using_zero() -> None:
    """0 means unlimited in UM: a suspended quota must use 1 or disabled entries, never 0 as a limit."""
    assert SUSPENDED_QUOTA.visits is not None and SUSPENDED_QUOTA.visits.limit == 1
    assert SUSPENDED_QUOTA.disk_space is not None and SUSPENDED_QUOTA.disk_space.limit == 1
    assert SUSPENDED_QUOTA.post_types is not None
    assert all(not entry.enabled for entry in SUSPENDED_QUOTA.post_types.limit.values())
    assert SUSPENDED_QUOTA.users is not None
    assert all(not entry.enabled for entry in SUSPENDED_QUOTA.users.limit.values())


def test_sites_without_membership_or_with_a_vanished_one_are_left_alone() -> None:
    assert plan_site(site(membership_id=None), None, None, CATALOG, "suspend") == (None, "no-membership")
    assert plan_site(site(), None, None, CATALOG, "suspend") == (None, "membership-not-found")


def test_membership_with_a_plan_missing_from_the_catalog_is_an_input_error() -> None:
    with pytest.raises(InputError, match="plan_id 99"):
        plan_site(site(), None, member(plan=99), CATALOG, "keep")


def test_site_override_is_part_of_the_target() -> None:
    s = site(limitations={"disk_space": {"enabled": True, "limit": 42}})
    target, _ = target_quota(s, member(), CATALOG, "keep")
    assert target is not None and target.disk_space is not None and target.disk_space.limit == 42


def test_wire_spellings_do_not_count_as_differences() -> None:
    m = member()
    wire = effective_limitations(m, CATALOG).to_wire()
    wire["disk_space"] = json.dumps(wire["disk_space"])  # UM stores some modules as JSON strings
    wire["visits"]["limit"] = str(wire["visits"]["limit"])
    stored = SiteQuota.model_validate({"blog_id": 3, "quota": wire}).quota  # as the network parses it
    change, reason = plan_site(site(), stored, m, CATALOG, "keep")
    assert change is None and reason == "in-sync"


def test_quota_memo_gives_the_same_quotas_and_stays_bounded() -> None:
    memo = QuotaMemo(size=3)
    members = [member(mid=i, plan=1 + i % 3, addon_products={5: i % 2}) for i in range(1, 30)]
    for m in members:
        s = site(blog_id=m.id + 1, membership_id=m.id)
        assert memo(m, CATALOG, s) == effective_limitations(m, CATALOG, site=s)
        assert len(memo._memo) <= 3
    overridden = site(membership_id=1, limitations={"disk_space": {"enabled": True, "limit": 42}})
    quota_ = memo(members[0], CATALOG, overridden)
    assert quota_.disk_space is not None and quota_.disk_space.limit == 42
    own = member(mid=1, limitations={"visits": {"enabled": True, "limit": 9}})
    quota_ = memo(own, CATALOG, site(membership_id=1))
    assert quota_.visits is not None and quota_.visits.limit == 9


# --------------------------------------------------------------------------- join_quotas


def test_join_pairs_sites_with_their_quotas_in_blog_id_order() -> None:
    sites = [site(2), site(4), site(5), site(9)]
    quotas = [(1, None), (2, quota(visits={"limit": 2})), (3, None), (4, None), (9, quota(visits={"limit": 9}))]
    rows = list(join_quotas(sites, quotas))
    assert [(s.blog_id, q.visits.limit if q and q.visits else None, known) for s, q, known in rows] == [
        (2, 2, True), (4, None, True), (5, None, False), (9, 9, True),
    ]


def test_join_consumes_streams_lazily() -> None:
    pulled: list[int] = []

    def quotas() -> Any:
        for i in range(1, 1_000_000):
            pulled.append(i)
            yield i, None

    rows = join_quotas(iter([site(1), site(2), site(3)]), quotas())
    assert [s.blog_id for s, _, _ in rows] == [1, 2, 3]
    assert len(pulled) <= 4


def test_join_refuses_unordered_streams() -> None:
    with pytest.raises(DataError, match="site list is not in blog_id order"):
        list(join_quotas([site(3), site(2)], []))
    with pytest.raises(DataError, match="quota list is not in blog_id order"):
        list(join_quotas([site(5)], [(3, None), (2, None), (5, None)]))


# --------------------------------------------------------------------------- scheduled changes


def test_already_applied_detects_a_rerun_after_a_kill() -> None:
    m = member(plan=3, amount="39")
    target = {"plan_id": 2, "amount": "15.0000", "addon_products": {}}
    assert not already_applied(m, target)
    after = with_state(m, target)
    assert after.plan_id == 2 and str(after.amount) in ("15", "15.0000")
    assert already_applied(after, target)
    assert already_applied(member(addon_products={5: 1}), {"addon_products": {"5": 1}})
    assert not already_applied(member(), {"no_such_field": 1})
    assert not already_applied(member(), {})


def test_already_applied_compares_limitations_as_quotas() -> None:
    m = member(limitations={"disk_space": {"enabled": True, "limit": 10}})
    assert already_applied(m, {"limitations": {"disk_space": {"enabled": True, "limit": "10"}}})
    assert not already_applied(m, {"limitations": {"disk_space": {"enabled": True, "limit": 11}}})


def test_is_due_respects_now_and_only() -> None:
    change = ScheduledChange(membership_id=7, scheduled_for=NOW, target={"plan_id": 1})
    assert is_due(change, NOW)
    assert not is_due(change, NOW - timedelta(seconds=1))
    assert is_due(change, NOW, frozenset({7}))
    assert not is_due(change, NOW, frozenset({8}))


def test_chunks() -> None:
    assert list(chunks(range(5), 2)) == [[0, 1], [2, 3], [4]]
    assert list(chunks([], 3)) == []


def test_options_refuse_naive_now_and_unknown_policy() -> None:
    with pytest.raises(InputError, match="timezone-aware"):
        SyncOptions(now=datetime(2026, 1, 1))
    with pytest.raises(Exception, match="inactive_policy"):
        SyncOptions(now=NOW, inactive_policy="delete")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- report


def _header() -> ReportHeader:
    return ReportHeader(network="n", dry_run=False, now="2026-03-01T12:00:00Z", started_at="2026-03-01T12:00:00Z",
                        inactive_policy="keep")


def _fill(sink: Any) -> Summary:
    sink.change(ChangeEntry(blog_id=3, membership_id=7, reason="membership", before=None,
                            after={"visits": {"enabled": True, "limit": 5}}, status="written"))
    sink.scheduled(ScheduledEntry(membership_id=7, scheduled_for="2026-03-01T00:00:00Z", before={"plan_id": 3},
                                  after={"plan_id": 2}, status="applied"))
    sink.error(ErrorEntry(stage="quota_write", message="boom", blog_id=4, membership_id=8, status=500, code="x"))
    return Summary(sites_checked=2, changes=2, quota_writes=1, memberships_updated=1, errors=1)


def test_spooled_report_equals_collected_report_and_validates(tmp_path: Any) -> None:
    collector, spool = ReportCollector(), ReportSpool()
    summary = _fill(collector)
    _fill(spool)
    path = tmp_path / "r.json"
    spool.write(path, _header(), summary, "2026-03-01T12:00:01Z")
    spool.close()
    written = json.loads(path.read_text())
    assert written == collector.report(_header(), summary, "2026-03-01T12:00:01Z")
    assert validate_report(written) == []
    assert written["summary"]["writes"] == 2
    assert not (tmp_path / "r.json.tmp").exists()


def test_empty_spool_gives_empty_lists(tmp_path: Any) -> None:
    spool = ReportSpool()
    spool.write(tmp_path / "r.json", _header(), Summary(), "x")
    report = json.loads((tmp_path / "r.json").read_text())
    assert (report["changes"], report["errors"], report["scheduled_changes"]) == ([], [], [])
    assert validate_report(report) == []


def test_validate_report_names_what_is_wrong() -> None:
    collector = ReportCollector()
    summary = _fill(collector)
    report = collector.report(_header(), summary, "x")
    report["summary"]["writes"] = -1
    del report["changes"][0]["after"]
    report["errors"][0]["stage"] = "bogus"
    problems = validate_report(report)
    assert "summary.writes: Input should be greater than or equal to 0" in problems
    assert "changes[0].after: Field required" in problems
    assert any(p.startswith("errors[0].stage: Input should be 'scheduled_change'") for p in problems), problems
    assert validate_report([]) == ["report: not a JSON object"]
    report = collector.report(_header(), summary, "x")
    report["summary"]["errors"] += 1
    assert validate_report(report) == ["summary.errors: does not match the number of entries in errors"]
    schema = SyncReport.model_json_schema(by_alias=True)
    assert schema["properties"]["schema"]["const"] == "wpbridge.sync.report/1"
    assert set(schema["required"]) >= {"summary", "changes", "errors", "scheduled_changes", "network"}


def test_summary_line_says_zero_changes() -> None:
    assert "0 changes" in Summary(sites_checked=10).line(dry_run=False)
    assert Summary(quota_writes=2, memberships_updated=1).to_json()["writes"] == 3


def test_the_sync_quota_follows_the_networks_um_release_merge_rules() -> None:
    """UM 2.4.12 lets `visible` beat `hidden` when plan and add-on disagree; UM main the reverse: the sync's
    expected quota must use the rules of the release the network runs."""
    from wpbridge.models import Membership, Product, Site, parse
    from wpbridge.workflows.sync import QuotaMemo

    def theme(visibility: str) -> dict[str, object]:
        return {"themes": {"enabled": True, "limit": {"twentytwenty": {"visibility": visibility,
                                                                         "behavior": "available"}}}}

    plan = parse(Product, {"id": 1, "slug": "p", "name": "P", "type": "plan", "amount": "10", "duration": 1,
                           "duration_unit": "month", "recurring": True, "limitations": theme("visible")})
    addon = parse(Product, {"id": 2, "slug": "a", "name": "A", "type": "package", "amount": "1", "duration": 1,
                            "duration_unit": "month", "recurring": True, "limitations": theme("hidden")})
    member = parse(Membership, {"id": 5, "customer_id": 1, "plan_id": 1, "addon_products": {"2": 1},
                                "amount": "11", "status": "active"})
    site = parse(Site, {"blog_id": 9, "membership_id": 5, "customer_id": 1, "type": "customer_owned",
                        "path": "/s/"})

    def visibility(memo: QuotaMemo) -> str:
        themes = memo(member, [plan, addon], site).themes
        assert themes is not None and themes.limit is not None
        return str(themes.limit["twentytwenty"].visibility)

    assert visibility(QuotaMemo(um_version="2.4.12")) != visibility(QuotaMemo(um_version="2.4.13-beta.1"))
    assert visibility(QuotaMemo(um_version="2.4.13-beta.1")) == "hidden"
    assert visibility(QuotaMemo()) == visibility(QuotaMemo(um_version="2.4.12"))
