"""`Network`: one WordPress multisite network over REST, the facade workflows and the CLI code against.

Its resources are managers in python-gitlab's manner, each a module of `managers/` owning its routes:
`net.sites`, `net.memberships`, `net.products`, `net.discount_codes`, `net.customers`, `net.usage`, `net.quotas`,
`net.schedule`, `net.locks`, `net.imports`, `net.payments`. Every method that talks to the server is a method call
(never a property or an attribute access), returns models from `models.py` (a payload that does not fit raises
`DataError` naming the record and field), and raises the errors of `errors.py`. Lists are iterators that fetch
page by page. Writes send absolute state (DESIGN.md §3.1), which is what makes their retries safe; creates never
send twice blindly.

The network's flavor (plugin-stub alone, or beside Ultimate Multisite) is chosen once, from `info()`, by
`managers.flavor.flavor_of`; the managers that differ by flavor ask it, nothing compares the mode.

The flat methods below the managers (`net.membership(id)`, `net.site_quotas()`, ...) are one-line delegators kept
while callers move to the managers (issue 18).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

import requests

from .config import NetworkSettings, load_settings
from .errors import DataError, NotFound
from .managers.base import DEFAULT_BATCH_LIMIT, UM, Context
from .managers.customers import CustomerManager
from .managers.flavor import Flavor, flavor_of
from .managers.imports import ImportManager
from .managers.locks import LockManager
from .managers.memberships import MembershipManager, MembershipOverride, membership_override
from .managers.payments import PaymentManager
from .managers.products import DiscountCodeManager, ProductManager
from .managers.quotas import Mismatch, QuotaManager, SiteQuota
from .managers.schedule import ScheduleManager
from .managers.sites import SiteManager
from .managers.taxes import TaxManager
from .managers.usage import UsageManager
from .models import Customer, Limitations, Membership, NetworkInfo, Product, ScheduledChange, Site, parse
from .rest.batch import BatchItem, BatchResult
from .rest.transport import RetryPolicy, Transport, TransportStats, route

__all__ = ["MembershipOverride", "Mismatch", "Network", "SiteQuota", "membership_override"]

COMPANION = "wpbridge/v1"


class Network:
    """One WordPress multisite network, reached over REST with the settings of one profile."""

    def __init__(
        self,
        settings: NetworkSettings,
        *,
        session: requests.Session | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.transport = Transport(settings, session=session, retry=retry)
        self._info: NetworkInfo | None = None
        self._flavor: Flavor | None = None
        ctx = Context(self.transport, per_page=settings.per_page, concurrency=settings.concurrency,
                      batch_limit=self._batch_limit)
        self.unreadable: list[DataError] = ctx.unreadable
        """Records of a listing that could not be read (each names its id and field); the listing went on."""
        self.imports = ImportManager(ctx)
        """plugin-stub's import routes (`wpbridge/v1/import/*`)."""
        self.sites = SiteManager(ctx, self.flavor)
        """The sites with their membership links."""
        self.memberships = MembershipManager(ctx, self.flavor)
        """The memberships (UM mode: each with its own override)."""
        self.customers = CustomerManager(ctx, self.flavor, self.imports.customers)
        """The customers with their WordPress user's email and login."""
        self.products = ProductManager(ctx)
        """The catalog (`catalog()`) and UM's product records."""
        self.discount_codes = DiscountCodeManager(ctx)
        self.usage = UsageManager(ctx)
        """What each site uses now."""
        self.quotas = QuotaManager(ctx)
        """Each site's stored (stub) or computed (UM) quota; UM mode's suspension."""
        self.schedule = ScheduleManager(ctx)
        """The memberships' scheduled changes (UM mode: UM's scheduled swaps)."""
        self.locks = LockManager(ctx)
        """The server's named locks."""
        self.payments = PaymentManager(ctx)
        """The network's payments (`wpbridge/v1/payments`, both flavors)."""
        self.taxes = TaxManager(ctx)  # the tax settings and rates, each customer's tax facts (`wpbridge/v1/taxes`)
        self._ctx = ctx

    @classmethod
    def from_config(cls, network: str | None = None, config_path: str | None = None) -> Network:
        """Open a network from the config file / environment (see `config.load_settings`)."""
        return cls(load_settings(network, config_path))

    def __repr__(self) -> str:
        return f"Network({self.settings.name!r}, url={self.settings.url!r})"

    @property
    def stats(self) -> TransportStats:
        """Request, retry and byte counters of this network's transport (no network call)."""
        return self.transport.stats

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> Network:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # ------------------------------------------------------------------ network

    def info(self) -> NetworkInfo:
        """`GET /wpbridge/v1/info`: plugin version, mode, server time, batch limit (remembered for batches)."""
        self._info = parse(NetworkInfo, self.transport.get(route(COMPANION, "info")).data)
        return self._info

    def flavor(self) -> Flavor:
        """The network's flavor, chosen once from `info()` (read when it has not been yet)."""
        if self._flavor is None:
            self._flavor = flavor_of(self._info if self._info is not None else self.info())
        return self._flavor

    def check_auth(self) -> dict[str, Any]:
        """`GET /wu/v2/auth`: raises AuthError when the credentials are refused."""
        data = self.transport.get(route(UM, "auth")).data
        return data if isinstance(data, dict) else {"result": data}

    def _batch_limit(self) -> int:
        if self._info is None:
            try:
                self.info()
            except NotFound:
                return DEFAULT_BATCH_LIMIT
        return self._info.batch_limit if self._info else DEFAULT_BATCH_LIMIT

    # ------------------------------------------------------------------ delegators (issue 18: callers move to
    # the managers; `net.sites(...)`, `net.memberships(...)`, `net.customers(...)`, `net.products(...)`,
    # `net.discount_codes(...)` and `net.usage(ids)` are the managers' `__call__`)

    def catalog(self) -> list[Product]:
        return self.products.catalog()

    def membership(self, membership_id: int) -> Membership:
        return self.memberships.get(membership_id)

    def membership_overrides(self, membership_ids: Iterable[int]) -> dict[int, Limitations | DataError]:
        return self.memberships.overrides(membership_ids)

    def update_membership(self, membership_id: int, state: Mapping[str, Any]) -> Membership:
        return self.memberships.update(membership_id, state)

    def site(self, blog_id: int) -> Site:
        return self.sites.get(blog_id)

    def site_links_problem(self) -> str | None:
        return self.sites.links_problem()

    def site_count(self) -> int | None:
        return self.sites.count()

    def customer(self, customer_id: int) -> Customer:
        return self.customers.get(customer_id)

    def create(self, slug: str, body: Mapping[str, Any], *, natural_key: str | None = None) -> dict[str, Any]:
        return self._ctx.create(slug, body, natural_key=natural_key)

    def site_quota(self, blog_id: int) -> Limitations:
        return self.quotas.get(blog_id)

    def site_quotas(self, blog_ids: Iterable[int] | None = None) -> Iterator[tuple[int, Limitations | None]]:
        return self.quotas.list(blog_ids)

    def put_site_quota(self, blog_id: int, limits: Limitations) -> Limitations:
        return self.quotas.put(blog_id, limits)

    def put_site_quotas(self, quotas: Mapping[int, Limitations], *, batch_limit: int | None = None) -> BatchResult:
        return self.quotas.put_many(quotas, batch_limit=batch_limit)

    def verify_quotas(self, expected: Mapping[int, Limitations]) -> list[Mismatch]:
        return self.quotas.verify(expected)

    def put_site_suspension(self, blog_id: int, suspended: bool, limits: Limitations | None = None) -> None:
        return self.quotas.suspend(blog_id, suspended, limits)

    def scheduled_change(self, membership_id: int) -> ScheduledChange | None:
        return self.schedule.get(membership_id)

    def scheduled_changes(self, *, due_before: datetime | None = None,
                          membership_id: int | None = None) -> Iterator[ScheduledChange]:
        return self.schedule.list(due_before=due_before, membership_id=membership_id)

    def put_scheduled_change(self, change: ScheduledChange) -> ScheduledChange:
        return self.schedule.put(change)

    def delete_scheduled_change(self, membership_id: int) -> None:
        return self.schedule.delete(membership_id)

    def apply_scheduled_change(self, membership_id: int) -> dict[str, Any]:
        return self.schedule.apply(membership_id)

    def acquire_lock(self, name: str, owner: str, ttl: int) -> dict[str, Any]:
        return self.locks.acquire(name, owner, ttl)

    def release_lock(self, name: str, owner: str) -> None:
        return self.locks.release(name, owner)

    def import_network(self) -> dict[str, Any]:
        return self.imports.network()

    def import_customers(self) -> Iterator[dict[str, Any]]:
        return self.imports.customers()

    def import_sites(self) -> Iterator[dict[str, Any]]:
        return self.imports.sites()

    def import_keys(self) -> Iterator[dict[str, Any]]:
        return self.imports.membership_keys()

    def import_batch(self, items: Sequence[BatchItem], *, limit: int | None = None) -> BatchResult:
        return self.imports.batch(items, limit=limit)
