"""plugin-stub's routes describe themselves as core's controllers do: OPTIONS shows each route's schema and its
declared arguments (types, bounds), WordPress checks those arguments before a handler runs, and the errors keep
the plugin's shape (`data.field`). Validation never answers a request without credentials."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.integration.stub_api_support import TIMEOUT

W = "/wp-json/wpbridge/v1"
U = "/wp-json/wu/v2"

ROUTES = {
    f"{W}/info": "wpbridge-info",
    f"{W}/catalog": "wpbridge-catalog",
    f"{W}/usage": "wpbridge-usage",
    f"{W}/quotas": "wpbridge-site-quota",
    f"{W}/sites/2/quota": "wpbridge-quota",
    f"{W}/scheduled-changes": "wpbridge-scheduled-change",
    f"{W}/memberships/1/scheduled-change": "wpbridge-scheduled-change",
    f"{W}/locks/some-lock": "wpbridge-lock",
    f"{U}/product": "wu-product",
    f"{U}/membership/1": "wu-membership",
    f"{U}/customer": "wu-customer",
    f"{U}/discount_code": "wu-discount_code",
    f"{U}/site": "wu-site",
    f"{W}/import/customers": "wpbridge-import-customer",
    f"{W}/import/customers/1": "wpbridge-import-customer",
    f"{W}/import/network": "wpbridge-import-network",
    f"{W}/import/keys": "wpbridge-import-key",
    f"{W}/import/memberships": "wpbridge-import-membership",
    f"{W}/import/memberships/1": "wpbridge-import-membership",
    f"{W}/import/sites": "wpbridge-import-site",
    f"{W}/import/sites/1": "wpbridge-import-site",
    f"{W}/import/products": "wpbridge-import-product",
    f"{W}/import/products/1": "wpbridge-import-product",
    f"{W}/import/payment-keys": "wpbridge-import-key",
    f"{W}/import/payments": "wpbridge-import-payment",
    f"{W}/import/payments/1": "wpbridge-import-payment",
    f"{W}/sites": "wpbridge-site",
    f"{W}/memberships/limitations": "wpbridge-membership-limitations",
}


def options(sandbox: Any, path: str) -> dict[str, Any]:
    resp = requests.options(sandbox.url + path, auth=(sandbox.api_key, sandbox.api_secret), timeout=TIMEOUT)
    assert resp.status_code == 200, resp.text[:300]
    return resp.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize(("path", "title"), ROUTES.items())
def test_options_describes_every_route(sandbox: Any, path: str, title: str) -> None:
    data = options(sandbox, path)
    assert data["schema"]["title"] == title
    assert data["schema"]["properties"], data["schema"]


def args_of(data: dict[str, Any], method: str) -> dict[str, Any]:
    for endpoint in data["endpoints"]:
        if method in endpoint["methods"]:
            return endpoint["args"]  # type: ignore[no-any-return]
    raise AssertionError(f"no {method} endpoint")


def test_declared_arguments(sandbox: Any) -> None:
    members = args_of(options(sandbox, f"{U}/membership"), "GET")
    assert members["per_page"]["type"] == "integer" and members["per_page"]["maximum"] == 100
    assert {"page", "number", "offset", "search", "orderby", "order"} <= members.keys()
    usage = args_of(options(sandbox, f"{W}/usage"), "GET")
    assert usage["blog_ids"]["maxItems"] == 100 and usage["blog_ids"]["items"]["type"] == "integer"
    lock = args_of(options(sandbox, f"{W}/locks/x"), "POST")
    assert lock["ttl"]["minimum"] == 1 and lock["ttl"]["maximum"] == 86400
    assert args_of(options(sandbox, f"{U}/product/1"), "GET")["id"]["type"] == "integer"
    assert args_of(options(sandbox, f"{W}/scheduled-changes"), "GET")["due_before"]["format"] == "date-time"
    product = options(sandbox, f"{U}/product")["schema"]["properties"]
    assert product["amount"]["type"] == "string" and product["recurring"]["type"] == "boolean"
    assert product["id"]["readonly"] is True and product["duration"]["type"] == "integer"


def test_write_arguments_come_from_the_item_schema(sandbox: Any) -> None:
    """As core's get_endpoint_args_for_item_schema(): every writable property of the route's schema is an argument
    of its write method (read-only ones are not), on the import routes as on the others."""
    for path, method in ((f"{W}/import/customers", "POST"), (f"{W}/import/memberships", "POST"),
                         (f"{W}/import/sites", "POST"), (f"{W}/import/products", "POST"),
                         (f"{W}/import/payments", "POST"), (f"{W}/import/payments/1", "PUT"),
                         (f"{U}/membership/1", "PUT"), (f"{U}/product", "POST"), (f"{W}/locks/x", "POST"),
                         (f"{W}/memberships/1/scheduled-change", "PUT")):
        data = options(sandbox, path)
        props = data["schema"]["properties"]
        writable = {k for k, v in props.items() if not v.get("readonly")}
        assert writable and writable <= args_of(data, method).keys(), (path, writable - args_of(data, method).keys())
        url = {"id", "blog_id", "name"}  # the URL's own parameters, declared beside the body's
        assert not {k for k, v in props.items() if v.get("readonly")} & (args_of(data, method).keys() - url), path
    payment = args_of(options(sandbox, f"{W}/import/payments"), "POST")
    assert payment["status"]["enum"][0] == "pending" and payment["source_key"]["maxLength"] == 191


@pytest.mark.parametrize(("path", "body", "field", "message"), [
    (f"{W}/import/customers", {"email": "nope"}, "email", "must be a valid email address"),
    (f"{W}/import/customers", {"email": "a@example.com", "username": "A!"}, "username",
     "must be 4 to 60 lowercase letters or digits (WordPress multisite rule)"),
    (f"{W}/import/memberships", {"source_key": ["x"]}, "source_key", "must be a string"),
    (f"{W}/import/products", {"slug": {"a": 1}}, "slug", "must be a string"),
    (f"{W}/import/sites", {"path": 5}, "path", 'must be a string such as "/shop/"'),
    (f"{W}/import/payments", {"source_key": "k", "customer_id": "x"}, "customer_id", "must be an integer"),
    (f"{W}/import/payments", {"source_key": "k", "customer_id": 1, "total": "-1"}, "total", "must be >= 0"),
    (f"{W}/import/payments", {"source_key": "k", "customer_id": 1, "status": "paid"}, "status", "must be one of"),
])
def test_import_bodies_are_checked_by_their_declared_arguments(any_sandbox: Any, path: str, body: dict[str, Any],
                                                               field: str, message: str) -> None:
    """The import routes' arguments (from their schemas) check each field with the import's own rule, on both
    flavors, before anything is looked up or written: a 400 naming the field, with the import's message."""
    resp = requests.post(any_sandbox.url + path, json=body, auth=(any_sandbox.api_key, any_sandbox.api_secret),
                         timeout=TIMEOUT)
    assert resp.status_code == 400, resp.text[:300]
    data = resp.json()
    assert data["code"] == "rest_invalid_param" and data["data"]["field"] == field, data
    assert data["message"].startswith(f"{field}: {message}"), data


