"""`wpbridge export`: a JSON snapshot of a network, and `Snapshot`, an offline read-only source built from one.

Why: support and migrations want to look at (and quote against) a network without touching it, or without
reaching it at all. A snapshot holds everything the read and quote workflows need: the catalog, customers,
memberships, sites, each site's effective quota and usage, the scheduled changes, and the payments (with their
line items, invoice numbers, gateway ids and the plan change a payment pays for; `wpbridge import` carries them).
`Snapshot` has the same read-only managers as `Network` (`NetworkReader`: `snapshot.memberships.get(id)`,
`snapshot.sites.list(...)`, ...), so `--snapshot FILE` works on every read or quote command. A snapshot written
before payments were exported has no `payments` section: `Snapshot.payments` is then None (unknown), never an
empty list (none). For a migration it also holds the network's taxes (`taxes`: settings, rates, categories'
names, exempt customers), each customer's stored billing address with its IP country (UM's REST answers `{}`) and
the domains mapped to the sites (`domains`: UM's Domain records, by the source's blog ids).

The export streams: records are written one per line as they are read, so memory stays flat in the size of the
network (only the blog ids are kept, to ask for usage in chunks). Records are stored in the models' JSON form
(amounts as strings, dates ISO 8601 UTC) and parsed back through the same models, so a snapshot that does not
fit fails loudly, naming the file, the model, the record and the field.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, StrictInt, ValidationError, field_validator

from .. import jsonsafe as safe_json
from ..encoding import dumps, iso_utc
from ..errors import DataError, InputError, NotFound
from ..managers.taxes import CustomerTax, settings_body
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
    parse,
    parse_utc,
)
from ..payment_models import Payment
from ..safe_files import open_private
from . import DiscountCodesReadAPI, NetworkReader, TaxesReadAPI
from .snapshot_codes import SnapshotDiscountCodes, codes_of, memberships_with_codes

FORMAT = "wpbridge-snapshot"
VERSION = 1
USAGE_CHUNK = 100
"""Blog ids per usage request (the companion route's maximum)."""

SECTIONS = ("catalog", "customers", "memberships", "sites", "quotas", "usage", "scheduled_changes", "payments",
            "discount_codes", "domains")
TAXES = "taxes"
"""The network's taxes (an object, not a section): `enabled`, `inclusive`, `rates` (as `GET /wpbridge/v1/taxes`
gives them), `categories` (their names by slug) and `exempt_customers` (customer ids); absent from a snapshot
of a source without taxes."""

M = TypeVar("M", bound=BaseModel)


# --------------------------------------------------------------------------- export


def _dump(record: BaseModel | dict[str, Any]) -> str:
    # exclude_unset: what the server did not send stays absent, so that the limitations merge (which tells
    # "not set" from "set to nothing") gives the same effective quota offline as live
    data = record.model_dump(mode="json", exclude_unset=True) if isinstance(record, BaseModel) else record
    return dumps(data, separators=(",", ":"))


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def write_snapshot(network: NetworkReader, out: IO[str], *, now: datetime, source_url: str | None = None) -> dict[
    str, int
]:
    """Write the network's snapshot as JSON to `out`; return the number of records per section.

    One record per line inside each section's array: a snapshot diffs well and greps well.
    """
    counts: dict[str, int] = {}
    info = network.info()
    header = {"format": FORMAT, "version": VERSION, "exported_at": iso_utc(now), "source_url": source_url}
    out.write("{\n")
    for key, value in header.items():
        out.write(f"{dumps(key)}: {dumps(value)},\n")
    out.write(f'"info": {_dump(info)}')

    def section(name: str, records: Iterable[BaseModel | dict[str, Any]]) -> None:
        out.write(f',\n"{name}": [')
        n = 0
        for record in records:
            out.write(("\n" if n == 0 else ",\n") + _dump(record))
            n += 1
        out.write("\n]" if n else "]")
        counts[name] = n

    blog_ids: list[int] = []

    def sites() -> Iterator[Site]:
        for site in network.sites.list():
            blog_ids.append(site.blog_id)
            yield site

    exempt: list[int] = []
    section("catalog", network.products.catalog())
    section("customers", _with_tax_facts(network, exempt))
    section("memberships", memberships_with_codes(network))  # each with its own code (snapshot_codes)
    section("sites", sites())
    section(
        "quotas",
        (
            {"blog_id": blog_id, "quota": None if quota is None else quota.model_dump(mode="json", exclude_unset=True)}
            for blog_id, quota in network.quotas.list()
        ),
    )
    section("usage", (u for chunk in _chunks(blog_ids, USAGE_CHUNK) for u in network.usage.get(chunk).values()))
    section("scheduled_changes", network.schedule.list())
    if network.payments is not None:  # a source that does not know its payments (an old snapshot) writes none
        section("payments", network.payments.list())
    codes = codes_of(network)
    if codes is not None:  # every code, every field; a source that holds none (an old snapshot) writes none
        section("discount_codes", codes)
    if network.domains is not None:  # UM's mapped domains (none on a network without UM; an old snapshot: unknown)
        section("domains", network.domains.all())
    if network.taxes is not None:
        taxes = {**settings_body(network.taxes.settings()), "categories": network.taxes.categories(),
                 "exempt_customers": sorted(exempt)}
        out.write(f',\n"{TAXES}": ' + dumps(taxes, separators=(",", ":")))
    out.write("\n}\n")
    return counts


def _with_tax_facts(network: NetworkReader, exempt: list[int]) -> Iterator[Customer]:
    """The customers, each with its stored billing address and IP country where the customers' listing gives
    none (UM's REST answers `{}`: the companion's tax route reads UM's meta), the exempt ones' ids added to
    `exempt`; a source without taxes (an old snapshot): the customers as listed."""
    taxes = network.taxes
    if taxes is None:
        yield from network.customers.list()
        return
    batch: list[Customer] = []

    def flush() -> Iterator[Customer]:
        facts = taxes.customers([c.id for c in batch]) if batch else {}
        for c in batch:
            f = facts.get(c.id)
            if f is not None and f.tax_exempt:
                exempt.append(c.id)
            address = _address(c, f)
            if address != c.billing_address:
                c = c.model_copy(update={"billing_address": address})
            yield c
        batch.clear()

    for customer in network.customers.list():
        batch.append(customer)
        if len(batch) == USAGE_CHUNK:
            yield from flush()
    yield from flush()


def _address(customer: Customer, facts: CustomerTax | None) -> dict[str, Any]:
    """The customer's billing address as the stub keeps it: the stored one (UM: from its meta, its REST gives
    `{}`) with the IP country (UM's meta `ip_country`, the tax country of a customer without a billing country)."""
    address = dict(customer.billing_address)
    if facts is None:
        return address
    address = address or dict(facts.billing_address)
    if facts.ip_country and "ip_country" not in address:
        address["ip_country"] = facts.ip_country
    return address


def export_snapshot(network: NetworkReader, path: str | Path, *, now: datetime, source_url: str | None = None) -> (
    dict[str, int]
):
    """`write_snapshot` to a file, written next to it first and renamed, so a failed export leaves no half file."""
    with open_private(path) as fh:  # exclusive temporary file, 0600, no symlink followed (safe_files)
        counts = write_snapshot(network, fh, now=now, source_url=source_url)
    return counts


# --------------------------------------------------------------------------- offline reading


class QuotaRow(BaseModel):
    model_config = ConfigDict(extra="allow")

    blog_id: StrictInt
    quota: dict[str, Any] | None = None


class SnapshotFile(BaseModel):
    """The envelope of a snapshot file; each record is then read by its own model (models.py), so a bad one is
    named by section, id and field. `SnapshotFile.model_json_schema()` is the file's JSON Schema."""

    model_config = ConfigDict(extra="allow")

    format: Literal["wpbridge-snapshot"]
    version: Literal[1]
    exported_at: datetime | None = None
    source_url: str | None = None
    info: dict[str, Any] | None = None
    catalog: list[Any]
    customers: list[Any]
    memberships: list[Any]
    sites: list[Any]
    quotas: list[QuotaRow]
    usage: list[Any]
    scheduled_changes: list[Any]
    payments: list[Any] | None = None
    """None: written before payments were exported (unknown), not "no payments"."""
    discount_codes: list[Any] | None = None
    """None: written before discount codes were exported."""
    domains: list[Any] | None = None
    """The domains mapped to the sites (UM's Domain records); None: written before they were exported."""

    @field_validator("exported_at", mode="before")
    @classmethod
    def _utc(cls, value: Any) -> datetime | None:
        return parse_utc(value)


def _envelope(data: Any, name: str) -> SnapshotFile:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f"{name}: not a wpbridge snapshot (no \"format\": \"{FORMAT}\" key)")
    if data.get("version") != VERSION:
        raise InputError(f"{name}: snapshot version {data.get('version')!r} is not supported (expected {VERSION})")
    try:
        return SnapshotFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = first["loc"]
        where = f"section '{loc[0]}'" if loc and loc[0] in SECTIONS else f"'{'.'.join(map(str, loc))}'"
        if len(loc) > 1:
            where += f" entry {loc[1]}" + (f" '{'.'.join(map(str, loc[2:]))}'" if len(loc) > 2 else "")
        if first["type"] == "missing":
            raise InputError(f"{name}: {where} is missing") from None
        if first["type"] == "list_type":
            raise InputError(f"{name}: {where} is not a list") from None
        raise InputError(f"{name}: {where}: {str(first['msg']).removeprefix('Value error, ')}") from None


