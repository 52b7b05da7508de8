"""`Network`: the typed facade over `rest/` that workflows and the CLI code against.

Every method that talks to the server is a method call (never a property), returns models from `models.py`
(a payload that does not fit raises `DataError` naming the record and field), and raises the errors of
`errors.py`. Lists are iterators that fetch page by page. Writes send absolute state (DESIGN.md §3.1), which is
what makes their retries safe; creates go through `create()`, which never sends twice blindly.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar

import requests
from pydantic import BaseModel

from .config import NetworkSettings, load_settings
from .encoding import iso_utc
from .errors import Conflict, DataError, NotFound, WPBridgeError
from .limits import differing_modules
from .managers.payments import PaymentManager
from .models import (
    Customer,
    DiscountCode,
    Limitations,
    LimitationsField,
    Membership,
    NetworkInfo,
    Product,
    ScheduledChange,
    Site,
    SiteUsage,
    WireModel,
    parse,
)
from .rest.batch import BatchItem, BatchResult, run_batch
from .rest.pagination import iter_items
from .rest.transport import RetryPolicy, Transport, TransportStats, route

M = TypeVar("M", bound=BaseModel)

UM = "wu/v2"
COMPANION = "wpbridge/v1"
CHUNK = 100
"""Ids per request for the companion routes that take a list of blog ids (their documented maximum)."""
DEFAULT_BATCH_LIMIT = 25
NATURAL_KEYS = {"product": "slug", "discount_code": "code"}
"""The field that identifies a record before it has an id: how `create()` finds out whether a create landed."""


class SiteQuota(WireModel):
    """One row of `GET /wpbridge/v1/quotas`: a site and its effective quota (None: none written)."""

    blog_id: int
    quota: LimitationsField | None = None


class MembershipOverride(WireModel):
    """One row of `GET /wpbridge/v1/memberships/limitations` (UM mode): a membership's own override, UM's membership
    meta `wu_limitations` (`{}`/`[]`/null: none stored), or why the stored value cannot be read."""

    membership_id: int
    limitations: LimitationsField | None = None
    unreadable: str | None = None


def membership_override(row: Any) -> tuple[int | None, Limitations | DataError]:
    """Read one override row tolerantly, as the catalog's limitations are read (JSON-string modules, `""` limits,
    `[]` for an empty set). A row the server marks unreadable, or whose limitations do not fit, gives a DataError
    naming the membership and the field: never "no override"."""
    mid = row.get("membership_id") if isinstance(row, Mapping) else None
    if isinstance(mid, str) and mid.strip().isdigit():
        mid = int(mid)
    mid = mid if isinstance(mid, int) and not isinstance(mid, bool) else None
    where = f"Membership {mid}" if mid is not None else "Membership"
    try:
        got = parse(MembershipOverride, row)
    except DataError as err:  # "MembershipOverride: field 'limitations.x': <reason> (got ...)"
        detail = err.message.split(": ", 1)[-1]
        return mid, DataError(f"{where}: its own override (UM membership meta wu_limitations) cannot be read: "
                              f"{detail}", field=err.field or "limitations", record_id=mid)
    if got.unreadable:
        return got.membership_id, DataError(
            f"{where}: field 'limitations': its own override (UM membership meta wu_limitations) cannot be read: "
            f"{got.unreadable}", field="limitations", record_id=got.membership_id)
    return got.membership_id, got.limitations or Limitations()


@dataclass(frozen=True)
class Mismatch:
    """A site whose stored quota differs from what was expected (`actual` None: no quota or no such site)."""

    blog_id: int
    expected: Limitations
    actual: Limitations | None
    modules: tuple[str, ...]

    def __str__(self) -> str:
        if self.actual is None:
            return f"site {self.blog_id}: no quota stored"
        return f"site {self.blog_id}: quota differs in {', '.join(self.modules)}"


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
        self.payments = PaymentManager(self.transport, per_page=settings.per_page,
                                       concurrency=settings.concurrency)
        """The network's payments (`wpbridge/v1/payments`, both flavors)."""
        self.unreadable: list[DataError] = []
        """Records of a listing that could not be read (each names its id and field); the listing went on."""

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

    def mode(self) -> str:
        """plugin-stub's mode, "stub" or "um" (from `info()`, read once)."""
        if self._info is None:
            self.info()
        assert self._info is not None
        return self._info.mode

    def check_auth(self) -> dict[str, Any]:
        """`GET /wu/v2/auth`: raises AuthError when the credentials are refused."""
        data = self.transport.get(route(UM, "auth")).data
        return data if isinstance(data, dict) else {"result": data}

    # ------------------------------------------------------------------ reads (wu/v2)

    def _list(self, slug: str, model: type[M], filters: Mapping[str, Any], id_key: str = "id") -> Iterator[M]:
        for item in iter_items(
            self.transport, route(UM, slug), _filters(filters), per_page=self.settings.per_page,
            concurrency=self.settings.concurrency, id_key=id_key,
        ):
            record = self._tolerant(model, item)
            if record is not None:
                yield record

    def _tolerant(self, model: type[M], item: Any) -> M | None:
        """One record of a listing; one that cannot be read is remembered in `unreadable` and skipped (the
        listing goes on; callers report it and exit 1; nothing is ever written to it)."""
        try:
            return parse(model, item)
        except DataError as err:
            self.unreadable.append(err)
            return None

    def _one(self, slug: str, record_id: int, model: type[M]) -> M:
        return parse(model, self.transport.get(route(UM, slug, record_id)).data)

    def products(self, **filters: Any) -> Iterator[Product]:
        return self._list("product", Product, filters)

    def catalog(self) -> list[Product]:
        """Every product with its limitations and price variations, in one call (`GET /wpbridge/v1/catalog`)."""
        data = self.transport.get(route(COMPANION, "catalog")).data
        products = data.get("products") if isinstance(data, dict) else None
        if not isinstance(products, list):
            products = []
        return [p for p in (self._tolerant(Product, item) for item in products) if p is not None]

    def discount_codes(self, **filters: Any) -> Iterator[DiscountCode]:
        return self._list("discount_code", DiscountCode, filters)

    def memberships(self, *, status: str | Iterable[str] | None = None, customer_id: int | None = None,
                    **filters: Any) -> Iterator[Membership]:
        """UM mode: each membership's `limitations` is its own override, read from plugin-stub (UM's REST returns
        it empty), 100 memberships per request; one whose override cannot be read is left out and remembered in
        `unreadable` (by id and field), like any record that cannot be read."""
        found = self._list("membership", Membership, {"status": status, "customer_id": customer_id, **filters})
        return self._with_overrides(found) if self.mode() == "um" else found

    def membership(self, membership_id: int) -> Membership:
        """One membership; in UM mode with its own override (DataError when that cannot be read)."""
        found = self._one("membership", membership_id, Membership)
        if self.mode() != "um":
            return found
        got = self.membership_overrides([found.id]).get(found.id, _override_missing(found.id))
        if isinstance(got, DataError):
            raise got
        return found.model_copy(update={"limitations": got})

    def membership_overrides(self, membership_ids: Iterable[int]) -> dict[int, Limitations | DataError]:
        """UM mode: each membership's own override (UM's membership meta `wu_limitations`), from plugin-stub's
        `GET /wpbridge/v1/memberships/limitations`, 100 ids per request. A membership the server does not know is
        left out; one whose stored override cannot be read maps to a DataError naming it and the field."""
        out: dict[int, Limitations | DataError] = {}
        where = "GET /wpbridge/v1/memberships/limitations"
        for chunk in _chunks(membership_ids, CHUNK):
            try:
                data = self.transport.get(route(COMPANION, "memberships", "limitations"),
                                          {"membership_ids": ",".join(map(str, chunk))}).data
            except NotFound as exc:
                raise DataError(f"memberships' own overrides cannot be read: {where} is missing ({exc}); "
                                "update plugin-stub on this network", field="limitations") from None
            rows = data.get("limitations") if isinstance(data, dict) else None
            if not isinstance(rows, list):
                raise DataError(f"{where}: expected {{\"limitations\": [...]}}, got {type(data).__name__}",
                                field="limitations")
            for row in rows:
                mid, got = membership_override(row)
                if mid is not None:
                    out[mid] = got
                else:
                    self.unreadable.append(got if isinstance(got, DataError) else DataError(
                        f"{where}: a row without a membership_id", field="membership_id"))
        return out

    def _with_overrides(self, found: Iterable[Membership]) -> Iterator[Membership]:
        for chunk in _batches(found, CHUNK):
            overrides = self.membership_overrides(m.id for m in chunk)
            for membership in chunk:
                got = overrides.get(membership.id, _override_missing(membership.id))
                if isinstance(got, DataError):
                    self.unreadable.append(got)
                    continue
                yield membership.model_copy(update={"limitations": got})

    def sites(self, *, membership_id: int | None = None, customer_id: int | None = None,
              **filters: Any) -> Iterator[Site]:
        """The network's sites in blog_id order. In UM mode from plugin-stub's `GET /wpbridge/v1/sites` (UM's own
        `wu/v2/site` returns every link as null and ignores the link filters); in both modes each record is
        checked against the filters here, so a filter the server ignored never widens the list."""
        if self.mode() == "um":
            if filters:
                raise DataError(f"sites(): filters {sorted(filters)} are not available in UM mode")
            params = {"membership_id": membership_id, "customer_id": customer_id}
            rows = iter_items(
                self.transport, route(COMPANION, "sites"), {k: v for k, v in params.items() if v is not None},
                per_page=self.settings.per_page, concurrency=self.settings.concurrency, legacy=False,
                order_by_id=False, id_key="blog_id", sorted_by_key=True,
            )
            found: Iterator[Site] = (s for s in (self._tolerant(Site, r) for r in rows) if s is not None)
        else:
            found = self._list("site", Site, {"membership_id": membership_id, "customer_id": customer_id,
                                              **filters}, id_key="blog_id")
        for site in found:
            if membership_id is not None and site.membership_id != membership_id:
                continue
            if customer_id is not None and site.customer_id != customer_id:
                continue
            yield site

    def site_links_problem(self) -> str | None:
        """Why the sites' membership links cannot be read on this network (None: they can). Reads one page."""
        try:
            first = list(_take(self.sites(), 100))
        except WPBridgeError as err:
            return f"site links cannot be read: {err}"
        if first and all(s.type is None for s in first if not s.is_main):
            where = "GET /wpbridge/v1/sites" if self.mode() == "um" else "GET /wu/v2/site"
            non_main = [s for s in first if not s.is_main]
            if non_main:
                return (f"site links cannot be read: {where} gives no type and no membership for any of "
                        f"{len(non_main)} sites (Ultimate Multisite's own REST does this; plugin-stub in UM mode "
                        "serves the links)")
        return None

    def site_count(self) -> int | None:
        """How many sites `wu/v2/site` lists (one tiny request); None when the server does not say."""
        return self.transport.get(route(UM, "site"), {"per_page": 1, "page": 1, "number": 1}).total

    def site(self, blog_id: int) -> Site:
        return self._one("site", blog_id, Site)

    def customers(self, **filters: Any) -> Iterator[Customer]:
        """Customers with their WordPress user's email and login. UM's REST leaves those out (its `_user` is
        null), so in UM mode they come from plugin-stub's customer list (one paged read, joined by id): an export
        of a UM network must name its customers to be importable anywhere."""
        customers = self._list("customer", Customer, filters)
        if self.mode() != "um":
            yield from customers
            return
        users = {int(row["id"]): row for row in self.import_customers() if str(row.get("id", "")).isdigit()}
        for customer in customers:
            yield _with_user(customer, users.get(customer.id))

    def customer(self, customer_id: int) -> Customer:
        return self._one("customer", customer_id, Customer)

    # ------------------------------------------------------------------ reads (wpbridge/v1)

    def usage(self, blog_ids: Iterable[int]) -> dict[int, SiteUsage]:
        """What each site uses now, 100 sites per request; unknown sites are left out."""
        out: dict[int, SiteUsage] = {}
        for chunk in _chunks(blog_ids, CHUNK):
            data = self.transport.get(route(COMPANION, "usage"), {"blog_ids": ",".join(map(str, chunk))}).data
            rows = data.get("usage") if isinstance(data, dict) else data
            for row in rows or []:
                usage = parse(SiteUsage, row)
                out[usage.blog_id] = usage
        return out

    def site_quota(self, blog_id: int) -> Limitations:
        data = self.transport.get(route(COMPANION, "sites", blog_id, "quota")).data
        return parse(SiteQuota, {"blog_id": blog_id, "quota": data or {}}).quota or Limitations()

    def site_quotas(self, blog_ids: Iterable[int] | None = None) -> Iterator[tuple[int, Limitations | None]]:
        """Every site's stored quota (None when none was written), paginated; or those of `blog_ids`."""
        if blog_ids is None:
            yield from self._quota_rows({})
            return
        for chunk in _chunks(blog_ids, CHUNK):
            yield from self._quota_rows({"blog_ids": ",".join(map(str, chunk))})

    def _quota_rows(self, params: Mapping[str, Any]) -> Iterator[tuple[int, Limitations | None]]:
        for row in iter_items(
            self.transport, route(COMPANION, "quotas"), params, per_page=self.settings.per_page,
            concurrency=self.settings.concurrency, legacy=False, order_by_id=False, id_key="blog_id",
            sorted_by_key=True,
        ):
            quota = parse(SiteQuota, row)
            yield quota.blog_id, quota.quota

    def scheduled_change(self, membership_id: int) -> ScheduledChange | None:
        try:
            data = self.transport.get(route(COMPANION, "memberships", membership_id, "scheduled-change")).data
        except NotFound as exc:
            if exc.code == "wpbridge_no_scheduled_change":
                return None
            raise
        return parse(ScheduledChange, data)

    def scheduled_changes(self, *, due_before: datetime | None = None,
                          membership_id: int | None = None) -> Iterator[ScheduledChange]:
        params = {"due_before": iso_utc(due_before) if due_before else None, "membership_id": membership_id}
        for item in iter_items(
            self.transport, route(COMPANION, "scheduled-changes"), params, per_page=self.settings.per_page,
            concurrency=1, legacy=False, order_by_id=False, id_key="membership_id", sorted_by_key=False,
        ):
            yield parse(ScheduledChange, item)

    # ------------------------------------------------------------------ writes

    def update_membership(self, membership_id: int, state: Mapping[str, Any]) -> Membership:
        """PUT the membership's absolute target state (safe to resend, hence retried)."""
        data = self.transport.request("PUT", route(UM, "membership", membership_id), json_body=dict(state)).data
        return parse(Membership, data)

    def create(self, slug: str, body: Mapping[str, Any], *, natural_key: str | None = None) -> dict[str, Any]:
        """POST /wu/v2/{slug}. After a try with an unknown outcome, the record is looked up by its natural key
        (`natural_key`, or the slug's default: product -> slug, discount_code -> code) before trying again."""
        key = natural_key or NATURAL_KEYS.get(slug)
        value = body.get(key) if key else None
        lookup = None
        if key and value not in (None, ""):
            def lookup() -> dict[str, Any] | None:
                return self._find(slug, key, value)
        data = self.transport.create(route(UM, slug), dict(body), lookup=lookup)
        return data if isinstance(data, dict) else {"result": data}

    def _find(self, slug: str, key: str, value: Any) -> dict[str, Any] | None:
        reply = self.transport.get(route(UM, slug), {key: value, "per_page": 100, "number": 100})
        rows = reply.data if isinstance(reply.data, list) else []
        for row in rows:
            if isinstance(row, dict) and str(row.get(key)) == str(value):
                return row
        return None

    def put_site_quota(self, blog_id: int, limits: Limitations) -> Limitations:
        data = self.transport.request("PUT", route(COMPANION, "sites", blog_id, "quota"),
                                      json_body=limits.to_wire()).data
        return parse(SiteQuota, {"blog_id": blog_id, "quota": data or {}}).quota or Limitations()

    def put_site_quotas(self, quotas: Mapping[int, Limitations], *, batch_limit: int | None = None) -> BatchResult:
        """Write many sites' quotas through `/batch/v1`, in chunks of the server's batch limit (`info()`, or a
        smaller `batch_limit`); a result per site, in the order given."""
        items = [BatchItem(blog_id, "PUT", route(COMPANION, "sites", blog_id, "quota"), limits.to_wire())
                 for blog_id, limits in quotas.items()]
        limit = self._batch_limit()
        return run_batch(self.transport, items, limit=min(limit, batch_limit) if batch_limit else limit)

    def _batch_limit(self) -> int:
        if self._info is None:
            try:
                self.info()
            except NotFound:
                return DEFAULT_BATCH_LIMIT
        return self._info.batch_limit if self._info else DEFAULT_BATCH_LIMIT

    def apply_scheduled_change(self, membership_id: int) -> dict[str, Any]:
        """UM mode: apply the membership's due scheduled swap through UM's own swap code (plugin-stub's
        `POST .../scheduled-change/apply`). Conflict `wpbridge_not_due` when it is not due yet."""
        data = self.transport.request(
            "POST", route(COMPANION, "memberships", membership_id, "scheduled-change", "apply"), json_body={}
        ).data
        return data if isinstance(data, dict) else {"result": data}

    def put_site_suspension(self, blog_id: int, suspended: bool, limits: Limitations | None = None) -> None:
        """UM mode: suspend a site (its own UM override becomes `limits`; the one it had is kept aside) or lift
        the suspension (the kept override comes back). Absolute, so safe to resend."""
        body: dict[str, Any] = {"suspended": suspended}
        if suspended:
            body["limitations"] = (limits or Limitations()).to_wire()
        self.transport.request("PUT", route(COMPANION, "sites", blog_id, "suspension"), json_body=body)

    def put_scheduled_change(self, change: ScheduledChange) -> ScheduledChange:
        body = {"scheduled_for": change.scheduled_for, "target": change.target, "note": change.note}
        data = self.transport.request(
            "PUT", route(COMPANION, "memberships", change.membership_id, "scheduled-change"), json_body=body
        ).data
        return parse(ScheduledChange, data)

    def delete_scheduled_change(self, membership_id: int) -> None:
        self.transport.request("DELETE", route(COMPANION, "memberships", membership_id, "scheduled-change"))

    def acquire_lock(self, name: str, owner: str, ttl: int) -> dict[str, Any]:
        """Take or refresh a named lock; Conflict (with `data['owner']`, `data['expires_at']`) when another owner
        holds it. Resending is safe: the same owner only refreshes its own lock."""
        try:
            data = self.transport.request("POST", route(COMPANION, "locks", name),
                                          json_body={"owner": owner, "ttl": ttl}, idempotent=True).data
        except Conflict as exc:
            holder, until = exc.data.get("owner"), exc.data.get("expires_at")
            exc.message = f"lock '{name}' is held by another run ({holder}) until {until}"
            raise
        return data if isinstance(data, dict) else {"result": data}

    def release_lock(self, name: str, owner: str) -> None:
        self.transport.request("DELETE", route(COMPANION, "locks", name), params={"owner": owner})

    def verify_quotas(self, expected: Mapping[int, Limitations]) -> list[Mismatch]:
        """Read the quotas back and list the sites whose stored quota differs from `expected`."""
        actual = dict(self.site_quotas(expected.keys()))
        out = []
        for blog_id, want in expected.items():
            have = actual.get(blog_id)
            differ = differing_modules(want, have)
            if differ:
                out.append(Mismatch(blog_id, want, have, differ))
        return out

    # ------------------------------------------------------------------ import (`wpbridge/v1/import/*`)

    def _import_list(self, name: str, id_key: str) -> Iterator[dict[str, Any]]:
        for row in iter_items(self.transport, route(COMPANION, "import", name), {}, per_page=self.settings.per_page,
                              concurrency=self.settings.concurrency, legacy=False, order_by_id=False,
                              id_key=id_key, sorted_by_key=False):
            if isinstance(row, dict):
                yield row

    def import_network(self) -> dict[str, Any]:
        """Where the network keeps its sites: `domain`, `path`, `subdomain_install`, and the plugin's `mode`."""
        data = self.transport.get(route(COMPANION, "import", "network")).data
        return data if isinstance(data, dict) else {}

    def import_customers(self) -> Iterator[dict[str, Any]]:
        """Every customer with its WordPress user's email and username (`GET /wpbridge/v1/import/customers`)."""
        return self._import_list("customers", "id")

    def import_sites(self) -> Iterator[dict[str, Any]]:
        """Every site with domain, path, title and its membership/customer/type links, in both modes."""
        return self._import_list("sites", "blog_id")

    def import_keys(self) -> Iterator[dict[str, Any]]:
        """The source keys earlier imports stored next to the memberships they created."""
        return self._import_list("keys", "source_key")

    def import_batch(self, items: Sequence[BatchItem], *, limit: int | None = None) -> BatchResult:
        """Import writes (ensures by natural key, absolute updates) through `/batch/v1` in chunks of the server's
        batch limit; resending is safe because every item is an ensure or an absolute PUT."""
        server = self._batch_limit()
        return run_batch(self.transport, items, limit=min(server, limit) if limit else server)


