"""Workflows: where data read through `network.py` (or an offline snapshot) meets the pure core.

The CLI and scripts call these; they read, decide with `billing/` and `limits.py`, and write absolute state back.
They take the clock (`now`) as a parameter so that a quote is reproducible; only the CLI reads the real clock.

What they take of a network is typed here, by manager (`MembershipsAPI` is `net.memberships` as the workflows use
it, `QuotasAPI` is `net.quotas`, ...): a live `wpbridge.network.Network`, the unit tests' in-memory network and
(for reads) an offline `wpbridge.workflows.snapshot.Snapshot` all provide them. What differs between the flavors
is asked of the network's `managers.flavor.Flavor` (`flavor_of(network.info())`; a quote carries the one it was
made on), never of the mode.

`NetworkReader` is a network as the read and quote workflows see it (its read-only managers: a live `Network` or an
offline `Snapshot`), `NetworkWriter` one they also write to.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from ..billing import TaxSettings
from ..errors import DataError
from ..managers.payments import PaymentWrite
from ..managers.quotas import Mismatch
from ..managers.taxes import CustomerTax
from ..mapped_domains import MappedDomain
from ..models import (
    Customer,
    DiscountCode,
    Limitations,
    Membership,
    NetworkInfo,
    Product,
    ScheduledChange,
    Site,
    SiteUsage,
)
from ..payment_models import Payment
from ..rest.batch import BatchItem, BatchResult

# --------------------------------------------------------------------------- the managers, as the workflows use them
# A `*ReadAPI` is what an offline `Snapshot` answers too; the protocol without `Read` adds the writes.


class ProductsAPI(Protocol):
    """`net.products` (`managers/products.py`): the catalog."""

    def catalog(self) -> list[Product]: ...


class CustomersAPI(Protocol):
    """`net.customers` (`managers/customers.py`)."""

    def list(self) -> Iterator[Customer]: ...

    def get(self, customer_id: int) -> Customer: ...


class SitesAPI(Protocol):
    """`net.sites` (`managers/sites.py`)."""

    def list(self, *, membership_id: int | None = None, customer_id: int | None = None) -> Iterator[Site]: ...

    def get(self, blog_id: int) -> Site: ...


class SiteLinksAPI(SitesAPI, Protocol):
    """`net.sites` of a live network, which can tell whether its sites' membership links can be read."""

    def links_problem(self) -> str | None: ...


class MembershipsReadAPI(Protocol):
    """`net.memberships` (`managers/memberships.py`), read."""

    def list(self, *, status: str | None = None, customer_id: int | None = None) -> Iterator[Membership]: ...

    def get(self, membership_id: int) -> Membership: ...


class MembershipsAPI(MembershipsReadAPI, Protocol):
    """`net.memberships`, with column filters (`id=[...]`) and the write of a membership's absolute state."""

    def list(self, *, status: str | Iterable[str] | None = None, customer_id: int | None = None,
             **filters: Any) -> Iterator[Membership]: ...

    def update(self, membership_id: int, state: Mapping[str, Any]) -> Membership: ...


class UsageAPI(Protocol):
    """`net.usage` (`managers/usage.py`)."""

    def get(self, blog_ids: Iterable[int]) -> dict[int, SiteUsage]: ...


class QuotasReadAPI(Protocol):
    """`net.quotas` (`managers/quotas.py`), read."""

    def list(self, blog_ids: Iterable[int] | None = None) -> Iterator[tuple[int, Limitations | None]]: ...


class QuotasAPI(QuotasReadAPI, Protocol):
    """`net.quotas`, with the batch write and its read-back."""

    def put_many(self, quotas: Mapping[int, Limitations], *, batch_limit: int | None = None) -> BatchResult: ...

    def verify(self, expected: Mapping[int, Limitations]) -> builtins.list[Mismatch]: ...


class SuspensionAPI(QuotasAPI, Protocol):
    """`net.quotas` with UM mode's suspension of a site."""

    def suspend(self, blog_id: int, suspended: bool, limits: Limitations | None = None) -> None: ...


class ScheduleReadAPI(Protocol):
    """`net.schedule` (`managers/schedule.py`), read."""

    def get(self, membership_id: int) -> ScheduledChange | None: ...

    def list(self, *, due_before: datetime | None = None,
             membership_id: int | None = None) -> Iterator[ScheduledChange]: ...


class ScheduleAPI(ScheduleReadAPI, Protocol):
    """`net.schedule`, with its writes."""

    def put(self, change: ScheduledChange, *, force: bool = False) -> ScheduledChange: ...

    def delete(self, membership_id: int) -> None: ...


class SwapAPI(ScheduleAPI, Protocol):
    """`net.schedule` with UM mode's application of a due swap through UM's own code."""

    def apply(self, membership_id: int) -> dict[str, Any]: ...


