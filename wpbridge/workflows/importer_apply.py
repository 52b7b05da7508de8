"""`wpbridge import`, step 3: carry out a plan, in dependency order, in batches.

Order: products (add-ons before the plans that offer them), customers, memberships, sites (real WordPress sites,
linked to their membership), scheduled changes, (stub mode) the sites' quotas, then payments (a parent payment
before the payments that name it). Every create is an *ensure*
on the server (`wpbridge/v1/import/*`, plugin-stub): the server first looks the record up by its natural key and
returns it when it exists, so a batch that is resent, or a run that was killed after a create landed but before its
reply arrived, finds the record instead of creating it twice. Updates (`--update`) send the record's absolute
values. A failed item is reported and whatever depends on it is skipped; the other records go on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..encoding import iso_utc, to_jsonable, wp_utc
from ..errors import WPBridgeError
from ..managers.flavor import Flavor
from ..managers.imports import ImportKind, ensure, update
from ..managers.schedule import put_item
from ..models import Limitations, Membership, Product, Site, parse
from ..rest.batch import BatchItem, BatchResult
from . import ImportsAPI, ProductsAPI, QuotasAPI
from .importer_codes import CodesAPI, apply_codes, apply_membership_codes
from .importer_compare import PRODUCT_FIELDS
from .importer_domains import DomainsAPI, apply_domains
from .importer_input import SrcCustomer, SrcMembership, SrcPayment, SrcProduct, SrcScheduled, SrcSite
from .importer_plan import Kind, Plan, Step, change_with_ids, payment_kept_fields, quota_step, scheduled_target
from .importer_taxes import TaxesAPI, apply_taxes

log = logging.getLogger("wpbridge.import")

SITE_BATCH = 10
INTERRUPTED = "not sent: the import was interrupted (SIGTERM / Ctrl-C); run it again to finish"


class NotSent(WPBridgeError):
    """A batch that was not sent because the run was asked to stop."""
"""Sites per batch request: each is a real WordPress site (~0.2-0.5 s), so a batch stays well inside the timeout."""

Progress = Callable[[int], None]


class ImportWriter(Protocol):
    """What an import writes through, by manager (a live `Network` provides it): the import routes' batches, the
    catalog read again once products were written, and (where wpbridge writes them) the sites' quotas."""

    @property
    def products(self) -> ProductsAPI: ...

    @property
    def imports(self) -> ImportsAPI: ...

    @property
    def quotas(self) -> QuotasAPI: ...

    @property
    def discount_codes(self) -> CodesAPI: ...

    @property
    def taxes(self) -> TaxesAPI: ...

    @property
    def domains(self) -> DomainsAPI: ...


@dataclass
class WriteRecord:
    """One write of the run (or, in a dry run, one that would be made)."""

    kind: Kind
    key: str
    action: str
    """create or update."""
    status: str
    """done (written), found (an earlier run had written it), failed, skipped (something it needs failed)."""
    id: int | None = None
    where: str = ""
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "key": self.key, "action": self.action, "status": self.status,
                               "id": self.id}
        if self.where:
            out["where"] = self.where
        if self.error:
            out["error"] = self.error
        return out


@dataclass
class ApplyOutcome:
    writes: list[WriteRecord] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    phases: dict[str, dict[str, float]] = field(default_factory=dict)
    """Per phase (products, customers, memberships, sites, scheduled_changes, quotas): seconds and requests."""
    interrupted: bool = False
    """Asked to stop (SIGTERM, Ctrl-C): the batches not sent by then are `skipped`."""

    @property
    def written(self) -> int:
        return sum(1 for w in self.writes if w.status == "done")


def _wire(value: Any) -> Any:
    """A value of a request body: plugin-stub's import routes store dates as WordPress does (`wp_utc`)."""
    return to_jsonable(value, moment=wp_utc)


def limits_wire(limits: Limitations) -> dict[str, Any]:
    """Limitations as the file gave them (what it did not set stays unset, so the target stores the same)."""
    data: dict[str, Any] = limits.model_dump(mode="json", exclude_unset=True)
    return {module: value for module, value in data.items() if value is not None}  # null module = absent


def product_body(p: SrcProduct, ids: Mapping[str, int]) -> dict[str, Any]:
    """The product as plugin-stub's import route takes it: the fields an import compares (`PRODUCT_FIELDS`), its
    prices per period, its limitations as the file gave them, and its add-ons by the target's ids."""
    prod = p.product
    body: dict[str, Any] = {"slug": prod.slug, **prod.model_dump(mode="json", include=set(PRODUCT_FIELDS))}
    body["product_group"] = prod.product_group or ""
    if not prod.trial_duration_unit:
        del body["trial_duration_unit"]
    body["price_variations"] = [v.model_dump(mode="json", include={"duration", "duration_unit", "amount"})
                                for v in prod.price_variations]
    body["limitations"] = limits_wire(prod.limitations)
    body["available_addons"] = [ids[s] for s in p.addon_slugs if s in ids]
    return body


