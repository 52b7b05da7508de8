"""`wpbridge import`, step 2: read the target network and decide, record by record, what the import does.

Every record of the source is matched on its natural key (product slug; customer email, then username; site
domain + path; membership and payment: the source key the target keeps next to it) and gets one action:

- `create`: not on the target;
- `unchanged`: on the target with the same values (only the fields the file gives are compared);
- `conflict`: on the target with different values: reported, left alone (unless `--update`);
- `update`: a conflict that `--update` resolves by writing the file's values.

The plan is made from one read of the target, before anything is written; `--dry-run` prints it. Quotas (stub
mode) are planned for the sites that exist already; those of sites created by this run are computed after them.

Payments: every field of the file's payment is carried (status, amounts, line items, invoice number, gateway,
gateway payment id, dates, the plan change it pays for) except what the target cannot hold, which the step names
in its note (`not kept: ...`): on Ultimate Multisite a payment's hash (its pay link) is derived from the payment's
own id; the stub keeps invoice numbers as numbers only. `date_modified` is the target's own (not compared).
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, Protocol

from ..encoding import to_jsonable
from ..limits import differing_modules, effective_limitations
from ..models import Limitations, Membership, NetworkInfo, Product, ScheduledChange, Site, parse_utc
from ..payment_models import Payment
from .importer_input import (
    MEMBERSHIP_FIELDS,
    Source,
    SrcCustomer,
    SrcMembership,
    SrcPayment,
    SrcProduct,
    SrcSite,
)

Action = Literal["create", "update", "unchanged", "conflict"]
Kind = Literal["product", "customer", "membership", "site", "scheduled_change", "quota", "payment"]
KINDS: tuple[Kind, ...] = ("product", "customer", "membership", "site", "scheduled_change", "quota", "payment")
ACTIVE_STATUSES = frozenset({"pending", "trialing", "active", "on-hold"})
PRODUCT_FIELDS = (
    "name", "type", "pricing_type", "amount", "setup_fee", "currency", "recurring", "duration", "duration_unit",
    "billing_cycles", "trial_duration", "trial_duration_unit", "product_group", "list_order", "active",
)
CANCELLED_RESETS = frozenset({"gateway", "gateway_customer_id", "gateway_subscription_id", "auto_renew"})
"""What the network itself clears when a membership is saved cancelled (UM's Membership::save(); the stub keeps
the same rule for the gateway ids and auto-renew): not compared, or a re-run would see a conflict it cannot fix."""
CUSTOMER_COMPARED = ("email_verification", "has_trialed", "vip", "billing_address", "date_registered")


class ImportTarget(Protocol):
    """What the planner reads (a live `Network` provides it)."""

    def info(self) -> NetworkInfo: ...

    def catalog(self) -> list[Product]: ...

    def memberships(self) -> Iterator[Membership]: ...

    def scheduled_changes(self) -> Iterator[ScheduledChange]: ...

    def site_quotas(self, blog_ids: Iterable[int] | None = None) -> Iterator[tuple[int, Limitations | None]]: ...

    def import_customers(self) -> Iterator[dict[str, Any]]: ...

    def import_sites(self) -> Iterator[dict[str, Any]]: ...

    def import_keys(self) -> Iterator[dict[str, Any]]: ...

    def import_network(self) -> dict[str, Any]: ...


@dataclass
class TargetState:
    """One read of the target network: what the plan compares with."""

    mode: str
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

    @property
    def by_slug(self) -> dict[str, Product]:
        return {p.slug: p for p in self.catalog}

    @property
    def by_id(self) -> dict[int, Product]:
        return {p.id: p for p in self.catalog}

    def customer_by_email(self) -> dict[str, dict[str, Any]]:
        return {str(c["email"]).lower(): c for c in self.customers if c.get("email")}

    def customer_by_username(self) -> dict[str, dict[str, Any]]:
        return {str(c["username"]): c for c in self.customers if c.get("username")}

    def site_address(self, site: SrcSite) -> tuple[str, str]:
        """(domain, path) of a source site on this network."""
        if site.domain is None:
            if self.subdomain and site.path.strip("/"):  # /alice/ on a subdomain network is alice.{domain}
                return f"{site.path.strip('/')}.{self.domain}", self.path
            return self.domain, (site.path if not self.subdomain else self.path)
        domain = site.domain + self.domain if site.domain.endswith(".") else site.domain
        return domain, (self.path if self.subdomain else site.path)

    def address_problem(self, site: SrcSite) -> str | None:
        """Why the site cannot live on this network as given (None: it can)."""
        if not self.subdomain and site.domain is not None and not site.domain.endswith(".") \
                and site.domain.lower() != self.domain.lower():
            return (f"site_domain {site.domain!r}: this network keeps its sites under {self.domain} (a subdirectory"
                    " network); give site_path instead")
        return None


def read_target(net: ImportTarget) -> TargetState:
    info = net.info()
    where = net.import_network()
    sites: dict[tuple[str, str], dict[str, Any]] = {}
    for row in net.import_sites():
        sites[(str(row.get("domain", "")), str(row.get("path", "/")))] = row
    return TargetState(
        mode=info.mode,
        domain=str(where.get("domain", "")),
        path=str(where.get("path", "/")),
        subdomain=bool(where.get("subdomain_install")),
        catalog=net.catalog(),
        customers=list(net.import_customers()),
        memberships={m.id: m for m in net.memberships()},
        keys={str(k["source_key"]): int(k["membership_id"]) for k in net.import_keys()},
        sites=sites,
        scheduled={c.membership_id: c for c in net.scheduled_changes()},
        batch_limit=info.batch_limit,
    )


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


# --------------------------------------------------------------------------- the plan


@dataclass
class Step:
    """One record of the import and what happens to it."""

    kind: Kind
    key: str
    """The natural key shown to the user (slug, email, source key, domain+path)."""
    action: Action
    where: str = ""
    target_id: int | None = None
    differences: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    """field -> (the target's value, the file's value), for conflicts and updates."""
    src: Any = None
    note: str = ""

    def describe(self) -> str:
        ident = f" #{self.target_id}" if self.target_id is not None else ""
        head = f"{self.action} {self.kind.replace('_', ' ')} {self.key}{ident}"
        if self.differences:
            diffs = "; ".join(f"{k}: {_show(a)} -> {_show(b)}" for k, (a, b) in sorted(self.differences.items()))
            head += f" ({diffs})"
        if self.note:
            head += f" [{self.note}]"
        return head + (f" ({self.where})" if self.where and self.action != "unchanged" else "")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "key": self.key, "action": self.action, "id": self.target_id}
        if self.where:
            out["where"] = self.where
        if self.differences:
            out["differences"] = {k: {"target": to_jsonable(a), "file": to_jsonable(b)}
                                  for k, (a, b) in sorted(self.differences.items())}
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class Plan:
    source: Source
    target: TargetState
    update: bool
    steps: list[Step] = field(default_factory=list)

    def of(self, kind: Kind, *actions: Action) -> list[Step]:
        return [s for s in self.steps if s.kind == kind and (not actions or s.action in actions)]

    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for s in self.steps:
            out.setdefault(s.kind, {}).setdefault(s.action, 0)
            out[s.kind][s.action] += 1
        return out

    @property
    def writes_planned(self) -> int:
        return sum(1 for s in self.steps if s.action in ("create", "update"))

    @property
    def conflicts(self) -> list[Step]:
        return [s for s in self.steps if s.action == "conflict"]


QuotaReader = Callable[[list[int]], Iterable[tuple[int, Limitations | None]]]


def build_plan(source: Source, target: TargetState, *, update: bool = False,
               quota_reader: QuotaReader | None = None) -> Plan:
    """The plan of an import; `quota_reader` (e.g. `Network.site_quotas`) reads the stored quotas of the sites
    that exist already (stub mode)."""
    plan = Plan(source, target, update)
    _Planner(plan, quota_reader).run()
    return plan


class _Planner:
    def __init__(self, plan: Plan, quota_reader: QuotaReader | None) -> None:
        self.plan = plan
        self.quota_reader = quota_reader
        self.t = plan.target
        self.src = plan.source
        self.by_slug = self.t.by_slug
        self.by_id = self.t.by_id
        self.customer_ids: dict[str, int | None] = {}
        """customer key -> target id (None: created by this run)."""
        self.membership_ids: dict[str, int | None] = {}
        self.payment_ids: dict[str, int | None] = {}
        self.by_email: dict[str, dict[str, Any]] | None = None
        self.by_username: dict[str, dict[str, Any]] | None = None

    def add(self, kind: Kind, key: str, differences: dict[str, tuple[Any, Any]], *, where: str, target_id: int | None,
            src: Any, note: str = "") -> Step:
        if target_id is None:
            action: Action = "create"
        elif not differences:
            action = "unchanged"
        else:
            action = "update" if self.plan.update else "conflict"
        step = Step(kind, key, action, where, target_id, differences, src, note)
        self.plan.steps.append(step)
        return step

    def run(self) -> None:
        for p in _product_order(self.src.products):
            self.product(p)
        for c in self.src.customers:
            self.customer(c)
        for m in self.src.memberships:
            self.membership(m)
        for s in self.src.sites:
            self.site(s)
        for sc in self.src.scheduled:
            self.scheduled(sc)
        if self.t.mode == "stub":
            self.quotas()
        for sp in self.src.payments:
            self.payment(sp)

    # ------------------------------------------------------------------ products

    def product(self, p: SrcProduct) -> None:
        have = self.by_slug.get(p.slug)
        diffs: dict[str, tuple[Any, Any]] = {}
        if have is not None:
            diffs = product_differences(have, p, self.by_id)
        self.add("product", p.slug, diffs, where=p.where, target_id=have.id if have else None, src=p)

    # ------------------------------------------------------------------ customers

    def customer(self, c: SrcCustomer) -> None:
        if self.by_email is None or self.by_username is None:
            self.by_email, self.by_username = self.t.customer_by_email(), self.t.customer_by_username()
        have = self.by_email.get(c.key)
        diffs: dict[str, tuple[Any, Any]] = {}
        note = ""
        if have is None and c.username:
            have = self.by_username.get(c.username)
            if have is not None:
                diffs["email"] = (have.get("email"), c.email)
                note = "found by username; an email is not changed by an import"
        if have is not None:
            if c.username and have.get("username") and have["username"] != c.username:
                diffs["username"] = (have["username"], c.username)
                note = "a username cannot be changed"
            for name in CUSTOMER_COMPARED:
                if name in c.fields and have.get(name) is not None and not same(have[name], c.fields[name]):
                    diffs[name] = (have[name], c.fields[name])
        step = self.add("customer", c.email, diffs, where=c.where, target_id=int(have["id"]) if have else None, src=c,
                        note=note)
        if step.action == "update" and ("email" in diffs or "username" in diffs):
            step.action = "conflict"  # never resolved by --update: the identity itself differs
        self.customer_ids[c.key] = step.target_id

    # ------------------------------------------------------------------ memberships

    def membership(self, m: SrcMembership) -> None:
        target_id = self.t.keys.get(m.key)
        have = self.t.memberships.get(target_id) if target_id is not None else None
        diffs: dict[str, tuple[Any, Any]] = {}
        customer_id = self.customer_ids.get(m.customer)
        if have is not None:
            if customer_id is not None and have.customer_id != customer_id:
                diffs["customer"] = (have.customer_id, customer_id)
            diffs.update(membership_differences(have, m, self.by_id))
        step = self.add("membership", m.key, diffs, where=m.where, target_id=have.id if have else None, src=m)
        if "customer" in diffs:
            step.action = "conflict"
            step.note = "the target's membership with this source key belongs to another customer"
        self.membership_ids[m.key] = step.target_id

    # ------------------------------------------------------------------ sites

    def site(self, s: SrcSite) -> None:
        domain, path = self.t.site_address(s)
        key = f"{domain}{path}"
        have = self.t.sites.get((domain, path))
        if have is not None and have.get("pending"):
            have = None  # an earlier run's create of this site is finishing (or died before linking): ensure it
        member_id = self.membership_ids.get(s.membership)
        diffs: dict[str, tuple[Any, Any]] = {}
        note = ""
        if have is not None:
            linked = have.get("membership_id")
            if linked != member_id or linked is None:
                diffs["membership"] = (linked, member_id if member_id is not None else f"new ({s.membership})")
                note = "the site exists and is not linked to this membership"
            if html.unescape(have.get("title") or "") != html.unescape(s.title):  # WordPress stores &#039;
                diffs["title"] = (have.get("title"), s.title)
            if have.get("type") != s.type:
                diffs["type"] = (have.get("type"), s.type)
            if have.get("type") == "main":
                note = "the main site is never linked to a membership"
        step = self.add("site", key, diffs, where=s.where, target_id=int(have["blog_id"]) if have else None, src=s,
                        note=note)
        if have is not None and have.get("type") == "main" and step.action == "update":
            step.action = "conflict"

    # ------------------------------------------------------------------ scheduled changes

    def scheduled(self, sc: Any) -> None:
        member_id = self.membership_ids.get(sc.membership)
        have = self.t.scheduled.get(member_id) if member_id is not None else None
        diffs: dict[str, tuple[Any, Any]] = {}
        if have is not None:
            if not same(have.scheduled_for, sc.scheduled_for):
                diffs["scheduled_for"] = (have.scheduled_for, sc.scheduled_for)
            want = scheduled_target(sc.target, self.by_slug)
            if want is not None:
                held = UM_SWAP_FIELDS if self.t.mode == "um" else want.keys()
                for k in sorted(set(want) & set(held)):  # what the file gives and the network can hold
                    if not same(have.target.get(k), want.get(k)):
                        diffs[f"target.{k}"] = (have.target.get(k), want.get(k))
        self.add("scheduled_change", sc.membership, diffs, where=sc.where,
                 target_id=member_id if have is not None else None, src=sc)

    # ------------------------------------------------------------------ payments

    def payment(self, sp: SrcPayment) -> None:
        target_id = self.t.payment_keys.get(sp.key)
        have = self.t.payments.get(target_id) if target_id is not None else None
        diffs: dict[str, tuple[Any, Any]] = {}
        note = ""
        if have is not None:
            customer_id = self.customer_ids.get(sp.customer)
            if customer_id is not None and have.customer_id != customer_id:
                diffs["customer"] = (have.customer_id, customer_id)
            if sp.membership is not None:
                member_id = self.membership_ids.get(sp.membership)
                if member_id is not None and have.membership_id != member_id:
                    diffs["membership"] = (have.membership_id, member_id)
            elif have.membership_id is not None:
                diffs["membership"] = (have.membership_id, None)
            if sp.parent is not None and self.payment_ids.get(sp.parent) not in (None, have.parent_id):
                diffs["parent"] = (have.parent_id, self.payment_ids.get(sp.parent))
            diffs.update(payment_differences(have, sp, self.by_id, self.t.mode))
        lost = payment_not_kept(sp, self.t.mode)
        if lost and (have is None or diffs):
            note = "not kept: " + "; ".join(words for _, words in lost)
        step = self.add("payment", sp.key, diffs, where=sp.where, target_id=have.id if have else None, src=sp,
                        note=note)
        if "customer" in diffs or "membership" in diffs:
            step.action = "conflict"  # never resolved by --update: the payment is someone else's
            step.note = "the target's payment with this source key belongs to another customer or membership"
        self.payment_ids[sp.key] = step.target_id

    # ------------------------------------------------------------------ quotas (stub mode)

    def quotas(self) -> None:
        """Quotas of the file's sites that exist already and whose membership is unchanged or updated; sites
        created by this run get theirs after they exist (`importer_apply`)."""
        wanted: dict[int, tuple[Site, Membership]] = {}
        steps = {(s.kind, s.key): s for s in self.plan.steps}
        for s in self.src.sites:
            domain, path = self.t.site_address(s)
            site_step = steps.get(("site", f"{domain}{path}"))
            member_id = self.membership_ids.get(s.membership)
            if site_step is None or site_step.target_id is None or member_id is None:
                continue
            if site_step.action == "conflict":
                continue
            membership = self.t.memberships.get(member_id)
            if membership is None:
                continue
            site = Site(blog_id=site_step.target_id, membership_id=member_id, customer_id=membership.customer_id,
                        domain=domain, path=path, type=s.type, limitations=s.limitations or Limitations())
            wanted[site.blog_id] = (site, membership)
        if not wanted:
            return
        current = dict(self.quota_reader(list(wanted))) if self.quota_reader is not None else {}
        for blog_id, (site, membership) in wanted.items():
            step = quota_step(site, membership, self.t.catalog, current.get(blog_id))
            if step is not None:
                self.plan.steps.append(step)


def quota_step(site: Site, membership: Membership, catalog: Sequence[Product],
               current: Limitations | None) -> Step | None:
    """The quota write a site needs (None: none). Active memberships: the effective quota when it differs;
    expired or cancelled ones: only a site without any quota gets one (a suspension written by `sync` stays)."""
    if membership.status not in ACTIVE_STATUSES and current is not None:
        return None
    want = effective_limitations(membership, catalog, site)
    if current is not None and not differing_modules(current, want):
        return None
    action: Action = "create" if current is None else "update"
    modules = ", ".join(differing_modules(current, want)) or "none"
    step = Step("quota", f"site {site.blog_id}", action, "", site.blog_id, {}, (site, want), note=f"modules: {modules}")
    return step


def _product_order(products: Sequence[SrcProduct]) -> list[SrcProduct]:
    """Add-ons before the plans that offer them: layers of products whose add-ons come earlier."""
    remaining = list(products)
    done: set[str] = set()
    ordered: list[SrcProduct] = []
    while remaining:
        layer = [p for p in remaining if all(a in done or a == p.slug for a in p.addon_slugs)]
        if not layer:  # a cycle: take the rest as they are (their add-ons are set when they all exist)
            layer = remaining
        ordered.extend(layer)
        done.update(p.slug for p in layer)
        remaining = [p for p in remaining if p.slug not in done]
    return ordered


# --------------------------------------------------------------------------- comparing


def product_differences(have: Product, p: SrcProduct, by_id: Mapping[int, Product]) -> dict[str, tuple[Any, Any]]:
    want = p.product
    diffs: dict[str, tuple[Any, Any]] = {}
    for name in PRODUCT_FIELDS:
        a, b = getattr(have, name), getattr(want, name)
        if name == "trial_duration_unit" and not want.trial_duration:
            continue
        if name == "pricing_type" and {a, b} == {"paid", "free"} and want.amount == 0 and want.setup_fee == 0:
            continue  # a paid product at 0 is saved as free (UM's Product::save())
        if not same(a, b):
            diffs[name] = (a, b)
    have_addons = sorted(by_id[i].slug if i in by_id else str(i) for i in have.available_addons)
    if have_addons != sorted(p.addon_slugs):
        diffs["available_addons"] = (have_addons, sorted(p.addon_slugs))
    if _variations(have) != _variations(want):
        diffs["price_variations"] = (_variations(have), _variations(want))
    modules = differing_modules(have.limitations, want.limitations)
    if modules:
        diffs["limitations"] = (f"differs in {', '.join(modules)}", "the file's")
    return diffs


def _variations(p: Product) -> list[str]:
    return sorted(f"{v.duration}:{v.duration_unit}={v.amount.normalize():f}" for v in p.price_variations)


def membership_differences(have: Membership, m: SrcMembership, by_id: Mapping[int, Product]
                           ) -> dict[str, tuple[Any, Any]]:
    diffs: dict[str, tuple[Any, Any]] = {}
    plan = by_id.get(have.plan_id)
    plan_slug = plan.slug if plan else str(have.plan_id)
    if plan_slug != m.plan:
        diffs["plan"] = (plan_slug, m.plan)
    addons = {(by_id[i].slug if i in by_id else str(i)): q for i, q in have.addon_products.items()}
    if addons != m.addons:
        diffs["addons"] = (_addons_text(addons), _addons_text(m.addons))
    reset = CANCELLED_RESETS if m.fields.get("status") == "cancelled" else ()
    for name in MEMBERSHIP_FIELDS:
        if name in reset:
            continue
        if name in m.fields and hasattr(have, name) and not same(getattr(have, name), m.fields[name]):
            diffs[name] = (getattr(have, name), m.fields[name])
    if m.limitations is not None:
        modules = differing_modules(have.limitations, m.limitations)
        if modules:
            diffs["limitations"] = (f"differs in {', '.join(modules)}", "the file's")
    return diffs


STUB_HASH_MAX = 32
"""The stub's payment hash column (`varchar(32)`)."""


