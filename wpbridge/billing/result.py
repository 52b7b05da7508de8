"""What a quote says: the classification, the lines, the totals and the absolute state to write back.

Frozen, slotted dataclasses: built by the engine from values it computed (no validation pass, no pydantic hooks
on attribute reads). `model_dump(mode="json")` serialises them as the rest of wpbridge's records do (amounts as
strings, dates ISO 8601 with a Z), `model_copy(update=...)` is `dataclasses.replace`, and `from_dict` reads a
dump back.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal, TypeVar

QuoteKind = Literal["upgrade", "downgrade", "addon", "no_change", "blocked"]
LineType = Literal["product", "fee", "discount", "credit"]
Policy = Literal["ultimate-multisite", "exact"]
DeviationField = Literal["kind", "error", "credit", "due_now", "recurring_total", "next_charge_at", "tax_total"]

R = TypeVar("R", bound="_Record")
ZERO = Decimal(0)


def _dump(value: Any, json: bool) -> Any:
    if isinstance(value, _Record):
        return value.model_dump(mode="json" if json else "python")
    if isinstance(value, list):
        return [_dump(v, json) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v, json) for k, v in value.items()}
    if json and isinstance(value, Decimal):
        return str(value)
    if json and isinstance(value, datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if value.utcoffset() is not None and text.endswith("+00:00") else text
    return value


class _Record:
    """Serialisation shared by the result records (the pydantic-like surface the workflows use)."""

    __slots__ = ()
    _nested: ClassVar[dict[str, type[_Record]]] = {}
    _money: ClassVar[tuple[str, ...]] = ()
    _dates: ClassVar[tuple[str, ...]] = ()

    def model_dump(self, mode: str = "python") -> dict[str, Any]:
        json = mode == "json"
        return {f.name: _dump(getattr(self, f.name), json) for f in fields(self)}  # type: ignore[arg-type]

    def model_copy(self: R, *, update: dict[str, Any] | None = None) -> R:
        return replace(self, **(update or {}))  # type: ignore[type-var]

    @classmethod
    def from_dict(cls: type[R], data: dict[str, Any]) -> R:
        """A record from `model_dump()` output (either mode)."""
        values = dict(data)
        for name, kind in cls._nested.items():
            if values.get(name) is not None:
                values[name] = [kind.from_dict(v) if isinstance(v, dict) else v for v in values[name]]
        for name in cls._money:
            if values.get(name) is not None:
                values[name] = Decimal(str(values[name]))
        for name in cls._dates:
            if isinstance(values.get(name), str):
                values[name] = datetime.fromisoformat(values[name].replace("Z", "+00:00")).astimezone(UTC)
        return cls(**values)


@dataclass(frozen=True, slots=True, kw_only=True)
class QuoteError(_Record):
    """Why a cart was refused (or, in `Quote.warnings`, what `force=True` let through): a code and a message."""

    code: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Deviation(_Record):
    """Where this quote differs from what UM's own Cart says, and why (UM's value is a defect costing money).

    Values are strings in one form for both sides: amounts as decimal strings, dates as ISO 8601 UTC
    ('2026-03-03T12:00:00Z'), kinds and error codes as they are; None for no value."""

    field: DeviationField
    ultimate_multisite: str | None
    wpbridge: str | None
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class QuoteLine(_Record):
    """One line: totals are negative for `discount` and `credit` lines. Under the policy "ultimate-multisite" lines
    are UM's, unrounded (UM rounds only the cart's totals); under "exact" each total is rounded.

    Taxes: `tax_rate` is the percentage the line was taxed at (0: none), `tax_total` its tax (rounded to cents, as
    UM rounds it). When prices exclude tax the line's `total` includes its tax; when they include it, `total` is
    the price, tax inside (an exempt customer's inclusive price is the price less that tax, `tax_total` 0)."""

    _money: ClassVar[tuple[str, ...]] = ("unit_price", "total", "tax_rate", "tax_total")

    type: LineType
    product_id: int | None
    title: str
    quantity: int
    unit_price: Decimal
    total: Decimal
    recurring: bool = False
    tax_rate: Decimal = ZERO
    tax_total: Decimal = ZERO


@dataclass(frozen=True, slots=True, kw_only=True)
class Quote(_Record):
    """The price of a change.

    - `credit` (positive) is what the unused part of the current period is worth, setup-fee credit included
      (`setup_fee_credit` says how much of it that is); `unused_credit` is the part the charge could not absorb
      (lost under UM's policy).
    - `due_now` = max(0, sum of `lines`, rounded); `recurring_total` is the membership's new `amount` (what each
      renewal charges); `next_charge_at` the next renewal; `scheduled_for` is set for downgrades (applied then).
    - `target` is the membership's absolute new state in UM field names (wire-ready JSON values: amounts as
      strings, dates as GMT 'YYYY-MM-DD HH:MM:SS'), None when nothing is to be written (no_change, blocked).
    - `deviations`: every field where this quote differs from UM's own Cart (policy "ultimate-multisite"), with
      both values and the reason; `um_version` the UM release whose Cart was reproduced.
    - Taxes (when given): `tax_total` is the lines' taxes summed (UM's `get_total_taxes()`; already inside
      `due_now` when prices exclude tax); `tax_inclusive` whether prices include it; `tax_location` where the cart
      was taxed (`country`, `state`, `city`, and `source`: cart, billing, ip or none), None when taxes are off.
    """

    _nested: ClassVar[dict[str, type[_Record]]] = {
        "errors": QuoteError, "warnings": QuoteError, "lines": QuoteLine, "deviations": Deviation}
    _money: ClassVar[tuple[str, ...]] = ("credit", "setup_fee_credit", "due_now", "unused_credit", "recurring_total",
                                         "tax_total")
    _dates: ClassVar[tuple[str, ...]] = ("next_charge_at", "scheduled_for")

    kind: QuoteKind
    policy: Policy
    membership_id: int
    current_plan_id: int
    new_plan_id: int
    duration: int
    duration_unit: str
    currency: str
    errors: list[QuoteError] = field(default_factory=list)
    warnings: list[QuoteError] = field(default_factory=list)
    lines: list[QuoteLine] = field(default_factory=list)
    credit: Decimal = ZERO
    setup_fee_credit: Decimal = ZERO
    due_now: Decimal = ZERO
    unused_credit: Decimal = ZERO
    recurring_total: Decimal = ZERO
    next_charge_at: datetime | None = None
    scheduled_for: datetime | None = None
    discount_code: str | None = None
    target: dict[str, Any] | None = None
    deviations: list[Deviation] = field(default_factory=list)
    um_version: str | None = None
    tax_total: Decimal = ZERO
    tax_inclusive: bool = False
    tax_location: dict[str, str] | None = None

    @property
    def ok(self) -> bool:
        """True when the change can be carried out (an upgrade, a downgrade or an add-on purchase)."""
        return self.kind in ("upgrade", "downgrade", "addon")

    @property
    def message(self) -> str:
        """The errors as one line a customer can act on ('' when there are none)."""
        return " ".join(e.message for e in self.errors)
