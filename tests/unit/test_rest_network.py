"""The Network facade: the routes it calls, the models it returns, read-back, locks, scheduled changes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from wpbridge.config import NetworkSettings
from wpbridge.errors import Conflict, DataError, NotFound
from wpbridge.limits import differing_modules
from wpbridge.managers import imports
from wpbridge.managers.flavor import STUB, UM, flavor_of
from wpbridge.managers.memberships import membership_route
from wpbridge.managers.payments import payment_route
from wpbridge.managers.quotas import quota_route
from wpbridge.managers.schedule import scheduled_change_route
from wpbridge.models import Limitations, Membership, NetworkInfo, ScheduledChange
from wpbridge.network import Network
from wpbridge.rest.transport import RetryPolicy

URL = "http://127.0.0.1:8999"
ROOT = URL + "/wp-json"
MEMBERSHIP = {"id": 5, "customer_id": 1, "plan_id": 2, "amount": "15.0000", "status": "active",
              "addon_products": {"31": 2}, "date_expiration": "2026-12-01 10:00:00"}


INFO_STUB = {"plugin_version": "0.1.0", "mode": "stub", "server_time": "2026-11-30T10:00:00Z", "batch_limit": 25}


def make(**kw: Any) -> Network:
    settings = NetworkSettings(name="t", url=URL, api_key="k", api_secret="s3cret-net", **kw)
    return Network(settings, retry=RetryPolicy(deadline=1, backoff_initial=0.001, backoff_max=0.001))


def qs(i: int = 0) -> dict[str, list[str]]:
    return parse_qs(urlsplit(responses.calls[i].request.url or "").query)


@responses.activate
def test_memberships_filters_and_models() -> None:
    responses.get(ROOT + "/wpbridge/v1/info", json=INFO_STUB)
    responses.get(ROOT + "/wu/v2/membership", json=[MEMBERSHIP], headers={"X-WP-Total": "1"})
    got = list(make().memberships.list(status=["active", "trialing"], customer_id=1))
    assert got == [Membership.model_validate(MEMBERSHIP)] and got[0].addon_products == {31: 2}
    q = qs(1)
    assert q["status__in[]"] == ["active", "trialing"] and q["customer_id"] == ["1"] and "status" not in q


@responses.activate
def test_a_record_that_does_not_fit_is_named_and_the_listing_goes_on() -> None:
    responses.get(ROOT + "/wpbridge/v1/info", json=INFO_STUB)
    responses.get(ROOT + "/wu/v2/membership", json=[{**MEMBERSHIP, "id": 77, "duration_unit": "fortnight"},
                                                    MEMBERSHIP])
    net = make()
    assert [m.id for m in net.memberships.list()] == [5]
    assert len(net.unreadable) == 1
    err = net.unreadable[0]
    assert isinstance(err, DataError) and err.record_id == 77 and err.field == "duration_unit"
    assert "Membership 77: field 'duration_unit'" in str(err)
    responses.get(ROOT + "/wu/v2/membership/77", json={**MEMBERSHIP, "id": 77, "duration_unit": "fortnight"})
    with pytest.raises(DataError, match="Membership 77: field 'duration_unit'"):
        net.memberships.get(77)  # a single read still fails: nothing is decided from a record that cannot be read


@responses.activate
def test_sites_deduplicate_by_blog_id_and_single_reads() -> None:
    responses.get(ROOT + "/wpbridge/v1/info", json=INFO_STUB)
    responses.get(ROOT + "/wu/v2/site", json=[{"blog_id": 2, "id": 2, "membership_id": 5}, {"blog_id": 2},
                                              {"blog_id": 3, "membership_id": 5}])
    responses.get(ROOT + "/wu/v2/site/3", json={"blog_id": 3, "title": "Three"})
    responses.get(ROOT + "/wu/v2/membership/5", json=MEMBERSHIP)
    responses.get(ROOT + "/wu/v2/customer/1", json={"id": 1, "user_id": 4})
    net = make()
    assert [s.blog_id for s in net.sites.list(membership_id=5)] == [2, 3]
    assert net.sites.get(3).title == "Three" and net.memberships.get(5).id == 5 and net.customers.get(1).user_id == 4
    assert qs(1)["membership_id"] == ["5"]


@responses.activate
def test_catalog_is_one_call() -> None:
    responses.get(ROOT + "/wpbridge/v1/catalog", json={"products": [
        {"id": 1, "slug": "free", "limitations": {"disk_space": {"enabled": True, "limit": 100}},
         "price_variations": [{"duration": 1, "duration_unit": "year", "amount": "100"}]}], "discount_codes": []})
    products = make().products.catalog()
    assert len(responses.calls) == 1 and products[0].limitations.disk_space is not None
    assert products[0].limitations.disk_space.limit == 100 and products[0].price_variations[0].duration_unit == "year"


@responses.activate
def test_usage_is_chunked_by_100() -> None:
    def reply(req: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        ids = parse_qs(urlsplit(req.url or "").query)["blog_ids"][0].split(",")
        rows = [{"blog_id": int(i), "post_types": {"post": 1}, "disk_used_mb": "1.25"} for i in ids if int(i) != 7]
        return 200, {}, json.dumps({"usage": rows})

    responses.add_callback(responses.GET, ROOT + "/wpbridge/v1/usage", callback=reply)
    usage = make().usage.get(range(1, 251))
    assert len(responses.calls) == 3 and len(usage) == 249 and 7 not in usage
    assert str(usage[1].disk_used_mb) == "1.25"


@responses.activate
def test_site_quota_read_and_write() -> None:
    responses.get(ROOT + "/wpbridge/v1/sites/2/quota", json=[])
    stored = {"disk_space": {"enabled": True, "limit": 600}}
    responses.put(ROOT + "/wpbridge/v1/sites/2/quota", json=stored)
    net = make()
    assert net.quotas.get(2) == Limitations()
    limits = Limitations.model_validate(stored)
    assert net.quotas.put(2, limits) == limits
    assert json.loads(responses.calls[1].request.body or b"") == stored


@responses.activate
def test_site_quotas_paginated_and_by_ids() -> None:
    responses.get(ROOT + "/wpbridge/v1/quotas", json=[{"blog_id": 1, "quota": None},
                                                      {"blog_id": 2, "quota": {"visits": {"limit": 5}}}])
    net = make()
    rows = dict(net.quotas.list())
    assert rows[1] is None and rows[2] is not None and rows[2].visits is not None and rows[2].visits.limit == 5
    list(net.quotas.list([5, 6]))
    assert qs(1)["blog_ids"] == ["5,6"] and "number" not in qs(1)


@responses.activate
def test_verify_quotas_compares_semantically() -> None:
    expected = {
        2: Limitations.model_validate({"disk_space": {"enabled": True, "limit": 0}}),
        3: Limitations.model_validate({"visits": {"limit": 10}}),
        4: Limitations.model_validate({"users": {"limit": {"editor": {"number": 3}}}}),
        5: Limitations(),
        6: Limitations.model_validate({"sites": {"limit": 1}}),
    }
    responses.get(ROOT + "/wpbridge/v1/quotas", json=[
        {"blog_id": 2, "quota": {"disk_space": '{"enabled": true, "limit": ""}'}},  # "" is 0, a JSON string module
        {"blog_id": 3, "quota": {"visits": {"enabled": True, "limit": 11}}},
        {"blog_id": 4, "quota": {"users": {"enabled": True, "limit": {"editor": {"enabled": True, "number": "3"}}},
                                 "themes": None}},
        {"blog_id": 5, "quota": None},
    ])
    mismatches = make().quotas.verify(expected)
    assert [(m.blog_id, m.modules) for m in mismatches] == [(3, ("visits",)), (6, ("sites",))]
    assert str(mismatches[1]) == "site 6: no quota stored"


def test_differing_modules_treats_absent_and_none_alike() -> None:
    a = Limitations.model_validate({"visits": {"limit": 3}})
    b = Limitations.model_validate({"visits": {"enabled": True, "limit": 3}, "themes": None})
    assert differing_modules(a, b) == ()
    assert differing_modules(Limitations(), None) == ()


@responses.activate
def test_update_membership_puts_absolute_state() -> None:
    from decimal import Decimal

    responses.put(ROOT + "/wu/v2/membership/5", status=503)
    responses.put(ROOT + "/wu/v2/membership/5", json={**MEMBERSHIP, "plan_id": 3})
    m = make().memberships.update(5, {"plan_id": 3, "amount": Decimal("20.00")})
    assert m.plan_id == 3 and len(responses.calls) == 2
    assert json.loads(responses.calls[1].request.body or b"") == {"plan_id": 3, "amount": "20.00"}


@responses.activate
def test_create_looks_a_product_up_by_slug_after_a_timeout() -> None:
    responses.post(ROOT + "/wu/v2/product", body=requests.exceptions.ReadTimeout("timed out"))
    responses.get(ROOT + "/wu/v2/product", json=[{"id": 8, "slug": "gold-x"}, {"id": 9, "slug": "gold"}])
    assert make().products.create({"slug": "gold", "name": "Gold"}) == {"id": 9, "slug": "gold"}
    assert [c.request.method for c in responses.calls] == ["POST", "GET"] and qs(1)["slug"] == ["gold"]


@responses.activate
def test_scheduled_changes() -> None:
    change = {"membership_id": 5, "scheduled_for": "2026-12-01T10:00:00Z", "target": {"plan_id": 2}, "note": "down"}
    responses.get(ROOT + "/wpbridge/v1/memberships/5/scheduled-change", json=change)
    responses.get(ROOT + "/wpbridge/v1/memberships/6/scheduled-change", status=404,
                  json={"code": "wpbridge_no_scheduled_change", "message": "none", "data": {"status": 404}})
    responses.get(ROOT + "/wpbridge/v1/memberships/7/scheduled-change", status=404,
                  json={"code": "rest_no_route", "message": "No route", "data": {"status": 404}})
    responses.get(ROOT + "/wpbridge/v1/scheduled-changes", json=[change], headers={"X-WP-Total": "1"})
    responses.put(ROOT + "/wpbridge/v1/memberships/5/scheduled-change", json=change)
    responses.delete(ROOT + "/wpbridge/v1/memberships/5/scheduled-change", json={"deleted": True})
    net = make()
    got = net.schedule.get(5)
    assert got is not None and got.scheduled_for == datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert net.schedule.get(6) is None
    with pytest.raises(NotFound):
        net.schedule.get(7)
    due = list(net.schedule.list(due_before=datetime(2027, 1, 1, tzinfo=UTC)))
    assert [c.membership_id for c in due] == [5]
    assert parse_qs(urlsplit(responses.calls[3].request.url or "").query)["due_before"] == ["2027-01-01T00:00:00Z"]
    stored = net.schedule.put(ScheduledChange.model_validate(change))
    assert stored.target == {"plan_id": 2}
    assert json.loads(responses.calls[4].request.body or b"")["scheduled_for"] == "2026-12-01T10:00:00Z"
    net.schedule.delete(5)
    assert responses.calls[5].request.method == "DELETE"


@responses.activate
def test_locks() -> None:
    responses.post(ROOT + "/wpbridge/v1/locks/sync", json={"name": "sync", "owner": "a", "expires_at": "x"})
    responses.post(ROOT + "/wpbridge/v1/locks/sync", status=409, json={
        "code": "wpbridge_locked", "message": "Locked", "data": {"status": 409, "owner": "a",
                                                                 "expires_at": "2026-11-26T07:00:00Z"}})
    responses.delete(ROOT + "/wpbridge/v1/locks/sync", json={"released": True})
    net = make()
    assert net.locks.acquire("sync", "a", 600)["owner"] == "a"
    assert json.loads(responses.calls[0].request.body or b"") == {"owner": "a", "ttl": 600}
    with pytest.raises(Conflict) as err:
        net.locks.acquire("sync", "b", 600)
    assert "lock 'sync' is held by another run (a) until 2026-11-26T07:00:00Z" in str(err.value)
    net.locks.release("sync", "a")
    assert qs(2) == {"owner": ["a"]}


@responses.activate
def test_info_auth_and_context_manager() -> None:
    responses.get(ROOT + "/wpbridge/v1/info", json={"plugin_version": "1", "mode": "stub",
                                                    "server_time": "2026-11-26T06:38:31Z", "batch_limit": 10})
    responses.get(ROOT + "/wu/v2/auth", json={"success": True, "label": "Net"})
    with make() as net:
        assert net.info().batch_limit == 10 and net.check_auth()["success"] is True
        assert net.stats.requests == 2
        assert "s3cret-net" not in repr(net)


def test_attribute_access_makes_no_request() -> None:
    with responses.RequestsMock() as mock:  # fails on any unexpected request
        net = make()
        _ = (net.stats, net.settings, repr(net), net.sites, net.memberships, net.customers, net.products,
             net.discount_codes, net.usage, net.quotas, net.schedule, net.locks, net.imports, net.payments)
        assert len(mock.calls) == 0


def test_the_flavor_is_the_one_reading_of_the_mode() -> None:
    info = NetworkInfo.model_validate(INFO_STUB)
    assert flavor_of(info) is STUB and flavor_of(info.model_copy(update={"mode": "um"})) is UM
    assert (STUB.computes_limits, UM.computes_limits) == (False, True)
    assert STUB.swap_keys is None and UM.swap_keys is not None and "plan_id" in UM.swap_keys
    assert (STUB.pick(stub="a", um="b"), UM.pick(stub="a", um="b")) == ("a", "b")


@responses.activate
@pytest.mark.parametrize("mode", ["stub", "um"])
def test_the_flavor_is_chosen_once_and_picks_the_sites_listing(mode: str) -> None:
    responses.get(ROOT + "/wpbridge/v1/info", json={**INFO_STUB, "mode": mode})
    site = {"blog_id": 7, "membership_id": 5, "customer_id": 1, "type": "customer_owned", "domain": "x.test",
            "path": "/"}
    responses.get(ROOT + "/wu/v2/site", json=[site], headers={"X-WP-Total": "1"})
    responses.get(ROOT + "/wpbridge/v1/sites", json=[site], headers={"X-WP-Total": "1"})
    net = make()
    assert [s.blog_id for s in net.sites.list(membership_id=5)] == [7]
    assert [s.blog_id for s in net.sites.list(membership_id=5)] == [7]
    paths = [urlsplit(c.request.url or "").path for c in responses.calls]
    listing = "/wp-json/wpbridge/v1/sites" if mode == "um" else "/wp-json/wu/v2/site"
    assert paths == ["/wp-json/wpbridge/v1/info", listing, listing]  # info read once
    assert net.flavor().name == mode


def test_write_routes_come_from_the_managers() -> None:
    assert membership_route(5) == "/wu/v2/membership/5"
    assert quota_route(12) == "/wpbridge/v1/sites/12/quota"
    assert scheduled_change_route(5) == "/wpbridge/v1/memberships/5/scheduled-change"
    assert payment_route(None, "settle") == "/wpbridge/v1/payments/{new}/settle"
    assert payment_route(9, "cancel") == "/wpbridge/v1/payments/9/cancel"
    item = imports.update("k", "customers", 3, {"email": "a@b.test"})
    assert (item.method, item.path) == ("PUT", "/wpbridge/v1/import/customers/3")
    assert imports.ensure(0, "products", {}).path == "/wpbridge/v1/import/products"
