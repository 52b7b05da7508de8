"""The example network's customers and memberships (the catalog is `example.py`): pure, deterministic data.

A dozen customers cover every membership status, every plan, mid-cycle renewals, trials, add-ons with quantities
and customers with two sites, so that demos and tests meet each case on a real network. Every date is a whole
number of days (or a billing period) away from `base`, the start of the UTC day the sandbox was seeded
(`sandbox.json` -> `seeded.base`): the same base always gives the same records. Amounts come from the catalog
(`example.py`), in `Decimal`: the recurring amount is the plan's price for the period plus the recurring add-ons
times their quantity; the initial amount adds one-time services.

`wpbridge/sandbox/seeder.py` writes these through the REST API; README.md ("## Sandbox") shows them as a table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta

from ..billing.periods import list_amounts, price_in_period
from ..models import MembershipStatus, Product
from .example import example_catalog


@dataclass(frozen=True)
class SeedMember:
    """One customer (a WordPress user), their membership and their sites. Days count back from `base`."""

    username: str
    name: str
    plan: str
    status: MembershipStatus
    sites: tuple[str, ...]
    created: int  # days before base
    renewed: int | None = None  # days before base; None = never renewed
    period: tuple[int, str] = (1, "month")
    addons: Mapping[str, int] = field(default_factory=dict)
    trial_days: int | None = None  # trial length from `created`
    cancelled: int | None = None  # days before base
    billed: int = 0  # times_billed
    note: str = ""


EXAMPLE_MEMBERS: tuple[SeedMember, ...] = (
    SeedMember("alice", "Alice Free", "free", "active", ("alice",), created=60,
               note="Free plan, one site (the demo's customer)"),
    SeedMember("bruno", "Bruno Basic", "basic", "active", ("bruno",), created=75, renewed=12, billed=3,
               note="Basic mid-cycle: renewed 12 days ago"),
    SeedMember("carla", "Carla Premium", "premium", "active", ("carla", "carla-shop"), created=200, renewed=8,
               addons={"extra-storage": 2, "unlimited-visits": 1}, billed=7,
               note="Premium with add-ons (extra storage x2, unlimited visits), two sites"),
    SeedMember("diego", "Diego Trial", "premium", "trialing", ("diego",), created=3, trial_days=14,
               note="Premium trial, ends in 11 days"),
    SeedMember("elena", "Elena Yearly", "premium", "active", ("elena", "elena-blog"), created=465, renewed=100,
               period=(1, "year"), billed=2, note="Premium yearly ($390), two sites"),
    SeedMember("frank", "Frank Pending", "basic", "pending", ("frank",), created=0,
               note="signed up today, not paid yet"),
    SeedMember("grace", "Grace Hold", "basic", "on-hold", ("grace",), created=90, renewed=28,
               addons={"extra-storage": 1}, billed=3, note="renewal due within 3 days, payment pending"),
    SeedMember("hiro", "Hiro Expired", "premium", "expired", ("hiro",), created=150, renewed=45, billed=4,
               note="expired about two weeks ago"),
    SeedMember("ines", "Ines Cancelled", "basic", "cancelled", ("ines",), created=120, renewed=50, cancelled=25,
               addons={"extra-storage": 1}, billed=3, note="cancelled 25 days ago"),
    SeedMember("jonas", "Jonas Visits", "free", "active", ("jonas",), created=40, renewed=5,
               addons={"unlimited-visits": 1}, billed=2, note="Free plan with a paid add-on"),
    SeedMember("karin", "Karin Store", "basic", "active", ("karin", "karin-store"), created=20,
               addons={"extra-storage": 2, "site-setup": 1}, billed=1,
               note="Basic, first period, extra storage x2 and the one-time site setup, two sites"),
    SeedMember("liam", "Liam Trial", "basic", "trialing", ("liam",), created=2, trial_days=7,
               note="Basic trial, ends in 5 days"),
)


def seed_base(now: datetime) -> datetime:
    """The start of `now`'s UTC day: the reference point of every seeded date."""
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def wp_date(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else None


def catalog_by_slug() -> dict[str, Product]:
    return {p.slug: p for p in example_catalog()}


def amounts(member: SeedMember, catalog: Mapping[str, Product]) -> tuple[Decimal, Decimal]:
    """(recurring amount, initial amount) of the member's cart, from the catalog's prices."""
    plan = catalog[member.plan]
    price = price_in_period(plan, *member.period)
    if price is None:
        raise ValueError(f"seed member {member.username}: plan {member.plan} has no price for {member.period}")
    recurring, one_time = list_amounts(price, ((catalog[slug], qty) for slug, qty in member.addons.items()))
    return recurring, recurring + one_time


def membership_body(member: SeedMember, base: datetime, ids: Mapping[str, int], customer_id: int,
                    catalog: Mapping[str, Product] | None = None) -> dict[str, Any]:
    """The `POST /wu/v2/membership` body for a member (product slugs mapped to server ids by `ids`)."""
    catalog = catalog or catalog_by_slug()
    amount, initial = amounts(member, catalog)
    duration, unit = member.period
    period = relativedelta(**{f"{unit}s": duration})  # type: ignore[arg-type]
    created = base - timedelta(days=member.created)
    renewed = base - timedelta(days=member.renewed) if member.renewed is not None else None
    trial_end = created + timedelta(days=member.trial_days) if member.trial_days else None
    if member.status == "trialing":
        expiration: datetime | None = trial_end
    elif member.status == "pending":
        expiration = created  # UM: a new membership expires "now" until its first payment
    elif amount == 0:
        expiration = None  # free and not recurring: lifetime
    else:
        expiration = (renewed or created) + period
    paid = amount > 0
    return {
        "customer_id": customer_id,
        "plan_id": ids[member.plan],
        "addon_products": {str(ids[slug]): qty for slug, qty in member.addons.items()},
        "currency": "USD",
        "amount": str(amount),
        "initial_amount": str(initial),
        "duration": duration,
        "duration_unit": unit,
        "recurring": paid,
        "auto_renew": paid and member.status in ("active", "trialing"),
        "times_billed": member.billed,
        "status": member.status,
        "gateway": "manual" if paid else "free",
        "date_created": wp_date(created),
        "date_activated": wp_date(created) if member.status not in ("pending",) else None,
        "date_renewed": wp_date(renewed),
        "date_trial_end": wp_date(trial_end),
        "date_expiration": wp_date(expiration),
        "date_cancellation": wp_date(base - timedelta(days=member.cancelled)) if member.cancelled else None,
    }


def customer_body(member: SeedMember, base: datetime, user_id: int) -> dict[str, Any]:
    """The `POST /wu/v2/customer` body (the WordPress user exists already)."""
    return {
        "user_id": user_id,
        "email_verification": "pending" if member.status == "pending" else "verified",
        "has_trialed": member.trial_days is not None,
        "date_registered": wp_date(base - timedelta(days=member.created)),
        "billing_address": {
            "billing_email": f"{member.username}@example.com",
            "billing_name": member.name,
            "billing_country": "US",
        },
    }
