"""`Network`: one WordPress multisite network over REST, the facade workflows and the CLI code against.

Its resources are managers in python-gitlab's manner, each a module of `managers/` owning its routes:
`net.sites`, `net.memberships`, `net.products`, `net.discount_codes`, `net.domains`, `net.customers`, `net.usage`,
`net.quotas`, `net.schedule`, `net.locks`, `net.imports`, `net.payments`. Every method that talks to the server is
a method call (never a property or an attribute access), returns models from `models.py` (a payload that does not
fit raises `DataError` naming the record and field), and raises the errors of `errors.py`. Lists are iterators that
fetch page by page. Writes send absolute state (DESIGN.md §3.1), which is what makes their retries safe; creates
never send twice blindly.

The network's flavor (plugin-stub alone, or beside Ultimate Multisite) is chosen once, from `info()`, by
`managers.flavor.flavor_of`; the managers that differ by flavor ask it, nothing compares the mode.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import requests

from .config import NetworkSettings, load_settings
from .errors import DataError, NotFound
from .managers.base import DEFAULT_BATCH_LIMIT, UM, Context
from .managers.customers import CustomerManager
from .managers.discount_codes import DiscountCodeManager
from .managers.domains import DomainManager
from .managers.flavor import Flavor, flavor_of
from .managers.imports import ImportManager
from .managers.locks import LockManager
from .managers.memberships import MembershipManager, MembershipOverride, membership_override
from .managers.payments import PaymentManager
from .managers.products import ProductManager
from .managers.quotas import Mismatch, QuotaManager, SiteQuota
from .managers.schedule import ScheduleManager
from .managers.sites import SiteManager
from .managers.taxes import TaxManager
from .managers.usage import UsageManager
from .models import NetworkInfo, parse
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
        self.domains = DomainManager(ctx, self.flavor)
        """The domains mapped to the sites (UM's Domain records; none without UM)."""
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
