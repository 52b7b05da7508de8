"""UM mode: a membership's own override (UM's membership meta `wu_limitations`, which UM's REST returns empty) is
read from plugin-stub's `GET /wpbridge/v1/memberships/limitations`, tolerantly, and used by the limits merge; one
that cannot be read names the membership and the field and is never taken for "no override"."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from wpbridge.config import NetworkSettings
from wpbridge.errors import DataError
from wpbridge.limits import effective_limitations
from wpbridge.models import Limitations, Product
from wpbridge.network import Network, membership_override
from wpbridge.rest.transport import RetryPolicy

URL = "http://127.0.0.1:8999"
ROOT = URL + "/wp-json"
INFO_UM = {"plugin_version": "0.1.0", "mode": "um", "server_time": "2026-11-30T10:00:00Z", "batch_limit": 25}
INFO_STUB = {**INFO_UM, "mode": "stub"}
MEMBERSHIP = {"id": "5", "customer_id": "1", "plan_id": "2", "amount": "15.0000", "status": "active",
              "addon_products": [], "limitations": []}  # as UM's REST sends it: the override always empty


def make() -> Network:
    settings = NetworkSettings(name="t", url=URL, api_key="k", api_secret="s3cret-net")
    return Network(settings, retry=RetryPolicy(deadline=1, backoff_initial=0.001, backoff_max=0.001))


@pytest.mark.parametrize(("row", "disk", "sites"), [
    ({"membership_id": 5, "limitations": {}, "unreadable": None}, None, None),  # none stored
    ({"membership_id": 5, "limitations": [], "unreadable": None}, None, None),  # PHP's empty array
    ({"membership_id": 5}, None, None),
    ({"membership_id": "5", "limitations": {"disk_space": {"enabled": True, "limit": "2500"}}}, 2500, None),
    ({"membership_id": 5, "limitations": {"disk_space": '{"enabled":true,"limit":900}',  # a JSON-string module
                                          "sites": {"enabled": "1", "limit": ""}}}, 900, 0),  # "" = unlimited (0)
    ({"membership_id": 5, "limitations": {"sites": {"enabled": True, "limit": 3}, "extra_module": {"x": 1}}},
     None, 3),  # a module wpbridge does not know is ignored, like an extra key
])
def test_override_payload_shapes_are_read_tolerantly(row: dict[str, Any], disk: int | None,
                                                     sites: int | None) -> None:
    mid, got = membership_override(row)
    assert mid == 5 and isinstance(got, Limitations)
    assert (got.disk_space.limit if got.disk_space else None) == disk
    assert (got.sites.limit if got.sites else None) == sites


@pytest.mark.parametrize(("row", "field", "text"), [
    ({"membership_id": 5, "limitations": None,
      "unreadable": "the stored wu_limitations is not a limitations array (string, 9 bytes)"},
     "limitations", "not a limitations array"),
    ({"membership_id": 5, "limitations": "garbage"}, "limitations", "cannot be read"),
    ({"membership_id": 5, "limitations": {"disk_space": {"enabled": True, "limit": "lots"}}},
     "limitations.disk_space.limit", "disk_space"),
])
def test_an_override_that_cannot_be_read_names_the_membership_and_field(row: dict[str, Any], field: str,
                                                                        text: str) -> None:
    mid, got = membership_override(row)
    assert mid == 5 and isinstance(got, DataError)
    assert got.record_id == 5 and got.field is not None and got.field.startswith(field)
    assert str(got).startswith("Membership 5: ") and text in str(got)


@responses.activate
def test_um_mode_memberships_carry_their_override_and_the_merge_uses_it() -> None:
    responses.get(ROOT + "/wpbridge/v1/info", json=INFO_UM)
    responses.get(ROOT + "/wu/v2/membership", json=[MEMBERSHIP, {**MEMBERSHIP, "id": "6"},
                                                    {**MEMBERSHIP, "id": "7"}, {**MEMBERSHIP, "id": "8"}],
                  headers={"X-WP-Total": "4"})
    responses.get(ROOT + "/wpbridge/v1/memberships/limitations", json={"limitations": [
        {"membership_id": 5, "limitations": {"disk_space": {"enabled": True, "limit": 2500}}, "unreadable": None},
        {"membership_id": 6, "limitations": {}, "unreadable": None},
        {"membership_id": 7, "limitations": None, "unreadable": "the stored wu_limitations is not a limitations "
                                                               "array (string, 9 bytes)"},
    ]})  # 8: not returned (deleted meanwhile)
    net = make()
    got = {m.id: m for m in net.memberships.list()}
    assert sorted(got) == [5, 6]
    assert [(e.record_id, e.field) for e in net.unreadable] == [(7, "limitations"), (8, "limitations")]
    calls = [c for c in responses.calls if "memberships/limitations" in (c.request.url or "")]
    assert len(calls) == 1  # one request per 100 memberships
    assert parse_qs(urlsplit(calls[0].request.url or "").query)["membership_ids"] == ["5,6,7,8"]
    plan = Product.model_validate({"id": 2, "slug": "p", "type": "plan",
                                   "limitations": {"disk_space": {"enabled": True, "limit": 500},
                                                   "sites": {"enabled": True, "limit": 1}}})
    mine = effective_limitations(got[5], [plan])
    assert mine.disk_space is not None and mine.disk_space.limit == 2500  # override mode: replaces, not adds
    assert mine.sites is not None and mine.sites.limit == 1
    plain = effective_limitations(got[6], [plan])
    assert plain.disk_space is not None and plain.disk_space.limit == 500


@responses.activate
def test_um_mode_single_membership_raises_on_an_unreadable_override() -> None:
    responses.get(ROOT + "/wpbridge/v1/info", json=INFO_UM)
    responses.get(ROOT + "/wu/v2/membership/5", json=MEMBERSHIP)
    responses.get(ROOT + "/wpbridge/v1/memberships/limitations", json={"limitations": [
        {"membership_id": 5, "limitations": None, "unreadable": "broken"}]})
    with pytest.raises(DataError, match=r"Membership 5: field 'limitations'.*broken"):
        make().memberships.get(5)


@responses.activate
def test_um_mode_single_membership_and_an_old_plugin_without_the_route() -> None:
    responses.get(ROOT + "/wpbridge/v1/info", json=INFO_UM)
    responses.get(ROOT + "/wu/v2/membership/5", json=MEMBERSHIP)
    responses.get(ROOT + "/wpbridge/v1/memberships/limitations", json={"limitations": [
        {"membership_id": 5, "limitations": {"sites": {"enabled": True, "limit": 4}}}]})
    m = make().memberships.get(5)
    assert m.limitations.sites is not None and m.limitations.sites.limit == 4
    responses.replace(responses.GET, ROOT + "/wpbridge/v1/memberships/limitations", status=404,
                      json={"code": "rest_no_route", "message": "No route", "data": {"status": 404}})
    with pytest.raises(DataError, match="update plugin-stub"):
        make().memberships.get(5)


@responses.activate
def test_stub_mode_reads_the_membership_as_served() -> None:
    responses.get(ROOT + "/wpbridge/v1/info", json=INFO_STUB)
    responses.get(ROOT + "/wu/v2/membership/5", json={**MEMBERSHIP, "limitations": {"sites": {"limit": 2}}})
    m = make().memberships.get(5)
    assert m.limitations.sites is not None and m.limitations.sites.limit == 2
    assert not [c for c in responses.calls if "memberships/limitations" in (c.request.url or "")]
