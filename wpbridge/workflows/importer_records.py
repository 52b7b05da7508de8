"""`wpbridge import`'s source records: what the input asks for, in natural keys, each with where it came from
(`line 14`, `memberships[3] (id 9)`) and whether it is valid, and the issues found. Read by `importer_csv` and
`importer_json`, checked by `importer_input.check_references`, planned by `importer_plan`.

Natural keys (how a re-run finds what an earlier run wrote): product slug; customer email (case-insensitive),
then username; site domain + path; membership: the source's identity (`Source.membership key`), which the target
keeps next to the membership (plugin-stub's import keys); payment: the same, `{source}/payment/{id}`, kept next to
the payment (plugin-stub's payment keys).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol, TypeVar, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict

from ..errors import DataError
from ..models import Limitations, OptionalStr, Product, UtcDateTime, parse, php_bool

if TYPE_CHECKING:
    from .importer_codes import SrcCodes
    from .importer_domains import SrcDomains
    from .importer_taxes import SrcTaxes


def _php_bool_or_none(value: Any) -> bool | None:
    return None if value is None else php_bool(value)


def _address(value: Any) -> Any:
    """A billing address without its empty lines (PHP's empty array is an empty map)."""
    if value is None:
        return None
    if value == []:
        return {}
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if v is not None and v != ""}
    return value


Format = Literal["json", "csv"]
FORMATS: tuple[Format, ...] = get_args(Format)

STATUSES = ("pending", "trialing", "active", "on-hold", "expired", "cancelled")
UNITS = ("day", "week", "month", "year")
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



class CustomerFields(BaseModel):
    """The customer fields an import carries (besides email, username and display name): what the file gives of
    them is written and compared with the target's (`importer_plan`), and nothing else."""

    model_config = ConfigDict(extra="ignore")

    email_verification: OptionalStr = None
    has_trialed: Annotated[bool | None, BeforeValidator(_php_bool_or_none)] = None
    vip: Annotated[bool | None, BeforeValidator(_php_bool_or_none)] = None
    billing_address: Annotated[dict[str, Any] | None, BeforeValidator(_address)] = None
    date_registered: UtcDateTime = None


CUSTOMER_FIELDS = tuple(CustomerFields.model_fields)

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


@dataclass(slots=True)  # a few per row of the file: no __dict__ each
class SrcProduct:
    slug: str
    product: Product
    """The product as the file describes it (ids are the file's own; `available_addons` see `addon_slugs`)."""
    addon_slugs: list[str]
    where: str
    valid: bool = True


@dataclass(slots=True)  # a few per row of the file: no __dict__ each
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


@dataclass(slots=True)  # a few per row of the file: no __dict__ each
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


@dataclass(slots=True)  # a few per row of the file: no __dict__ each
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
    blog_id: int | None = None
    """The site's id on the source (an export's; a CSV gives none): what its mapped domains name it by."""


@dataclass(slots=True)  # a few per row of the file: no __dict__ each
class SrcScheduled:
    membership: str
    scheduled_for: datetime
    target: dict[str, Any]
    """The membership fields to apply; `plan_id` and `addon_products` given by slug (`plan`, `addons`)."""
    note: str
    where: str
    valid: bool = True


@dataclass(slots=True)  # a few per row of the file: no __dict__ each
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
    discount_codes: SrcCodes | None = None
    """The file's discount codes and its memberships' own codes (importer_codes); None: the file carries none (a
    CSV, or an export written before codes were exported)."""
    domains: SrcDomains | None = None
    """The domains the file maps to its sites (importer_domains); None: it carries none (a CSV, an export written
    before domains were exported)."""
    """The file has a `payments` section (an export written before payments were exported has none)."""
    issues: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    taxes: SrcTaxes | None = None
    """The network's taxes the file carries (importer_taxes); None: none (a CSV, an export written before)."""
    """What is imported as given but surely not what its author meant (issue 21, item 5): shown with the plan and
    in the report's `warnings`; nothing is refused for them."""
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
        bad_customers = {c.key for c in self.customers if not c.valid}
        bad_members = self._drop_memberships(bad_customers)
        if self.format == "csv":  # a CSV customer exists only for its rows: none left valid, none imported
            wanted = {m.customer for m in self.memberships}
            self.customers = [c for c in self.customers if c.key in wanted]
        self.sites = [s for s in _valid(self.sites) if s.membership not in bad_members]
        self.scheduled = [s for s in _valid(self.scheduled) if s.membership not in bad_members]
        self.payments = _payments_kept(self.payments, bad_customers, bad_members)


    def _drop_memberships(self, bad_customers: set[str]) -> set[str]:
        """Leave out invalid products, customers and memberships (and the memberships of an invalid customer or
        product); the keys of the memberships left out."""
        bad_products = {p.slug for p in self.products if not p.valid}
        for m in self.memberships:
            if m.customer in bad_customers or {m.plan, *m.addons} & bad_products:
                m.valid = False
        bad_members = {m.key for m in self.memberships if not m.valid}
        self.products, self.customers = _valid(self.products), _valid(self.customers)
        self.memberships = _valid(self.memberships)
        return bad_members


class _Record(Protocol):
    valid: bool


R = TypeVar("R", bound=_Record)


def _valid(records: Iterable[R]) -> list[R]:
    return [r for r in records if r.valid]


def _payments_kept(payments: Iterable[SrcPayment], bad_customers: set[str], bad_members: set[str]
                   ) -> list[SrcPayment]:
    """The valid payments whose customer, membership and parent are kept, in file order (a parent is met before
    the payments that name it)."""
    kept: list[SrcPayment] = []
    keys: set[str] = set()
    for pay in payments:
        if not pay.valid or pay.customer in bad_customers or pay.membership in bad_members:
            continue
        if pay.parent is not None and pay.parent not in keys:
            continue
        kept.append(pay)
        keys.add(pay.key)
    return kept


M = TypeVar("M", bound=BaseModel)


def unique_records(data: Mapping[str, Any], section: str, model: type[M], *, key: Callable[[M], str],
                   name: Callable[[M], str], issues: list[Issue], field: str, shown: Callable[[M], str] | None = None,
                   note: str = "") -> list[tuple[str, M]] | None:
    """(where, record) of each record of an optional section of an export (discount codes, mapped domains) in file
    order, each unique by `key`; None when the file has no such section (written before it was exported). A record
    that cannot be read, or whose key another one has (`field` named, `note` said), is an issue and left out."""
    raws = data.get(section)
    if raws is None:
        return None
    if not isinstance(raws, list):
        issues.append(Issue(section, None, f"section '{section}' is not a list"))
        return []
    out: list[tuple[str, M]] = []
    seen: dict[str, str] = {}
    for i, raw in enumerate(raws):
        where = f"{section}[{i}]"
        try:
            record = parse(model, raw)
        except DataError as err:
            issues.append(Issue(where, err.field, err.message.split(": ", 1)[-1]))
            continue
        where += f" ({name(record)})"
        if key(record) in seen:
            said = (shown or name)(record)
            issues.append(Issue(where, field, f"{field} {said} is also {seen[key(record)]}{note}"))
            continue
        seen[key(record)] = where
        out.append((where, record))
    return out


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""
