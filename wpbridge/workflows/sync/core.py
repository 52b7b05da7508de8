"""`sync`: apply the scheduled changes that are due, then make every site's quota match its membership.

Run from cron or a timer, so it must be fast, safe to re-run, safe to kill and quiet. How each of those holds:

- **Safe to re-run / kill.** Every write is absolute state (a membership's target state, a site's whole quota), so
  a write repeated after a kill changes nothing. A due scheduled change is written, then cleared; killed in
  between, the rerun sees the membership already in the target state, does not write it again and only clears
  the change ("applied once in effect"). Quotas are compared with what the server holds before any write, so a
  rerun writes only what the killed run did not reach.
- **One at a time.** A server-side lock (`POST /wpbridge/v1/locks/sync`) with an expiry, refreshed by a
  background thread while the run lasts; a killed run's lock lapses after `lock_ttl` seconds. A second run is
  refused with the holder and the expiry. A dry run takes no lock (it writes nothing).
- **Flat memory, few requests.** Sites (`wu/v2/site`) and stored quotas (`wpbridge/v1/quotas`) are two streams in
  blog_id order, walked together (a merge join); the memberships of each 100 sites are fetched in one request by
  id (`id__in`), `concurrency` chunks ahead. So the run holds a few pages, never the network: about ceil(N/100)
  requests per collection, plus one batch write per 25 changed sites and one read-back per 100 written. Report
  entries go to a sink (spooled to disk for `--report`), never to a list here.
- **Failures stay local.** Transient errors are retried by the REST layer, by its rules (one layer of retries:
  a 500 is not retried); a batch that still fails, or an item of it that fails, is reported and the run goes on
  (exit 1); the next run writes what this one could not (every write is absolute state).

Payments (both modes): a run reads the network's pending payments once (`payments.list(status="pending")`) and
reports those wpbridge made for a plan change (their `wpbridge` meta is set) that were created more than
`payment_grace_days` before `now`: the change is in effect and the customer has not paid for it. A finding only:
nothing is written, no change is reverted, and the exit code stays 0 (as for UM mode's `differs`); the owner
settles, cancels or chases it (`wpbridge payments`).

Policy for sites of `expired` or `cancelled` memberships (`inactive_policy`): `keep` leaves their quota as it is;
`suspend` writes `SUSPENDED_QUOTA`. Sites without a membership, or whose membership no longer exists, are left
alone. Every other status (pending, trialing, active, on-hold) gets the membership's effective quota (limits.py).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Literal, Protocol, TypeVar, get_args

from ..config import DEFAULT_LOCK_TTL, DEFAULT_PAYMENT_GRACE_DAYS, InactivePolicy, NetworkSettings
from ..encoding import iso_utc as iso
from ..errors import ConfigError, Conflict, DataError, InputError, WPBridgeError
from ..limits import differing_modules, effective_limitations
from ..models import Limitations, Membership, NetworkInfo, Product, ScheduledChange, Site
from ..money import round_money
from ..network import Mismatch
from ..payment_models import Payment
from ..rest.batch import BatchResult
from ..rest.transport import TransportStats
from .membership_state import with_state
from .sync_report import (
    ChangeEntry,
    ErrorEntry,
    ErrorStage,
    NullSink,
    PendingPaymentEntry,
    ReportHeader,
    ReportSink,
    ScheduledEntry,
    Summary,
)

log = logging.getLogger("wpbridge.sync")

LOCK_NAME = "sync"
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


# --------------------------------------------------------------------------- the network, as sync uses it


class PaymentReader(Protocol):
    """The part of `Network.payments` sync reads."""

    def list(self, *, membership_id: int | None = None, customer_id: int | None = None,
             status: str | Iterable[str] | None = None,
             payment_ids: Iterable[int] | None = None) -> Iterator[Payment]: ...


class SyncNetwork(Protocol):
    """The part of `network.Network` sync needs (a fake implements it in the unit tests)."""

    settings: NetworkSettings

    @property
    def payments(self) -> PaymentReader: ...

    @property
    def stats(self) -> TransportStats: ...

    def info(self) -> NetworkInfo: ...

    def catalog(self) -> list[Product]: ...

    def sites(self, *, membership_id: int | None = None, customer_id: int | None = None,
              **filters: Any) -> Iterator[Site]: ...

    def site_quotas(self, blog_ids: Iterable[int] | None = None) -> Iterator[tuple[int, Limitations | None]]: ...

    def memberships(self, *, status: str | Iterable[str] | None = None, customer_id: int | None = None,
                    **filters: Any) -> Iterator[Membership]: ...

    def scheduled_changes(self, *, due_before: datetime | None = None,
                          membership_id: int | None = None) -> Iterator[ScheduledChange]: ...

    def update_membership(self, membership_id: int, state: Mapping[str, Any]) -> Membership: ...

    def delete_scheduled_change(self, membership_id: int) -> None: ...

    def put_site_quotas(self, quotas: Mapping[int, Limitations]) -> BatchResult: ...

    def verify_quotas(self, expected: Mapping[int, Limitations]) -> list[Mismatch]: ...

    def acquire_lock(self, name: str, owner: str, ttl: int) -> dict[str, Any]: ...

    def release_lock(self, name: str, owner: str) -> None: ...


# --------------------------------------------------------------------------- pure: what a site should hold


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


# --------------------------------------------------------------------------- options and outcome


@dataclass(frozen=True)
class SyncOptions:
    now: datetime
    dry_run: bool = False
    only_memberships: tuple[int, ...] = ()
    inactive_policy: InactivePolicy = "keep"
    lock_ttl: int = DEFAULT_LOCK_TTL
    payment_grace_days: int = DEFAULT_PAYMENT_GRACE_DAYS
    """A change's payment pending for longer than this many days is reported (a finding; nothing is written)."""
    step_delay: float = 0.0
    """Seconds to pause after each write step: a test and demo knob that makes a run slow enough to kill."""
    batch_size: int | None = None
    """Quota writes per batch request; default and maximum: the server's batch limit (`/info`)."""

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise InputError("sync: `now` must be timezone-aware (UTC)")
        if self.inactive_policy not in INACTIVE_POLICIES:
            raise ConfigError(f"sync: inactive_policy must be one of {', '.join(INACTIVE_POLICIES)}"
                              f" (got {self.inactive_policy!r})")
        if self.batch_size is not None and self.batch_size < 1:
            raise InputError(f"sync: batch size must be at least 1 (got {self.batch_size})")
        if self.lock_ttl < 5:
            raise InputError(f"sync: lock ttl must be at least 5 seconds (got {self.lock_ttl})")
        if self.payment_grace_days < 0:
            raise InputError(f"sync: payment grace must be 0 days or more (got {self.payment_grace_days})")


