"""`wpbridge import` of what `wpbridge export` writes (a snapshot): every record parsed by its own model
(models.py), then read into the file's natural keys. Products are named by slug, customers by email, memberships
and payments by `{source}/membership/{id}` and `{source}/payment/{id}`; a record that names something the file
does not have is an issue (`memberships[3] (id 9): plan_id 4 is not in the file's catalog`)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel

from .. import jsonsafe as safe_json
from ..errors import DataError, InputError
from ..models import Customer, Membership, Product, ScheduledChange, Site, parse
from ..payment_models import Payment
from .importer_codes import read_codes
from .importer_domains import read_domains
from .importer_records import (
    CUSTOMER_FIELDS,
    EMAIL_RE,
    KEY_MAX,
    MEMBERSHIP_FIELDS,
    PAYMENT_FIELDS,
    SLUG_RE,
    Issue,
    Source,
    SrcCustomer,
    SrcMembership,
    SrcPayment,
    SrcProduct,
    SrcScheduled,
    SrcSite,
)
from .importer_taxes import read_taxes

M = TypeVar("M", bound=BaseModel)
Problems = list[tuple[str, str]]
"""(field, message) of one record."""
SECTIONS = ("catalog", "customers", "memberships", "sites", "scheduled_changes", "payments", "discount_codes",
            "domains")


def read_json(text: str, *, name: str = "input") -> Source:
    from .snapshot import FORMAT, VERSION

    try:
        data = safe_json.loads(text)
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


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _given(raw: Any, names: tuple[str, ...], record: BaseModel) -> dict[str, Any]:
    """The fields among `names` that the file's record gives, as its model read them."""
    return {name: getattr(record, name) for name in names if isinstance(raw, dict) and name in raw
            and hasattr(record, name)}


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

    def issues(self, where: str, problems: Problems) -> bool:
        """Report `problems`; True when there are none."""
        for name, message in problems:
            self.issue(where, name, message)
        return not problems

    def _parse(self, model: type[M], payload: Any, where: str) -> M | None:
        try:
            return parse(model, payload)
        except DataError as err:
            msg = err.message.split(": ", 1)[1] if ": " in err.message else err.message
            self.issue(where, err.field, msg)
            return None

    def _records(self, section: str, model: type[M]) -> Iterator[tuple[int, Any, M]]:
        """(index, raw, parsed) of a section's records that parse, in file order (the others are issues, reported
        as they are met)."""
        for i, raw in enumerate(self.data.get(section) or []):
            record = self._parse(model, raw, f"{section}[{i}]")
            if record is not None:
                yield i, raw, record

    def read(self) -> None:
        self.products()
        self.customers()
        self.memberships()
        self.src.taxes = read_taxes(self.data, self.customer_keys, self.src.issues)
        self.src.discount_codes = read_codes(self.data, self.product_slugs, self.member_keys, self.src.issues)
        self.sites()
        self.src.domains = read_domains(self.data, self.src.sites, self.src.issues)  # by the sites read just now
        self.scheduled()
        self.payments()
        self.src.records = sum(len(self.data.get(k) or []) for k in SECTIONS)

    def slug_of(self, pid: Any) -> str | None:
        return self.product_slugs.get(_as_int(pid) or 0)

    def addons_by_slug(self, addons: Any, field_name: str, message: str) -> tuple[dict[str, int], Problems]:
        """{product id: quantity} of the file as {slug: quantity}; a product the file's catalog does not have is a
        problem (`field_name.{id}`, "`message`: product {id} is not in the file's catalog")."""
        out: dict[str, int] = {}
        problems: Problems = []
        for pid, qty in (addons.items() if isinstance(addons, Mapping) else []):
            slug = self.slug_of(pid)
            if slug is None:
                problems.append((f"{field_name}.{pid}", f"{message}: product {pid} is not in the file's catalog"))
            else:
                out[slug] = _as_int(qty) or 0
        return out, problems

    # ------------------------------------------------------------------ catalog, customers

    def products(self) -> None:
        parsed: list[tuple[Product, str]] = []
        for i, _raw, product in self._records("catalog", Product):
            where = f"catalog[{i}]"
            if not SLUG_RE.fullmatch(product.slug):
                self.issue(where, "slug", f"slug {product.slug!r} is not a valid slug (a-z, 0-9, - and _)")
            elif product.slug in self.product_slugs.values():
                self.issue(where, "slug", f"slug {product.slug!r} appears twice in the catalog")
            else:
                self.product_slugs[product.id] = product.slug
                parsed.append((product, where))
        for product, where in parsed:
            problems: Problems = [("available_addons", f"available_addons: product {pid} is not in the catalog")
                                  for pid in product.available_addons if pid not in self.product_slugs]
            addon_slugs = [self.product_slugs[pid] for pid in product.available_addons if pid in self.product_slugs]
            valid = self.issues(where, problems)
            self.src.products.append(SrcProduct(product.slug, product, addon_slugs, where, valid))

    def customers(self) -> None:
        seen: dict[str, str] = {}
        for i, raw, customer in self._records("customers", Customer):
            where = f"customers[{i}] (id {customer.id})"
            email = (customer.user_email or "").strip()
            problem = self._email_problem(email, seen)
            if problem is not None:
                self.issue(where, "user_email", problem)
                continue
            seen[email.lower()] = where
            username = raw.get("user_login") if isinstance(raw, dict) else None
            self.customer_keys[customer.id] = email.lower()
            self.src.customers.append(SrcCustomer(
                email=email, username=username if isinstance(username, str) and username else None,
                fields=_given(raw, CUSTOMER_FIELDS, customer), where=where, display_name=customer.display_name,
            ))

    @staticmethod
    def _email_problem(email: str, seen: Mapping[str, str]) -> str | None:
        if not email:
            return "user_email is missing (needed to find or create the customer)"
        if not EMAIL_RE.fullmatch(email):
            return f"user_email {email!r} is not an email address"
        if email.lower() in seen:
            return f"user_email {email!r} is also the email of {seen[email.lower()]}"
        return None

    # ------------------------------------------------------------------ memberships, sites, scheduled changes

    def memberships(self) -> None:
        for i, raw, m in self._records("memberships", Membership):
            where = f"memberships[{i}] (id {m.id})"
            problems: Problems = []
            customer = self.customer_keys.get(m.customer_id)
            if customer is None:
                problems.append(("customer_id", f"customer_id {m.customer_id} is not among the file's customers"))
            plan = self.product_slugs.get(m.plan_id)
            if plan is None:
                problems.append(("plan_id", f"plan_id {m.plan_id} is not in the file's catalog"))
            addons, bad = self.addons_by_slug(m.addon_products, "addon_products", "addon_products")
            valid = self.issues(where, problems + bad)
            fields = _given(raw, MEMBERSHIP_FIELDS, m)
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

    def _main_domain(self) -> str | None:
        """The source network's own domain: its main site's, else the export's source URL's."""
        mains = [str(raw["domain"]) for raw in self.data["sites"]
                 if isinstance(raw, dict) and raw.get("type") == "main" and isinstance(raw.get("domain"), str)]
        if mains:
            return mains[-1]
        return (urlsplit(self.src.source_url).netloc or None) if self.src.source_url else None

    def sites(self) -> None:
        main_domain = self.src.source_domain = self._main_domain()
        for i, raw, site in self._records("sites", Site):
            if site.membership_id is None or site.type == "main":
                continue  # the main site, templates, unlinked sites: not a customer's, not imported
            where = f"sites[{i}] (blog_id {site.blog_id})"
            key = self.member_keys.get(site.membership_id)
            if key is None:
                self.issue(where, "membership_id", f"membership_id {site.membership_id} is not among the file's"
                                                   " memberships")
            elif site.customer_id is not None and site.customer_id != self.member_customers.get(site.membership_id):
                self.issue(where, "customer_id", f"customer_id {site.customer_id} does not own membership"
                                                 f" {site.membership_id}")
            else:
                limits = site.limitations if isinstance(raw, dict) and raw.get("limitations") else None
                domain = _translated_domain(site.domain, main_domain)
                label = site.path.strip("/") or (domain or "").split(".")[0]  # /ann/, or ann. on a subdomain one
                self.src.sites.append(SrcSite(
                    membership=key, path=_norm_path(site.path), domain=domain, title=site.title or label,
                    type=site.type or "customer_owned", where=where, limitations=limits, blog_id=site.blog_id,
                ))

    def scheduled(self) -> None:
        for i, _raw, change in self._records("scheduled_changes", ScheduledChange):
            where = f"scheduled_changes[{i}] (membership {change.membership_id})"
            key = self.member_keys.get(change.membership_id)
            if key is None:
                self.issue(where, "membership_id", f"membership_id {change.membership_id} is not among the file's"
                                                   " memberships")
                continue
            target = dict(change.target)
            problems: Problems = []
            if "plan_id" in target:
                slug = self.slug_of(target.pop("plan_id"))
                if slug is None:
                    problems.append(("target.plan_id", "target.plan_id is not in the file's catalog"))
                target["plan"] = slug
            if "addon_products" in target:
                target["addons"], bad = self.addons_by_slug(target.pop("addon_products") or {},
                                                            "target.addon_products", "target.addon_products")
                problems += bad
            valid = self.issues(where, problems)
            self.src.scheduled.append(SrcScheduled(key, change.scheduled_for, target, change.note, where, valid))

    # ------------------------------------------------------------------ payments

    def payments(self) -> None:
        raws = self.data.get("payments")
        if raws is None:
            return  # written before payments were exported: nothing to carry, and nothing claimed
        if not isinstance(raws, list):
            self.issue("payments", None, "section 'payments' is not a list")
            return
        self.src.payments_given = True
        keys: dict[int, str] = {}
        for i, raw, p in self._records("payments", Payment):
            problems: Problems = []
            customer = self._payment_owner(p, problems)
            membership = self.member_keys.get(p.membership_id) if p.membership_id is not None else None
            product = self._payment_product(p, problems)
            parent = keys.get(p.parent_id) if p.parent_id is not None else None
            if p.parent_id is not None and parent is None:
                problems.append(("parent_id", f"parent_id {p.parent_id} is not a payment listed before it"))
            lines = self._payment_lines(p, problems)
            change = self._payment_change(p, problems)
            where = f"payments[{i}] (id {p.id})"
            valid = self.issues(where, problems)
            key = keys[p.id] = f"{self.origin}/payment/{p.id}"[-KEY_MAX:]
            self.src.payments.append(SrcPayment(
                key=key, customer=customer or "", membership=membership, product=product, parent=parent,
                lines=lines, fields=_given(raw, PAYMENT_FIELDS, p), change=change, where=where, valid=valid,
                source_id=p.id,
            ))

    def _payment_owner(self, p: Payment, problems: Problems) -> str | None:
        """The payment's customer key; its customer and membership must be the file's, and the one own the other."""
        customer = self.customer_keys.get(p.customer_id)
        if customer is None:
            problems.append(("customer_id", f"customer_id {p.customer_id} is not among the file's customers"))
        if p.membership_id is None:
            return customer
        if p.membership_id not in self.member_keys:
            problems.append(("membership_id", f"membership_id {p.membership_id} is not among the file's"
                                              " memberships"))
        elif customer is not None and self.member_customers.get(p.membership_id) != p.customer_id:
            problems.append(("customer_id", f"customer_id {p.customer_id} does not own membership"
                                            f" {p.membership_id}"))
        return customer

    def _payment_product(self, p: Payment, problems: Problems) -> str | None:
        if p.product_id is None:
            return None
        product = self.product_slugs.get(p.product_id)
        if product is None:
            problems.append(("product_id", f"product_id {p.product_id} is not in the file's catalog"))
        return product

    def _payment_lines(self, p: Payment, problems: Problems) -> list[dict[str, Any]]:
        """The line items with `product` (a slug, or None) in place of `product_id`."""
        lines: list[dict[str, Any]] = []
        for n, line in enumerate(p.line_items):
            data = line.model_dump(mode="json", exclude={"product_id"})
            data["product"] = None
            if line.product_id is not None:
                data["product"] = self.product_slugs.get(line.product_id)
                if data["product"] is None:
                    problems.append((f"line_items.{n}.product_id", f"line_items[{n}]: product {line.product_id} is"
                                                                   " not in the file's catalog"))
            lines.append(data)
        return lines

    def _payment_change(self, p: Payment, problems: Problems) -> dict[str, Any] | None:
        """The plan change the payment pays for, its `before`/`target` products as slugs (`plan`, `addons`)."""
        if p.wpbridge is None:
            return None
        change = p.wpbridge.model_dump(mode="json")
        for side in ("before", "target"):
            change[side], bad = self._state_by_slug(change[side])
            problems.extend((f"wpbridge.{side}.{f}", f"wpbridge.{side}: {m}") for f, m in bad)
        return change

    def _state_by_slug(self, state: Mapping[str, Any]) -> tuple[dict[str, Any], Problems]:
        """A membership state of the file (`plan_id`, `addon_products` by the file's ids) with its products as
        slugs (`plan`, `addons`), and the products it names that the file's catalog does not have."""
        out = {k: v for k, v in state.items() if k not in ("plan_id", "addon_products")}
        bad: Problems = []
        if "plan_id" in state:
            slug = self.slug_of(state["plan_id"])
            if slug is None:
                bad.append(("plan_id", f"plan_id {state['plan_id']} is not in the file's catalog"))
            out["plan"] = slug
        if "addon_products" in state:
            out["addons"], missing = self.addons_by_slug(state["addon_products"], "addon_products", "")
            bad += [("addon_products", f"add-on {f.split('.', 1)[1]} is not in the file's catalog")
                    for f, _ in missing]
        return out, bad
