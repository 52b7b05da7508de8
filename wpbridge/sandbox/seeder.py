"""Writes the example network (example.py's catalog, seed.py's customers) into a sandbox through its REST API.

Through REST, not SQL, so that seeding exercises the same routes wpbridge uses. Plain `requests` with Basic
auth: the API key/secret for plugin-stub's routes, the admin's Application Password for WordPress's own
`/wp/v2/users` (customers are WordPress users). Sequential on purpose: a fresh sandbox then always gives the same
ids (products 1..6 in example.py's order, customers and memberships 1..12 in seed.py's order). Each site's quota is
written from its membership with `wpbridge.limits.effective_limitations`, as `wpbridge sync` would.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import requests

from ..models import Membership, Product, Site, parse, parse_many
from .errors import SandboxError
from .example import EXAMPLE_PRODUCTS
from .seed import EXAMPLE_MEMBERS, customer_body, membership_body, seed_base
from .wordpress import random_token


class _Client:
    """Just enough HTTP for seeding: JSON in and out, one clear error line naming the record on failure."""

    def __init__(self, url: str, auth: tuple[str, str]) -> None:
        self.url = url.rstrip("/") + "/wp-json"
        self.auth = auth
        self.http = requests.Session()
        self.http.trust_env = False  # the sandbox is on 127.0.0.1: never through a proxy

    def call(self, method: str, path: str, what: str, body: Any = None, *, params: dict[str, Any] | None = None,
             auth: tuple[str, str] | None = None) -> Any:
        resp = self.http.request(method, self.url + path, json=body, params=params, auth=auth or self.auth,
                                 timeout=60)
        if resp.status_code >= 300:
            raise SandboxError(f"seed: {what}: {method} {path} -> {resp.status_code}{_wp_error(resp)}")
        try:
            return resp.json()
        except ValueError:
            raise SandboxError(f"seed: {what}: {method} {path} -> {resp.status_code} with a non-JSON body") from None


def seed_example(url: str, api_auth: tuple[str, str], app_auth: tuple[str, str],
                 now: datetime | None = None) -> dict[str, Any]:
    """Create the example network; returns what was created (ids by slug and username) for sandbox.json."""
    from ..limits import effective_limitations  # lazy: the sandbox starts without it when not seeding

    api = _Client(url, api_auth)
    base = seed_base(now or datetime.now(UTC))
    ids: dict[str, int] = {}
    for product in EXAMPLE_PRODUCTS:
        body = {k: v for k, v in product.items() if k != "available_addons" and v is not None}
        ids[product["slug"]] = int(api.call("POST", "/wu/v2/product", f"product {product['slug']}", body)["id"])
    for product in EXAMPLE_PRODUCTS:  # add-ons reference products created after the plans
        if product.get("available_addons"):
            api.call("PUT", f"/wu/v2/product/{ids[product['slug']]}", f"product {product['slug']}",
                     {"available_addons": [ids[s] for s in product["available_addons"]]})
    catalog = parse_many(Product, api.call("GET", "/wu/v2/product", "the catalog",
                                           params={"per_page": 100, "orderby": "id", "order": "ASC"}))

    customers = []
    for member in EXAMPLE_MEMBERS:
        who = f"customer {member.username}"
        user = api.call("POST", "/wp/v2/users", who, {
            "username": member.username, "email": f"{member.username}@example.com", "name": member.name,
            "first_name": member.name.split()[0], "last_name": member.name.split()[-1],
            "password": random_token(24),
        }, auth=app_auth)
        customer = api.call("POST", "/wu/v2/customer", who, customer_body(member, base, int(user["id"])))
        record = api.call("POST", "/wu/v2/membership", f"membership of {member.username}",
                          membership_body(member, base, ids, int(customer["id"])))
        membership = parse(Membership, record)
        blog_ids = []
        for slug in member.sites:
            site = parse(Site, api.call("POST", "/wu/v2/site", f"site /{slug}/", {
                "path": f"/{slug}/", "title": slug.replace("-", " ").title(), "type": "customer_owned",
                "membership_id": membership.id, "customer_id": membership.customer_id,
            }))
            quota = effective_limitations(membership, catalog, site).to_wire()
            api.call("PUT", f"/wpbridge/v1/sites/{site.blog_id}/quota", f"quota of site /{slug}/", quota)
            blog_ids.append(site.blog_id)
        customers.append({
            "username": member.username, "user_id": int(user["id"]), "customer_id": membership.customer_id,
            "membership_id": membership.id, "plan": member.plan, "status": member.status, "blog_ids": blog_ids,
        })
    return {"base": base.isoformat(), "products": ids, "customers": customers}


def _wp_error(resp: requests.Response) -> str:
    """` code: message (field x)` from a WordPress error body, or nothing."""
    try:
        body = resp.json()
    except ValueError:
        return ""
    if not isinstance(body, dict) or "code" not in body:
        return ""
    data = body.get("data") if isinstance(body.get("data"), dict) else {}
    field = f" (field {data['field']})" if data and data.get("field") else ""
    return f" {body['code']}: {body.get('message', '')}{field}"
