"""What the unused part of the current period is worth (reference §4.4; DESIGN §4).

UM's policy (`Cart::calculate_prorate_credits`): nothing while trialing; a non-recurring or lifetime membership
gets its `initial_amount` back; otherwise min(D × amount / C, amount) with C = days in the membership's cycle and D
= whole days to `date_expiration` (D = C when created or renewed on today's UTC date). When that is not 0, the
setup fee both plans share (min of the two) is credited too, so the customer pays only the difference.
UM reads "today" on the main site's local clock and writes `date_renewed` in local time; wpbridge uses UTC.

Policy "exact" (Stripe-like): the unused fraction of [date_renewed or date_created, date_expiration) by the
second, times the amount; the shared setup fee is credited whatever the fraction (not while trialing).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from ..models import Membership, Product
from .periods import fraction_left

ZERO = Decimal(0)


class Credit(NamedTuple):
    """Unrounded: `prorated` (for the period) and `setup_fee` (the shared setup fee credited back)."""

    prorated: Decimal = ZERO
    setup_fee: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.prorated + self.setup_fee


NO_CREDIT = Credit()


def exact_fraction(membership: Membership, now: datetime) -> Decimal:
    """The unused fraction of the current period at `now` (0 when the dates do not define a period)."""
    m = membership
    return fraction_left(now, m.date_renewed or m.date_created, m.date_expiration)


def exact_credit(membership: Membership, now: datetime, old_plan: Product, new_plan: Product) -> Credit:
    """Policy "exact": amount × unused fraction by the second; one-time/lifetime memberships as under UM."""
    m = membership
    if m.status == "trialing":
        return NO_CREDIT
    one_time = m.is_lifetime or not m.is_recurring
    prorated = m.initial_amount if one_time else m.amount * exact_fraction(m, now)
    return Credit(prorated, _shared_fee(old_plan, new_plan))


def _shared_fee(old_plan: Product, new_plan: Product) -> Decimal:
    return max(min(old_plan.setup_fee, new_plan.setup_fee), ZERO)
