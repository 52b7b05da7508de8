"""The in-memory network of the unit tests (workflows, sync, CLI) and its example data (no tests here)."""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from wpbridge.config import NetworkSettings
from wpbridge.errors import Conflict, ServerError, WPBridgeError
from wpbridge.limits import differing_modules, effective_limitations
from wpbridge.models import Limitations, Membership, NetworkInfo, Product, ScheduledChange, Site, SiteUsage, parse
from wpbridge.network import Mismatch
from wpbridge.rest.batch import BatchItemResult, BatchResult
from wpbridge.rest.transport import TransportStats
from wpbridge.sandbox.example import example_catalog
from wpbridge.workflows.snapshot import (
    FORMAT,
    VERSION,
    Snapshot,
    SnapshotMemberships,
    SnapshotProducts,
    SnapshotQuotas,
    SnapshotSchedule,
    SnapshotSites,
    SnapshotUsage,
)

from .payments_fake import FakePayments

T = TypeVar("T")

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


class FakeNetwork(Snapshot):
    """THE in-memory network of the unit tests: a `Snapshot` (the offline reader) that also takes writes, keeps a
    lock, counts requests as the real client would (one per page of `per_page`, one per batch of the batch limit)
    and can be told to fail. Writes are applied as a server applies them (stored fields overwritten by those sent),
    never through the workflows' own helpers, so it can catch them.

    `FakeNetwork()` is the example network of `example_data`; `FakeNetwork.with_sites(n)` the sync tests' one:
    the main site (no quota) and n customer sites, each with its own membership on plan 1, 2, 3 in turn, in sync.
    """

    def __init__(self, data: dict[str, Any] | None = None, *, batch_limit: int | None = None,
                 per_page: int = 100) -> None:
        data = copy.deepcopy(data) if data is not None else example_data()
        if batch_limit is not None:
            data["info"]["batch_limit"] = batch_limit
        super().__init__(data, name="fake network")
        self.settings = NetworkSettings(name="fake", url="http://127.0.0.1", api_key="k", api_secret="s",
                                        concurrency=2, per_page=per_page)
        self._stats = TransportStats()
        self.stored: dict[int, dict[str, Any]] = {m["id"]: dict(m) for m in data["memberships"]}
        self.writes: list[tuple[str, int]] = []
        """Every write, in order: ("membership" | "site_quota" | "scheduled_change" | ..., record id)."""
        self.fail_quota: set[int] = set()
        self.fail_batch = False
        self.fail_delete = False
        self.lock: tuple[str, str] | None = None
        self.lock_refusals = 0
        # the snapshot's managers, counted and writable
        self.payments = FakePayments(self)
        self.memberships = FakeMemberships(self)
        self.sites = FakeSites(self)
        self.products = FakeProducts(self)
        self.usage = FakeUsage(self)
        self.quotas = FakeQuotas(self)
        self.schedule = FakeSchedule(self)
        self.locks = FakeLocks(self)

    @classmethod
    def with_sites(cls, n_sites: int = 0, *, batch_limit: int = 25, per_page: int = 100) -> FakeNetwork:
        data = example_data()
        data.update(memberships=[], sites=[{"blog_id": 1, "type": "main"}], quotas=[{"blog_id": 1, "quota": None}],
                    usage=[], customers=[])
        net = cls(data, batch_limit=batch_limit, per_page=per_page)
        for i in range(n_sites):
            net.add(blog_id=i + 2, membership_id=i + 1, plan_id=(1, 2, 3)[i % 3])
        return net

    # -------------------------------------------------------------- state, by name

    @property
    def members(self) -> dict[int, Membership]:
        return self._memberships

    @property
    def site_rows(self) -> dict[int, Site]:
        return self._sites

    @property
    def scheduled(self) -> dict[int, ScheduledChange]:
        return self._scheduled

    @property
    def batch_limit(self) -> int:
        return self._info.batch_limit

    @property
    def written_sites(self) -> list[int]:
        return [rid for kind, rid in self.writes if kind == "site_quota"]

    @property
    def membership_writes(self) -> list[int]:
        return [rid for kind, rid in self.writes if kind == "membership"]

    def add(self, *, blog_id: int, membership_id: int, plan_id: int = 2, status: str = "active",
            in_sync: bool = True, **extra: Any) -> None:
        self.stored[membership_id] = {"id": membership_id, "customer_id": membership_id, "plan_id": plan_id,
                                      "status": status, "amount": "15", **extra}
        m = Membership.model_validate(self.stored[membership_id])
        self._memberships[membership_id] = m
        s = Site(blog_id=blog_id, membership_id=membership_id, type="customer_owned")
        self._sites[blog_id] = s
        self._quotas[blog_id] = effective_limitations(m, self._products, site=s) if in_sync else None

    def stale(self, blog_ids: Iterable[int]) -> None:
        for bid in blog_ids:
            self._quotas[bid] = Limitations.model_validate({"disk_space": {"limit": 7}})

    def target(self, blog_id: int) -> Limitations:
        s = self._sites[blog_id]
        assert s.membership_id is not None
        return effective_limitations(self._memberships[s.membership_id], self._products, site=s)

    def set_usage(self, blog_id: int, posts: int) -> None:
        self._usage[blog_id] = SiteUsage(blog_id=blog_id, post_types={"post": posts})

    def quotas_of(self, blog_ids: Iterable[int]) -> dict[int, Limitations | None]:
        return {b: self._quotas.get(b) for b in blog_ids}

    # -------------------------------------------------------------- requests, counted as the real client would

    @property
    def stats(self) -> TransportStats:
        return self._stats

    def _req(self, n: int = 1) -> None:
        self._stats.add(requests=n)

    def _pages(self, items: list[T]) -> Iterator[T]:
        per = self.settings.per_page
        for start in range(0, max(1, len(items)), per):
            self._req()
            yield from items[start:start + per]

    def info(self) -> NetworkInfo:
        self._req()
        return super().info()