def membership_body(m: SrcMembership, customer_id: int, by_slug: Mapping[str, Product]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer_id": customer_id,
        "plan_id": by_slug[m.plan].id,
        "addon_products": {str(by_slug[s].id): q for s, q in sorted(m.addons.items())},
    }
    for key, value in m.fields.items():
        body[key] = _wire(value)
    if m.limitations is not None:
        body["limitations"] = limits_wire(m.limitations)
    return body


def payment_body(sp: SrcPayment, flavor: Flavor, *, customer_id: int, membership_id: int | None,
                 parent_id: int | None, ids: Mapping[str, int]) -> dict[str, Any]:
    """The payment as plugin-stub's import route takes it: the target's ids, what the target can hold."""
    body: dict[str, Any] = {
        "customer_id": customer_id, "membership_id": membership_id or 0, "parent_id": parent_id or 0,
        "product_id": ids[sp.product] if sp.product is not None else 0,
        "line_items": [{**{k: v for k, v in line.items() if k != "product"},
                        "product_id": ids[line["product"]] if line.get("product") else 0} for line in sp.lines],
        "wpbridge": _wire(change_with_ids(sp.change, ids)) if sp.change is not None else None,
    }
    for key, value in payment_kept_fields(sp, flavor).items():
        body[key] = _wire(value)
    return body


def write_item(key: int, kind: ImportKind, step: Step, body: Mapping[str, Any]) -> BatchItem:
    """The batch item of a step: an ensure by natural key (create), or the absolute state of the target's record
    (update). The routes are `net.imports`' (`managers.imports.ensure`, `update`)."""
    if step.action == "create":
        return ensure(key, kind, body)
    if step.target_id is None:
        raise ValueError(f"{step.kind} {step.key}: an update without the target's id")
    return update(key, kind, step.target_id, body)


def customer_body(c: SrcCustomer) -> dict[str, Any]:
    body: dict[str, Any] = {"email": c.email}
    if c.username:
        body["username"] = c.username
    if c.display_name:
        body["display_name"] = c.display_name
    body.update({k: _wire(v) for k, v in c.fields.items()})
    return body