class SnapshotPayments:
    """The payments of a snapshot, read like `Network.payments` (`list`, `get`, `find`)."""

    def __init__(self, payments: Iterable[Payment], name: str) -> None:
        self._rows = {p.id: p for p in payments}
        self._name = name

    def list(self, *, membership_id: int | None = None, customer_id: int | None = None,
             status: str | Iterable[str] | None = None,
             payment_ids: Iterable[int] | None = None) -> Iterator[Payment]:
        statuses = {status} if isinstance(status, str) else set(status) if status is not None else None
        ids = set(payment_ids) if payment_ids is not None else None
        for pid in sorted(self._rows):
            p = self._rows[pid]
            if ((membership_id is None or p.membership_id == membership_id)
                    and (customer_id is None or p.customer_id == customer_id)
                    and (statuses is None or p.status in statuses) and (ids is None or pid in ids)):
                yield p

    def get(self, payment_id: int) -> Payment:
        try:
            return self._rows[payment_id]
        except KeyError:
            raise NotFound(f"payment {payment_id} is not in {self._name}", record_id=payment_id) from None

    def find(self, payment_id: int) -> Payment | None:
        return self._rows.get(payment_id)


# --------------------------------------------------------------------------- the snapshot's managers (read-only)
# Each reads the snapshot's records as the live manager of the same name reads the network (`net.sites.list`,
# `net.memberships.get`, ...), so the read and quote workflows take either. A record that is missing is NotFound.


