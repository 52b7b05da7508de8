"""`net.sites.links_problem()` (what `check` and UM-mode `sync` refuse on): an empty network, or one whose only
sites belong to no customer, is usable; only a customer's site whose membership link cannot be read, or a listing
that cannot be read at all, is a problem (issue 21 item 2: a fresh UM network said `site links NO`)."""

from __future__ import annotations

from typing import Any

import pytest
import responses

from wpbridge.config import NetworkSettings
from wpbridge.network import Network
from wpbridge.rest.transport import RetryPolicy

URL = "http://127.0.0.1:8999"
ROOT = URL + "/wp-json"
INFO_UM = {"plugin_version": "0.1.0", "mode": "um", "server_time": "2026-11-30T10:00:00Z", "batch_limit": 25}
MAIN = {"blog_id": 1, "path": "/", "type": None, "is_main": True, "membership_id": None, "customer_id": None}


def site(blog_id: int, **kw: Any) -> dict[str, Any]:
    return {"blog_id": blog_id, "path": f"/site{blog_id}/", "type": None, "is_main": False,
            "membership_id": None, "customer_id": None, **kw}


def make() -> Network:
    settings = NetworkSettings(name="t", url=URL, api_key="k", api_secret="s3cret-net")
    return Network(settings, retry=RetryPolicy(deadline=1, backoff_initial=0.001, backoff_max=0.001))


def serve_um(rows: list[dict[str, Any]]) -> None:
    responses.get(ROOT + "/wpbridge/v1/info", json=INFO_UM)
    responses.get(ROOT + "/wpbridge/v1/sites", json=rows, headers={"X-WP-Total": str(len(rows))})


@responses.activate
@pytest.mark.parametrize("rows", [
    [MAIN],  # only the main site
    [MAIN, site(2)],  # a fresh UM network: a site no customer owns (UM never typed it)
    [MAIN, site(2), site(3, type="default")],
    [MAIN, site(2), site(3, type="customer_owned", membership_id=4, customer_id=1)],
])
def test_a_network_without_an_unreadable_customer_site_is_usable(rows: list[dict[str, Any]]) -> None:
    serve_um(rows)
    assert make().sites.links_problem() is None


@responses.activate
@pytest.mark.parametrize(("rows", "named"), [
    ([MAIN, site(2), site(3, type="customer_owned")], "3"),  # a customer's site without its membership
    ([MAIN, site(5, customer_id=2)], "5"),  # a customer's site, link unread
])
def test_a_customer_site_without_a_readable_link_is_named(rows: list[dict[str, Any]], named: str) -> None:
    serve_um(rows)
    problem = make().sites.links_problem()
    assert problem is not None and "site links cannot be read" in problem and f"site {named}" in problem


@responses.activate
def test_a_listing_that_cannot_be_read_is_a_problem() -> None:
    responses.get(ROOT + "/wpbridge/v1/info", json=INFO_UM)
    responses.get(ROOT + "/wpbridge/v1/sites", status=404, json={"code": "rest_no_route", "message": "No route"})
    problem = make().sites.links_problem()
    assert problem is not None and "site links cannot be read" in problem


@responses.activate
def test_check_on_an_empty_um_network_is_usable_and_names_um_version() -> None:
    from wpbridge.cli.read import _check_text
    from wpbridge.workflows.check import check_network

    responses.get(ROOT + "/wu/v2/auth", json={"success": True})
    responses.get(ROOT + "/wpbridge/v1/info", json={**INFO_UM, "server_time": "2026-11-30T10:00:00Z",
                                                     "um_version": "2.4.12", "wp_version": "6.1.9"})
    responses.get(ROOT + "/wpbridge/v1/sites", json=[MAIN, site(2)], headers={"X-WP-Total": "2"})
    result = check_network(make())
    assert result["usable"] is True and result["site_links"] is True and result["problems"] == []
    assert result["um_version"] == "2.4.12"
    assert "0.1.0 (um mode), WordPress 6.1.9, Ultimate Multisite 2.4.12" in _check_text(result)


@responses.activate
def test_check_shows_the_secrets_fingerprint_never_the_secret_and_names_it_when_refused() -> None:
    from wpbridge.cli.read import _check_text
    from wpbridge.workflows.check import check_network

    responses.get(ROOT + "/wu/v2/auth", status=401, json={"code": "rest_forbidden", "message": "Sorry"})
    result = check_network(make())
    want = "sha256:" + __import__("hashlib").sha256(b"s3cret-net").hexdigest()[:16]
    assert result["secret_fingerprint"] == want and not result["usable"]
    text = _check_text(result)
    assert f"secret         {want}" in text and "s3cret-net" not in text
    assert f"this machine's secret is {want}" in result["problems"][0]
    assert "wp wpbridge key show-fingerprint" in result["problems"][0]


@responses.activate
def test_the_check_asks_the_server_for_the_unlinked_sites_only() -> None:
    """One request on a network of any size (issue 22: the check read the whole site list before sync's walk read
    it again): `unlinked=1` makes plugin-stub list only the customer sites without a readable link. The rows that
    come back are still judged here, so a server that ignored the parameter never hides a problem."""
    serve_um([MAIN, site(2), site(3, type="customer_owned")])
    problem = make().sites.links_problem()
    assert problem is not None and "site 3" in problem
    [listing] = [c for c in responses.calls if "/wpbridge/v1/sites" in (c.request.url or "")]
    assert "unlinked=1" in (listing.request.url or "")


@responses.activate
def test_an_older_plugin_without_the_parameter_is_read_in_full() -> None:
    responses.get(ROOT + "/wpbridge/v1/info", json=INFO_UM)
    responses.get(ROOT + "/wpbridge/v1/sites", status=400, json={"code": "wpbridge_invalid", "message":
                  "unlinked: unknown parameter", "data": {"status": 400, "field": "unlinked"}},
                  match=[responses.matchers.query_param_matcher({"unlinked": "1"}, strict_match=False)])
    rows = [MAIN, site(2), site(4, customer_id=9)]
    responses.get(ROOT + "/wpbridge/v1/sites", json=rows, headers={"X-WP-Total": str(len(rows))})
    problem = make().sites.links_problem()
    assert problem is not None and "site 4" in problem