# ------------------------------------------------------------------ the fake's managers: the snapshot's, counted,
# with the writes applied as a server applies them


class FakeMemberships(SnapshotMemberships):
    """`net.memberships` of the fake."""

    def __init__(self, net: FakeNetwork) -> None:
        super().__init__(net._memberships, net.name)
        self._net = net

    def list(self, *, status: str | None = None, customer_id: int | None = None,
             **filters: Any) -> Iterator[Membership]:
        ids = filters.get("id")
        rows = [m for k, m in sorted(self._net._memberships.items())
                if (ids is None or k in ids) and (status is None or m.status == status)
                and (customer_id is None or m.customer_id == customer_id)]
        return self._net._pages(rows)

    def get(self, membership_id: int) -> Membership:
        self._net._req()
        return super().get(membership_id)

    def update(self, membership_id: int, state: Mapping[str, Any]) -> Membership:
        net = self._net
        net._req()
        net.writes.append(("membership", membership_id))
        net.stored[membership_id].update(state)  # as a server does it
        net._memberships[membership_id] = Membership.model_validate(net.stored[membership_id])
        return net._memberships[membership_id]


class FakeSites(SnapshotSites):
    """`net.sites` of the fake."""

    def __init__(self, net: FakeNetwork) -> None:
        super().__init__(net._sites, net.name)
        self._net = net

    def list(self, *, membership_id: int | None = None, customer_id: int | None = None) -> Iterator[Site]:
        return self._net._pages(sorted(super().list(membership_id=membership_id, customer_id=customer_id),
                                       key=lambda s: s.blog_id))

    def get(self, blog_id: int) -> Site:
        self._net._req()
        return super().get(blog_id)

    def count(self) -> int:
        self._net._req()
        return len(self._net._sites)

    def links_problem(self) -> str | None:
        return None  # the fake's sites are all read with their links


class FakeProducts(SnapshotProducts):
    """`net.products` of the fake."""

    def __init__(self, net: FakeNetwork) -> None:
        super().__init__(net._products)
        self._net = net

    def catalog(self) -> list[Product]:
        self._net._req()
        return super().catalog()

    def list(self) -> Iterator[Product]:
        return self._net._pages(list(super().list()))


class FakeUsage(SnapshotUsage):
    """`net.usage` of the fake."""

    def __init__(self, net: FakeNetwork) -> None:
        super().__init__(net._usage)
        self._net = net

    def get(self, blog_ids: Iterable[int]) -> dict[int, SiteUsage]:
        self._net._req()
        return super().get(blog_ids)


