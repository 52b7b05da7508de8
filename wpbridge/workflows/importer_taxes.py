"""`wpbridge import` of the network's taxes (issue 19) and what a target cannot hold of a migration (issue 21,
item 4), named field by field.

An export written since taxes are exported has a `taxes` object: collection on or off, prices inclusive or not,
the rates in stored order (`GET /wpbridge/v1/taxes`) and the exempt customers (by the file's ids; read here as
emails). The plan compares them with the target's (one step, kind `taxes`, key `network`): create on a target
that has none (no rate, off, nobody exempt), else unchanged / conflict / --update. The products' tax flags travel
with the products (`taxable`, `tax_category`), the customers' billing addresses with the customers.

What a target cannot hold is named, never dropped silently (`not_kept_fields`: kind, key, field, why; the report
has them, stderr prints them as `not kept`): Ultimate Multisite keeps no tax exemption of a customer (its filter
`wu_cart_is_tax_exempt` decides, e.g. a VAT add-on), and clears a cancelled membership's gateway and gateway ids
on every save (`Membership::save()`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from ..billing import TaxSettings
from ..errors import DataError, WPBridgeError
from ..managers.taxes import CustomerTax, settings_body, tax_settings
from .importer_records import Issue

if TYPE_CHECKING:
    from ..managers.flavor import Flavor
    from .importer_apply import Applier
    from .importer_plan import Plan, Step
    from .importer_target import TargetState

KEY = "network"
GATEWAY_FIELDS = ("gateway", "gateway_customer_id", "gateway_subscription_id")


class TaxesAPI(Protocol):
    """`net.taxes` as an import reads and writes it (`managers/taxes.py`)."""

    def settings(self) -> TaxSettings: ...

    def customers(self, customer_ids: Iterable[int]) -> dict[int, CustomerTax]: ...

    def categories(self) -> dict[str, str]: ...

    def import_settings(self, settings: TaxSettings, *, exempt_customers: Iterable[int] = (),
                        categories: Mapping[str, str] | None = None) -> dict[str, Any]: ...


@dataclass
class SrcTaxes:
    settings: TaxSettings
    exempt: list[str]
    """The exempt customers' keys (lower-case emails)."""
    where: str = "taxes"
    categories: dict[str, str] = field(default_factory=dict)
    """The categories' names by slug (UM's tax editor names them; none in an export written before)."""


@dataclass
class TargetTaxes:
    settings: TaxSettings
    exempt: list[str]
    categories: dict[str, str] = field(default_factory=dict)


def read_taxes(data: Mapping[str, Any], customer_keys: Mapping[int, str], issues: list[Issue]) -> SrcTaxes | None:
    """The file's `taxes` object (None: the file has none); a bad one is an issue naming its field."""
    raw = data.get("taxes")
    if raw is None:
        return None
    try:
        settings = tax_settings(raw)
    except DataError as err:
        issues.append(Issue("taxes", err.field, err.message))
        return None
    exempt: list[str] = []
    for cid in raw.get("exempt_customers") or []:
        key = customer_keys.get(int(cid)) if str(cid).isdigit() else None
        if key is None:
            issues.append(Issue("taxes", "exempt_customers", f"exempt customer {cid} is not among the file's"
                                                             " customers"))
        else:
            exempt.append(key)
    names = raw.get("categories")
    categories = {str(k): str(v) for k, v in names.items()} if isinstance(names, dict) else {}
    return SrcTaxes(settings, sorted(exempt), categories=categories)


def read_target_taxes(taxes: TaxesAPI, target: TargetState) -> None:
    """The target's settings and its exempt customers (by email), into `target.taxes`."""
    emails = {int(row["id"]): str(row.get("email") or "").lower() for row in target.customers
              if str(row.get("id", "")).isdigit()}
    facts = taxes.customers(emails) if emails else {}
    target.taxes = TargetTaxes(taxes.settings(), sorted(emails[i] for i, f in facts.items() if f.tax_exempt),
                               taxes.categories())


def _rates(settings: TaxSettings) -> list[dict[str, str]]:
    return [{**r, "rate": _number(r["rate"])} for r in settings_body(settings)["rates"]]


def _number(text: str) -> str:
    return f"{Decimal(text).normalize():f}"


def _differences(src: SrcTaxes, have: TargetTaxes, *, keeps_exemption: bool) -> dict[str, tuple[Any, Any]]:
    """The fields the file gives that the target holds otherwise (a category's name: only those the file names;
    the exempt customers: only where the target keeps them)."""
    diffs: dict[str, tuple[Any, Any]] = {}
    for name, a, b in (("enabled", have.settings.enabled, src.settings.enabled),
                       ("inclusive", have.settings.inclusive, src.settings.inclusive),
                       ("rates", _rates(have.settings), _rates(src.settings)),
                       ("exempt_customers", have.exempt, src.exempt if keeps_exemption else [])):
        if a != b:
            diffs[name] = (a, b)
    named = {slug: name for slug, name in src.categories.items() if have.categories.get(slug) != name}
    if named:
        diffs["categories"] = ({slug: have.categories.get(slug) for slug in named}, named)
    return diffs


def plan_taxes(plan: Plan, add: Callable[..., Step]) -> None:
    """The taxes step (none when the file has no taxes): create on a target that has none, else compared."""
    src: SrcTaxes | None = plan.source.taxes
    have: TargetTaxes | None = plan.target.taxes
    if src is None or have is None:
        return
    empty = not have.settings.enabled and not have.settings.rates and not have.exempt
    diffs = _differences(src, have, keeps_exemption=plan.target.flavor.keeps_tax_exemption)
    create = empty and bool(diffs)  # a target without taxes gets the file's; none on either side: unchanged
    add("taxes", KEY, {} if create else diffs, where=src.where, target_id=None if create else 0, src=src)
    losses = not_kept_fields(plan)
    steps: dict[tuple[str, str], Step] = {(s.kind, s.key): s for s in plan.steps} if losses else {}
    for lost in losses:  # each step that writes without something says what, in its note
        step = steps[(lost["kind"], lost["key"])]
        step.note = "; ".join(x for x in (step.note, f"not kept: {lost['why']}") if x)


