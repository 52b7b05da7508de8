"""Upgrade, downgrade or blocked: UM's `Cart::build_from_membership` steps 7-8 (reference §4.2-§4.3).

Per-day prices are compared exactly (cross-multiplied Decimals), where UM uses floats; the only difference is
that ties are real ties (a tie on a different plan is an upgrade, as in UM).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal, NamedTuple

from ..models import Membership, Product
from .periods import DAYS_PER_UNIT, Period, days_in_cycle, normalise_period, price_in_period

Kind = Literal["upgrade", "downgrade", "blocked"]


class Classification(NamedTuple):
    kind: Kind
    message: str = ""


def _variation(product: Product, period: Period) -> Decimal | None:
    """The product's price in `period` for the common-period search (`periods.price_in_period`)."""
    return price_in_period(product, *period)


def common_period(
    membership: Membership, old_plan: Product, new_plan: Product
) -> tuple[Decimal, Decimal, Decimal, Decimal] | None:
    """UM's `search_for_same_period_plans`: both plans' prices in one period, as (old, old_days, new, new_days).

    The old plan is taken in the membership's period when it has a price there (else its base period); the new plan
    in its base period. Try the old plan in the new plan's period, then the new plan in the old plan's period.
    """
    m_period = (membership.duration, membership.duration_unit)
    old_amount = _variation(old_plan, m_period)
    old_period: Period = m_period
    if old_amount is None:
        old_amount, old_period = old_plan.amount, (old_plan.duration, old_plan.duration_unit)
    new_period: Period = (new_plan.duration, new_plan.duration_unit)
    if normalise_period(*old_period) == normalise_period(*new_period):
        return old_amount, _days(old_period), new_plan.amount, _days(new_period)
    old_in_new = _variation(old_plan, new_period)
    if old_in_new is not None:
        return old_in_new, _days(new_period), new_plan.amount, _days(new_period)
    new_in_old = _variation(new_plan, old_period)
    if new_in_old is not None:
        return old_amount, _days(old_period), new_in_old, _days(old_period)
    return None


def _days(period: Period) -> Decimal:
    return days_in_cycle(period[1], period[0])


def compare_per_day(a: Decimal, a_days: Decimal, b: Decimal, b_days: Decimal) -> int:
    """Sign of (a / a_days) − (b / b_days); a 0-day cycle prices per cycle, as UM does."""
    if a_days and b_days:
        left, right = a * b_days, b * a_days
    else:
        left = a / a_days if a_days else a
        right = b / b_days if b_days else b
    return (left > right) - (left < right)


def agreement_message(duration: int, unit: str) -> str:
    """"You already have an active year agreement." / "... active 2 years agreement." (UM's wording)."""
    what = unit if duration == 1 else f"{duration} {unit}s"
    return f"You already have an active {what} agreement."


def classify_plan_change(
    membership: Membership,
    old_plan: Product,
    new_plan: Product,
    period: Period,
    new_recurring_total: Decimal,
    new_total: Decimal,
) -> Classification:
    """Classify a plan or period change whose cart recurs `new_recurring_total` per `period`.

    - No recurring total but something to pay: an upgrade to a lifetime/one-time plan.
    - Per-day prices: the membership's amount over its period vs the cart's recurring total over its period; when
      the day counts differ and both plans have prices in a common period, those prices are compared instead.
    - Blocked: an active, non-free membership moving to a shorter period at a higher per-day price.
    - Downgrade: the same plan with a lower recurring total, or another plan with a lower per-day price.
    """
    if new_recurring_total == 0 and new_total > 0:
        return Classification("upgrade")
    amount, duration, unit = membership.amount, membership.duration, membership.duration_unit
    old_days = DAYS_PER_UNIT[unit] * duration  # units validated upstream
    new_days = DAYS_PER_UNIT[period[1]] * period[0]
    old_amount, old_d, new_amount, new_d = amount, old_days, new_recurring_total, new_days
    if old_days != new_days:
        pair = common_period(membership, old_plan, new_plan)
        if pair is not None:
            old_amount, old_d, new_amount, new_d = pair
    cmp = compare_per_day(old_amount, old_d, new_amount, new_d)
    if cmp < 0 and old_days > new_days and membership.status == "active" and not membership.is_free:
        return Classification("blocked", agreement_message(duration, unit))
    if old_plan.id == new_plan.id:
        return Classification("downgrade" if amount > new_recurring_total else "upgrade")
    return Classification("downgrade" if cmp > 0 else "upgrade")
