"""What a customer asks for: a plan (or keep the current one), add-ons to add, a billing period, a discount code.

Bad values raise `InputError` naming the field (never a pydantic traceback): a cart usually comes straight from a
command line or a JSON file.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import InputError
from ..models import DiscountCode
from .periods import UNITS


class Cart(BaseModel):
    """A requested change. `addons` are add-ons to ADD ({product_id: quantity}); they merge with those owned.

    `plan_id=None` keeps the current plan. Under the policy "ultimate-multisite" a cart with no period means what
    it means to UM's Cart: the requested plan's own period (and a period alone asks for the current plan in that
    period); under "exact", no period keeps the membership's.
    `discount_code` must be a resolved `DiscountCode` record (a bare code string is refused: resolve it first).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    plan_id: int | None = None
    addons: dict[int, int] = Field(default_factory=dict)
    duration: int | None = None
    duration_unit: str | None = None
    discount_code: DiscountCode | None = None

    @model_validator(mode="wrap")
    @classmethod
    def _as_input_error(cls, data: Any, handler: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("discount_code"), str):
            raise InputError(
                f"cart.discount_code: {data['discount_code']!r} is a bare code; pass the resolved DiscountCode record",
                field="discount_code",
            )
        try:
            return handler(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "(cart)"
            raise InputError(f"cart.{field}: {first['msg']} (got {first.get('input')!r})", field=field) from None

    @field_validator("plan_id")
    @classmethod
    def _positive_plan(cls, v: int | None) -> int | None:
        if v is not None and v <= 0:
            raise ValueError("must be a positive product id")
        return v

    @field_validator("addons")
    @classmethod
    def _positive_quantities(cls, v: dict[int, int]) -> dict[int, int]:
        for pid, qty in v.items():
            if qty <= 0:
                raise ValueError(f"add-on {pid}: quantity must be at least 1, got {qty}")
        return v

    @field_validator("duration")
    @classmethod
    def _positive_duration(cls, v: int | None) -> int | None:
        if v is not None and v <= 0:
            raise ValueError("must be at least 1")
        return v

    @field_validator("duration_unit")
    @classmethod
    def _known_unit(cls, v: str | None) -> str | None:
        if v is not None and v not in UNITS:
            raise ValueError("unknown duration unit (expected day, week, month or year)")
        return v
