"""What a quote says: the classification, the lines, the totals and the absolute state to write back.

Built with `trusted()` in the hot path (the values are computed here, already valid: pydantic's `model_construct`
minus its per-field loop, which cost more than the pricing itself); they serialise with `model_dump(mode="json")`
(amounts as strings, dates ISO 8601).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from ..models import Money

QuoteKind = Literal["upgrade", "downgrade", "addon", "no_change", "blocked"]
LineType = Literal["product", "fee", "discount", "credit"]
Policy = Literal["ultimate-multisite", "exact"]


class QuoteError(BaseModel):
    """Why a cart was refused (or, in `Quote.warnings`, what `force=True` let through): a code and a message."""

    model_config = ConfigDict(frozen=True)

    code: str
    message: str


DeviationField = Literal["kind", "error", "credit", "due_now", "recurring_total", "next_charge_at"]


class Deviation(BaseModel):
    """Where this quote differs from what UM's own Cart says, and why (UM's value is a defect costing money).

    Values are strings in one form for both sides: amounts as decimal strings, dates as ISO 8601 UTC
    ('2026-03-03T12:00:00Z'), kinds and error codes as they are; None for no value."""

    model_config = ConfigDict(frozen=True)

    field: DeviationField
    ultimate_multisite: str | None
    wpbridge: str | None
    reason: str


class QuoteLine(BaseModel):
    """One line: totals are negative for `discount` and `credit` lines. Under the policy "ultimate-multisite" lines
    are UM's, unrounded (UM rounds only the cart's totals); under "exact" each total is rounded."""

    model_config = ConfigDict(frozen=True)

    type: LineType
    product_id: int | None
    title: str
    quantity: int
    unit_price: Money
    total: Money
    recurring: bool = False


class Quote(BaseModel):
    """The price of a change.

    - `credit` (positive) is what the unused part of the current period is worth, setup-fee credit included
      (`setup_fee_credit` says how much of it that is); `unused_credit` is the part the charge could not absorb
      (lost under UM's policy).
    - `due_now` = max(0, sum of `lines`); `recurring_total` is the membership's new `amount` (what each renewal
      charges); `next_charge_at` the next renewal; `scheduled_for` is set for downgrades (applied then, not now).
    - `target` is the membership's absolute new state in UM field names (wire-ready JSON values: amounts as
      strings, dates as GMT 'YYYY-MM-DD HH:MM:SS'), None when nothing is to be written (no_change, blocked).
    - `deviations`: every field where this quote differs from UM's own Cart (policy "ultimate-multisite"), with
      both values and the reason; `um_version` the UM release whose Cart was reproduced.
    """

    model_config = ConfigDict(frozen=True)

    kind: QuoteKind
    policy: Policy
    membership_id: int
    current_plan_id: int
    new_plan_id: int
    duration: int
    duration_unit: str
    currency: str
    errors: list[QuoteError] = Field(default_factory=list)
    warnings: list[QuoteError] = Field(default_factory=list)
    lines: list[QuoteLine] = Field(default_factory=list)
    credit: Money = Decimal(0)
    setup_fee_credit: Money = Decimal(0)
    due_now: Money = Decimal(0)
    unused_credit: Money = Decimal(0)
    recurring_total: Money = Decimal(0)
    next_charge_at: datetime | None = None
    scheduled_for: datetime | None = None
    discount_code: str | None = None
    target: dict[str, Any] | None = None
    deviations: list[Deviation] = Field(default_factory=list)
    um_version: str | None = None

    @property
    def ok(self) -> bool:
        """True when the change can be carried out (an upgrade, a downgrade or an add-on purchase)."""
        return self.kind in ("upgrade", "downgrade", "addon")

    @property
    def message(self) -> str:
        """The errors as one line a customer can act on ('' when there are none)."""
        return " ".join(e.message for e in self.errors)


M = TypeVar("M", bound=BaseModel)
_set = object.__setattr__
_ALL_FIELDS: dict[type[BaseModel], set[str]] = {}


def trusted(cls: type[M], values: dict[str, Any]) -> M:
    """An instance from already-valid `values` naming every field (what `model_construct` does, without its loop).

    The fields-set object is shared by all instances of `cls`: these models are frozen, and pydantic copies it
    before changing it (`model_copy(update=...)`)."""
    obj = cls.__new__(cls)
    _set(obj, "__dict__", values)
    fields = _ALL_FIELDS.get(cls)
    if fields is None:
        fields = _ALL_FIELDS[cls] = set(cls.model_fields)
    _set(obj, "__pydantic_fields_set__", fields)
    _set(obj, "__pydantic_extra__", None)
    _set(obj, "__pydantic_private__", None)
    return obj
