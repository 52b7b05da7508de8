"""`wpbridge import`, step 1: read the input (an export's JSON or a spreadsheet's CSV) into source records, and
check every one of them before anything is planned or written.

Pure (no network, no clock): `read_source()` turns a file into a `Source` plus the problems found in its syntax,
and `check_references()` checks what needs the catalog (plan and add-on slugs, prices for a period). Every problem
is an `Issue` naming where it is (`line 14` of a CSV, `memberships[3]` of a JSON export), the field, and what is
wrong, e.g. `line 14: plan 'premuim' does not exist (plans: free, basic, premium)`. A record with any issue is
marked invalid: the import refuses to write anything while there are invalid records, unless `--skip-invalid`, in
which case they (and the records that depend on them) are left out.

Natural keys (how a re-run finds what an earlier run wrote): product slug; customer email (case-insensitive),
then username; site domain + path; membership: the source's identity (`Source.membership key`), which the target
keeps next to the membership (plugin-stub's import keys); payment: the same, `{source}/payment/{id}`, kept next to
the payment (plugin-stub's payment keys). Payments name their customer, membership and products by the file's ids;
they are read here into the file's natural keys (email, membership key, slug), as memberships are.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from ..billing.periods import list_amounts, price_in_period
from ..errors import DataError, InputError
from ..models import (
    Customer,
    Limitations,
    Membership,
    Product,
    ScheduledChange,
    Site,
    parse,
    parse_utc,
)
from ..payment_models import Payment

Format = Literal["json", "csv"]

STATUSES = ("pending", "trialing", "active", "on-hold", "expired", "cancelled")
UNITS = ("day", "week", "month", "year")
CSV_COLUMNS = (
    "email", "username", "plan", "period", "amount", "currency", "status", "date_created", "date_expiration",
    "addons", "site_path", "site_domain", "site_title", "gateway", "gateway_customer_id", "gateway_subscription_id",
    "source_id",
)
CSV_REQUIRED = ("email", "plan")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
USERNAME_RE = re.compile(r"^[a-z0-9]{4,60}$")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,190}$")
SITE_SEGMENT_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
KEY_MAX = 191

MEMBERSHIP_FIELDS = (
    "currency", "amount", "initial_amount", "duration", "duration_unit", "recurring", "auto_renew", "times_billed",
    "billing_cycles", "status", "date_created", "date_renewed", "date_expiration", "date_trial_end", "gateway",
    "gateway_customer_id", "gateway_subscription_id",
)
"""Membership fields an import carries (besides customer, plan and add-ons), compared and written as given."""

CUSTOMER_FIELDS = ("email_verification", "has_trialed", "vip", "billing_address", "date_registered")

PAYMENT_FIELDS = (
    "status", "currency", "subtotal", "discount_total", "tax_total", "total", "refund_total", "discount_code",
    "gateway", "gateway_payment_id", "invoice_number", "hash", "date_created", "date_modified",
)
"""Payment fields an import carries as given (besides customer, membership, parent, product, lines, change)."""


@dataclass(frozen=True)
class Issue:
    """One problem in the input: where (`line 14`, `memberships[3]`), the field, and the message."""

    where: str
    field: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {"where": self.where, "field": self.field, "message": self.message}


@dataclass
class SrcProduct:
    slug: str
    product: Product
    """The product as the file describes it (ids are the file's own; `available_addons` see `addon_slugs`)."""
    addon_slugs: list[str]
    where: str
    valid: bool = True


@dataclass
class SrcCustomer:
    email: str
    username: str | None
    fields: dict[str, Any]
    """The customer fields the file gives (see CUSTOMER_FIELDS); only these are compared and written."""
    where: str
    display_name: str | None = None
    valid: bool = True

    @property
    def key(self) -> str:
        return self.email.lower()


@dataclass
class SrcMembership:
    key: str
    """The source's identity of this membership, kept on the target (at most 191 characters)."""
    customer: str
    """The customer's key (lower-case email)."""
    plan: str
    addons: dict[str, int]
    fields: dict[str, Any]
    """Membership fields the file gives (MEMBERSHIP_FIELDS), as Python values (Decimal, datetime, ...)."""
    where: str
    limitations: Limitations | None = None
    """The membership's own limitations override (JSON exports), None when the file gives none."""
    period_given: bool = True
    amount_given: bool = True
    valid: bool = True


@dataclass
class SrcSite:
    membership: str
    """The membership's source key."""
    path: str
    """`/alice/` (a subdirectory network) or `/` (a subdomain network)."""
    domain: str | None
    """None: the target network's own domain (subdirectory sites)."""
    title: str
    type: str
    where: str
    limitations: Limitations | None = None
    valid: bool = True


@dataclass
class SrcScheduled:
    membership: str
    scheduled_for: datetime
    target: dict[str, Any]
    """The membership fields to apply; `plan_id` and `addon_products` given by slug (`plan`, `addons`)."""
    note: str
    where: str
    valid: bool = True


@dataclass
class SrcPayment:
    key: str
    """The source's identity of this payment (`{source}/payment/{id}`), kept on the target."""
    customer: str
    """The customer's key (lower-case email)."""
    membership: str | None
    """The membership's source key; None: a payment of no membership."""
    product: str | None
    """The slug of the payment's product (UM's `product_id` column), None when none."""
    parent: str | None
    """The source key of the parent payment (a payment of the file), None when none."""
    lines: list[dict[str, Any]]
    """The line items as the file gives them, `product_id` replaced by `product` (a slug, or None)."""
    fields: dict[str, Any]
    """PAYMENT_FIELDS, as Python values (Decimal, datetime, str)."""
    change: dict[str, Any] | None
    """The plan change the payment pays for (`wpbridge`), with `before`/`target` product ids as slugs (`plan`,
    `addons`), None for a payment wpbridge did not make."""
    where: str
    valid: bool = True
    source_id: int = 0
    """The payment's id on the source network."""


@dataclass
class Source:
    """Everything the file asks for, in natural keys, with the issues found."""

    format: Format
    name: str
    products: list[SrcProduct] = field(default_factory=list)
    customers: list[SrcCustomer] = field(default_factory=list)
    memberships: list[SrcMembership] = field(default_factory=list)
    sites: list[SrcSite] = field(default_factory=list)
    scheduled: list[SrcScheduled] = field(default_factory=list)
    payments: list[SrcPayment] = field(default_factory=list)
    payments_given: bool = False
    """The file has a `payments` section (an export written before payments were exported has none)."""
    issues: list[Issue] = field(default_factory=list)
    source_url: str | None = None
    source_domain: str | None = None
    """The source network's own domain: sites on it are moved to the target's domain."""
    records: int = 0
    """Rows (CSV) or records (JSON) read."""

    @property
    def invalid_count(self) -> int:
        return sum(1 for group in self.groups() for r in group if not r.valid)

    def groups(self) -> tuple[Sequence[Any], ...]:
        return (self.products, self.customers, self.memberships, self.sites, self.scheduled, self.payments)

    def drop_invalid(self) -> None:
        """Leave out invalid records and whatever depends on them (--skip-invalid)."""
        bad_products = {p.slug for p in self.products if not p.valid}
        self.products = [p for p in self.products if p.valid]
        bad_customers = {c.key for c in self.customers if not c.valid}
        self.customers = [c for c in self.customers if c.valid]
        for m in self.memberships:
            if m.customer in bad_customers or m.plan in bad_products or set(m.addons) & bad_products:
                m.valid = False
        bad_members = {m.key for m in self.memberships if not m.valid}
        self.memberships = [m for m in self.memberships if m.valid]
        if self.format == "csv":  # a CSV customer exists only for its rows: none left valid, none imported
            wanted = {m.customer for m in self.memberships}
            self.customers = [c for c in self.customers if c.key in wanted]
        self.sites = [s for s in self.sites if s.valid and s.membership not in bad_members]
        self.scheduled = [s for s in self.scheduled if s.valid and s.membership not in bad_members]
        kept: list[SrcPayment] = []
        for pay in self.payments:  # in file order: a parent is met before the payments that name it
            bad_parent = pay.parent is not None and pay.parent not in {k.key for k in kept}
            if (pay.valid and pay.customer not in bad_customers and pay.membership not in bad_members
                    and not bad_parent):
                kept.append(pay)
        self.payments = kept


# --------------------------------------------------------------------------- reading


def read_source(path: str | Path, fmt: Format | None = None) -> Source:
    """Read FILE (format from `fmt`, else the extension, else sniffed) into a Source with its syntax issues.

    A file that cannot be read at all (missing, not UTF-8, not JSON, not a wpbridge export, no header row) is an
    InputError; problems in individual records are `Source.issues`.
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InputError(f"import {p}: cannot read it ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"import {p}: not UTF-8 text (byte {exc.start})") from None
    if fmt is None:
        suffix = p.suffix.lower()
        fmt = "json" if suffix == ".json" else "csv" if suffix == ".csv" else (
            "json" if text.lstrip().startswith("{") else "csv")
    if fmt == "json":
        return read_json(text, name=str(p))
    return read_csv(text, name=str(p))


# --------------------------------------------------------------------------- JSON (what `wpbridge export` writes)


def read_json(text: str, *, name: str = "input") -> Source:
    from .snapshot import FORMAT, VERSION

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"import {name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f'import {name}: not a wpbridge export (no "format": "{FORMAT}" key); '
                         "for a spreadsheet use --format csv")
    if data.get("version") != VERSION:
        raise InputError(f"import {name}: export version {data.get('version')!r} is not supported (expected {VERSION})")
    for key in ("catalog", "customers", "memberships", "sites"):
        if not isinstance(data.get(key), list):
            raise InputError(f"import {name}: section '{key}' is missing or not a list")
    source_url = data.get("source_url") if isinstance(data.get("source_url"), str) else None
    src = Source(format="json", name=name, source_url=source_url)
    _JsonReader(src, data).read()
    return src


class _JsonReader:
    def __init__(self, src: Source, data: dict[str, Any]) -> None:
        self.src = src
        self.data = data
        self.origin = (src.source_url or "export").rstrip("/")
        self.product_slugs: dict[int, str] = {}
        self.customer_keys: dict[int, str] = {}
        self.member_keys: dict[int, str] = {}
        self.member_customers: dict[int, int] = {}

    def issue(self, where: str, field_name: str | None, message: str) -> None:
        self.src.issues.append(Issue(where, field_name, message))

    def _parse(self, model: type[Any], payload: Any, where: str) -> Any:
        try:
            return parse(model, payload)
        except DataError as err:
            msg = err.message.split(": ", 1)[1] if ": " in err.message else err.message
            self.issue(where, err.field, msg)
            return None

    def read(self) -> None:
        self.products()
        self.customers()
        self.memberships()
        self.sites()
        self.scheduled()
        self.payments()
        self.src.records = sum(len(self.data.get(k) or []) for k in ("catalog", "customers", "memberships", "sites",
                                                                      "scheduled_changes", "payments"))

    def products(self) -> None:
        parsed: list[tuple[int, Product, str]] = []
        for i, raw in enumerate(self.data["catalog"]):
            where = f"catalog[{i}]"
            product = self._parse(Product, raw, where)
            if product is None:
                continue
            if not SLUG_RE.fullmatch(product.slug):
                self.issue(where, "slug", f"slug {product.slug!r} is not a valid slug (a-z, 0-9, - and _)")
                continue
            if product.slug in self.product_slugs.values():
                self.issue(where, "slug", f"slug {product.slug!r} appears twice in the catalog")
                continue
            self.product_slugs[product.id] = product.slug
            parsed.append((i, product, where))
        for _i, product, where in parsed:
            addon_slugs = []
            valid = True
            for pid in product.available_addons:
                slug = self.product_slugs.get(pid)
                if slug is None:
                    self.issue(where, "available_addons", f"available_addons: product {pid} is not in the catalog")
                    valid = False
                else:
                    addon_slugs.append(slug)
            self.src.products.append(SrcProduct(product.slug, product, addon_slugs, where, valid))

    def customers(self) -> None:
        seen: dict[str, str] = {}
        for i, raw in enumerate(self.data["customers"]):
            where = f"customers[{i}]"
            customer = self._parse(Customer, raw, where)
            if customer is None:
                continue
            where = f"customers[{i}] (id {customer.id})"
            email = (customer.user_email or "").strip()
            if not email:
                self.issue(where, "user_email", "user_email is missing (needed to find or create the customer)")
                continue
            if not EMAIL_RE.fullmatch(email):
                self.issue(where, "user_email", f"user_email {email!r} is not an email address")
                continue
            if email.lower() in seen:
                self.issue(where, "user_email", f"user_email {email!r} is also the email of {seen[email.lower()]}")
                continue
            seen[email.lower()] = where
            username = raw.get("user_login") if isinstance(raw, dict) else None
            fields: dict[str, Any] = {}
            for name in CUSTOMER_FIELDS:
                if isinstance(raw, dict) and name in raw:
                    fields[name] = getattr(customer, name)
            self.customer_keys[customer.id] = email.lower()
            self.src.customers.append(SrcCustomer(
                email=email, username=username if isinstance(username, str) and username else None, fields=fields,
                where=where, display_name=customer.display_name,
            ))

    def memberships(self) -> None:
        for i, raw in enumerate(self.data["memberships"]):
            where = f"memberships[{i}]"
            m = self._parse(Membership, raw, where)
            if m is None:
                continue
            where = f"memberships[{i}] (id {m.id})"
            valid = True
            customer = self.customer_keys.get(m.customer_id)
            if customer is None:
                self.issue(where, "customer_id", f"customer_id {m.customer_id} is not among the file's customers")
                valid = False
            plan = self.product_slugs.get(m.plan_id)
            if plan is None:
                self.issue(where, "plan_id", f"plan_id {m.plan_id} is not in the file's catalog")
                valid = False
            addons: dict[str, int] = {}
            for pid, qty in m.addon_products.items():
                slug = self.product_slugs.get(pid)
                if slug is None:
                    self.issue(where, f"addon_products.{pid}", f"addon_products: product {pid} is not in the file's"
                                                               " catalog")
                    valid = False
                else:
                    addons[slug] = qty
            fields = {name: getattr(m, name) for name in MEMBERSHIP_FIELDS
                      if isinstance(raw, dict) and name in raw and hasattr(m, name)}
            for name in ("gateway_customer_id", "gateway_subscription_id"):
                value = raw.get(name) if isinstance(raw, dict) else None
                if isinstance(value, str) and value:
                    fields[name] = value
            key = f"{self.origin}/membership/{m.id}"[-KEY_MAX:]
            self.member_keys[m.id] = key
            self.member_customers[m.id] = m.customer_id
            limits = m.limitations if isinstance(raw, dict) and raw.get("limitations") else None
            self.src.memberships.append(SrcMembership(
                key=key, customer=customer or "", plan=plan or "", addons=addons, fields=fields, where=where,
                limitations=limits, valid=valid,
            ))

    def sites(self) -> None:
        main_domain = None
        raws = self.data["sites"]
        for raw in raws:
            if isinstance(raw, dict) and raw.get("type") == "main" and isinstance(raw.get("domain"), str):
                main_domain = raw["domain"]
        if main_domain is None and self.src.source_url:
            main_domain = urlsplit(self.src.source_url).netloc or None
        self.src.source_domain = main_domain
        for i, raw in enumerate(raws):
            where = f"sites[{i}]"
            site = self._parse(Site, raw, where)
            if site is None:
                continue
            where = f"sites[{i}] (blog_id {site.blog_id})"
            if site.membership_id is None or site.type == "main":
                continue  # the main site, templates, unlinked sites: not a customer's, not imported
            key = self.member_keys.get(site.membership_id)
            if key is None:
                self.issue(where, "membership_id", f"membership_id {site.membership_id} is not among the file's"
                                                   " memberships")
                continue
            if site.customer_id is not None and site.customer_id != self.member_customers.get(site.membership_id):
                self.issue(where, "customer_id", f"customer_id {site.customer_id} does not own membership"
                                                 f" {site.membership_id}")
                continue
            domain = _translated_domain(site.domain, main_domain)
            limits = site.limitations if isinstance(raw, dict) and raw.get("limitations") else None
            self.src.sites.append(SrcSite(
                membership=key, path=_norm_path(site.path), domain=domain, title=site.title or site.path.strip("/"),
                type=site.type or "customer_owned", where=where, limitations=limits,
            ))

    def scheduled(self) -> None:
        for i, raw in enumerate(self.data.get("scheduled_changes") or []):
            where = f"scheduled_changes[{i}]"
            change = self._parse(ScheduledChange, raw, where)
            if change is None:
                continue
            where = f"scheduled_changes[{i}] (membership {change.membership_id})"
            key = self.member_keys.get(change.membership_id)
            if key is None:
                self.issue(where, "membership_id", f"membership_id {change.membership_id} is not among the file's"
                                                   " memberships")
                continue
            target = dict(change.target)
            valid = True
            if "plan_id" in target:
                slug = self.product_slugs.get(_as_int(target.pop("plan_id")) or 0)
                if slug is None:
                    self.issue(where, "target.plan_id", "target.plan_id is not in the file's catalog")
                    valid = False
                target["plan"] = slug
            if "addon_products" in target:
                raw_addons = target.pop("addon_products") or {}
                addons: dict[str, int] = {}
                for pid, qty in (raw_addons.items() if isinstance(raw_addons, Mapping) else []):
                    slug = self.product_slugs.get(_as_int(pid) or 0)
                    if slug is None:
                        self.issue(where, f"target.addon_products.{pid}", "target.addon_products: product"
                                                                          f" {pid} is not in the file's catalog")
                        valid = False
                    else:
                        addons[slug] = _as_int(qty) or 0
                target["addons"] = addons
            self.src.scheduled.append(SrcScheduled(key, change.scheduled_for, target, change.note, where, valid))


    def payments(self) -> None:
        raws = self.data.get("payments")
        if raws is None:
            return  # written before payments were exported: nothing to carry, and nothing claimed
        if not isinstance(raws, list):
            self.issue("payments", None, "section 'payments' is not a list")
            return
        self.src.payments_given = True
        keys: dict[int, str] = {}
        for i, raw in enumerate(raws):
            where = f"payments[{i}]"
            p: Payment | None = self._parse(Payment, raw, where)
            if p is None:
                continue
            where = f"payments[{i}] (id {p.id})"
            problems: list[tuple[str, str]] = []
            customer = self.customer_keys.get(p.customer_id)
            if customer is None:
                problems.append(("customer_id", f"customer_id {p.customer_id} is not among the file's customers"))
            membership = None
            if p.membership_id is not None:
                membership = self.member_keys.get(p.membership_id)
                if membership is None:
                    problems.append(("membership_id", f"membership_id {p.membership_id} is not among the file's"
                                                      " memberships"))
                elif customer is not None and self.member_customers.get(p.membership_id) != p.customer_id:
                    problems.append(("customer_id", f"customer_id {p.customer_id} does not own membership"
                                                    f" {p.membership_id}"))
            product = None
            if p.product_id is not None:
                product = self.product_slugs.get(p.product_id)
                if product is None:
                    problems.append(("product_id", f"product_id {p.product_id} is not in the file's catalog"))
            parent = None
            if p.parent_id is not None:
                parent = keys.get(p.parent_id)
                if parent is None:
                    problems.append(("parent_id", f"parent_id {p.parent_id} is not a payment listed before it"))
            lines: list[dict[str, Any]] = []
            for n, line in enumerate(p.line_items):
                data = line.model_dump(mode="json", exclude={"product_id"})
                data["product"] = None
                if line.product_id is not None:
                    data["product"] = self.product_slugs.get(line.product_id)
                    if data["product"] is None:
                        problems.append((f"line_items.{n}.product_id", f"line_items[{n}]: product"
                                                                        f" {line.product_id} is not in the file's"
                                                                        " catalog"))
                lines.append(data)
            change = None
            if p.wpbridge is not None:
                change = p.wpbridge.model_dump(mode="json")
                for side in ("before", "target"):
                    change[side], bad = self._state_by_slug(change[side])
                    problems.extend((f"wpbridge.{side}.{f}", f"wpbridge.{side}: {m}") for f, m in bad)
            fields = {name: getattr(p, name) for name in PAYMENT_FIELDS
                      if isinstance(raw, dict) and name in raw}
            for name, message in problems:
                self.issue(where, name, message)
            key = f"{self.origin}/payment/{p.id}"[-KEY_MAX:]
            keys[p.id] = key
            self.src.payments.append(SrcPayment(
                key=key, customer=customer or "", membership=membership, product=product, parent=parent,
                lines=lines, fields=fields, change=change, where=where, valid=not problems, source_id=p.id,
            ))

    def _state_by_slug(self, state: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """A membership state of the file (`plan_id`, `addon_products` by the file's ids) with its products as
        slugs (`plan`, `addons`), and the products it names that the file's catalog does not have."""
        out = {k: v for k, v in state.items() if k not in ("plan_id", "addon_products")}
        bad: list[tuple[str, str]] = []
        if "plan_id" in state:
            slug = self.product_slugs.get(_as_int(state["plan_id"]) or 0)
            if slug is None:
                bad.append(("plan_id", f"plan_id {state['plan_id']} is not in the file's catalog"))
            out["plan"] = slug
        if "addon_products" in state:
            addons: dict[str, int] = {}
            raw = state["addon_products"]
            for pid, qty in (raw.items() if isinstance(raw, Mapping) else []):
                slug = self.product_slugs.get(_as_int(pid) or 0)
                if slug is None:
                    bad.append(("addon_products", f"add-on {pid} is not in the file's catalog"))
                else:
                    addons[slug] = _as_int(qty) or 0
            out["addons"] = addons
        return out, bad


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _translated_domain(domain: str, source_domain: str | None) -> str | None:
    """None (the target's own domain) for sites on the source network's domain; subdomains keep their label."""
    if not domain or source_domain is None or domain == source_domain:
        return None
    if domain.endswith("." + source_domain):
        return domain[: -len(source_domain)]  # "alice." + the target's domain, filled in by the planner
    return domain


def _norm_path(path: str) -> str:
    stripped = path.strip().strip("/")
    return f"/{stripped}/" if stripped else "/"


# --------------------------------------------------------------------------- CSV (one row per membership)


def read_csv(text: str, *, name: str = "input") -> Source:
    src = Source(format="csv", name=name)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(f"import {name}: the file is empty (expected a header row: {', '.join(CSV_COLUMNS[:4])},"
                         " ...)") from None
    except csv.Error as exc:
        raise InputError(f"import {name}: line 1: {exc}") from None
    columns = [h.strip().lower() for h in header]
    problems = []
    for col in columns:
        if col not in CSV_COLUMNS:
            hint = _did_you_mean(col, CSV_COLUMNS)
            problems.append(f"unknown column {col!r}{hint} (columns: {', '.join(CSV_COLUMNS)})")
    for col in {c for c in columns if columns.count(c) > 1}:
        problems.append(f"column {col!r} appears twice")
    for col in CSV_REQUIRED:
        if col not in columns:
            problems.append(f"column {col!r} is required")
    if problems:
        raise InputError(f"import {name}: line 1 (header): " + "; ".join(problems))
    rows = _CsvRows(src)
    line = reader.line_num + 1
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                if len(record) > len(columns):
                    src.issues.append(Issue(f"line {line}", None, f"{len(record)} cells for {len(columns)} columns"))
                    src.records += 1
                else:
                    values = {col: (record[i].strip() if i < len(record) else "") for i, col in enumerate(columns)}
                    rows.row(line, values)
            line = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(f"import {name}: line {line}: {exc}") from None
    return src


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


class _CsvRows:
    def __init__(self, src: Source) -> None:
        self.src = src
        self.customers: dict[str, SrcCustomer] = {}
        self.usernames: dict[str, str] = {}
        self.counts: dict[str, int] = {}
        self.keys: dict[str, int] = {}
        self.sites: dict[tuple[str | None, str], int] = {}

    def row(self, line: int, v: dict[str, str]) -> None:
        where = f"line {line}"
        self.src.records += 1
        problems: list[Issue] = []

        def bad(field_name: str, message: str) -> None:
            problems.append(Issue(where, field_name, message))

        email = v.get("email", "")
        if not email:
            bad("email", "email is empty")
        elif not EMAIL_RE.fullmatch(email):
            bad("email", f"email {email!r} is not an email address")
        username = v.get("username") or None
        if username is not None and not USERNAME_RE.fullmatch(username):
            bad("username", f"username {username!r} must be 4 to 60 lowercase letters or digits")
        plan = v.get("plan", "")
        if not plan:
            bad("plan", "plan is empty")
        period_given = bool(v.get("period"))
        fields: dict[str, Any] = {}
        if period_given:
            period = _period(v["period"])
            if period is None:
                bad("period", f"period {v['period']!r} is not N:unit (e.g. 1:month, 1:year)")
            else:
                fields["duration"], fields["duration_unit"] = period
        amount_given = bool(v.get("amount"))
        if amount_given:
            try:
                amount = Decimal(v["amount"])
                if not amount.is_finite() or amount < 0:
                    raise InvalidOperation
                fields["amount"] = amount
            except InvalidOperation:
                bad("amount", f"amount {v['amount']!r} is not an amount >= 0 (e.g. 15 or 15.00)")
        if v.get("currency"):
            if re.fullmatch(r"[A-Z]{3}", v["currency"]):
                fields["currency"] = v["currency"]
            else:
                bad("currency", f"currency {v['currency']!r} is not a 3-letter code (e.g. USD)")
        status = v.get("status") or "active"
        if status not in STATUSES:
            bad("status", f"status {status!r} is not one of {', '.join(STATUSES)}")
        fields["status"] = status
        for name in ("date_created", "date_expiration"):
            if v.get(name):
                try:
                    fields[name] = parse_utc(v[name])
                except ValueError:
                    bad(name, f"{name} {v[name]!r} is not a date (YYYY-MM-DD or ISO 8601; UTC unless an offset"
                              " is given)")
        addons: dict[str, int] = {}
        if v.get("addons"):
            for part in v["addons"].split(";"):
                part = part.strip()
                if not part:
                    continue
                slug, sep, qty_text = part.partition(":")
                slug = slug.strip()
                if not slug or (sep and not qty_text.strip().isdigit()) or (sep and int(qty_text) < 1):
                    bad("addons", f"addons {part!r} is not slug:quantity (e.g. extra-storage:2)")
                elif slug in addons:
                    bad("addons", f"addons names {slug!r} twice")
                else:
                    addons[slug] = int(qty_text) if sep else 1
        for name in ("gateway", "gateway_customer_id", "gateway_subscription_id"):
            if v.get(name):
                fields[name] = v[name]
        site_path, site_domain = v.get("site_path") or None, v.get("site_domain") or None
        path = "/"
        if site_path is not None:
            seg = site_path.strip().strip("/")
            if not SITE_SEGMENT_RE.fullmatch(seg) or seg.isdigit():
                bad("site_path", f"site_path {site_path!r} must be one segment of a-z, 0-9 and - (e.g. /alice/)")
            path = f"/{seg}/"
        if site_domain is not None and not re.fullmatch(r"[a-z0-9.-]+(:\d+)?", site_domain.lower()):
            bad("site_domain", f"site_domain {site_domain!r} is not a host name")
        key_id = v.get("source_id") or None
        if key_id is not None and len(key_id) > 150:
            bad("source_id", "source_id is longer than 150 characters")

        customer_key = email.lower()
        if email and not any(p.field in ("email", "username") for p in problems):
            known = self.customers.get(customer_key)
            if known is not None and username and known.username and known.username != username:
                bad("username", f"username {username!r} differs from {known.username!r} given for {email} on"
                                f" {known.where}")
            owner = self.usernames.get(username) if username else None
            if owner is not None and owner != customer_key:
                bad("username", f"username {username!r} is also given for {owner}")
        site_key = (site_domain.lower() if site_domain else None, path) if (site_path or site_domain) else None
        if site_key is not None and site_key in self.sites:
            bad("site_path" if site_path else "site_domain", f"the site {site_domain or ''}{path} is also on line"
                                                             f" {self.sites[site_key]}")
        if key_id is not None and f"id:{key_id}" in self.keys:
            bad("source_id", f"source_id {key_id!r} is also on line {self.keys[f'id:{key_id}']}")

        self.src.issues.extend(problems)
        valid = not problems
        customer = self.customers.get(customer_key)
        if customer is None and email:
            customer = SrcCustomer(email=email, username=username, fields={}, where=where, valid=valid)
            self.customers[customer_key] = customer
            self.src.customers.append(customer)
        elif customer is not None:
            if username and not customer.username and valid:
                customer.username = username
            if not valid and customer.where == where:
                customer.valid = False
        if username and valid:
            self.usernames.setdefault(username, customer_key)
        if key_id is not None:
            key = f"csv:{key_id}"
            self.keys[f"id:{key_id}"] = line
        else:
            n = self.counts.get(customer_key, 0) + 1
            self.counts[customer_key] = n
            key = f"csv:{customer_key}#{n}"[:KEY_MAX]
        if site_key is not None:
            self.sites[site_key] = line
        self.src.memberships.append(SrcMembership(
            key=key, customer=customer_key, plan=plan, addons=addons, fields=fields, where=where,
            period_given=period_given, amount_given=amount_given, valid=valid,
        ))
        if site_key is not None:
            title = v.get("site_title") or (path.strip("/") or (site_domain or "").split(".")[0]).replace("-", " ")
            self.src.sites.append(SrcSite(
                membership=key, path=path, domain=site_domain, title=title.title() if not v.get("site_title")
                else title, type="customer_owned", where=where, valid=valid,
            ))


def _period(text: str) -> tuple[int, str] | None:
    match = re.fullmatch(r"\s*(\d+)\s*:\s*([a-zA-Z]+?)s?\s*", text)
    if match is None or int(match.group(1)) < 1 or match.group(2).lower() not in UNITS:
        return None
    return int(match.group(1)), match.group(2).lower()


# --------------------------------------------------------------------------- references (need the catalog)


def check_references(src: Source, catalog: Sequence[Product]) -> None:
    """Check plan and add-on slugs against the catalog the import will have (the file's own products plus the
    target's), and fill in what a CSV row leaves to the catalog: the period (the plan's own), the amount (the
    plan's price for the period plus the recurring add-ons times their quantity) and the currency.
    """
    by_slug: dict[str, Product] = {p.slug: p for p in catalog}
    for sp in src.products:
        by_slug[sp.slug] = sp.product
    plans = [p.slug for p in sorted(by_slug.values(), key=lambda p: (p.list_order, p.slug)) if p.is_plan]
    addon_list = [p.slug for p in sorted(by_slug.values(), key=lambda p: (p.list_order, p.slug)) if not p.is_plan]

    def issue(record: Any, field_name: str, message: str) -> None:
        src.issues.append(Issue(record.where, field_name, message))
        record.valid = False

    for m in src.memberships:
        if not m.plan:
            continue
        plan = by_slug.get(m.plan)
        if plan is None:
            hint = _did_you_mean(m.plan, plans)
            issue(m, "plan", f"plan {m.plan!r} does not exist{hint} (plans: {', '.join(plans) or 'none'})")
        elif not plan.is_plan:
            issue(m, "plan", f"plan {m.plan!r} is a {plan.type}, not a plan (plans: {', '.join(plans)})")
        bad_addon = False
        for slug in m.addons:
            addon = by_slug.get(slug)
            if addon is None:
                hint = _did_you_mean(slug, addon_list)
                issue(m, "addons", f"add-on {slug!r} does not exist{hint} (add-ons: {', '.join(addon_list) or 'none'})")
                bad_addon = True
            elif addon.is_plan:
                issue(m, "addons", f"add-on {slug!r} is a plan, not an add-on")
                bad_addon = True
        if src.format != "csv" or plan is None or not plan.is_plan or bad_addon or not m.valid:
            continue
        if not m.period_given:
            m.fields["duration"], m.fields["duration_unit"] = plan.duration, plan.duration_unit
        duration, unit = m.fields.get("duration", plan.duration), m.fields.get("duration_unit", plan.duration_unit)
        price = price_in_period(plan, duration, unit)
        if price is None:
            periods = [f"{plan.duration}:{plan.duration_unit}"] + [
                f"{v.duration}:{v.duration_unit}" for v in plan.price_variations]
            if not m.amount_given:  # with its own amount, a membership may have any period
                issue(m, "period", f"plan {m.plan!r} has no price for {duration}:{unit} (it has: {', '.join(periods)})")
                continue
        recurring, one_time = list_amounts(price if price is not None else Decimal(0),
                                           ((by_slug[slug], qty) for slug, qty in m.addons.items()))
        m.fields.setdefault("currency", plan.currency)
        if not m.amount_given:
            m.fields["amount"] = recurring
        amount = m.fields["amount"]
        m.fields.setdefault("initial_amount", amount + one_time)
        m.fields.setdefault("recurring", amount > 0)
        if not m.fields["recurring"]:
            m.fields.setdefault("date_expiration", None)  # free / one-time: lifetime, not "expires at import time"
    for s in src.sites:
        if s.path == "/" and s.domain is None:
            issue(s, "site_path", "a site needs site_path or site_domain")


__all__ = [
    "CSV_COLUMNS",
    "Issue",
    "Source",
    "SrcCustomer",
    "SrcMembership",
    "SrcPayment",
    "SrcProduct",
    "SrcScheduled",
    "SrcSite",
    "check_references",
    "read_csv",
    "read_json",
    "read_source",
]