def _missing(what: str, record_id: int, name: str) -> NotFound:
    return NotFound(f"{what} {record_id} is not in {name}", record_id=record_id)


class SnapshotProducts:
    """`snapshot.products`: the catalog."""

    def __init__(self, products: builtins.list[Product]) -> None:
        self._products = products

    def catalog(self) -> builtins.list[Product]:
        return list(self._products)

    def list(self) -> Iterator[Product]:
        return iter(self._products)


class SnapshotCustomers:
    """`snapshot.customers`."""

    def __init__(self, customers: dict[int, Customer], name: str) -> None:
        self._customers = customers
        self._name = name

    def list(self) -> Iterator[Customer]:
        return iter(self._customers.values())

    def get(self, customer_id: int) -> Customer:
        found = self._customers.get(customer_id)
        if found is None:
            raise _missing("customer", customer_id, self._name)
        return found


class SnapshotMemberships:
    """`snapshot.memberships`."""

    def __init__(self, memberships: dict[int, Membership], name: str) -> None:
        self._memberships = memberships
        self._name = name

    def list(self, *, status: str | None = None, customer_id: int | None = None) -> Iterator[Membership]:
        return (m for m in self._memberships.values()
                if (status is None or m.status == status) and (customer_id is None or m.customer_id == customer_id))

    def get(self, membership_id: int) -> Membership:
        found = self._memberships.get(membership_id)
        if found is None:
            raise _missing("membership", membership_id, self._name)
        return found


class SnapshotSites:
    """`snapshot.sites`."""

    def __init__(self, sites: dict[int, Site], name: str) -> None:
        self._sites = sites
        self._name = name

    def list(self, *, membership_id: int | None = None, customer_id: int | None = None) -> Iterator[Site]:
        return (s for s in self._sites.values()
                if (membership_id is None or s.membership_id == membership_id)
                and (customer_id is None or s.customer_id == customer_id))

    def get(self, blog_id: int) -> Site:
        found = self._sites.get(blog_id)
        if found is None:
            raise _missing("site", blog_id, self._name)
        return found


class SnapshotUsage:
    """`snapshot.usage`: what each site used when the snapshot was written."""

    def __init__(self, usage: dict[int, SiteUsage]) -> None:
        self._usage = usage

    def get(self, blog_ids: Iterable[int]) -> dict[int, SiteUsage]:
        return {b: self._usage[b] for b in blog_ids if b in self._usage}


class SnapshotQuotas:
    """`snapshot.quotas`: each site's stored quota (None: none written)."""

    def __init__(self, quotas: dict[int, Limitations | None], sites: dict[int, Site], name: str) -> None:
        self._quotas = quotas
        self._sites = sites
        self._name = name

    def get(self, blog_id: int) -> Limitations | None:
        if blog_id not in self._sites and blog_id not in self._quotas:
            raise _missing("site", blog_id, self._name)
        return self._quotas.get(blog_id)

    def list(self, blog_ids: Iterable[int] | None = None) -> Iterator[tuple[int, Limitations | None]]:
        ids = sorted(self._quotas) if blog_ids is None else [b for b in blog_ids if b in self._quotas]
        return ((b, self._quotas[b]) for b in ids)


