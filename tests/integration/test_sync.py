"""`wpbridge sync` against the real sandbox, run as the real command (a subprocess, as cron runs it).

This module makes its own customer, memberships and sites and removes them at the end; the faults it injects are
cleared. Runs that must not touch the rest of the shared network use `--only-membership`; the full-network runs
only bring quotas to what the memberships say, which is the state the seed leaves.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from wpbridge.config import NetworkSettings
from wpbridge.limits import differing_modules, effective_limitations
from wpbridge.models import Limitations, ScheduledChange
from wpbridge.network import Network
from wpbridge.rest.transport import route
from wpbridge.workflows.sync import SUSPENDED_QUOTA
from wpbridge.workflows.sync.report import validate_report

WPBRIDGE = str(Path(sys.executable).with_name("wpbridge"))
STALE = Limitations.model_validate({"disk_space": {"enabled": True, "limit": 3}})
N_SITES = 8


@dataclass
class Mine:
    """What this module created: memberships on Basic (plan 2) or Premium (plan 3), one site each."""

    customer_id: int
    memberships: list[int]
    blog_of: dict[int, int]
    plans: dict[int, int]

    @property
    def blogs(self) -> list[int]:
        return [self.blog_of[m] for m in self.memberships]

    def only(self, memberships: Sequence[int] | None = None) -> list[str]:
        return [arg for m in (memberships or self.memberships) for arg in ("--only-membership", str(m))]


@pytest.fixture(scope="module")
def net(sandbox: Any) -> Iterator[Network]:
    settings = NetworkSettings(name="sandbox", url=sandbox.url, api_key=sandbox.api_key,
                               api_secret=sandbox.api_secret)
    with Network(settings) as network:
        yield network


@pytest.fixture(scope="module")
def env(sandbox: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a `wpbridge sync` subprocess: the sandbox's credentials, no config file."""
    home = tmp_path_factory.mktemp("home")
    out = {k: v for k, v in os.environ.items() if not k.startswith("WPBRIDGE_")}
    out.update(WPBRIDGE_URL=sandbox.url, WPBRIDGE_API_KEY=sandbox.api_key, WPBRIDGE_API_SECRET=sandbox.api_secret,
               HOME=str(home))
    return out


@pytest.fixture(scope="module")
def mine(net: Network) -> Iterator[Mine]:
    customer = net.customers.create({"user_id": 1})
    cid = int(customer["id"])
    memberships: list[int] = []
    blog_of: dict[int, int] = {}
    plans: dict[int, int] = {}
    try:
        for i in range(N_SITES):
            plan = 3 if i % 2 else 2
            m = net.memberships.create({"customer_id": cid, "plan_id": plan, "status": "active",
                                          "amount": "39" if plan == 3 else "15", "recurring": True, "duration": 1,
                                          "duration_unit": "month"})
            mid = int(m["id"])
            memberships.append(mid)
            plans[mid] = plan
            site = net.sites.create({"path": f"/sync-it-{mid}/", "title": f"sync {mid}", "type": "customer_owned",
                                       "membership_id": mid, "customer_id": cid})
            blog_of[mid] = int(site["blog_id"])
        yield Mine(cid, memberships, blog_of, plans)
    finally:
        _faults(net, [])
        for mid in memberships:
            net.transport.request("DELETE", route("wpbridge/v1/memberships", mid, "scheduled-change"))
        for blog in blog_of.values():
            net.transport.request("DELETE", route("wu/v2/site", blog))
        for mid in memberships:
            net.transport.request("DELETE", route("wu/v2/membership", mid))
        net.transport.request("DELETE", route("wu/v2/customer", cid))


def _faults(net: Network, blog_ids: list[int]) -> None:
    net.transport.request("PUT", "/wpbridge/v1/test/faults", json_body={"fail_quota_blog_ids": blog_ids,
                                                                        "status": 500})


def run(env: dict[str, str], *args: str, step_delay: float | None = None) -> subprocess.CompletedProcess[str]:
    extra = {"WPBRIDGE_SYNC_STEP_DELAY": str(step_delay)} if step_delay else {}
    return subprocess.run([WPBRIDGE, "sync", *args], env={**env, **extra}, capture_output=True, text=True,
                          timeout=300, check=False, stdin=subprocess.DEVNULL)