class FakeQuotas(SnapshotQuotas):
    """`net.quotas` of the fake; `net.quotas[blog_id]` is the stored quota (None: none written)."""

    def __init__(self, net: FakeNetwork) -> None:
        super().__init__(net._quotas, net._sites, net.name)
        self._net = net

    def __getitem__(self, blog_id: int) -> Limitations | None:
        return self._net._quotas[blog_id]

    def list(self, blog_ids: Iterable[int] | None = None) -> Iterator[tuple[int, Limitations | None]]:
        return self._net._pages(list(super().list(blog_ids)))

    def _write(self, blog_id: int, limits: Limitations) -> WPBridgeError | None:
        if blog_id in self._net.fail_quota:
            return ServerError(f"injected failure for site {blog_id}", status=500, code="wpbridge_test_fault")
        self._net._quotas[blog_id] = Limitations.model_validate(limits.to_wire())  # stored as JSON, read back
        self._net.writes.append(("site_quota", blog_id))
        return None

    def put(self, blog_id: int, limits: Limitations) -> Limitations:
        self._net._req()
        err = self._write(blog_id, limits)
        if err:
            raise err
        return limits

    def put_many(self, quotas: Mapping[int, Limitations], *, batch_limit: int | None = None) -> BatchResult:
        limit = self._net.batch_limit
        self._net._req(math.ceil(len(quotas) / min(limit, batch_limit or limit)))
        if self._net.fail_batch:
            raise ServerError("bad gateway", status=502)
        items = []
        for bid, limits in quotas.items():
            err = self._write(bid, limits)
            items.append(BatchItemResult(bid, err is None, 500 if err else 200, err))
        return BatchResult(items=items, batches=1)

    def verify(self, expected: Mapping[int, Limitations]) -> list[Mismatch]:
        self._net._req(math.ceil(len(expected) / 100))
        out = []
        for bid, want in expected.items():
            diff = differing_modules(want, self._net._quotas.get(bid))
            if diff:
                out.append(Mismatch(bid, want, self._net._quotas.get(bid), diff))
        return out


class FakeSchedule(SnapshotSchedule):
    """`net.schedule` of the fake."""

    def __init__(self, net: FakeNetwork) -> None:
        super().__init__(net._scheduled)
        self._net = net

    def get(self, membership_id: int) -> ScheduledChange | None:
        self._net._req()
        return super().get(membership_id)

    def list(self, *, due_before: datetime | None = None,
             membership_id: int | None = None) -> Iterator[ScheduledChange]:
        return self._net._pages(list(super().list(due_before=due_before, membership_id=membership_id)))

    def put(self, change: ScheduledChange, *, force: bool = False) -> ScheduledChange:
        self._net._req()
        self._net.writes.append(("scheduled_change", change.membership_id))
        stored = ScheduledChange.model_validate(json.loads(change.model_dump_json()))
        self._net._scheduled[change.membership_id] = stored
        return stored

    def delete(self, membership_id: int) -> None:
        self._net._req()
        if self._net.fail_delete:
            raise ServerError("gateway timeout", status=504)
        self._net.writes.append(("delete_scheduled_change", membership_id))
        self._net._scheduled.pop(membership_id, None)


class FakeLocks:
    """`net.locks` of the fake (one lock at a time, as the tests need)."""

    def __init__(self, net: FakeNetwork) -> None:
        self._net = net

    def acquire(self, name: str, owner: str, ttl: int) -> dict[str, Any]:
        net = self._net
        net._req()
        if net.lock is not None and net.lock[1] != owner:
            net.lock_refusals += 1
            raise Conflict("held", status=409, code="wpbridge_locked",
                           data={"owner": net.lock[1], "expires_at": "2026-03-01T12:05:00Z"})
        net.lock = (name, owner)
        return {"name": name, "owner": owner}

    def release(self, name: str, owner: str) -> None:
        self._net._req()
        if self._net.lock is not None and self._net.lock[1] == owner:
            self._net.lock = None


def money(text: str) -> Decimal:
    return Decimal(text)