class SnapshotSchedule:
    """`snapshot.schedule`: the memberships' scheduled changes."""

    def __init__(self, scheduled: dict[int, ScheduledChange]) -> None:
        self._scheduled = scheduled

    def get(self, membership_id: int) -> ScheduledChange | None:
        return self._scheduled.get(membership_id)

    def list(self, *, due_before: datetime | None = None,
             membership_id: int | None = None) -> Iterator[ScheduledChange]:
        return (c for c in self._scheduled.values()
                if (due_before is None or c.scheduled_for <= due_before)
                and (membership_id is None or c.membership_id == membership_id))


class SnapshotDomains:
    """`snapshot.domains`: the mapped domains of a snapshot, read like `net.domains`."""

    def __init__(self, domains: Iterable[MappedDomain]) -> None:
        self._domains = sorted(domains, key=lambda d: d.id or 0)

    def all(self) -> list[MappedDomain]:
        return list(self._domains)


class Snapshot:
    """A read-only, offline `NetworkReader` over a snapshot file: `info()` and the managers a live `Network` has
    for reading (`products`, `customers`, `memberships`, `sites`, `usage`, `quotas`, `schedule`, `payments`), over
    the records of the file. Lookups of missing records raise NotFound."""

    def __init__(self, data: dict[str, Any], *, name: str = "snapshot") -> None:
        self.name = name
        envelope = _envelope(data, name)
        self.exported_at: datetime | None = envelope.exported_at
        self.source_url: str | None = envelope.source_url
        self._info = self._parse(NetworkInfo, data.get("info"), "info")
        self._products = self._section(Product, data["catalog"], "catalog")
        self._customers = {c.id: c for c in self._section(Customer, data["customers"], "customers")}
        self._memberships = {m.id: m for m in self._section(Membership, data["memberships"], "memberships")}
        self._sites = {s.blog_id: s for s in self._section(Site, data["sites"], "sites")}
        self._quotas: dict[int, Limitations | None] = {
            row.blog_id: None if row.quota is None else self._parse(Limitations, row.quota, "quotas")
            for row in envelope.quotas
        }
        self._usage = {u.blog_id: u for u in self._section(SiteUsage, data["usage"], "usage")}
        self._scheduled = {
            c.membership_id: c for c in self._section(ScheduledChange, data["scheduled_changes"], "scheduled_changes")
        }
        self.products = SnapshotProducts(self._products)
        self.customers = SnapshotCustomers(self._customers, name)
        self.memberships = SnapshotMemberships(self._memberships, name)
        self.sites = SnapshotSites(self._sites, name)
        self.usage = SnapshotUsage(self._usage)
        self.quotas = SnapshotQuotas(self._quotas, self._sites, name)
        self.schedule = SnapshotSchedule(self._scheduled)
        self.payments: SnapshotPayments | None = None
        """The snapshot's payments; None when it was written before payments were exported."""
        if envelope.payments is not None:
            self.payments = SnapshotPayments(self._section(Payment, envelope.payments, "payments"), name)
        self.taxes: TaxesReadAPI | None = None
        """None: a quote from a snapshot is priced without taxes (its `taxes` object is for `wpbridge import`; the
        customers' tax facts are not all in it)."""
        self.discount_codes: DiscountCodesReadAPI | None = None
        """The snapshot's discount codes; None (a quote from it takes none) when it was written before codes were
        exported."""
        if envelope.discount_codes is not None:
            self.discount_codes = SnapshotDiscountCodes(
                self._section(DiscountCode, envelope.discount_codes, "discount_codes"), self._memberships.values())
        self.domains: SnapshotDomains | None = None
        """The snapshot's mapped domains; None when it was written before they were exported."""
        if envelope.domains is not None:
            self.domains = SnapshotDomains(self._section(MappedDomain, envelope.domains, "domains"))
        self.unreadable: list[DataError] = []
        """Always empty, as `Network.unreadable` of a listing that skipped nothing: a record of a snapshot that
        cannot be read fails the load."""

    @classmethod
    def load(cls, path: str | Path) -> Snapshot:
        """Read a snapshot file; a missing or malformed file is one clear InputError naming it."""
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"snapshot {p}: cannot read it ({exc.strerror or exc})") from None
        try:
            data = safe_json.loads(text)
        except json.JSONDecodeError as exc:
            where = f"line {exc.lineno}, column {exc.colno}"
            raise InputError(f"snapshot {p}: not valid JSON ({where}: {exc.msg})") from None
        return cls(data, name=f"snapshot {p}")

    def _section(self, model: type[M], payloads: Iterable[Any], section: str) -> list[M]:
        return [self._parse(model, p, section) for p in payloads]

    def _parse(self, model: type[M], payload: Any, section: str) -> M:
        try:
            return parse(model, payload)
        except DataError as err:
            raise DataError(f"{self.name}, section '{section}': {err.message}", field=err.field,
                            record_id=err.record_id) from None

    def info(self) -> NetworkInfo:
        return self._info