@dataclass
class SyncOutcome:
    header: ReportHeader
    summary: Summary
    finished_at: str
    fatal: str | None = None
    """Why the run stopped before the end (lock held, lock lost, a list that could not be read), else None."""
    interrupted: bool = False
    """The run was asked to stop (`should_stop`: SIGTERM, Ctrl-C) and stopped at a safe point."""

    @property
    def exit_code(self) -> int:
        return self.summary.exit_code


class SyncLocked(WPBridgeError):
    """Another sync holds the network's lock."""


class LockLost(WPBridgeError):
    """This run's lock expired and another run took it: stop before writing anything more."""


class Interrupted(WPBridgeError):
    """The run was asked to stop (a signal): raised at the next safe point, between writes."""


# --------------------------------------------------------------------------- the lock


class LockKeeper:
    """Holds the server-side lock for the run and refreshes it from a background thread every ttl/3 seconds,
    as long as the run makes progress.

    A run stalled on a slow server (no `check()` for `stall_after` seconds, default the ttl) stops renewing, so
    its lock lapses and other runs are not refused for ever (issue 11); when it gets going again, `check()` takes
    the lock back before anything more is written, or stops the run if another one took it meanwhile.
    """

    def __init__(self, network: SyncNetwork, ttl: int, owner: str | None = None, *,
                 refresh_every: float | None = None, stall_after: float | None = None) -> None:
        self.network = network
        self.ttl = ttl
        self.owner = owner or f"wpbridge-sync-{uuid.uuid4()}"
        self.refresh_every = refresh_every if refresh_every is not None else max(1.0, ttl / 3)
        self.stall_after = stall_after if stall_after is not None else float(ttl)
        self._stop = threading.Event()
        self._lost: str | None = None
        self._stalled = False
        self._progress = time.monotonic()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> LockKeeper:
        self._take()
        self._progress = time.monotonic()
        self._thread = threading.Thread(target=self._refresh, name="wpbridge-sync-lock", daemon=True)
        self._thread.start()
        return self

    def _take(self) -> None:
        try:
            self.network.acquire_lock(LOCK_NAME, self.owner, self.ttl)
        except Conflict as exc:
            holder, until = exc.data.get("owner", "?"), exc.data.get("expires_at", "?")
            raise SyncLocked(f"another sync is running on this network (owner {holder}, lock held until {until});"
                             " not starting") from None

    def _refresh(self) -> None:
        while not self._stop.wait(self.refresh_every):
            if time.monotonic() - self._progress > self.stall_after:
                if not self._stalled:
                    self._stalled = True
                    log.warning("sync: no progress for %.0f s; no longer renewing the lock (it lapses in %d s)",
                                self.stall_after, self.ttl)
                continue
            try:
                self.network.acquire_lock(LOCK_NAME, self.owner, self.ttl)
            except Conflict as exc:
                self._lost = f"the sync lock expired and was taken by {exc.data.get('owner', 'another run')}"
                return
            except WPBridgeError as exc:  # a blip: the lock still has up to 2/3 of its ttl; try again
                log.warning("could not refresh the sync lock: %s", exc)

    def check(self) -> None:
        """A safe point of the run: it made progress. Raises LockLost when the lock is no longer this run's."""
        self._progress = time.monotonic()
        if self._lost:
            raise LockLost(f"{self._lost}; stopping")
        if self._stalled:
            try:
                self.network.acquire_lock(LOCK_NAME, self.owner, self.ttl)
            except Conflict as exc:
                self._lost = f"the sync lock lapsed while the run stalled and was taken by {exc.data.get('owner')}"
                raise LockLost(f"{self._lost}; stopping") from None
            self._stalled = False

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._lost is None:
            try:
                self.network.release_lock(LOCK_NAME, self.owner)
            except WPBridgeError as err:
                log.warning("could not release the sync lock (it lapses by itself): %s", err)