NOT_KEPT = {
    "hash": "their hash and pay link (Ultimate Multisite derives both from the payment's own id on this network)",
    "long-hash": f"hashes longer than {STUB_HASH_MAX} characters (the stub makes its own)",
    "invoice": "invoice numbers that are not numbers (the stub keeps invoice numbers as numbers)",
}
"""What the target cannot hold of a payment, by reason: the words of the import's summary (`not_kept`)."""


def payment_not_kept(sp: SrcPayment, mode: str) -> list[tuple[str, str]]:
    """What of the file's payment the target cannot hold: (reason, words), empty when everything is kept."""
    lost: list[tuple[str, str]] = []
    hash_ = sp.fields.get("hash")
    invoice = sp.fields.get("invoice_number")
    if mode == "um":
        if hash_:
            lost.append(("hash", f"hash {hash_} (Ultimate Multisite derives a payment's hash, and its pay link, from"
                                 " the payment's own id)"))
    else:
        if hash_ and len(str(hash_)) > STUB_HASH_MAX:
            lost.append(("long-hash", f"hash {hash_} (the stub keeps at most {STUB_HASH_MAX} characters; it makes"
                                      " its own)"))
        if invoice and not str(invoice).isdigit():
            lost.append(("invoice", f"invoice number {invoice!r} (the stub keeps invoice numbers as numbers)"))
    return lost


