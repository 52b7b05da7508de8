"""Which plans, add-ons and periods a membership is offered (reference §4.1: UM's customer "Change" form).

- Plans: the plans (`type == "plan"`) of the current plan's `product_group`, by `list_order` (then id); with no
  group, the first 3 plans by `list_order` (UM's `'number' => 3`, taken before inactive plans are dropped, so it can
  be fewer than 3 and need not include the current plan). Inactive plans are left out, as UM's pricing table does.
- Add-ons: the current plan's `available_addons` that exist in the catalog, are active and are not plans.
- Periods: the periods of the plans the form lists (inactive ones included, as UM) and of their price variations,
  keyed (as UM) by the whole number of days in the cycle, a later one replacing an earlier one, shortest first.
- `relation` is what `quote_change` would call a switch to that plan in the membership's period (its base period
  when it has no price there), existing recurring add-ons included; "blocked" shows as "upgrade" (it is dearer).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..models import Membership, Money, Product
from ..money import round_money
from .catalog import CatalogIndex, index_catalog
from .classify import classify_plan_change
from .periods import Period, days_in_cycle, per_day, price_in_period, product_periods

Relation = Literal["current", "upgrade", "downgrade"]


class PeriodPrice(BaseModel):
    model_config = ConfigDict(frozen=True)

    duration: int
    duration_unit: str
    amount: Money


class PeriodOption(BaseModel):
    model_config = ConfigDict(frozen=True)

    duration: int
    duration_unit: str
    days: int


class PlanOption(BaseModel):
    """An offered plan, priced for `duration`/`duration_unit` (the membership's period when the plan has it)."""

    model_config = ConfigDict(frozen=True)

    product: Product
    is_current: bool
    relation: Relation
    duration: int
    duration_unit: str
    amount: Money
    setup_fee: Money
    per_day: Decimal
    prices: list[PeriodPrice]


class AddonOption(BaseModel):
    """An offered add-on, priced in the membership's period when it has a price there; `owned` = quantity held."""

    model_config = ConfigDict(frozen=True)

    product: Product
    recurring: bool
    duration: int
    duration_unit: str
    amount: Money
    setup_fee: Money
    owned: int


class ChangeOptions(BaseModel):
    model_config = ConfigDict(frozen=True)

    membership_id: int
    current_plan_id: int
    currency: str
    plans: list[PlanOption] = Field(default_factory=list)
    addons: list[AddonOption] = Field(default_factory=list)
    periods: list[PeriodOption] = Field(default_factory=list)


def offered_plans(current_plan: Product, catalog: Sequence[Product]) -> list[Product]:
    return list(offered_plan_tuple(current_plan, index_catalog(catalog)))


def offered_plan_tuple(current_plan: Product, idx: CatalogIndex) -> tuple[Product, ...]:
    return idx.memo("plans", current_plan, lambda: _offered_plans(current_plan, idx))


def form_plans(current_plan: Product, idx: CatalogIndex) -> tuple[Product, ...]:
    """The plans UM's Change form lists before its pricing table drops the inactive ones: the current plan's group
    by `list_order` (then id), or the first 3 plans when it has no group."""
    if current_plan.product_group:
        return tuple(p for p in idx.plans if p.product_group == current_plan.product_group)
    return tuple(idx.plans[:3])


def _offered_plans(current_plan: Product, idx: CatalogIndex) -> tuple[Product, ...]:
    return tuple(p for p in form_plans(current_plan, idx) if p.active)


def offered_addons(plan: Product, catalog: Sequence[Product]) -> list[Product]:
    return list(offered_addon_tuple(plan, index_catalog(catalog)))


def offered_addon_tuple(plan: Product, idx: CatalogIndex) -> tuple[Product, ...]:
    return idx.memo("addons", plan, lambda: _offered_addons(plan, idx))


def _offered_addons(plan: Product, idx: CatalogIndex) -> tuple[Product, ...]:
    out: dict[int, Product] = {}
    for pid in plan.available_addons:
        product = idx.get(pid)
        if product is not None and product.active and not product.is_plan:
            out.setdefault(pid, product)
    return tuple(out.values())


def offered_periods(plans: Sequence[Product]) -> list[PeriodOption]:
    """UM's period selector: each plan's own period and its variations' as stored, keyed by the whole number of
    days in the cycle (a later plan's period with the same day count replaces an earlier one), shortest first."""
    by_days: dict[int, Period] = {}
    for plan in plans:
        by_days[int(days_in_cycle(plan.duration_unit, plan.duration))] = (plan.duration, plan.duration_unit)
        for var in plan.price_variations:
            by_days[int(days_in_cycle(var.duration_unit, var.duration))] = (var.duration, var.duration_unit)
    return [PeriodOption(duration=d, duration_unit=u, days=k) for k, (d, u) in sorted(by_days.items())]


def change_options(membership: Membership, catalog: Sequence[Product]) -> ChangeOptions:
    """What the membership may switch to: offered plans (current marked, relation), add-ons and periods."""
    idx = index_catalog(catalog)
    current = idx.require(membership.plan_id, f"membership {membership.id}: plan_id")
    plans = offered_plans(current, idx)
    m_period: Period = (membership.duration, membership.duration_unit)
    return ChangeOptions(
        membership_id=membership.id,
        current_plan_id=current.id,
        currency=membership.currency,
        plans=[_plan_option(membership, idx, current, plan, m_period) for plan in plans],
        addons=[_addon_option(membership, addon, m_period) for addon in offered_addons(current, idx)],
        periods=offered_periods(form_plans(current, idx)),  # UM counts the inactive plans' periods too
    )


def _plan_option(
    m: Membership, idx: CatalogIndex, current: Product, plan: Product, m_period: Period
) -> PlanOption:
    amount = price_in_period(plan, *m_period)
    period = m_period
    if amount is None:
        amount, period = plan.amount, (plan.duration, plan.duration_unit)
    relation: Relation
    if plan.id == current.id:
        relation = "current"
    else:
        recurring = (amount if plan.is_recurring else Decimal(0)) + _owned_recurring(m, idx, period)
        kind = classify_plan_change(m, current, plan, period, recurring, amount + recurring).kind
        relation = "downgrade" if kind == "downgrade" else "upgrade"
    return PlanOption(
        product=plan,
        is_current=plan.id == current.id,
        relation=relation,
        duration=period[0],
        duration_unit=period[1],
        amount=round_money(amount, m.currency),
        setup_fee=round_money(plan.setup_fee, m.currency),
        per_day=per_day(amount, period[1], period[0]).quantize(Decimal("0.0001")),
        prices=[
            PeriodPrice(duration=d, duration_unit=u, amount=round_money(price_in_period(plan, d, u) or Decimal(0),
                                                                        m.currency))
            for d, u in product_periods(plan)
        ],
    )


def _owned_recurring(m: Membership, idx: CatalogIndex, period: Period) -> Decimal:
    total = Decimal(0)
    for pid, qty in m.addon_products.items():
        addon = idx.get(pid)
        if addon is not None and addon.is_recurring:
            price = price_in_period(addon, *period)
            total += (price if price is not None else addon.amount) * qty
    return total


def _addon_option(m: Membership, addon: Product, m_period: Period) -> AddonOption:
    amount = price_in_period(addon, *m_period)
    period = m_period if addon.is_recurring else (addon.duration, addon.duration_unit)
    if amount is None:
        amount, period = addon.amount, (addon.duration, addon.duration_unit)
    return AddonOption(
        product=addon,
        recurring=addon.is_recurring,
        duration=period[0],
        duration_unit=period[1],
        amount=round_money(amount, m.currency),
        setup_fee=round_money(addon.setup_fee, m.currency),
        owned=m.addon_products.get(addon.id, 0),
    )