class _NoLock:
    def check(self) -> None:
        pass


# --------------------------------------------------------------------------- the run


def run_sync(network: SyncNetwork, options: SyncOptions, *, sink: ReportSink | None = None,
             progress: Callable[[int], None] | None = None,
             should_stop: Callable[[], bool] | None = None) -> SyncOutcome:
    """One sync run. Raises InputError for a bad `only_memberships`; every other failure is in the outcome.

    `should_stop()` is asked at every safe point (between writes, between chunks of sites); once it says True the
    run stops there: what was written is reported, the changes not yet sent are not, the lock is released and the
    outcome is marked `interrupted`. On a network in UM mode the run is `sync_um`'s (UM computes and enforces
    limits; nothing is reconciled)."""
    if network.info().mode == "um":
        from .sync_um import UMRun

        return UMRun(network, options, sink or NullSink(), progress, should_stop).execute()
    return _Run(network, options, sink or NullSink(), progress, should_stop).execute()


@dataclass
class _Run:
    network: SyncNetwork
    options: SyncOptions
    sink: ReportSink
    progress: Callable[[int], None] | None
    should_stop: Callable[[], bool] | None = None
    summary: Summary = field(default_factory=Summary)
    catalog: list[Product] = field(default_factory=list)
    batch_limit: int = 25
    overlay: dict[int, dict[str, Any]] = field(default_factory=dict)
    pending: dict[int, QuotaChange] = field(default_factory=dict)
    to_verify: dict[int, Limitations] = field(default_factory=dict)
    lock: LockKeeper | _NoLock = field(default_factory=_NoLock)
    quota_of: QuotaMemo = field(default_factory=QuotaMemo)

    @property
    def only(self) -> frozenset[int]:
        return frozenset(self.options.only_memberships)

    def execute(self) -> SyncOutcome:
        started, clock = datetime.now(UTC), time.monotonic()
        requests_before = self.network.stats.requests
        header = ReportHeader(
            network=self.network.settings.name, dry_run=self.options.dry_run, now=iso(self.options.now),
            started_at=iso(started), inactive_policy=self.options.inactive_policy,
            only_memberships=sorted(self.only), payment_grace_days=self.options.payment_grace_days,
        )
        fatal: str | None = None
        interrupted = False
        try:
            if self.only:
                self._check_only()
            if self.options.dry_run:
                self._work()
                self._pending_payments()
            else:
                with LockKeeper(self.network, self.options.lock_ttl) as keeper:
                    self.lock = keeper
                    self._work()
                    self._pending_payments()
        except (InputError, ConfigError):
            raise
        except SyncLocked as exc:
            fatal = str(exc)
            self._error("lock", exc)
        except Interrupted as exc:
            fatal, interrupted = str(exc), True
        except WPBridgeError as exc:
            fatal = f"sync stopped: {exc}"
            self._error("lock" if isinstance(exc, LockLost) else "read", exc)
        seen: set[str] = set()
        for unreadable in getattr(self.network, "unreadable", None) or []:  # skipped by a listing: never written
            if str(unreadable) not in seen:  # a record listed twice (two chunks of sites) is reported once
                seen.add(str(unreadable))
                self._error("read", unreadable, blog_id=None, membership_id=None)
        self.summary.elapsed_seconds = round(time.monotonic() - clock, 3)
        self.summary.requests = self.network.stats.requests - requests_before
        self.summary.exit_code = 1 if self.summary.errors else 0
        return SyncOutcome(header, self.summary, iso(datetime.now(UTC)), fatal, interrupted)

    def _safe_point(self) -> None:
        """Between writes: stop here when asked to, or when the lock is no longer this run's."""
        if self.should_stop is not None and self.should_stop():
            raise Interrupted("sync interrupted: stopped at a safe point (what was written is reported; the rest"
                              " was not sent); run it again to finish")
        self.lock.check()

    def _work(self) -> None:
        info = self.network.info()
        self.batch_limit = max(1, min(info.batch_limit, self.options.batch_size or 10**6))
        self.quota_of = QuotaMemo(um_version=info.um_version)
        self.catalog = self.network.catalog()
        self._apply_due_changes()
        self._reconcile()

    def _check_only(self) -> None:
        found = {m.id for m in self.network.memberships(id=sorted(self.only))}
        unreadable = {e.record_id for e in getattr(self.network, "unreadable", None) or []}
        missing = sorted(self.only - found - unreadable)  # an unreadable one exists: reported at the end, exit 1
        if missing:
            raise InputError(f"--only-membership {missing[0]}: no membership with this id", field="only_membership",
                             record_id=missing[0])

    # ------------------------------------------------------------------ reporting helpers

    def _error(self, stage: ErrorStage, exc: WPBridgeError | str, *, blog_id: int | None = None,
               membership_id: int | None = None) -> None:
        self.summary.errors += 1
        if isinstance(exc, str):
            entry = ErrorEntry(stage, exc, blog_id, membership_id)
        else:
            entry = ErrorEntry(stage, str(exc), blog_id, membership_id, exc.status, exc.code)
        log.info("%s%s: %s", stage, f" (site {blog_id})" if blog_id else "", entry.message)
        self.sink.error(entry)

    def _pause(self) -> None:
        if self.options.step_delay > 0:
            time.sleep(self.options.step_delay)

    # ------------------------------------------------------------------ 3. change payments left unpaid

    def _pending_payments(self) -> None:
        """One read of the network's pending payments; each change payment past the grace is a finding. A list
        that cannot be read is an error of its own: the rest of the run stands."""
        self._safe_point()
        now, grace = self.options.now, self.options.payment_grace_days
        try:
            for payment in self.network.payments.list(status="pending"):
                if self.only and payment.membership_id not in self.only:
                    continue
                entry = overdue_payment(payment, now, grace)
                if entry is not None:
                    self.summary.pending_payments += 1
                    self.sink.payment(entry)
        except WPBridgeError as exc:
            self._error("payments", f"could not read the pending payments: {exc}")

    # ------------------------------------------------------------------ 1. scheduled changes that are due

    def _due_changes(self) -> Iterator[tuple[ScheduledChange, Membership | None]]:
        """The scheduled changes due by `now`, each with its membership as read now (None: it does not exist), a
        safe point before each. Materialised first: clearing changes while paging through their list would shift
        the pages. Only the changes due by `now` are held (a day's worth of downgrades), never the memberships."""
        now, only = self.options.now, self.only
        due = [c for c in self.network.scheduled_changes(due_before=now) if is_due(c, now, only)]
        self.summary.scheduled_changes_due = len(due)
        for chunk in chunks(due, CHUNK):
            self._safe_point()
            current = {m.id: m for m in self.network.memberships(id=[c.membership_id for c in chunk])}
            for change in chunk:
                self._safe_point()
                yield change, current.get(change.membership_id)

    def _apply_due_changes(self) -> None:
        for change, membership in self._due_changes():
            self._apply_one(change, membership)

    def _apply_one(self, change: ScheduledChange, membership: Membership | None) -> None:
        mid, target = change.membership_id, change.target
        if membership is None:
            self._error("scheduled_change", f"membership {mid} has a due scheduled change but does not exist",
                        membership_id=mid)
            self.sink.scheduled(ScheduledEntry(mid, iso(change.scheduled_for), None, dict(target), "failed"))
            return
        data = membership.model_dump(mode="json")
        before = {key: data.get(key) for key in target}
        if self.options.dry_run:
            self.overlay[mid] = dict(target)
            self.sink.scheduled(ScheduledEntry(mid, iso(change.scheduled_for), before, dict(target), "would-apply"))
            return
        if not already_applied(membership, target):
            try:
                self.network.update_membership(mid, target)
            except WPBridgeError as exc:
                self._error("scheduled_change", exc, membership_id=mid)
                self.sink.scheduled(ScheduledEntry(mid, iso(change.scheduled_for), before, dict(target), "failed"))
                return
            self.summary.memberships_updated += 1
            self._pause()
        self.summary.scheduled_changes_applied += 1
        self.sink.scheduled(ScheduledEntry(mid, iso(change.scheduled_for), before, dict(target), "applied"))
        try:
            self.network.delete_scheduled_change(mid)
        except WPBridgeError as exc:
            self._error("scheduled_change", f"membership {mid}: applied but not cleared ({exc}); the next run"
                        " clears it without writing it again", membership_id=mid)
            return
        self.summary.scheduled_changes_cleared += 1

    # ------------------------------------------------------------------ 2. quotas

    def _reconcile(self) -> None:
        source = self._filtered_chunks() if self.only else self._all_chunks()
        for chunk, members in source:
            self._safe_point()
            for site, current, known in chunk:
                self._consider(site, current, known, members)
            if self.progress:
                self.progress(len(chunk))
        self._flush()
        self._verify()

    def _members(self, chunk: Sequence[tuple[Site, Limitations | None, bool]]) -> dict[int, Membership]:
        ids = sorted({site.membership_id for site, _, _ in chunk if site.membership_id is not None})
        return {m.id: m for m in self.network.memberships(id=ids)} if ids else {}

    def _all_chunks(self) -> Iterator[tuple[list[tuple[Site, Limitations | None, bool]], dict[int, Membership]]]:
        """Sites joined with their quotas, 100 at a time, with their memberships fetched `concurrency` chunks
        ahead by a small pool (the two list streams page concurrently by themselves)."""
        pairs = join_quotas(self.network.sites(), self.network.site_quotas())
        ahead = max(1, self.network.settings.concurrency)
        window: deque[tuple[list[tuple[Site, Limitations | None, bool]], Future[dict[int, Membership]]]] = deque()
        with ThreadPoolExecutor(max_workers=ahead, thread_name_prefix="wpbridge-sync") as pool:
            try:
                for chunk in chunks(pairs, CHUNK):
                    window.append((chunk, pool.submit(self._members, chunk)))
                    if len(window) > ahead:
                        done, future = window.popleft()
                        yield done, future.result()
                while window:
                    done, future = window.popleft()
                    yield done, future.result()
            finally:
                for _, future in window:
                    future.cancel()

    def _filtered_chunks(self) -> Iterator[tuple[list[tuple[Site, Limitations | None, bool]],
                                                 dict[int, Membership]]]:
        sites = sorted((s for mid in sorted(self.only) for s in self.network.sites(membership_id=mid)),
                       key=lambda s: s.blog_id)
        for group in chunks(sites, CHUNK):
            stored = dict(self.network.site_quotas([s.blog_id for s in group]))
            chunk = [(s, stored.get(s.blog_id), s.blog_id in stored) for s in group]
            yield chunk, self._members(chunk)

    def _consider(self, site: Site, current: Limitations | None, known: bool,
                  members: Mapping[int, Membership]) -> None:
        self.summary.sites_checked += 1
        membership = members.get(site.membership_id) if site.membership_id is not None else None
        if membership is not None and membership.id in self.overlay:
            membership = with_state(membership, self.overlay[membership.id])
        if not known:  # listed by wu/v2/site but not a WordPress site of this network (a stale UM record)
            self.summary.sites_skipped += 1
            return
        try:
            change, reason = plan_site(site, current, membership, self.catalog, self.options.inactive_policy,
                                       self.quota_of)
        except WPBridgeError as exc:
            self._error("membership", exc, blog_id=site.blog_id, membership_id=site.membership_id)
            return
        if change is None:
            if reason in SKIP_REASONS:
                self.summary.sites_skipped += 1
            return
        self.summary.changes += 1
        self.pending[site.blog_id] = change
        if len(self.pending) >= self.batch_limit:
            self._flush()

    def _flush(self) -> None:
        """Send the pending quota changes (one batch), record each outcome, and read back every 100 written."""
        if not self.pending:
            return
        batch, self.pending = self.pending, {}
        self._safe_point()
        if self.options.dry_run:
            for change in batch.values():
                self.sink.change(_entry(change, "would-write"))
            return
        outcomes = self._write_batch(batch)
        for bid, change in batch.items():
            self._record(change, outcomes.get(bid, DataError(f"site {bid}: the batch reply left this write out")))
        self._pause()
        if len(self.to_verify) >= CHUNK:
            self._verify()

    def _write_batch(self, batch: Mapping[int, QuotaChange]) -> dict[int, WPBridgeError | None]:
        """{blog_id: None (written) or the error}; a batch that failed whole (after the REST layer's retries, the
        only ones) fails every item with its error."""
        try:
            result = self.network.put_site_quotas({bid: c.after for bid, c in batch.items()})
        except WPBridgeError as exc:
            return dict.fromkeys(batch, exc)
        return {item.key: (None if item.ok else item.error) for item in result}

    def _record(self, change: QuotaChange, err: WPBridgeError | None) -> None:
        if err is None:
            self.summary.quota_writes += 1
            self.sink.change(_entry(change, "written"))
            self.to_verify[change.blog_id] = change.after
        else:
            self._error("quota_write", err, blog_id=change.blog_id, membership_id=change.membership_id)
            self.sink.change(_entry(change, "failed"))

    def _verify(self) -> None:
        """Read back what was written (one request per 100 sites) and report every site that differs."""
        if not self.to_verify:
            return
        expected, self.to_verify = self.to_verify, {}
        try:
            mismatches = self.network.verify_quotas(expected)
        except WPBridgeError as exc:
            self._error("verify", f"could not read back {len(expected)} written quotas: {exc}")
            return
        self.summary.verified += len(expected) - len(mismatches)
        for mismatch in mismatches:
            self._error("verify", f"read back after writing: {mismatch}", blog_id=mismatch.blog_id)


def _entry(change: QuotaChange, status: Literal["written", "failed", "would-write"]) -> ChangeEntry:
    return ChangeEntry(
        blog_id=change.blog_id, membership_id=change.membership_id, reason=change.reason,
        before=change.before.to_wire() if change.before is not None else None, after=change.after.to_wire(),
        status=status,
    )
