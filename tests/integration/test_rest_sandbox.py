"""The REST edge against the real sandbox (WordPress multisite + plugin-stub): paging, auth, batches, read-back.

The sandbox is shared by the whole session, so every test here leaves the network as it found it: records it
creates are deleted, quotas it writes are restored, faults it injects are cleared.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from wpbridge.config import NetworkSettings
from wpbridge.errors import AuthError, Conflict, InvalidRequestError, NotFound
from wpbridge.models import Limitations, ScheduledChange
from wpbridge.network import Network
from wpbridge.rest.transport import RetryPolicy, route

N_CODES = 250


def settings_for(sandbox: Any, **kw: Any) -> NetworkSettings:
    return NetworkSettings(name="sandbox", url=sandbox.url, api_key=sandbox.api_key, api_secret=sandbox.api_secret,
                           **kw)


@pytest.fixture(scope="module")
def net(sandbox: Any) -> Iterator[Network]:
    with Network(settings_for(sandbox)) as network:
        yield network


@pytest.fixture(scope="module")
def codes(net: Network) -> Iterator[dict[int, str]]:
    """250 discount codes created for this module (through the safe create), deleted afterwards."""
    prefix = f"RT{uuid.uuid4().hex[:6].upper()}"

    def create(i: int) -> dict[str, Any]:
        return net.discount_codes.create({"code": f"{prefix}{i:03d}", "name": f"paging {i}", "type": "percentage",
                                                   "value": "5"})

    with ThreadPoolExecutor(4) as pool:
        made = list(pool.map(create, range(N_CODES)))
    created = {int(row["id"]): str(row["code"]) for row in made}
    assert len(created) == N_CODES
    yield created
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: net.transport.request("DELETE", route("wu/v2/discount_code", i)), created))


def test_lists_a_250_record_collection_across_pages(net: Network, codes: dict[int, str]) -> None:
    total = net.transport.get("/wu/v2/discount_code", {"per_page": 1, "page": 1}).total
    assert total is not None and total >= N_CODES
    before = net.stats.requests
    listed = list(net.discount_codes.list())
    assert net.stats.requests - before == math.ceil(total / 100)
    ids = [c.id for c in listed]
    assert len(ids) == total == len(set(ids)) and ids == sorted(ids)  # type: ignore[type-var]
    assert {c.id: c.code for c in listed if c.id in codes} == codes


def test_small_pages_and_concurrency_give_the_same_stream(sandbox: Any, codes: dict[int, str]) -> None:
    with Network(settings_for(sandbox, per_page=30, concurrency=1)) as one, \
            Network(settings_for(sandbox, per_page=30, concurrency=4)) as four:
        sequential = [c.id for c in one.discount_codes.list()]
        concurrent = [c.id for c in four.discount_codes.list()]
        assert sequential == concurrent and len(sequential) >= N_CODES
        assert one.stats.requests == four.stats.requests == math.ceil(len(sequential) / 30)


def test_filters_reach_the_server(net: Network) -> None:
    every = list(net.memberships.list())
    wanted = {"active", "trialing"}
    some = list(net.memberships.list(status=sorted(wanted)))
    assert some and {m.status for m in some} <= wanted
    assert {m.id for m in some} == {m.id for m in every if m.status in wanted}
    customer = every[0].customer_id
    assert {m.id for m in net.memberships.list(customer_id=customer)} == {m.id for m in every
                                                                          if m.customer_id == customer}


def test_wrong_credentials_are_an_auth_error(sandbox: Any) -> None:
    bad = NetworkSettings(name="sandbox", url=sandbox.url, api_key=sandbox.api_key, api_secret="wrong-secret-xyz")
    with Network(bad, retry=RetryPolicy(deadline=2)) as network:
        with pytest.raises(AuthError) as err:
            network.check_auth()
        assert err.value.status == 401 and err.value.path == "/wp-json/wu/v2/auth"
        assert "wrong-secret-xyz" not in str(err.value) and "wrong-secret-xyz" not in repr(err.value)
        with pytest.raises(AuthError):
            list(network.memberships.list())
        assert network.stats.requests == 2  # refused credentials are not retried


def test_environment_alone_configures_a_working_network(sandbox: Any, monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Any) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("WPBRIDGE_CONFIG", raising=False)
    monkeypatch.delenv("WPBRIDGE_NETWORK", raising=False)
    monkeypatch.setenv("WPBRIDGE_URL", sandbox.url)
    monkeypatch.setenv("WPBRIDGE_API_KEY", sandbox.api_key)
    monkeypatch.setenv("WPBRIDGE_API_SECRET", sandbox.api_secret)
    with Network.from_config() as network:
        assert network.check_auth()["success"] is True
        info = network.info()
        assert info.mode in ("stub", "um") and info.batch_limit >= 1


def test_errors_carry_code_field_and_path(net: Network) -> None:
    with pytest.raises(NotFound) as nf:
        net.memberships.get(987654)
    assert nf.value.code == "wu_rest_membership_invalid_id" and nf.value.path == "/wp-json/wu/v2/membership/987654"
    member = next(iter(net.memberships.list()))
    with pytest.raises(InvalidRequestError) as bad:
        net.memberships.update(member.id, {"status": "bogus"})
    assert bad.value.field == "status" and bad.value.status == 400
    assert net.memberships.get(member.id) == member  # a refused write changed nothing
    with pytest.raises(InvalidRequestError) as bad_quota:
        net.transport.request("PUT", route("wpbridge/v1/sites", 2, "quota"), json_body={"disk_space": "lots"})
    assert bad_quota.value.field is not None and "disk_space" in bad_quota.value.field


@pytest.fixture
def saved_quotas(net: Network) -> Iterator[dict[int, Limitations | None]]:
    """Every customer site's quota before the test, written back after it (never the main site's: it takes no
    quota, issue 20 item 7)."""
    main = {site.blog_id for site in net.sites.list() if site.is_main}
    saved = {blog: q for blog, q in net.quotas.list() if blog not in main}
    yield saved
    _faults(net, [])
    restore = {blog: q for blog, q in saved.items() if q is not None}
    assert net.quotas.put_many(restore).ok
    for blog, q in saved.items():
        if q is None:
            net.transport.request("DELETE", route("wpbridge/v1/sites", blog, "quota"))
    assert net.quotas.verify(restore) == []


def _faults(net: Network, blog_ids: list[int]) -> None:
    net.transport.request("PUT", "/wpbridge/v1/test/faults", json_body={"fail_quota_blog_ids": blog_ids,
                                                                        "status": 500})


def _quota(blog_id: int) -> Limitations:
    return Limitations.model_validate({
        "disk_space": {"enabled": True, "limit": 100 + blog_id},
        "post_types": {"enabled": True, "limit": {"post": {"enabled": True, "number": 10 * blog_id}}},
        "users": {"enabled": True, "limit": {"editor": {"enabled": False, "number": 0}}},
        "visits": {"enabled": True, "limit": 0},
    })


def test_batch_of_quota_writes_and_read_back(net: Network, saved_quotas: dict[int, Limitations | None]) -> None:
    blogs = sorted(saved_quotas)
    assert len(blogs) >= 6
    wanted = {blog: _quota(blog) for blog in blogs}
    net.info()  # the batch limit (and the mode) are read once per Network; earlier calls may have read them already
    before = net.stats.requests
    result = net.quotas.put_many(wanted, batch_limit=5)
    assert result.ok, [str(r.error) for r in result.failed]
    assert not result.fallback and result.batches == math.ceil(len(blogs) / 5)
    assert net.stats.requests - before == result.batches  # one request per batch, nothing else
    assert [r.blog_id for r in result] == blogs
    assert net.quotas.verify(wanted) == []
    assert net.quotas.get(blogs[0]) == wanted[blogs[0]]
    # a change made behind our back is caught by the read-back, module by module
    net.quotas.put(blogs[1], Limitations.model_validate({**wanted[blogs[1]].to_wire(),
                                                             "disk_space": {"enabled": True, "limit": 1}}))
    mismatches = net.quotas.verify(wanted)
    assert [(m.blog_id, m.modules) for m in mismatches] == [(blogs[1], ("disk_space",))]


def test_batch_reports_a_failing_site_and_writes_the_others(net: Network,
                                                            saved_quotas: dict[int, Limitations | None]) -> None:
    blogs = sorted(saved_quotas)[:6]
    _faults(net, [blogs[2]])
    wanted = {blog: _quota(blog) for blog in blogs}
    result = net.quotas.put_many(wanted)
    assert [(r.blog_id, r.status) for r in result.failed] == [(blogs[2], 500)]
    assert result.failed[0].error is not None and result.failed[0].error.path == (
        f"/wp-json/wpbridge/v1/sites/{blogs[2]}/quota")
    _faults(net, [])
    mismatches = net.quotas.verify(wanted)
    assert [m.blog_id for m in mismatches] == [blogs[2]]


def test_locks(net: Network) -> None:
    name = f"rest-test-{uuid.uuid4().hex[:8]}"
    mine, theirs = str(uuid.uuid4()), str(uuid.uuid4())
    assert net.locks.acquire(name, mine, 60)["owner"] == mine
    assert net.locks.acquire(name, mine, 60)["owner"] == mine  # refresh by the same owner
    with pytest.raises(Conflict) as err:
        net.locks.acquire(name, theirs, 60)
    assert err.value.data.get("owner") == mine and f"lock '{name}' is held" in str(err.value)
    net.locks.release(name, mine)
    assert net.locks.acquire(name, theirs, 60)["owner"] == theirs
    net.locks.release(name, theirs)


def test_scheduled_change_round_trip(net: Network) -> None:
    member = next(m for m in net.memberships.list() if net.schedule.get(m.id) is None)
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    change = ScheduledChange(membership_id=member.id, scheduled_for=when, target={"plan_id": member.plan_id},
                             note="rest integration test")
    try:
        stored = net.schedule.put(change)
        assert (stored.membership_id, stored.scheduled_for, stored.note) == (member.id, when, change.note)
        assert net.schedule.get(member.id) == stored
        due = [c.membership_id for c in net.schedule.list(due_before=when + timedelta(seconds=1))]
        assert member.id in due
        assert member.id not in [c.membership_id for c in net.schedule.list(due_before=when - timedelta(days=1))]
    finally:
        net.schedule.delete(member.id)
    assert net.schedule.get(member.id) is None