def _with_user(customer: Customer, row: Mapping[str, Any] | None) -> Customer:
    """The customer with its WordPress user's email, login and name from plugin-stub's row (when UM's record has
    none and the row is this customer's: same id and user)."""
    if row is None or customer.user_email or (customer.user_id and row.get("user_id") != customer.user_id):
        return customer
    return customer.model_copy(update={
        "user_email": row.get("email") or None, "user_login": row.get("username") or None,
        "display_name": customer.display_name or row.get("display_name") or None,
    })


def _filters(filters: Mapping[str, Any]) -> dict[str, Any]:
    """Column filters for UM's lists: None dropped, a list of values becomes `{column}__in[]`."""
    out: dict[str, Any] = {}
    for key, value in filters.items():
        if value is None:
            continue
        if isinstance(value, list | tuple | set | frozenset):
            out[f"{key}__in[]"] = sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
        else:
            out[key] = value
    return out


def _override_missing(membership_id: int) -> DataError:
    return DataError(f"Membership {membership_id}: field 'limitations': its own override (UM membership meta "
                     "wu_limitations) was not returned by GET /wpbridge/v1/memberships/limitations",
                     field="limitations", record_id=membership_id)


def _batches(items: Iterable[M], size: int) -> Iterator[list[M]]:
    batch: list[M] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _take(items: Iterable[M], n: int) -> Iterator[M]:
    for i, item in enumerate(items):
        if i >= n:
            return
        yield item


def _chunks(ids: Iterable[int], size: int) -> Iterator[list[int]]:
    chunk: list[int] = []
    for blog_id in ids:
        chunk.append(int(blog_id))
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