class LocksAPI(Protocol):
    """`net.locks` (`managers/locks.py`)."""

    def acquire(self, name: str, owner: str, ttl: int) -> dict[str, Any]: ...

    def release(self, name: str, owner: str) -> None: ...


class ImportsAPI(Protocol):
    """`net.imports` (`managers/imports.py`; the module's `ensure`/`update` build the items `batch` sends)."""

    def network(self) -> dict[str, Any]: ...

    def customers(self) -> Iterator[dict[str, Any]]: ...

    def sites(self) -> Iterator[dict[str, Any]]: ...

    def membership_keys(self) -> Iterator[dict[str, Any]]: ...

    def payment_keys(self) -> Iterator[dict[str, Any]]: ...

    def batch(self, items: Sequence[BatchItem], *, limit: int | None = None) -> BatchResult: ...


class TaxesReadAPI(Protocol):
    """`net.taxes` (`managers/taxes.py`) as a quote reads it; an offline snapshot has none (priced without taxes)."""

    def settings(self) -> TaxSettings: ...

    def customer(self, customer_id: int) -> CustomerTax: ...

    def customers(self, customer_ids: Iterable[int]) -> dict[int, CustomerTax]: ...

    def categories(self) -> dict[str, str]: ...


class DiscountCodesReadAPI(Protocol):
    """`net.discount_codes` (`managers/discount_codes.py`) as a quote reads it; an offline snapshot has none."""

    def all(self) -> builtins.list[DiscountCode]: ...

    def find(self, code: str) -> DiscountCode | None: ...

    def membership_codes(self) -> dict[int, str]: ...


class DomainsReadAPI(Protocol):
    """`net.domains` (`managers/domains.py`), read: the domains mapped to the sites (none without UM)."""

    def all(self) -> builtins.list[MappedDomain]: ...


class PaymentsReadAPI(Protocol):
    """`net.payments` (`managers/payments.py`), read."""

    def list(self, *, membership_id: int | None = None, customer_id: int | None = None,
             status: str | Iterable[str] | None = None,
             payment_ids: Iterable[int] | None = None) -> Iterator[Payment]: ...


class PaymentsAPI(PaymentsReadAPI, Protocol):
    """`net.payments`, with a change's payment and its settling."""

    def get(self, payment_id: int) -> Payment: ...

    def create_for_change(self, membership_id: int, body: Mapping[str, Any]) -> PaymentWrite: ...

    def settle(self, payment_id: int, *, membership: Mapping[str, Any], settled_at: datetime,
               reference: str = "") -> PaymentWrite: ...

    def cancel(self, payment_id: int) -> PaymentWrite: ...


# --------------------------------------------------------------------------- a network, as the workflows use it


class NetworkReader(Protocol):
    """What the read and quote workflows read (`change.options/quote/describe`, the read commands, `export`): a live
    `Network` or an offline `Snapshot`. `payments` None: a snapshot written before payments were exported; `taxes`
    None: a snapshot (its taxes are not exported)."""

    def info(self) -> NetworkInfo: ...

    @property
    def unreadable(self) -> builtins.list[DataError]:
        """Records a listing skipped (each names its id and field); a command reports each and exits 1."""
        ...

    @property
    def products(self) -> ProductsAPI: ...

    @property
    def customers(self) -> CustomersAPI: ...

    @property
    def memberships(self) -> MembershipsReadAPI: ...

    @property
    def sites(self) -> SitesAPI: ...

    @property
    def usage(self) -> UsageAPI: ...

    @property
    def quotas(self) -> QuotasReadAPI: ...

    @property
    def schedule(self) -> ScheduleReadAPI: ...

    @property
    def payments(self) -> PaymentsReadAPI | None: ...

    @property
    def taxes(self) -> TaxesReadAPI | None:
        """The network's taxes; None: not known (a snapshot), a quote is priced without taxes."""
        ...

    @property
    def discount_codes(self) -> DiscountCodesReadAPI | None:
        """The network's discount codes; None: not known (a snapshot), a quote cannot take a code."""
        ...

    @property
    def domains(self) -> DomainsReadAPI | None:
        """The domains mapped to the sites; None: not known (a snapshot written before they were exported)."""
        ...


class NetworkWriter(NetworkReader, Protocol):
    """The reads plus the managers `change.apply` and `payments` write through."""

    @property
    def memberships(self) -> MembershipsAPI: ...

    @property
    def quotas(self) -> QuotasAPI: ...

    @property
    def schedule(self) -> ScheduleAPI: ...

    @property
    def locks(self) -> LocksAPI: ...

    @property
    def payments(self) -> PaymentsAPI: ...
