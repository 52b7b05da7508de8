"""pydantic v2 models of the wire data, with Ultimate Multisite's field names (DESIGN.md §3.1).

They accept what UM's REST API really sends: numbers as strings (raw DB values leak through), amounts as strings,
ints or floats (parsed to `Decimal` without binary-float error), GMT `Y-m-d H:i:s` dates (made aware UTC), `false`
or `''` for "none", PHP's `[]` for an empty map. Anything that does not fit fails through `parse()`, which names the
model, the record id and the field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from . import jsonsafe
from .errors import DataError
from .money import to_decimal

# --------------------------------------------------------------------------- scalar types


def _money(value: Any) -> Decimal:
    """An amount; null (a nullable column) is 0, as PHP's float cast reads it."""
    return Decimal(0) if value is None else to_decimal(value)


Money = Annotated[Decimal, BeforeValidator(_money), PlainSerializer(lambda d: str(d), return_type=str)]
"""An amount in major units. Serialised as a string so JSON never turns it into a float."""


def parse_utc(value: Any) -> datetime | None:
    """UM dates: GMT `Y-m-d H:i:s` strings, ISO 8601, unix timestamps; null, '', false and the zero date are None.

    A naive value is taken as UTC (UM stores GMT); an aware one is converted to UTC.
    """
    if value is None or value is False or value == "" or value == 0:
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC)
    elif isinstance(value, str):
        text = value.strip()
        if text.startswith("0000-00-00"):
            return None
        try:
            dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"not a date: {value!r} (expected 'YYYY-MM-DD HH:MM:SS' or ISO 8601)") from None
    else:
        raise ValueError(f"not a date: {value!r}")
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def _utc_required(value: Any) -> datetime:
    dt = parse_utc(value)
    if dt is None:
        raise ValueError("a date is required")
    return dt


UtcDateTime = Annotated[datetime | None, BeforeValidator(parse_utc)]
RequiredUtcDateTime = Annotated[datetime, BeforeValidator(_utc_required)]

DurationUnit = Literal["day", "week", "month", "year"]
ProductType = Literal["plan", "package", "service", "demo"]
PricingType = Literal["paid", "free", "contact_us", "pay_what_you_want"]
MembershipStatus = Literal["pending", "trialing", "active", "on-hold", "expired", "cancelled"]


def _none_if_falsy_str(value: Any) -> Any:
    return None if value in ("", False) else value


def _empty_map(value: Any) -> Any:
    """PHP serialises an empty array as `[]`; UM sometimes sends `null` or `false` for an empty map."""
    if value in (None, False, "") or (isinstance(value, list) and not value):
        return {}
    return value


def _id_list(value: Any) -> Any:
    """UM accepts `available_addons` as a list of ids or a comma-separated string."""
    if value in (None, False, ""):
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, Mapping):
        return list(value.values())
    return value


def _limit_number(value: Any) -> Any:
    """Numeric limits: '' means unlimited (stored as 0, UM's other spelling of unlimited); null means "not set"."""
    if value == "" or value is False:
        return 0
    return value


LimitNumber = Annotated[int | None, BeforeValidator(_limit_number)]
"""A numeric quota: 0 = unlimited, None = not set (inherits when merged), N = at most N."""

OptionalStr = Annotated[str | None, BeforeValidator(_none_if_falsy_str)]
IdList = Annotated[list[int], BeforeValidator(_id_list)]


def php_bool(value: Any) -> Any:
    """PHP's `(bool)` of what UM stores: null, '', '0', 0 are false; other strings and numbers are true."""
    if value is None or value == "" or value == "0":
        return False
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "0", "")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value != 0
    return value


PhpBool = Annotated[bool, BeforeValidator(php_bool)]
"""A flag as UM (PHP) reads it: `(bool)` of whatever was stored, null and '' included."""