def not_kept_fields(plan: Plan) -> list[dict[str, str]]:
    """What the target cannot hold of what this import writes, field by field: {kind, key, field, why}."""
    writes = _WriteKeys(plan)
    return (_exemption_lost(plan, writes) + _addresses_lost(plan, writes) + _trials_lost(plan, writes)
            + _gateways_lost(plan, writes))


class _WriteKeys:
    """`(kind, key) in writes`: does the plan write that record? The keys of its writes by kind, gathered the first
    time it is asked (a flavor that loses nothing never asks: no index of every step of a big file)."""

    def __init__(self, plan: Plan) -> None:
        self._plan = plan
        self._keys: dict[str, set[str]] | None = None

    def __contains__(self, item: tuple[str, str]) -> bool:
        if self._keys is None:
            self._keys = {}
            for s in self._plan.steps:
                if s.action in ("create", "update"):
                    self._keys.setdefault(s.kind, set()).add(s.key)
        return item[1] in self._keys.get(item[0], ())


def _exemption_lost(plan: Plan, writes: _WriteKeys) -> list[dict[str, str]]:
    src: SrcTaxes | None = plan.source.taxes
    if src is None or not src.exempt or plan.target.flavor.keeps_tax_exemption or ("taxes", KEY) not in writes:
        return []
    return [{"kind": "taxes", "key": KEY, "field": "exempt_customers",
             "why": f"exempt_customers {', '.join(src.exempt)} (Ultimate Multisite keeps no tax exemption: its"
                    " filter wu_cart_is_tax_exempt decides, e.g. a VAT add-on)"}]


def address_keys(target: TargetState) -> tuple[str, ...] | None:
    """The billing-address lines the target keeps: as it says (UM: its add-ons may add lines), else its flavor's
    (None: any)."""
    return target.billing_address_keys if target.billing_address_keys is not None \
        else target.flavor.billing_address_keys


def _addresses_lost(plan: Plan, writes: _WriteKeys) -> list[dict[str, str]]:
    keys = address_keys(plan.target)
    if keys is None:
        return []
    out = []
    for c in plan.source.customers:
        extra = sorted(set(c.fields.get("billing_address") or {}) - set(keys))
        if extra and ("customer", c.email) in writes:
            out.append({"kind": "customer", "key": c.email, "field": "billing_address",
                        "why": f"billing address lines {', '.join(extra)} of {c.email} (Ultimate Multisite's"
                               f" Billing_Address keeps only {', '.join(keys)})"})
    return out


def _trials_lost(plan: Plan, writes: _WriteKeys) -> list[dict[str, str]]:
    if not plan.target.flavor.derives_has_trialed:
        return []
    trialed = {m.customer for m in plan.source.memberships if m.fields.get("date_trial_end")}
    return [{"kind": "customer", "key": c.email, "field": "has_trialed",
             "why": f"has_trialed false of {c.email} (Ultimate Multisite counts a customer with a trial membership"
                    " as having trialed: Customer::has_trialed())"}
            for c in plan.source.customers
            if c.fields.get("has_trialed") is False and c.key in trialed and ("customer", c.email) in writes]


def _gateways_lost(plan: Plan, writes: _WriteKeys) -> list[dict[str, str]]:
    if plan.target.flavor.keeps_cancelled_gateway:
        return []
    return [{"kind": "membership", "key": m.key, "field": name,
             "why": f"{name} {m.fields[name]!r} of the cancelled membership {m.key} (Ultimate Multisite clears a"
                    " cancelled membership's gateway on every save)"}
            for m in plan.source.memberships
            if m.fields.get("status") == "cancelled" and ("membership", m.key) in writes
            for name in GATEWAY_FIELDS if m.fields.get(name)]


def held_address(diffs: dict[str, tuple[Any, Any]], keys: tuple[str, ...] | None) -> None:
    """A billing address that differs only in lines the target cannot hold (`keys`) is no difference (named
    instead)."""
    if "billing_address" not in diffs or keys is None:
        return
    have, want = diffs["billing_address"]
    kept = {k: v for k, v in dict(want or {}).items() if k in keys}
    if dict(have or {}) == kept:
        del diffs["billing_address"]


def held_trial(diffs: dict[str, tuple[Any, Any]], flavor: Flavor) -> None:
    """A target that says trialed where the file says not, on a network that derives it (UM), is no difference
    the import can resolve (named instead)."""
    have, want = diffs.get("has_trialed", (None, None))
    if flavor.derives_has_trialed and have and not want and "has_trialed" in diffs:
        del diffs["has_trialed"]


def not_kept_lines(plan: Plan) -> list[str]:
    return [f"not kept: {x['field']}: {x['why']}" for x in not_kept_fields(plan)]


def apply_taxes(applier: Applier, taxes: TaxesAPI) -> None:
    """Write the taxes step (after the customers: the exempt ones by the target's ids)."""
    for step in applier.plan.of("taxes", "create", "update"):
        src: SrcTaxes = step.src
        exempt = ([applier.customer_ids[k] for k in src.exempt if k in applier.customer_ids]
                  if applier.t.flavor.keeps_tax_exemption else [])
        try:
            taxes.import_settings(src.settings, exempt_customers=exempt, categories=src.categories)
        except WPBridgeError as exc:
            applier.record(step, "failed", error=str(exc), http=exc)
            continue
        applier.record(step, "done")