def not_kept_summary(plan: Plan) -> list[str]:
    """One line per reason: how many payments this import writes without something the target cannot hold."""
    counts: dict[str, int] = {}
    for step in plan.of("payment", "create", "update"):
        for reason, _ in payment_not_kept(step.src, plan.target.mode):
            counts[reason] = counts.get(reason, 0) + 1
    return [f"{n} payment{'s' if n != 1 else ''}: not kept: {NOT_KEPT[r]}" for r, n in counts.items()]


def payment_kept_fields(sp: SrcPayment, mode: str) -> dict[str, Any]:
    """The file's PAYMENT_FIELDS the target can hold (see `payment_not_kept`)."""
    out = dict(sp.fields)
    hash_, invoice = out.get("hash"), out.get("invoice_number")
    if mode == "um" or (hash_ and len(str(hash_)) > STUB_HASH_MAX):
        out.pop("hash", None)
    if mode != "um" and invoice and not str(invoice).isdigit():
        out.pop("invoice_number", None)
    return out


LINE_MONEY = ("unit_price", "subtotal", "discount_total", "tax_rate", "tax_total", "total")
LINE_TEXT = ("id", "type", "product", "title", "description", "duration_unit")


def line_key(line: Mapping[str, Any]) -> tuple[Any, ...]:
    """A line item as compared (amounts as numbers, ids and text as given)."""
    money = tuple(Decimal(str(line.get(k) or 0)).normalize() for k in LINE_MONEY)
    text = tuple(str(line.get(k) or "") for k in LINE_TEXT)
    return (*text, int(line.get("quantity") or 0), bool(line.get("recurring")), int(line.get("duration") or 0),
            *money)


