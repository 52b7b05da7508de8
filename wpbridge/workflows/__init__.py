"""Workflows: where data read through `network.py` (or an offline snapshot) meets the pure core.

The CLI and scripts call these; they read, decide with `billing/` and `limits.py`, and write absolute state back.
They take the clock (`now`) as a parameter so that a quote is reproducible; only the CLI reads the real clock.

`NetworkReader` is what the read-only workflows need: a live `wpbridge.network.Network` and an offline
`wpbridge.workflows.snapshot.Snapshot` both provide it. `NetworkWriter` adds the writes `change.apply` makes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, Protocol

from ..managers.payments import PaymentWrite
from ..models import Customer, Limitations, Membership, NetworkInfo, Product, ScheduledChange, Site, SiteUsage
from ..payment_models import Payment


class NetworkReader(Protocol):
    """The reads the workflows make (a subset of `Network`'s surface)."""

    def info(self) -> NetworkInfo: ...

    def catalog(self) -> list[Product]: ...

    def memberships(self, *, status: str | None = None, customer_id: int | None = None) -> Iterator[Membership]: ...

    def membership(self, membership_id: int) -> Membership: ...

    def sites(self, *, membership_id: int | None = None, customer_id: int | None = None) -> Iterator[Site]: ...

    def site(self, blog_id: int) -> Site: ...

    def customers(self) -> Iterator[Customer]: ...

    def usage(self, blog_ids: Iterable[int]) -> dict[int, SiteUsage]: ...

    def site_quotas(self, blog_ids: Iterable[int] | None = None) -> Iterator[tuple[int, Limitations | None]]: ...

    def scheduled_change(self, membership_id: int) -> ScheduledChange | None: ...

    def scheduled_changes(
        self, *, due_before: datetime | None = None, membership_id: int | None = None
    ) -> Iterator[ScheduledChange]: ...


class PaymentsAPI(Protocol):
    """The payments manager (`Network.payments`, `managers/payments.py`) as the workflows use it."""

    def list(self, *, membership_id: int | None = None, customer_id: int | None = None,
             status: str | Iterable[str] | None = None,
             payment_ids: Iterable[int] | None = None) -> Iterator[Payment]: ...

    def get(self, payment_id: int) -> Payment: ...

    def create_for_change(self, membership_id: int, body: Mapping[str, Any]) -> PaymentWrite: ...

    def settle(self, payment_id: int, *, membership: Mapping[str, Any], settled_at: datetime,
               reference: str = "") -> PaymentWrite: ...

    def cancel(self, payment_id: int) -> PaymentWrite: ...


class NetworkWriter(NetworkReader, Protocol):
    """The reads plus the absolute-state writes of `change.apply` (and the payments of a change)."""

    @property
    def payments(self) -> PaymentsAPI: ...

    def update_membership(self, membership_id: int, state: Mapping[str, Any]) -> Membership: ...

    def put_site_quotas(self, quotas: Mapping[int, Limitations]) -> Any: ...

    def put_scheduled_change(self, change: ScheduledChange) -> ScheduledChange: ...

    def delete_scheduled_change(self, membership_id: int) -> Any: ...

    def acquire_lock(self, name: str, owner: str, ttl: int) -> dict[str, Any]: ...

    def release_lock(self, name: str, owner: str) -> None: ...


def network_mode(network: NetworkReader) -> str:
    """"um" when plugin-stub runs beside Ultimate Multisite, else "stub" (a snapshot: the mode it was taken in)."""
    mode = getattr(network, "mode", None)
    if callable(mode):
        return str(mode())
    return network.info().mode