def start(env: dict[str, str], *args: str, step_delay: float) -> subprocess.Popen[str]:
    return subprocess.Popen([WPBRIDGE, "sync", *args], env={**env, "WPBRIDGE_SYNC_STEP_DELAY": str(step_delay)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)


def rerun_until_unlocked(env: dict[str, str], *args: str, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    """Run sync until it is no longer refused by a killed run's lock (which lapses after its ttl)."""
    deadline = time.monotonic() + timeout
    while True:
        done = run(env, *args)
        if "another sync is running" not in done.stderr or time.monotonic() > deadline:
            return done
        time.sleep(0.5)


def report_of(path: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(path.read_text())
    assert validate_report(report) == []
    return report


def expected(net: Network, mine: Mine) -> dict[int, Limitations]:
    catalog = net.products.catalog()
    members = {m.id: m for m in net.memberships.list(id=mine.memberships)}
    sites = {s.blog_id: s for mid in mine.memberships for s in net.sites.list(membership_id=mid)}
    return {b: effective_limitations(members[s.membership_id], catalog, site=s)  # type: ignore[index]
            for b, s in sites.items()}


def stored(net: Network, blogs: Sequence[int]) -> dict[int, Limitations | None]:
    return dict(net.quotas.list(blogs))


def make_stale(net: Network, blogs: Sequence[int]) -> None:
    result = net.quotas.put_many(dict.fromkeys(blogs, STALE))
    assert result.ok


def wait_for(condition: Any, timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def schedule(net: Network, mid: int, plan_id: int, when: datetime) -> None:
    amount = "15" if plan_id == 2 else "39"
    net.schedule.put(ScheduledChange(membership_id=mid, scheduled_for=when,
                                     target={"plan_id": plan_id, "amount": amount}))


# --------------------------------------------------------------------------- tests


def test_quotas_reconciled_then_a_second_run_writes_nothing(net: Network, env: dict[str, str], mine: Mine,
                                                             tmp_path: Path) -> None:
    stale = mine.blogs[::2]
    make_stale(net, stale)
    first = run(env, "--report", str(tmp_path / "first.json"))
    assert first.returncode == 0, first.stderr
    report = report_of(tmp_path / "first.json")
    written = {c["blog_id"] for c in report["changes"] if c["status"] == "written"}
    assert set(stale) <= written
    for change in report["changes"]:
        if change["blog_id"] in stale:
            assert change["before"] == STALE.to_wire()
    want = expected(net, mine)
    have = stored(net, mine.blogs)
    assert all(not differing_modules(want[b], have[b]) for b in mine.blogs)
    assert report["summary"]["writes"] == len(written) and report["summary"]["verified"] == len(written)

    second = run(env, "--report", str(tmp_path / "second.json"))
    assert second.returncode == 0, second.stderr
    assert "0 changes" in second.stdout and second.stdout.count("\n") == 1 and second.stderr == ""
    again = report_of(tmp_path / "second.json")
    assert again["summary"]["writes"] == 0 and again["changes"] == []
    assert again["summary"]["sites_checked"] >= N_SITES


def test_due_downgrade_is_applied_once(net: Network, env: dict[str, str], mine: Mine, tmp_path: Path) -> None:
    premium = next(m for m in mine.memberships if mine.plans[m] == 3)
    later = next(m for m in mine.memberships if mine.plans[m] == 3 and m != premium)
    schedule(net, premium, 2, datetime.now(UTC) - timedelta(minutes=5))
    schedule(net, later, 2, datetime.now(UTC) + timedelta(days=3))
    try:
        done = run(env, *mine.only(), "--report", str(tmp_path / "r.json"))
        assert done.returncode == 0, done.stderr
        report = report_of(tmp_path / "r.json")
        s = report["summary"]
        assert (s["scheduled_changes_due"], s["scheduled_changes_applied"], s["memberships_updated"]) == (1, 1, 1)
        assert report["scheduled_changes"][0]["before"]["plan_id"] == 3
        assert net.memberships.get(premium).plan_id == 2 and net.memberships.get(later).plan_id == 3
        assert net.schedule.get(premium) is None and net.schedule.get(later) is not None
        quota = net.quotas.get(mine.blog_of[premium])
        assert quota.disk_space is not None and quota.disk_space.limit == 1000  # Basic's, not Premium's 5000
        assert [c["blog_id"] for c in report["changes"]] == [mine.blog_of[premium]]

        rerun = run(env, *mine.only(), "--report", str(tmp_path / "r2.json"))
        assert rerun.returncode == 0 and "0 changes" in rerun.stdout
        assert report_of(tmp_path / "r2.json")["summary"]["writes"] == 0
        # a run at a later `now` applies the later change, and only that one
        future = (datetime.now(UTC) + timedelta(days=4)).isoformat()
        third = run(env, *mine.only(), "--now", future, "--report", str(tmp_path / "r3.json"))
        assert third.returncode == 0
        assert [c["membership_id"] for c in report_of(tmp_path / "r3.json")["scheduled_changes"]] == [later]
    finally:
        for mid in (premium, later):
            net.memberships.update(mid, {"plan_id": 3, "amount": "39"})
            net.schedule.delete(mid)
        run(env, *mine.only())


def test_kill_mid_run_then_rerun_completes_without_double_application(net: Network, env: dict[str, str],
                                                                      mine: Mine, tmp_path: Path) -> None:
    """SIGKILL right after the first due change was written (before it was cleared); the rerun must not write
    that membership again, must apply the others once, and must finish the quotas."""
    premiums = [m for m in mine.memberships if mine.plans[m] == 3][:3]
    due = datetime.now(UTC) - timedelta(minutes=1)
    for mid in premiums:
        schedule(net, mid, 2, due)
    make_stale(net, [mine.blog_of[m] for m in mine.memberships if m not in premiums])
    try:
        proc = start(env, *mine.only(), "--lock-ttl", "10", step_delay=3.0)
        first = premiums[0]  # due changes are applied in (scheduled_for, membership_id) order
        wait_for(lambda: net.memberships.get(first).plan_id == 2, what="the first due change to be written")
        assert net.schedule.get(first) is not None  # written, not yet cleared: the worst moment
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL
        assert [net.memberships.get(m).plan_id for m in premiums[1:]] == [3, 3]

        refused = run(env, *mine.only())  # the killed run's lock has not lapsed yet
        assert refused.returncode == 1 and "another sync is running" in refused.stderr

        rerun = rerun_until_unlocked(env, *mine.only(), "--report", str(tmp_path / "rerun.json"))
        assert rerun.returncode == 0, rerun.stderr
        s = report_of(tmp_path / "rerun.json")["summary"]
        assert s["scheduled_changes_applied"] == 3 and s["scheduled_changes_cleared"] == 3
        assert s["memberships_updated"] == 2, "the membership written before the kill must not be written again"
        assert all(net.memberships.get(m).plan_id == 2 for m in premiums)
        assert all(net.schedule.get(m) is None for m in premiums)
        want, have = expected(net, mine), stored(net, mine.blogs)
        assert all(not differing_modules(want[b], have[b]) for b in mine.blogs)

        last = run(env, *mine.only(), "--report", str(tmp_path / "last.json"))
        assert last.returncode == 0 and report_of(tmp_path / "last.json")["summary"]["writes"] == 0
    finally:
        for mid in premiums:
            net.memberships.update(mid, {"plan_id": 3, "amount": "39"})
            net.schedule.delete(mid)
        assert rerun_until_unlocked(env, *mine.only()).returncode == 0


def test_kill_during_quota_writes_leaves_nothing_to_redo_twice(net: Network, env: dict[str, str], mine: Mine,
                                                               tmp_path: Path) -> None:
    """Killed during the quota phase: the rerun writes exactly the sites the killed run had not reached."""
    make_stale(net, mine.blogs)
    proc = start(env, *mine.only(), "--lock-ttl", "5", "--batch-size", "2", step_delay=4.0)
    try:
        wait_for(lambda: any(q != STALE for q in stored(net, mine.blogs).values()), what="the first quota batch")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    still_stale = [b for b, q in stored(net, mine.blogs).items() if q == STALE]
    assert 0 < len(still_stale) < N_SITES, "the kill must land between batches"
    done = rerun_until_unlocked(env, *mine.only(), "--report", str(tmp_path / "r.json"))
    assert done.returncode == 0, done.stderr
    report = report_of(tmp_path / "r.json")
    assert sorted(c["blog_id"] for c in report["changes"]) == sorted(still_stale)
    assert report["summary"]["writes"] == len(still_stale)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_stops_at_a_safe_point_with_the_lock_released_and_an_interrupted_report(
        net: Network, env: dict[str, str], mine: Mine, tmp_path: Path, sig: signal.Signals, code: int) -> None:
    make_stale(net, mine.blogs)
    path = tmp_path / "r.json"
    path.write_text('{"from": "an earlier run"}')
    proc = start(env, *mine.only(), "--batch-size", "2", "--report", str(path), step_delay=2.0)
    try:
        wait_for(lambda: any(q != STALE for q in stored(net, mine.blogs).values()), what="the first quota batch")
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, err
    assert f"{sig.name} received" in err and out.startswith("sync (interrupted): ")
    report = report_of(path)
    written = sorted(c["blog_id"] for c in report["changes"] if c["status"] == "written")
    assert report["interrupted"] == sig.name and 0 < len(written) < N_SITES
    still_stale = sorted(b for b, q in stored(net, mine.blogs).items() if q == STALE)
    assert sorted(written + still_stale) == sorted(mine.blogs), "the report says exactly what was written"
    done = run(env, *mine.only(), "--report", str(path))  # at once: the lock was released, not left to lapse
    assert done.returncode == 0, done.stderr
    assert sorted(c["blog_id"] for c in report_of(path)["changes"]) == still_stale


def test_a_concurrent_second_sync_is_refused(net: Network, env: dict[str, str], mine: Mine) -> None:
    make_stale(net, mine.blogs[:1])
    holder = start(env, *mine.only(), step_delay=4.0)
    try:
        wait_for(lambda: stored(net, mine.blogs[:1])[mine.blogs[0]] != STALE, what="the first run to write")
        second = run(env, *mine.only())
        assert second.returncode == 1
        assert "another sync is running on this network (owner wpbridge-sync-" in second.stderr
        assert "not starting" in second.stderr
    finally:
        _, err = holder.communicate(timeout=60)
    assert holder.returncode == 0, err
    assert run(env, *mine.only()).returncode == 0  # the lock was released at the end of the first run


def test_failing_writes_exit_1_with_the_items_in_the_report(net: Network, env: dict[str, str], mine: Mine,
                                                            tmp_path: Path) -> None:
    stale = mine.blogs[:5]
    failing = stale[1:3]
    make_stale(net, stale)
    _faults(net, failing)
    try:
        done = run(env, *mine.only(), "--report", str(tmp_path / "r.json"))
    finally:
        _faults(net, [])
    assert done.returncode == 1
    assert all(f"site {b}:" in done.stderr for b in failing)
    report = report_of(tmp_path / "r.json")
    assert sorted(e["blog_id"] for e in report["errors"]) == sorted(failing)
    assert {(e["stage"], e["status"]) for e in report["errors"]} == {("quota_write", 500)}
    assert {c["blog_id"]: c["status"] for c in report["changes"]} == {
        b: ("failed" if b in failing else "written") for b in stale}
    assert report["summary"]["writes"] == 3 and report["summary"]["exit_code"] == 1
    have = stored(net, stale)
    assert [have[b] == STALE for b in stale] == [b in failing for b in stale]
    fixed = run(env, *mine.only(), "--report", str(tmp_path / "fixed.json"))
    assert fixed.returncode == 0 and report_of(tmp_path / "fixed.json")["summary"]["writes"] == 2


def test_suspend_policy_and_dry_run(net: Network, env: dict[str, str], mine: Mine, tmp_path: Path) -> None:
    mid = mine.memberships[-1]
    blog = mine.blog_of[mid]
    net.memberships.update(mid, {"status": "expired"})
    try:
        kept = run(env, *mine.only([mid]), "--report", str(tmp_path / "keep.json"))
        assert kept.returncode == 0 and report_of(tmp_path / "keep.json")["summary"]["sites_skipped"] == 1
        dry = run(env, *mine.only([mid]), "--inactive-policy", "suspend", "--dry-run")
        assert dry.returncode == 0 and f"would write site {blog}" in dry.stderr and "would" not in dry.stdout
        assert differing_modules(net.quotas.get(blog), SUSPENDED_QUOTA)  # nothing written by the dry run
        done = run(env, *mine.only([mid]), "--inactive-policy", "suspend")
        assert done.returncode == 0
        assert not differing_modules(net.quotas.get(blog), SUSPENDED_QUOTA)
    finally:
        net.memberships.update(mid, {"status": "active"})
        assert run(env, *mine.only([mid])).returncode == 0
    assert not differing_modules(net.quotas.get(blog), expected(net, mine)[blog])


def test_usage_errors_exit_2(env: dict[str, str]) -> None:
    unknown = run(env, "--only-membership", "987654")
    assert unknown.returncode == 2 and "--only-membership 987654: no membership" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    assert run(env, "--now", "tomorrow").returncode == 2