def _tolerant_nulls(cls: type[BaseModel], data: Any) -> Any:
    """UM's nullable columns and '' for "not set": a null or '' in a field that cannot hold it takes the field's
    default (what UM's own getters give for an unset value), when the field has one; required fields still fail."""
    if not isinstance(data, Mapping):
        return data
    blanks = _blank_fields(cls)
    if not blanks:
        return data
    out = dict(data)
    for name in blanks:
        if name in out and (out[name] is None or out[name] == ""):
            del out[name]
    return out


_BLANKS: dict[type[BaseModel], frozenset[str]] = {}


def _blank_fields(cls: type[BaseModel]) -> frozenset[str]:
    """The fields of `cls` with a default whose type holds neither None nor '' (computed once per class)."""
    found = _BLANKS.get(cls)
    if found is None:
        import types
        import typing

        names = set()
        for name, info in cls.model_fields.items():
            if info.is_required():
                continue
            ann = info.annotation
            args = typing.get_args(ann) if typing.get_origin(ann) in (typing.Union, types.UnionType) else (ann,)
            if type(None) in args or str in args or any(m for m in info.metadata if isinstance(m, BeforeValidator)):
                continue
            names.add(name)
        found = _BLANKS[cls] = frozenset(names)
    return found


class WireModel(BaseModel):
    """Base of every wire model: unknown keys from the server are ignored, values are validated on assignment.

    Tolerant of UM's blanks: a null or '' in a field with a default and no blank of its own (a nullable column
    such as a customer's `has_trialed`) reads as the default."""

    model_config = ConfigDict(extra="ignore", validate_assignment=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _blanks_are_defaults(cls, data: Any) -> Any:
        return _tolerant_nulls(cls, data)


# --------------------------------------------------------------------------- limitations (UM's wu_limitations)


class NumberModule(WireModel):
    """`visits`, `disk_space` (MB), `sites`: `limit` 0 = unlimited, None = not set."""

    enabled: PhpBool = True
    limit: LimitNumber = None


class QuotaEntry(WireModel):
    """One role of `users` or one post type of `post_types`: `number` 0 = unlimited; disabled = not allowed."""

    enabled: PhpBool = True
    number: LimitNumber = None


class QuotaMapModule(WireModel):
    """`users` ({role: entry}) and `post_types` ({post_type: entry})."""

    enabled: PhpBool = True
    limit: Annotated[dict[str, QuotaEntry], BeforeValidator(_empty_map)] = Field(default_factory=dict)


class ThemeRule(WireModel):
    visibility: Literal["visible", "hidden"] = "visible"
    behavior: Literal["available", "not_available", "force_active"] = "available"


class PluginRule(WireModel):
    visibility: Literal["visible", "hidden"] = "visible"
    behavior: Literal["default", "force_active", "force_inactive", "force_active_locked", "force_inactive_locked"] = (
        "default"
    )


class ThemesModule(WireModel):
    enabled: PhpBool = True
    limit: Annotated[dict[str, ThemeRule], BeforeValidator(_empty_map)] = Field(default_factory=dict)


class PluginsModule(WireModel):
    enabled: PhpBool = True
    limit: Annotated[dict[str, PluginRule], BeforeValidator(_empty_map)] = Field(default_factory=dict)


class TemplateRule(WireModel):
    behavior: Literal["available", "not_available", "pre_selected"] = "available"


class SiteTemplatesModule(WireModel):
    enabled: PhpBool = True
    mode: str = "default"
    limit: Annotated[dict[str, TemplateRule] | None, BeforeValidator(lambda v: v if v is None else _empty_map(v))] = (
        None
    )


def _domain_limit(value: Any) -> Any:
    """UM's `Limit_Domain_Mapping::check`: a bool is itself, a numeric value (numeric strings too) a count, and
    anything else (`""`, a stray string) "not properly set", which UM treats as allowed: unlimited (True)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(float(text)) if text else True
        except ValueError:
            return True
    return value


class DomainMappingModule(WireModel):
    """`limit`: True = unlimited, False or 0 = no custom domains, N = at most N active custom domains."""

    enabled: PhpBool = True
    mode: str | None = None
    limit: Annotated[bool | int | None, BeforeValidator(_domain_limit)] = None


class CustomerUserRoleModule(WireModel):
    """`limit`: the role given to the customer on their sites ('default' = the network setting)."""

    enabled: PhpBool = True
    limit: str | None = None


class HideCreditsModule(WireModel):
    enabled: PhpBool = False
    limit: Annotated[bool | None, BeforeValidator(lambda v: v if v is None else php_bool(v))] = None


def _limitations_in(value: Any) -> Any:
    """A JSON-string module (UM stores some that way) is decoded; `[]`, null and false are an empty set."""
    value = _empty_map(value)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, module in value.items():
            if isinstance(module, str) and module.strip().startswith("{"):
                module = jsonsafe.loads(module)  # a module stored as JSON text: bounded nesting (issue 20, 14)
            out[key] = module
        return out
    return value


class Limitations(WireModel):
    """UM's `wu_limitations` modules. A module left as None is absent from the data (it does not limit)."""

    visits: NumberModule | None = None
    disk_space: NumberModule | None = None
    sites: NumberModule | None = None
    users: QuotaMapModule | None = None
    post_types: QuotaMapModule | None = None
    themes: ThemesModule | None = None
    plugins: PluginsModule | None = None
    site_templates: SiteTemplatesModule | None = None
    domain_mapping: DomainMappingModule | None = None
    customer_user_role: CustomerUserRoleModule | None = None
    hide_credits: HideCreditsModule | None = None

    def to_wire(self) -> dict[str, Any]:
        """The JSON object UM stores as `wu_limitations` (absent modules left out)."""
        return self.model_dump(mode="json", exclude_none=False, exclude_unset=False, exclude_defaults=False,
                               exclude={k for k, v in self if v is None})


def _limitations_field(value: Any) -> Any:
    return _limitations_in(value)


LimitationsField = Annotated[Limitations, BeforeValidator(_limitations_field)]


# --------------------------------------------------------------------------- catalog


class PriceVariation(WireModel):
    duration: int = Field(gt=0)
    duration_unit: DurationUnit
    amount: Money

    @field_validator("amount")
    @classmethod
    def _non_negative(cls, v: Decimal) -> Decimal:
        if v < 0:
            raise ValueError("must be >= 0")
        return v


def is_recurring_price(recurring: bool, amount: Decimal) -> bool:
    """UM's `is_recurring()` of a product or a membership (defined once for wpbridge): the `recurring` flag and a
    positive amount. A free or one-time product or membership has one price whatever the period."""
    return recurring and amount > 0


class Product(WireModel):
    id: int
    slug: str
    name: str = ""
    type: ProductType = "plan"
    pricing_type: PricingType = "paid"
    amount: Money = Decimal(0)
    setup_fee: Money = Decimal(0)
    currency: str = "USD"
    recurring: PhpBool = True
    duration: int = Field(default=1, ge=0)
    duration_unit: DurationUnit = "month"
    billing_cycles: int = Field(default=0, ge=0)
    trial_duration: int = Field(default=0, ge=0)
    trial_duration_unit: Annotated[DurationUnit | None, BeforeValidator(_none_if_falsy_str)] = None
    product_group: OptionalStr = None
    list_order: int = 10
    available_addons: IdList = Field(default_factory=list)
    active: PhpBool = True
    price_variations: Annotated[list[PriceVariation], BeforeValidator(lambda v: v or [])] = Field(
        default_factory=list
    )
    limitations: LimitationsField = Field(default_factory=Limitations)
    taxable: PhpBool = True
    tax_category: Annotated[str, BeforeValidator(lambda v: "default" if v is None else v)] = "default"

    @field_validator("amount", "setup_fee")
    @classmethod
    def _non_negative(cls, v: Decimal) -> Decimal:
        if v < 0:
            raise ValueError("must be >= 0")
        return v

    @property
    def is_plan(self) -> bool:
        return self.type in ("plan", "demo")

    @property
    def is_recurring(self) -> bool:
        """UM's `Product::is_recurring()` (`is_recurring_price`)."""
        return is_recurring_price(self.recurring, self.amount)


def _null_as(empty: Any) -> BeforeValidator:
    """UM's nullable columns of a code (uses, max_uses, name, description, billing periods): null reads `empty`."""
    return BeforeValidator(lambda v: empty if v is None or v == "" or v == {} else v)


class DiscountCode(WireModel):
    id: int | None = None
    name: Annotated[str, _null_as("")] = ""
    code: str
    description: Annotated[str, _null_as("")] = ""
    type: Literal["percentage", "absolute"] = "percentage"
    value: Money = Decimal(0)
    setup_fee_type: Literal["percentage", "absolute"] = "percentage"
    setup_fee_value: Money = Decimal(0)
    apply_to_renewals: PhpBool = False
    active: PhpBool = True
    uses: Annotated[int, _null_as(0)] = 0
    max_uses: Annotated[int, _null_as(0)] = 0
    limit_products: PhpBool = False
    allowed_products: IdList = Field(default_factory=list)
    limit_billing_periods: PhpBool = False
    allowed_billing_periods: Annotated[list[str], _null_as(())] = Field(default_factory=list)
    date_start: UtcDateTime = None
    date_expiration: UtcDateTime = None

    @field_validator("value", "setup_fee_value")
    @classmethod
    def _non_negative(cls, v: Decimal) -> Decimal:
        if v < 0:
            raise ValueError("must be >= 0")
        return v


def _discount_in(value: Any) -> Any:
    """UM sends the Discount_Code object, or `false`; a bare code string is kept for the caller to resolve."""
    if value in (None, False, "", 0) or (isinstance(value, list) and not value):
        return None
    return value


# --------------------------------------------------------------------------- memberships, sites, customers


class Membership(WireModel):
    id: int
    customer_id: int
    plan_id: int
    addon_products: Annotated[dict[int, int], BeforeValidator(_empty_map)] = Field(default_factory=dict)
    currency: str = "USD"
    amount: Money = Decimal(0)
    initial_amount: Money = Decimal(0)
    duration: int = Field(default=1, ge=0)
    duration_unit: DurationUnit = "month"
    recurring: PhpBool = True
    auto_renew: PhpBool = False
    times_billed: int = 0
    billing_cycles: int = 0
    status: MembershipStatus = "pending"
    date_created: UtcDateTime = None
    date_renewed: UtcDateTime = None
    date_expiration: UtcDateTime = None
    date_trial_end: UtcDateTime = None
    discount_code: Annotated[DiscountCode | str | None, BeforeValidator(_discount_in)] = None
    gateway: OptionalStr = None
    gateway_customer_id: OptionalStr = None
    gateway_subscription_id: OptionalStr = None
    limitations: LimitationsField = Field(default_factory=Limitations)

    @field_validator("amount", "initial_amount")
    @classmethod
    def _non_negative(cls, v: Decimal) -> Decimal:
        if v < 0:
            raise ValueError("must be >= 0")
        return v

    @field_validator("addon_products")
    @classmethod
    def _positive_quantities(cls, v: dict[int, int]) -> dict[int, int]:
        """UM's `add_product`/`remove_product` drop a key whose quantity falls to 0 or below."""
        return {pid: qty for pid, qty in v.items() if qty > 0}

    @property
    def is_recurring(self) -> bool:
        """UM's `Membership::is_recurring()` (`is_recurring_price`)."""
        return is_recurring_price(self.recurring, self.amount)

    @property
    def is_lifetime(self) -> bool:
        return not self.is_recurring and self.date_expiration is None

    @property
    def is_free(self) -> bool:
        return not self.is_recurring and self.initial_amount == 0


class Site(WireModel):
    """A site of the network; `limitations` is the site's own override (UM blogmeta `wu_limitations`)."""

    blog_id: int
    membership_id: Annotated[int | None, BeforeValidator(_none_if_falsy_str)] = None
    customer_id: Annotated[int | None, BeforeValidator(_none_if_falsy_str)] = None
    domain: str = ""
    path: str = "/"
    type: OptionalStr = None
    title: str = ""
    limitations: LimitationsField = Field(default_factory=Limitations)
    is_main: PhpBool = False
    """The network's main site (plugin-stub's UM-mode site list says so; stub mode types it "main")."""
    suspended: PhpBool = False
    """UM mode: wpbridge suspended this site (inactive-membership policy "suspend") through its own UM override."""

    def belongs_to(self, membership_id: int) -> bool:
        """The safety invariant (DESIGN §3.3): True only when this site was positively read as a customer-owned
        site of `membership_id`. An unknown link (null, missing) is "not this one"; the main site never is."""
        return (self.membership_id is not None and self.membership_id == membership_id
                and self.type == "customer_owned" and not self.is_main)

    @field_validator("membership_id", "customer_id")
    @classmethod
    def _zero_is_none(cls, v: int | None) -> int | None:
        return v or None

    @model_validator(mode="before")
    @classmethod
    def _main_type_is_main(cls, data: Any) -> Any:
        """The main site is `is_main` in both flavors: stub mode's site record types it "main" without the flag."""
        if isinstance(data, Mapping) and data.get("type") == "main" and not data.get("is_main"):
            return {**data, "is_main": True}
        return data


class Customer(WireModel):
    id: int
    user_id: int | None = None
    type: str = "customer"
    email_verification: OptionalStr = None
    has_trialed: PhpBool = False
    vip: PhpBool = False
    date_registered: UtcDateTime = None
    billing_address: Annotated[dict[str, Any], BeforeValidator(_empty_map)] = Field(default_factory=dict)
    user_email: OptionalStr = None
    user_login: OptionalStr = None
    display_name: OptionalStr = None


class SiteUsage(WireModel):
    """What a site uses now. None = not measured (the checks that need it are skipped)."""

    blog_id: int
    post_types: Annotated[dict[str, int] | None, BeforeValidator(lambda v: v if v is None else _empty_map(v))] = None
    custom_domains: int | None = None
    disk_used_mb: Annotated[Decimal | None, BeforeValidator(lambda v: v if v is None else to_decimal(v))] = None
    users: Annotated[dict[str, int] | None, BeforeValidator(lambda v: v if v is None else _empty_map(v))] = None
    visits_this_month: int | None = None


# --------------------------------------------------------------------------- parsing with errors that name the record

M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], payload: Any) -> M:
    """Validate one record; on failure raise DataError naming the model, the record id and the field."""
    try:
        return model.model_validate(payload)
    except PydanticValidationError as exc:
        raise _data_error(model, payload, exc) from None


