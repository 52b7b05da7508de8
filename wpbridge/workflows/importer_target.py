"""`wpbridge import`: the target network as the plan sees it, read once before anything is written.

The customers and sites of the target come from plugin-stub's import routes as rows; the plan reads them through
models (`TargetCustomer`, `TargetSite`), so that a field is compared with the file's as the same type, normalised
the same way (dates, booleans, "" as none, WordPress's escaped titles).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Protocol

from pydantic import BaseModel, BeforeValidator, ConfigDict

from ..managers.flavor import Flavor, flavor_of
from ..mapped_domains import MappedDomain
from ..models import DiscountCode, Membership, NetworkInfo, OptionalStr, PhpBool, Product, ScheduledChange
from ..payment_models import Payment
from . import ImportsAPI, MembershipsReadAPI, ProductsAPI, ScheduleReadAPI
from .importer_records import CustomerFields, SrcSite

if TYPE_CHECKING:
    from .importer_taxes import TargetTaxes


class ImportTarget(Protocol):
    """What the planner reads, by manager (a live `Network` provides it)."""

    def info(self) -> NetworkInfo: ...

    @property
    def products(self) -> ProductsAPI: ...

    @property
    def memberships(self) -> MembershipsReadAPI: ...

    @property
    def schedule(self) -> ScheduleReadAPI: ...

    @property
    def imports(self) -> ImportsAPI: ...


class TargetCustomer(CustomerFields):
    """A customer of the target (`GET /wpbridge/v1/import/customers`): identity and the fields an import carries
    (None: the target does not say)."""

    id: int
    email: OptionalStr = None
    username: OptionalStr = None


def _unescaped(value: Any) -> str:
    return html.unescape(value or "")  # WordPress stores an apostrophe as &#039;


class TargetSite(BaseModel):
    """A site of the target (`GET /wpbridge/v1/import/sites`), with the membership it is linked to."""

    model_config = ConfigDict(extra="ignore")

    blog_id: int
    domain: str = ""
    path: str = "/"
    membership_id: int | None = None
    title: Annotated[str, BeforeValidator(_unescaped)] = ""
    type: str | None = None
    pending: PhpBool = False
    """An earlier run's create of this site is finishing (or died before linking it)."""


@dataclass
class TargetState:
    """One read of the target network: what the plan compares with. `customers` and `sites` are the rows as the
    network gives them; `customer_by_email`, `customer_by_username` and `site_at` read them as models. `flavor`
    (chosen once from its `info()`) says what the target does itself: compute the sites' limits, keep a payment's
    hash, compare a scheduled swap on some fields only."""

    flavor: Flavor
    domain: str
    path: str
    subdomain: bool
    catalog: list[Product]
    customers: list[dict[str, Any]]
    memberships: dict[int, Membership]
    keys: dict[str, int]
    sites: dict[tuple[str, str], dict[str, Any]]
    scheduled: dict[int, ScheduledChange]
    batch_limit: int = 25
    payment_keys: dict[str, int] = field(default_factory=dict)
    """Source key -> payment id, of the payments earlier imports made (plugin-stub's payment keys)."""
    payments: dict[int, Payment] = field(default_factory=dict)
    """The target's payments that a source key names (read by id)."""
    discount_codes: list[DiscountCode] = field(default_factory=list)
    billing_address_keys: tuple[str, ...] | None = None
    """The billing-address lines the network says it keeps (`GET /wpbridge/v1/import/network`; UM:
    `Billing_Address::fields()`, which add-ons extend, and `ip_country`); None: any, or not said (then the flavor's)."""
    taxes: TargetTaxes | None = None
    """The target's taxes (importer_taxes), read when the file carries taxes."""
    membership_codes: dict[int, str] = field(default_factory=dict)
    """The target's codes and its memberships' own codes (by membership id), read when the file carries codes."""
    domains: list[MappedDomain] | None = field(default_factory=list)
    """The target's mapped domains (importer_domains), read when the file carries domains; None: it keeps none."""

    @property
    def by_slug(self) -> dict[str, Product]:
        return {p.slug: p for p in self.catalog}

    @property
    def by_id(self) -> dict[int, Product]:
        return {p.id: p for p in self.catalog}

    def _customers(self) -> list[TargetCustomer]:
        return [TargetCustomer.model_validate(row) for row in self.customers]

    def customer_by_email(self) -> dict[str, TargetCustomer]:
        return {c.email.lower(): c for c in self._customers() if c.email}

    def customer_by_username(self) -> dict[str, TargetCustomer]:
        return {c.username: c for c in self._customers() if c.username}

    def site_at(self, domain: str, path: str) -> TargetSite | None:
        row = self.sites.get((domain, path))
        return TargetSite.model_validate(row) if row is not None else None

    def site_address(self, site: SrcSite) -> tuple[str, str]:
        """(domain, path) of a source site on this network, translated between layouts (`address_problem` says
        which sites cannot be): a subdirectory site `/alice/` is `alice.{domain}` on a subdomain network, a site on
        a subdomain of the source's network (`alice.`) is `{path}alice/` on a subdirectory one; the main site and
        a site on a host of its own (a mapped domain) keep their place."""
        label = _label(site)
        if self.subdomain:
            if site.domain is None:
                return (f"{label}.{self.domain}" if label else self.domain), self.path
            return _absolute(site.domain, self.domain), self.path
        if site.domain is None:
            return self.domain, site.path
        if site.domain.endswith("."):  # alice. on a subdirectory network: /alice/ under the network's path
            return self.domain, f"{self.path.rstrip('/')}/{label}/"
        return site.domain, site.path

    def address_problem(self, site: SrcSite) -> str | None:
        """Why the site cannot live on this network as given (None: it can)."""
        label = _label(site)
        if self.subdomain:
            if site.domain is None and label is not None and not HOST_LABEL.fullmatch(label):
                return (f"site_path {site.path!r}: a subdomain network gives each site one host label (a-z, 0-9"
                        f" and -) under {self.domain}; this path cannot be one")
            return None
        if site.domain is None:
            return None
        if not site.domain.endswith("."):
            if site.domain.lower() != self.domain.lower():
                return (f"site_domain {site.domain!r}: this network keeps its sites under {self.domain} (a"
                        " subdirectory network); give site_path instead")
            return None
        if site.path != "/" or label is None or not HOST_LABEL.fullmatch(label):
            return (f"site_domain {site.domain!r}: only a site on one label under the source network's host (path"
                    " /) becomes a path on this subdirectory network")
        if label in SUBDIRECTORY_RESERVED:
            return (f"site_domain {site.domain!r}: /{label}/ is reserved on a subdirectory network (WordPress's"
                    " get_subdirectory_reserved_names)")
        return None


