"""`sync`'s pure rules: what a site should hold, the merge join of the two ordered streams, "already applied",
due-ness, overdue change payments. No network, no clock (the run passes `now`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar, get_args

from ...config import InactivePolicy
from ...encoding import iso_utc as iso
from ...errors import DataError
from ...limits import differing_modules, effective_limitations
from ...models import Limitations, Membership, Product, ScheduledChange, Site
from ...money import round_money
from ...payment_models import Payment
from ..membership_state import with_state
from .report import PendingPaymentEntry

CHUNK = 100
"""Sites per membership lookup and per read-back: the companion routes' and `per_page`'s maximum."""
INACTIVE_STATUSES = frozenset({"expired", "cancelled"})
INACTIVE_POLICIES: tuple[InactivePolicy, ...] = get_args(InactivePolicy)
SKIP_REASONS = frozenset({"no-membership", "not-customer-owned", "membership-not-found", "inactive-kept"})

SUSPENDED_QUOTA = Limitations.model_validate(
    {
        "visits": {"enabled": True, "limit": 1},
        "disk_space": {"enabled": True, "limit": 1},
        "sites": {"enabled": True, "limit": 1},
        "post_types": {"enabled": True, "limit": {
            pt: {"enabled": False, "number": 0} for pt in ("post", "page", "attachment")
        }},
        "users": {"enabled": True, "limit": {
            role: {"enabled": False, "number": 0}
            for role in ("administrator", "editor", "author", "contributor", "subscriber")
        }},
        "domain_mapping": {"enabled": True, "limit": False},
    }
)
"""The quota of a suspended site: closed to visitors after 1 visit a month, 1 MB of uploads, no new posts, pages
or media, no new users, no custom domain. Existing content and users are kept (nothing is deleted), so renewing
the membership restores the site at the next sync."""

T = TypeVar("T")


@dataclass(frozen=True)
class QuotaChange:
    """A site whose stored quota differs from its target. `reason`: "membership" or "suspended"."""

    blog_id: int
    membership_id: int
    reason: str
    before: Limitations | None
    after: Limitations


QuotaOf = Callable[[Membership, Sequence[Product], Site], Limitations]


def _effective(membership: Membership, catalog: Sequence[Product], site: Site) -> Limitations:
    return effective_limitations(membership, catalog, site=site)


def target_quota(site: Site, membership: Membership | None, catalog: Sequence[Product],
                 policy: InactivePolicy, quota_of: QuotaOf = _effective) -> tuple[Limitations | None, str]:
    """The quota `site` should hold and why; None = leave the site alone (the reason says why).

    Raises InputError when the membership names a product missing from the catalog (the caller reports it)."""
    if site.membership_id is None:
        return None, "no-membership"
    if not site.belongs_to(site.membership_id):  # the safety invariant: main site, other types, unknown type
        return None, "not-customer-owned"
    if membership is None:
        return None, "membership-not-found"
    if membership.status in INACTIVE_STATUSES:
        if policy == "keep":
            return None, "inactive-kept"
        return SUSPENDED_QUOTA, "suspended"
    return quota_of(membership, catalog, site), "membership"


def plan_site(site: Site, current: Limitations | None, membership: Membership | None, catalog: Sequence[Product],
              policy: InactivePolicy, quota_of: QuotaOf = _effective) -> tuple[QuotaChange | None, str]:
    """The write `site` needs (None: left alone, or already holding its target) and the reason: one of
    no-membership, membership-not-found, inactive-kept (left alone), in-sync, membership, suspended."""
    target, reason = target_quota(site, membership, catalog, policy, quota_of)
    if target is None or site.membership_id is None:
        return None, reason
    if current == target or not differing_modules(current, target):  # equal models: skip the normalising compare
        return None, "in-sync"
    return QuotaChange(site.blog_id, site.membership_id, reason, current, target), reason


class QuotaMemo:
    """`effective_limitations`, remembered for the memberships and sites that carry no override of their own:
    their quota depends only on (plan, add-ons, site type), and a network has few such combinations, so a
    10,000-site run merges a handful of times instead of 10,000. Bounded (cleared when full): memory stays flat."""

    def __init__(self, size: int = 4096, um_version: str | None = None) -> None:
        self.size = size
        self.um_version = um_version  # the network's UM release: its merge rules (None: the latest release)
        self._memo: dict[tuple[Any, ...], Limitations] = {}

    def __call__(self, membership: Membership, catalog: Sequence[Product], site: Site) -> Limitations:
        if membership.limitations.model_fields_set or site.limitations.model_fields_set:
            return effective_limitations(membership, catalog, site=site, um_version=self.um_version)
        key = (membership.plan_id, tuple(sorted(membership.addon_products.items())), site.type)
        found = self._memo.get(key)
        if found is None:
            found = effective_limitations(membership, catalog, site=site, um_version=self.um_version)
            if len(self._memo) >= self.size:
                self._memo.clear()
            self._memo[key] = found
        return found


def join_quotas(sites: Iterable[Site], quotas: Iterable[tuple[int, Limitations | None]]
                ) -> Iterator[tuple[Site, Limitations | None, bool]]:
    """Walk two blog_id-ordered streams together: (site, its stored quota, whether the quota list knows the site).

    O(1) memory. Raises DataError if either stream is not in ascending blog_id order (the join would be wrong)."""
    rows = iter(quotas)
    pending = next(rows, None)
    last_site = last_quota = 0
    for site in sites:
        if site.blog_id <= last_site:
            raise DataError(f"the site list is not in blog_id order (site {site.blog_id} after {last_site})")
        last_site = site.blog_id
        while pending is not None and pending[0] < site.blog_id:
            last_quota = _advance_check(pending[0], last_quota)
            pending = next(rows, None)
        if pending is not None and pending[0] == site.blog_id:
            last_quota = _advance_check(pending[0], last_quota)
            yield site, pending[1], True
            pending = next(rows, None)
        else:
            yield site, None, False


def _advance_check(blog_id: int, last: int) -> int:
    if blog_id <= last:
        raise DataError(f"the quota list is not in blog_id order (site {blog_id} after {last})")
    return blog_id


def already_applied(membership: Membership, target: Mapping[str, Any]) -> bool:
    """True when the membership already holds every field of `target` (a rerun after a kill between writing a
    scheduled change and clearing it): the change is then cleared without being written twice."""
    if not target or any(key not in Membership.model_fields for key in target):
        return False
    try:
        merged = with_state(membership, target)
    except DataError:
        return False
    for key in target:
        if key == "limitations":
            if differing_modules(merged.limitations, membership.limitations):
                return False
        elif getattr(merged, key) != getattr(membership, key):
            return False
    return True


def overdue_payment(payment: Payment, now: datetime, grace_days: int) -> PendingPaymentEntry | None:
    """The finding for `payment` when it is a plan change's payment (`wpbridge` meta set) still pending and created
    more than `grace_days` days before `now`; None otherwise (a payment without a creation date is not judged)."""
    if payment.wpbridge is None or not payment.is_open or payment.date_created is None:
        return None
    age = now - payment.date_created
    if age <= timedelta(days=grace_days):
        return None
    return PendingPaymentEntry(
        id=payment.id, membership_id=payment.membership_id, customer_id=payment.customer_id,
        total=str(round_money(payment.total, payment.currency)), currency=payment.currency,
        date_created=iso(payment.date_created), days_pending=max(0, age.days), url=payment.url or None,
    )


def is_due(change: ScheduledChange, now: datetime, only: frozenset[int] = frozenset()) -> bool:
    return change.scheduled_for <= now and (not only or change.membership_id in only)


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
