"""Offline pricing demo on the example catalog: what a Free customer is offered, and a mid-cycle upgrade quote.

Run with `python -m wpbridge.demo_pricing`. No network and no clock: `NOW` is fixed, so the output never changes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from .billing import Cart, ChangeOptions, Quote, change_options, quote_change
from .models import Membership
from .sandbox.example import example_catalog

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "-"


def render_options(options: ChangeOptions) -> list[str]:
    out = [f"Membership {options.membership_id} can change to:"]
    for plan in options.plans:
        mark = "*" if plan.is_current else " "
        price = f"{plan.amount:>8} {options.currency} / {plan.duration} {plan.duration_unit}"
        if plan.amount == 0 and not plan.product.recurring:  # a free plan reads as free
            price = f"{'free':>8}".ljust(len(price))
        out.append(f"  {mark} {plan.product.name:<18} {price}  ({plan.relation})")
    out.append("  add-ons:")
    for addon in options.addons:
        every = f"/ {addon.duration} {addon.duration_unit}" if addon.recurring else "once"
        out.append(f"    + {addon.product.name:<16} {addon.amount:>8} {options.currency} {every}")
    periods = ", ".join(f"{p.duration} {p.duration_unit}" for p in options.periods)
    out.append(f"  billing periods offered: {periods}")
    return out


def render_quote(quote: Quote) -> list[str]:
    out = [f"Quote ({quote.policy}): {quote.kind}, plan {quote.current_plan_id} -> {quote.new_plan_id}, "
           f"every {quote.duration} {quote.duration_unit}"]
    out += [f"  ! {e.message}" for e in quote.errors]
    for line in quote.lines:
        qty = f"{line.quantity} x " if line.quantity != 1 else ""
        out.append(f"  {line.type:<8} {qty + line.title:<46} {line.total:>9}")
    out += [
        f"  credit for the unused period: {quote.credit} {quote.currency}",
        f"  due now:                      {quote.due_now} {quote.currency}",
        f"  then {quote.recurring_total} {quote.currency} every {quote.duration} {quote.duration_unit}, "
        f"next charge {_when(quote.next_charge_at)}",
    ]
    if quote.scheduled_for is not None:
        out.append(f"  takes effect on {_when(quote.scheduled_for)}")
    return out


def main() -> None:
    catalog = example_catalog()
    by_slug = {p.slug: p for p in catalog}
    print(f"Pricing demo, example catalog, now = {_when(NOW)}\n")

    free = Membership(id=1, customer_id=1, plan_id=by_slug["free"].id, status="active", recurring=False,
                      date_created=NOW - timedelta(days=90))
    print("A Free customer:")
    print("\n".join(render_options(change_options(free, catalog))))

    renewed = NOW - timedelta(days=12)
    basic = Membership(
        id=2, customer_id=2, plan_id=by_slug["basic"].id, amount=by_slug["basic"].amount,
        initial_amount=by_slug["basic"].amount, status="active", duration=1, duration_unit="month",
        date_created=NOW - timedelta(days=200), date_renewed=renewed, date_expiration=renewed + timedelta(days=28),
    )
    print(f"\nA Basic customer ({basic.amount} USD/month), 12 days into the cycle "
          f"(renewed {_when(basic.date_renewed)}, expires {_when(basic.date_expiration)}), upgrades to Premium:")
    for policy in ("ultimate-multisite", "exact"):
        print("\n".join(render_quote(quote_change(basic, catalog, Cart(plan_id=by_slug["premium"].id), now=NOW,
                                                  policy=policy))))

    premium = basic.model_copy(update={"id": 3, "plan_id": by_slug["premium"].id, "amount": by_slug["premium"].amount,
                                       "initial_amount": by_slug["premium"].amount})
    print("\nA Premium monthly customer switches to the yearly price:")
    yearly = Cart(duration=1, duration_unit="year")
    print("\n".join(render_quote(quote_change(premium, catalog, yearly, now=NOW))))


if __name__ == "__main__":
    main()