def payment_lines(payment: Payment, by_id: Mapping[int, Product]) -> list[dict[str, Any]]:
    """A target payment's line items with their product as a slug (as the file's are read)."""
    out = []
    for line in payment.line_items:
        data = line.model_dump(mode="json", exclude={"product_id"})
        data["product"] = None
        if line.product_id is not None:
            product = by_id.get(line.product_id)
            data["product"] = product.slug if product else str(line.product_id)
        out.append(data)
    return out


def change_by_slug(change: Mapping[str, Any], by_id: Mapping[int, Product]) -> dict[str, Any]:
    """A target payment's `wpbridge` meta with the products of `before`/`target` as slugs (as the file's)."""
    out = dict(change)
    for side in ("before", "target"):
        state = dict(out.get(side) or {})
        if "plan_id" in state:
            state["plan"] = _slug(by_id, state.pop("plan_id"))
        if "addon_products" in state:
            raw = state.pop("addon_products") or {}
            state["addons"] = {_slug(by_id, i): int(q) for i, q in dict(raw).items()}
        out[side] = state
    return out


def change_with_ids(change: Mapping[str, Any], ids: Mapping[str, int]) -> dict[str, Any]:
    """The file's change meta with the products of `before`/`target` as the target's ids."""
    out = dict(change)
    for side in ("before", "target"):
        state = dict(out.get(side) or {})
        if "plan" in state:
            slug = state.pop("plan")
            state["plan_id"] = ids.get(slug) if slug is not None else None
        if "addons" in state:
            state["addon_products"] = {str(ids[s]): q for s, q in dict(state.pop("addons")).items() if s in ids}
        out[side] = state
    return out