HOST_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
"""A site's subdomain label, also its path segment on a subdirectory network."""
SUBDIRECTORY_RESERVED = frozenset({"page", "comments", "blog", "files", "feed", "wp-admin", "wp-content",
                                   "wp-includes", "wp-json", "embed"})
"""WordPress's get_subdirectory_reserved_names(): no subdirectory site takes these paths."""


def _label(site: SrcSite) -> str | None:
    """The site's own name: its subdomain label (`alice.`), else its path (`/alice/` -> alice); None: the main
    site's place (a path /, the source's own host)."""
    if site.domain is not None:
        return site.domain[:-1] if site.domain.endswith(".") else None
    return site.path.strip("/") or None


def _absolute(domain: str, network: str) -> str:
    return domain + network if domain.endswith(".") else domain


def read_target(net: ImportTarget) -> TargetState:
    info = net.info()
    where = net.imports.network()
    sites: dict[tuple[str, str], dict[str, Any]] = {}
    for row in net.imports.sites():
        sites[(str(row.get("domain", "")), str(row.get("path", "/")))] = row
    return TargetState(
        flavor=flavor_of(info),
        domain=str(where.get("domain", "")),
        path=str(where.get("path", "/")),
        subdomain=bool(where.get("subdomain_install")),
        catalog=net.products.catalog(),
        customers=list(net.imports.customers()),
        memberships={m.id: m for m in net.memberships.list()},
        keys={str(k["source_key"]): int(k["membership_id"]) for k in net.imports.membership_keys()},
        sites=sites,
        scheduled={c.membership_id: c for c in net.schedule.list()},
        batch_limit=info.batch_limit,
        billing_address_keys=_keys(where.get("billing_address_keys")),
    )


def _keys(value: Any) -> tuple[str, ...] | None:
    return tuple(str(k) for k in value) if isinstance(value, list) else None


def read_target_payments(target: TargetState, keys: Iterable[Mapping[str, Any]],
                         fetch: Callable[[list[int]], Iterable[Payment]]) -> None:
    """The payment keys of earlier imports and the payments they name (`fetch`: the payments of up to 100 ids,
    e.g. `Network.payments.list(payment_ids=...)`), into `target`."""
    for row in keys:
        target.payment_keys[str(row["source_key"])] = int(row["payment_id"])
    ids = sorted(set(target.payment_keys.values()))
    for start in range(0, len(ids), 100):
        for payment in fetch(ids[start:start + 100]):
            target.payments[payment.id] = payment