def parse_many(model: type[M], payloads: Iterable[Any]) -> list[M]:
    return [parse(model, p) for p in payloads]


def _data_error(model: type[BaseModel], payload: Any, exc: PydanticValidationError) -> DataError:
    record_id: Any = None
    if isinstance(payload, Mapping):
        record_id = payload.get("id", payload.get("blog_id"))
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "(record)"
    got = first.get("input")
    got_text = repr(got)
    if len(got_text) > 60:
        got_text = got_text[:57] + "..."
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    where = f"{model.__name__} {record_id}" if record_id is not None else model.__name__
    return DataError(
        f"{where}: field '{field}': {first['msg']} (got {got_text}){more}",
        field=field,
        record_id=record_id,
    )


# --------------------------------------------------------------------------- companion-route records (wpbridge/v1)


class NetworkInfo(WireModel):
    """`GET /wpbridge/v1/info`."""

    plugin_version: str
    mode: Literal["stub", "um"]
    server_time: RequiredUtcDateTime
    batch_limit: int = Field(default=25, ge=1)
    wp_version: str | None = None
    multisite: bool = True
    um_version: str | None = None
    """The Ultimate Multisite release the network runs (UM mode: `WP_Ultimo::VERSION`); pricing follows it."""


class ScheduledChange(WireModel):
    """A membership change stored to take effect at `scheduled_for` (UM's `wu_swap_order`; one per membership).

    `target` is the membership's absolute state to write when due (plan_id, addon_products, amount, duration...).
    """

    membership_id: int
    scheduled_for: RequiredUtcDateTime
    target: dict[str, Any]
    note: str = ""
    created_at: UtcDateTime = None