def _slug(by_id: Mapping[int, Product], pid: Any) -> str:
    """The slug of product `pid` on the target (its id as text when the catalog has no such product)."""
    try:
        product = by_id.get(int(pid))
    except (TypeError, ValueError):
        product = None
    return product.slug if product is not None else str(pid)


def payment_differences(have: Payment, sp: SrcPayment, by_id: Mapping[int, Product], mode: str
                        ) -> dict[str, tuple[Any, Any]]:
    """The fields of the file's payment that the target's (found by source key) holds otherwise; what the target
    cannot hold (`payment_not_kept`) and `date_modified` (the target's own) are not compared."""
    diffs: dict[str, tuple[Any, Any]] = {}
    for name, value in payment_kept_fields(sp, mode).items():
        if name == "date_modified":
            continue
        if not same(getattr(have, name), value):
            diffs[name] = (getattr(have, name), value)
    product = _slug(by_id, have.product_id) if have.product_id is not None else None
    if product != sp.product:
        diffs["product"] = (product, sp.product)
    have_lines = payment_lines(have, by_id)
    if [line_key(x) for x in have_lines] != [line_key(x) for x in sp.lines]:
        diffs["line_items"] = (f"{len(have_lines)} lines", f"the file's {len(sp.lines)} lines")
    have_change = change_by_slug(have.wpbridge.model_dump(mode="json"), by_id) if have.wpbridge else None
    if not same(have_change or {}, sp.change or {}):
        diffs["wpbridge"] = ("the target's change" if have_change else None,
                             "the file's change" if sp.change else None)
    return diffs


