"""The baseline for bench/sync.py: the sync job a network owner would write by hand, one site at a time.

Same work as `wpbridge sync` (apply due scheduled changes, give every site of an active membership its effective
quota, write only the differences) with the plain pattern: page through the site list, then for each site read
its membership and its quota with one request each, and PUT the quota when it differs. Sequential, one
`requests.Session`, no batching, no concurrency. It computes quotas and compares them with the same functions as
wpbridge (`effective_limitations`, `differing_modules`), so the two differ only in how they use the network.

    python bench/baseline_sync.py            # reads WPBRIDGE_URL, WPBRIDGE_API_KEY, WPBRIDGE_API_SECRET
On a network in UM mode it does what `wpbridge sync` does there, one site at a time: apply the overdue swaps (one
POST each), then page through plugin-stub's site list (UM's own has no links) and, per site, GET its membership
and UM's computed limits, and compare them with `effective_limitations` (nothing is written: UM computes limits).
Prints one JSON line: {"sites", "changes", "writes", "requests", "seconds", "peak_rss_kb"}.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from datetime import UTC, datetime
from typing import Any

import requests

from wpbridge.limits import differing_modules, effective_limitations
from wpbridge.models import Limitations, Membership, Product, Site
from wpbridge.network import SiteQuota


class Client:
    def __init__(self, url: str, key: str, secret: str) -> None:
        self.root = url.rstrip("/") + "/wp-json"
        self.http = requests.Session()
        self.http.auth = (key, secret)
        self.http.trust_env = False
        self.requests = 0

    def call(self, method: str, path: str, **kw: Any) -> Any:
        self.requests += 1
        resp = self.http.request(method, self.root + path, timeout=60, **kw)
        resp.raise_for_status()
        return resp.json()


def main() -> int:
    started = time.monotonic()
    api = Client(os.environ["WPBRIDGE_URL"], os.environ["WPBRIDGE_API_KEY"], os.environ["WPBRIDGE_API_SECRET"])
    now = datetime.now(UTC).isoformat()
    catalog = [Product.model_validate(p) for p in api.call("GET", "/wpbridge/v1/catalog")["products"]]

    if api.call("GET", "/wpbridge/v1/info")["mode"] == "um":
        return um_main(api, catalog, now, started)
    due = api.call("GET", "/wpbridge/v1/scheduled-changes", params={"due_before": now, "per_page": 100})
    for change in due:
        api.call("PUT", f"/wu/v2/membership/{change['membership_id']}", json=change["target"])
        api.call("DELETE", f"/wpbridge/v1/memberships/{change['membership_id']}/scheduled-change")

    sites = changes = writes = 0
    page = 1
    while True:
        rows = api.call("GET", "/wu/v2/site", params={"per_page": 100, "page": page, "orderby": "id",
                                                      "order": "ASC"})
        for row in rows:
            site = Site.model_validate(row)
            sites += 1
            if site.membership_id is None:
                continue
            membership = Membership.model_validate(api.call("GET", f"/wu/v2/membership/{site.membership_id}"))
            if membership.status in ("expired", "cancelled"):
                continue
            stored = api.call("GET", f"/wpbridge/v1/sites/{site.blog_id}/quota")
            current: Limitations | None = SiteQuota.model_validate({"blog_id": site.blog_id, "quota": stored}).quota
            target = effective_limitations(membership, catalog, site=site)
            if differing_modules(current, target):
                changes += 1
                api.call("PUT", f"/wpbridge/v1/sites/{site.blog_id}/quota", json=target.to_wire())
                writes += 1
        if len(rows) < 100:
            break
        page += 1
    print(json.dumps({
        "sites": sites, "changes": changes, "writes": writes, "requests": api.requests,
        "seconds": round(time.monotonic() - started, 3),
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }))
    return 0


def um_main(api: Client, catalog: list[Product], now: str, started: float) -> int:
    for change in api.call("GET", "/wpbridge/v1/scheduled-changes", params={"due_before": now, "per_page": 100}):
        api.call("POST", f"/wpbridge/v1/memberships/{change['membership_id']}/scheduled-change/apply", json={})
    sites = changes = 0
    page = 1
    while True:
        rows = api.call("GET", "/wpbridge/v1/sites", params={"per_page": 100, "page": page})
        for row in rows:
            site = Site.model_validate(row)
            sites += 1
            if site.membership_id is None or not site.belongs_to(site.membership_id):
                continue
            membership = Membership.model_validate(api.call("GET", f"/wu/v2/membership/{site.membership_id}"))
            um = api.call("GET", f"/wpbridge/v1/sites/{site.blog_id}/quota")
            current = SiteQuota.model_validate({"blog_id": site.blog_id, "quota": um}).quota
            if differing_modules(current, effective_limitations(membership, catalog, site=site)):
                changes += 1  # reported, never written: UM is the judge
        if len(rows) < 100:
            break
        page += 1
    print(json.dumps({
        "sites": sites, "changes": changes, "writes": 0, "requests": api.requests,
        "seconds": round(time.monotonic() - started, 3),
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