class Applier:
    def __init__(self, net: ImportWriter, plan: Plan, *, progress: Progress | None = None,
                 step_delay: float = 0.0, requests: Callable[[], int] | None = None,
                 site_concurrency: int = 1, should_stop: Callable[[], bool] | None = None) -> None:
        self.net = net
        self.should_stop = should_stop or (lambda: False)
        """Asked before each batch is sent (a safe point): once True, the batches not sent yet are skipped."""
        self.site_concurrency = max(1, site_concurrency)
        self.requests = requests or (lambda: 0)
        self.plan = plan
        self.t = plan.target
        self.progress = progress or (lambda n: None)
        self.step_delay = step_delay
        self.out = ApplyOutcome()
        self.product_ids: dict[str, int] = {p.slug: p.id for p in self.t.catalog}
        self.customer_ids: dict[str, int] = {}
        self.memberships: dict[str, Membership] = {}
        self.sites: list[tuple[Site, str]] = []
        """(site, membership key) of every site of the file that exists after the run."""
        self.failed: set[tuple[str, str]] = set()
        self.payment_ids: dict[str, int] = {}
        """payment source key -> the target's payment id."""

    # ------------------------------------------------------------------ plumbing

    def record(self, step: Step, status: str, *, target_id: int | None = None, error: str | None = None,
               http: WPBridgeError | None = None) -> None:
        action = "create" if step.action == "create" else "update"
        self.out.writes.append(WriteRecord(step.kind, step.key, action, status, target_id or step.target_id,
                                           step.where, error))
        if status in ("failed", "skipped"):
            self.failed.add((step.kind, step.key))
            entry: dict[str, Any] = {"where": step.where or step.key, "kind": step.kind, "key": step.key,
                                     "message": error or status}
            if http is not None:
                entry.update(status=http.status, code=http.code, field=http.field)
            self.out.errors.append(entry)

    def batch(self, steps: Sequence[Step], items: Sequence[BatchItem], on_ok: Callable[[Step, Any], None],
              *, limit: int | None = None, concurrency: int = 1) -> None:
        """Send `items` (one per step, same order) through /batch/v1; call `on_ok` with each reply's data.

        With `concurrency` > 1, that many batch requests are in flight at once (for records that do not depend on
        each other: sites); replies are still handled here, in order, one chunk at a time."""
        if not items:
            return
        size = limit or self.t.batch_limit
        chunks = [(steps[i:i + size], items[i:i + size]) for i in range(0, len(items), size)]

        def send(chunk: Sequence[BatchItem]) -> BatchResult | WPBridgeError:
            if self.should_stop():
                self.out.interrupted = True
                return NotSent(INTERRUPTED)
            try:
                return self.net.imports.batch(chunk, limit=size)
            except WPBridgeError as exc:
                return exc

        if concurrency <= 1 or len(chunks) == 1:
            replies: Iterator[BatchResult | WPBridgeError] = (send(chunk) for _, chunk in chunks)
            self._handle(chunks, replies, on_ok)
            return
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="wpbridge-import") as pool:
            self._handle(chunks, pool.map(send, [chunk for _, chunk in chunks]), on_ok)

    def _handle(self, chunks: Sequence[tuple[Sequence[Step], Sequence[BatchItem]]],
                replies: Iterable[BatchResult | WPBridgeError], on_ok: Callable[[Step, Any], None]) -> None:
        for (chunk_steps, chunk), result in zip(chunks, replies, strict=True):
            if isinstance(result, WPBridgeError):
                status = "skipped" if isinstance(result, NotSent) else "failed"
                for step in chunk_steps:
                    self.record(step, status, error=str(result), http=None if status == "skipped" else result)
                continue
            for step, item in zip(chunk_steps, result.items, strict=True):
                if item.ok:
                    try:
                        on_ok(step, item.data)
                    except (WPBridgeError, KeyError, TypeError, ValueError) as exc:
                        self.record(step, "failed", error=f"unexpected reply: {exc}")
                else:
                    err = item.error
                    self.record(step, "failed", error=str(err) if err else f"HTTP {item.status}",
                                http=err if isinstance(err, WPBridgeError) else None)
            self.progress(len(chunk))
            if self.step_delay:
                time.sleep(self.step_delay)

    def skip(self, step: Step, why: str) -> None:
        self.record(step, "skipped", error=why)
        self.progress(1)

    def created_or_found(self, step: Step, data: Any, target_id: int) -> None:
        created = bool(data.get("created", True)) if isinstance(data, dict) else True
        self.record(step, "done" if created else "found", target_id=target_id)

    # ------------------------------------------------------------------ run

    def run(self) -> ApplyOutcome:
        phases: list[tuple[str, Callable[[], None]]] = [
            ("products", self.products), ("customers", self.customers), ("memberships", self.memberships_phase),
            ("sites", self.sites_phase), ("scheduled_changes", self.scheduled_phase),
        ]
        if self.plan.of("discount_code") or self.plan.of("membership_code"):  # codes after products, theirs after
            phases[1:1] = [("discount_codes", lambda: apply_codes(self, self.net.discount_codes))]
            phases[4:4] = [("membership_codes", lambda: apply_membership_codes(self, self.net.discount_codes))]
        if self.plan.of("domain", "create", "update"):  # on the sites, once they exist
            at = [name for name, _ in phases].index("sites") + 1
            phases.insert(at, ("domains", lambda: apply_domains(self, self.net.domains)))
        if self.plan.of("taxes", "create", "update"):  # after the customers: the exempt ones by the target's ids
            at = [name for name, _ in phases].index("customers") + 1
            phases.insert(at, ("taxes", lambda: apply_taxes(self, self.net.taxes)))
        if not self.t.flavor.computes_limits:
            phases.append(("quotas", self.quotas_phase))
        if self.plan.of("payment"):
            phases.append(("payments", self.payments_phase))
        for name, phase in phases:
            started, requests = time.monotonic(), self.requests()
            phase()
            self.out.phases[name] = {"seconds": round(time.monotonic() - started, 3),
                                     "requests": self.requests() - requests}
        return self.out

    def products(self) -> None:
        steps = self.plan.of("product", "create", "update")
        pending = list(steps)
        while pending:
            layer = [s for s in pending
                     if all(a in self.product_ids or a == s.key for a in s.src.addon_slugs)]
            if not layer:
                layer = pending  # a cycle of add-ons: send them; the missing references are left out
            items = []
            for i, step in enumerate(layer):
                body = product_body(step.src, self.product_ids)
                items.append(write_item(i, "products", step, body))

            def done(step: Step, data: Any) -> None:
                pid = int(data["id"])
                self.product_ids[step.key] = pid
                self.created_or_found(step, data, pid)

            self.batch(layer, items, done)
            pending = [s for s in pending if s not in layer]
        for step in self.plan.of("product", "unchanged", "conflict"):
            if step.target_id is not None:
                self.product_ids[step.key] = step.target_id
        if steps:
            self.t.catalog = self.net.products.catalog()

    def customers(self) -> None:
        for step in self.plan.of("customer", "unchanged", "conflict"):
            if step.target_id is not None:
                self.customer_ids[step.src.key] = step.target_id
        steps = self.plan.of("customer", "create", "update")
        items = []
        for i, step in enumerate(steps):
            c: SrcCustomer = step.src
            body = customer_body(c) if step.action == "create" else {k: _wire(v) for k, v in c.fields.items()}
            items.append(write_item(i, "customers", step, body))

        def done(step: Step, data: Any) -> None:
            cid = int(data["customer"]["id"])
            self.customer_ids[step.src.key] = cid
            self.created_or_found(step, data, cid)

        self.batch(steps, items, done)

    def memberships_phase(self) -> None:
        by_slug = {p.slug: p for p in self.t.catalog}
        for step in self.plan.of("membership", "unchanged", "conflict"):
            if step.target_id is not None and step.target_id in self.t.memberships:
                self.memberships[step.key] = self.t.memberships[step.target_id]
        steps: list[Step] = []
        items: list[BatchItem] = []
        for step in self.plan.of("membership", "create", "update"):
            m: SrcMembership = step.src
            customer_id = self.customer_ids.get(m.customer)
            if customer_id is None:
                self.skip(step, f"its customer {m.customer} was not imported")
                continue
            missing = [s for s in [m.plan, *m.addons] if s not in by_slug]
            if missing:
                self.skip(step, f"product {', '.join(missing)} is not on the network")
                continue
            body = membership_body(m, customer_id, by_slug)
            if step.action == "create":
                body = {"source_key": m.key, **body}
            items.append(write_item(len(items), "memberships", step, body))
            steps.append(step)

        def done(step: Step, data: Any) -> None:
            record = data.get("membership", data)
            membership = parse(Membership, record)
            self.memberships[step.key] = membership
            self.created_or_found(step, data, membership.id)

        self.batch(steps, items, done)

    def sites_phase(self) -> None:
        steps: list[Step] = []
        items: list[BatchItem] = []
        for step in self.plan.of("site"):
            s: SrcSite = step.src
            membership = self.memberships.get(s.membership)
            if step.action in ("unchanged", "conflict"):
                if step.action == "unchanged" and membership is not None and step.target_id is not None:
                    self.sites.append((self.site_model(step.target_id, s, membership), s.membership))
                continue
            if membership is None:
                self.skip(step, f"its membership ({s.membership}) was not imported")
                continue
            domain, path = self.t.site_address(s)
            body: dict[str, Any] = {"title": s.title, "membership_id": membership.id,
                                    "customer_id": membership.customer_id, "type": s.type}
            if step.action == "create":
                body["path"] = path
                if s.domain is not None or domain != self.t.domain:  # /alice/ on a subdomain network: its host
                    body["domain"] = domain
                if s.limitations is not None:
                    body["limitations"] = limits_wire(s.limitations)
            items.append(write_item(len(items), "sites", step, body))
            steps.append(step)

        def done(step: Step, data: Any) -> None:
            site = data["site"] if isinstance(data, dict) and "site" in data else data
            blog_id = int(site["blog_id"])
            src: SrcSite = step.src
            membership = self.memberships[src.membership]
            if site.get("membership_id") != membership.id:
                self.record(step, "failed", target_id=blog_id, error=(
                    f"the site exists already and belongs to membership {site.get('membership_id')}; not linked"))
                return
            self.created_or_found(step, data, blog_id)
            self.sites.append((self.site_model(blog_id, src, membership), src.membership))

        self.batch(steps, items, done, limit=min(SITE_BATCH, self.t.batch_limit), concurrency=self.site_concurrency)

    def site_model(self, blog_id: int, s: SrcSite, membership: Membership) -> Site:
        domain, path = self.t.site_address(s)
        return Site(blog_id=blog_id, membership_id=membership.id, customer_id=membership.customer_id, domain=domain,
                    path=path, type=s.type, title=s.title, limitations=s.limitations or Limitations())

    def scheduled_phase(self) -> None:
        by_slug = {p.slug: p for p in self.t.catalog}
        steps: list[Step] = []
        items: list[BatchItem] = []
        for step in self.plan.of("scheduled_change", "create", "update"):
            sc: SrcScheduled = step.src
            membership = self.memberships.get(sc.membership)
            target = scheduled_target(sc.target, by_slug)
            if membership is None or target is None:
                self.skip(step, "its membership or a product it names was not imported")
                continue
            # force: an import restores a change the source network accepted, as it was, even where the target's
            # catalog would not offer it (UM's Change form: another plan group, say); the plan's note says so
            body = {"scheduled_for": iso_utc(sc.scheduled_for), "target": _wire(target), "note": sc.note,
                    "force": True}
            items.append(put_item(len(items), membership.id, body))
            steps.append(step)

        def done(step: Step, data: Any) -> None:
            self.record(step, "done", target_id=self.memberships[step.src.membership].id)

        self.batch(steps, items, done)

    def payments_phase(self) -> None:
        """Payments, parents first: each names its customer, membership, parent and products by the target's ids
        (known once the phases before have run)."""
        for step in self.plan.of("payment", "unchanged", "conflict"):
            if step.target_id is not None:
                self.payment_ids[step.key] = step.target_id
        pending = self.plan.of("payment", "create", "update")
        while pending:
            ready = [s for s in pending if s.src.parent is None or s.src.parent in self.payment_ids
                     or ("payment", s.src.parent) in self.failed]
            steps: list[Step] = []
            items: list[BatchItem] = []
            for step in ready or pending:
                body = self._payment_body(step)
                if body is None:
                    continue
                if step.action == "create":
                    body = {"source_key": step.key, **body}
                items.append(write_item(len(items), "payments", step, body))
                steps.append(step)

            def done(step: Step, data: Any) -> None:
                pid = int(data["payment"]["id"])
                self.payment_ids[step.key] = pid
                self.created_or_found(step, data, pid)

            self.batch(steps, items, done)
            pending = [s for s in pending if s not in (ready or pending)]

    def _payment_body(self, step: Step) -> dict[str, Any] | None:
        sp: SrcPayment = step.src
        customer_id = self.customer_ids.get(sp.customer)
        if customer_id is None:
            self.skip(step, f"its customer {sp.customer} was not imported")
            return None
        membership = self.memberships.get(sp.membership) if sp.membership is not None else None
        if sp.membership is not None and membership is None:
            self.skip(step, f"its membership ({sp.membership}) was not imported")
            return None
        parent = self.payment_ids.get(sp.parent) if sp.parent is not None else None
        if sp.parent is not None and parent is None:
            self.skip(step, f"its parent payment ({sp.parent}) was not imported")
            return None
        missing = sorted({s for s in [sp.product, *(line.get("product") for line in sp.lines)]
                          if s and s not in self.product_ids})
        if missing:
            self.skip(step, f"product {', '.join(missing)} is not on the network")
            return None
        return payment_body(sp, self.t.flavor, customer_id=customer_id,
                            membership_id=membership.id if membership is not None else None, parent_id=parent,
                            ids=self.product_ids)

    def quotas_phase(self) -> None:
        """Every site of the file gets its membership's effective quota (see `importer_plan.quota_step`)."""
        if not self.sites:
            return
        current: dict[int, Limitations | None] = dict(self.net.quotas.list([s.blog_id for s, _ in self.sites]))
        writes: dict[int, tuple[Step, Limitations]] = {}
        for site, key in self.sites:
            step = quota_step(site, self.memberships[key], self.t.catalog, current.get(site.blog_id))
            if step is not None:
                writes[site.blog_id] = (step, step.src[1])
        if not writes:
            return
        quotas = {blog_id: limits for blog_id, (_, limits) in writes.items()}
        ids = list(quotas)
        for start in range(0, len(ids), self.t.batch_limit):
            chunk = {b: quotas[b] for b in ids[start:start + self.t.batch_limit]}
            self._put_quotas(chunk, writes)

    def _put_quotas(self, chunk: Mapping[int, Limitations], writes: Mapping[int, tuple[Step, Limitations]]) -> None:
        """One batch of quota writes (skipped once the run was asked to stop), each outcome recorded."""
        if self.should_stop():
            self.out.interrupted = True
            for b in chunk:
                self.record(writes[b][0], "skipped", error=INTERRUPTED)
            return
        try:
            result = self.net.quotas.put_many(chunk)
        except WPBridgeError as exc:
            for b in chunk:
                self.record(writes[b][0], "failed", error=str(exc), http=exc)
            return
        for item in result.items:
            step = writes[item.key][0]
            if item.ok:
                self.record(step, "done", target_id=item.key)
            else:
                err = item.error
                self.record(step, "failed", error=str(err), http=err if isinstance(err, WPBridgeError) else None)
        self.progress(len(chunk))
        if self.step_delay:
            time.sleep(self.step_delay)