def _addons_text(addons: Mapping[str, int]) -> str:
    return ";".join(f"{k}:{v}" for k, v in sorted(addons.items())) or "none"


# What UM's own scheduled swap keeps of a target (plugin-stub's um-swap.php, `um_cart_target`): UM's swap sets
# `initial_amount` to the swap cart's total and derives `recurring` itself, so those two cannot be compared there.
UM_SWAP_FIELDS = frozenset({"plan_id", "addon_products", "amount", "duration", "duration_unit"})


def scheduled_target(target: Mapping[str, Any], by_slug: Mapping[str, Product]) -> dict[str, Any] | None:
    """A scheduled change's target with the file's slugs turned into the target's product ids (None: a product
    is missing)."""
    out = {k: v for k, v in target.items() if k not in ("plan", "addons")}
    if "plan" in target:
        plan = by_slug.get(str(target["plan"]))
        if plan is None:
            return None
        out["plan_id"] = plan.id
    if "addons" in target:
        addons: dict[str, int] = {}
        for slug, qty in dict(target["addons"]).items():
            product = by_slug.get(slug)
            if product is None:
                return None
            addons[str(product.id)] = int(qty)
        out["addon_products"] = addons
    return out


def same(a: Any, b: Any) -> bool:
    """Equal as UM means it: amounts as numbers, dates to the second in UTC, "" as none, maps as maps."""
    if a is None or a == "":
        return bool(b is None or b == "" or b == {} or b == [])
    if b is None or b == "":
        return bool(a == {} or a == [])
    if isinstance(a, bool) or isinstance(b, bool):
        return _as_bool(a) == _as_bool(b)
    if isinstance(a, Decimal | int | float) or isinstance(b, Decimal | int | float):
        try:
            return Decimal(str(a)) == Decimal(str(b))
        except InvalidOperation:
            return False
    if isinstance(a, datetime) or isinstance(b, datetime):
        try:
            da, db = parse_utc(a), parse_utc(b)
        except ValueError:
            return False
        return da is not None and db is not None and da.replace(microsecond=0) == db.replace(microsecond=0)
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        keys = set(a) | set(b)
        return all(same(a.get(k), b.get(k)) for k in keys)
    if isinstance(a, str) and isinstance(b, str):
        if a == b:
            return True
        try:
            return Decimal(a) == Decimal(b)
        except InvalidOperation:
            return False
    return bool(a == b)


def _as_bool(v: Any) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "yes")
    return bool(v)


def _show(v: Any) -> str:
    j = to_jsonable(v)
    return j if isinstance(j, str) else json.dumps(j, separators=(",", ":"))
