"""An in-memory network for the workflow and CLI unit tests (no tests here).

`FakeNetwork` is a `Snapshot` (the offline reader) plus the writes `change.apply` makes, recorded in `writes`, with
switches to make quota writes fail. The data is the example catalog with a few memberships and sites.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from wpbridge.limits import effective_limitations
from wpbridge.models import Limitations, Membership, ScheduledChange, Site, SiteUsage, parse
from wpbridge.sandbox.example import example_catalog
from wpbridge.workflows.snapshot import FORMAT, VERSION, Snapshot

NOW = datetime(2026, 5, 16, 12, 0, tzinfo=UTC)
IDS = {p.slug: p.id for p in example_catalog()}


def membership(mid: int, plan: str, *, amount: str, status: str = "active", expires_in_days: float | None = 15.5,
               renewed_days_ago: int | None = 10, addons: Mapping[str, int] | None = None,
               recurring: bool = True, duration: int = 1, unit: str = "month") -> dict[str, Any]:
    return {
        "id": mid, "customer_id": mid, "plan_id": IDS[plan],
        "addon_products": {str(IDS[s]): q for s, q in (addons or {}).items()},
        "currency": "USD", "amount": amount, "initial_amount": amount, "duration": duration, "duration_unit": unit,
        "recurring": recurring, "status": status,
        "date_created": (NOW - timedelta(days=100)).isoformat(),
        "date_renewed": (NOW - timedelta(days=renewed_days_ago)).isoformat() if renewed_days_ago else None,
        "date_expiration": (NOW + timedelta(days=expires_in_days)).isoformat() if expires_in_days else None,
    }


def site(blog_id: int, mid: int) -> dict[str, Any]:
    return {"blog_id": blog_id, "membership_id": mid, "customer_id": mid, "domain": "example.test",
            "path": f"/s{blog_id}/", "type": "customer_owned", "title": f"Site {blog_id}"}


def example_data(posts: Mapping[int, int] | None = None) -> dict[str, Any]:
    """Members: 1 Free (site 11), 2 Basic mid-cycle (site 12), 3 Premium + 1 extra storage (sites 13, 14),
    4 Basic trialing (site 15). Every quota in line with its membership; `posts` sets sites' post counts."""
    catalog = example_catalog()
    members = [
        membership(1, "free", amount="0", recurring=False, expires_in_days=None, renewed_days_ago=None),
        membership(2, "basic", amount="15"),
        membership(3, "premium", amount="44", addons={"extra-storage": 1}),
        membership(4, "basic", amount="15", status="trialing", expires_in_days=5),
    ]
    sites = [site(11, 1), site(12, 2), site(13, 3), site(14, 3), site(15, 4)]
    quotas = []
    for s in sites:
        m = parse(Membership, next(x for x in members if x["id"] == s["membership_id"]))
        quotas.append({"blog_id": s["blog_id"], "quota": effective_limitations(m, catalog, parse(Site, s)).to_wire()})
    posts = posts or {}
    usage = [{"blog_id": s["blog_id"], "post_types": {"post": posts.get(s["blog_id"], 1), "page": 1},
              "custom_domains": 0, "disk_used_mb": "1.5", "users": {"administrator": 1}, "visits_this_month": 3}
             for s in sites]
    return {
        "format": FORMAT, "version": VERSION, "exported_at": NOW.isoformat(), "source_url": "http://127.0.0.1:1",
        "info": {"plugin_version": "0.1.0", "mode": "stub", "server_time": NOW.isoformat(), "batch_limit": 25,
                 "um_version": "2.4.13-beta.1"},  # UM main: add-on carts charge the add-ons only
        "catalog": [p.model_dump(mode="json", exclude_unset=True) for p in catalog],
        "customers": [{"id": m["id"], "user_id": 100 + m["id"]} for m in members],
        "memberships": members, "sites": sites, "quotas": quotas, "usage": usage, "scheduled_changes": [],
    }


def write_snapshot_file(tmp_path: Path, data: dict[str, Any] | None = None) -> Path:
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(data or example_data()))
    return path


@dataclass
class _Item:
    key: int
    status: int
    error: Exception | None


@dataclass
class _Batch:
    items: list[_Item] = field(default_factory=list)

    @property
    def failed(self) -> list[_Item]:
        return [i for i in self.items if i.error is not None]


class FakeNetwork(Snapshot):
    """A Snapshot that also takes the writes of `change.apply` (and records them)."""

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        super().__init__(data or example_data(), name="fake network")
        self.writes: list[tuple[str, Any]] = []
        self.fail_quota_ids: set[int] = set()

    def update_membership(self, membership_id: int, state: Mapping[str, Any]) -> Membership:
        self.writes.append(("membership", membership_id))
        current = self._memberships[membership_id]
        updated = Membership.model_validate({**current.model_dump(exclude_unset=True), **state})
        self._memberships[membership_id] = updated
        return updated

    def put_site_quotas(self, quotas: Mapping[int, Limitations]) -> _Batch:
        batch = _Batch()
        for blog_id, limits in quotas.items():
            if blog_id in self.fail_quota_ids:
                batch.items.append(_Item(blog_id, 500, RuntimeError("injected failure")))
                continue
            self.writes.append(("site_quota", blog_id))
            self._quotas[blog_id] = Limitations.model_validate(limits.to_wire())
            batch.items.append(_Item(blog_id, 200, None))
        return batch

    def put_scheduled_change(self, change: ScheduledChange) -> ScheduledChange:
        self.writes.append(("scheduled_change", change.membership_id))
        stored = ScheduledChange.model_validate(json.loads(change.model_dump_json()))
        self._scheduled[change.membership_id] = stored
        return stored

    def delete_scheduled_change(self, membership_id: int) -> None:
        self.writes.append(("delete_scheduled_change", membership_id))
        self._scheduled.pop(membership_id, None)

    def set_usage(self, blog_id: int, posts: int) -> None:
        self._usage[blog_id] = SiteUsage(blog_id=blog_id, post_types={"post": posts})

    def quotas_of(self, blog_ids: Iterable[int]) -> dict[int, Limitations | None]:
        return {b: self._quotas.get(b) for b in blog_ids}


def money(text: str) -> Decimal:
    return Decimal(text)