@pytest.mark.parametrize(("path", "params", "field"), [
    (f"{W}/usage", {"blog_ids": "1,x"}, "blog_ids.1"),
    (f"{W}/usage", {"blog_ids": ",".join(map(str, range(1, 102)))}, "blog_ids"),
    (f"{W}/quotas", {"per_page": 101}, "per_page"),
    (f"{W}/scheduled-changes", {"due_before": "soon"}, "due_before"),
    (f"{W}/scheduled-changes", {"membership_id": 0}, "membership_id"),
    (f"{U}/product", {"order": "sideways"}, "order"),
    (f"{U}/site", {"page": 0}, "page"),
])
def test_argument_errors_keep_the_plugin_shape(sandbox: Any, path: str, params: dict[str, Any],
                                               field: str) -> None:
    resp = requests.get(sandbox.url + path, params=params, auth=(sandbox.api_key, sandbox.api_secret),
                        timeout=TIMEOUT)
    assert resp.status_code == 400, resp.text[:300]
    body = resp.json()
    assert body["code"] == "rest_invalid_param" and body["data"]["field"] == field, body
    assert body["message"].startswith(f"{field}: "), body


def test_arguments_are_not_checked_for_strangers(sandbox: Any) -> None:
    for params in ({"blog_ids": "x"}, {"blog_ids": ",".join(map(str, range(1, 102)))}):
        resp = requests.get(f"{sandbox.url}{W}/usage", params=params, timeout=TIMEOUT)
        assert resp.status_code == 401, resp.text[:300]
