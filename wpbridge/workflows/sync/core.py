"""The run of a sync, whichever the flavor: the lock, the safe points, the walks over the due scheduled changes and
over every site (with its stored quota and its membership), the payments finding, the report and the summary.

What a flavor decides is behind `SyncFlavor` (`stub.StubFlavor`, `um.UMFlavor`; `run_sync` picks one through the
network's `managers.flavor.Flavor`): what to do with a due change and with one site, and what to finish with. The
walks are the same for both: the sites and their quotas joined in blog_id order, 100 at a time, with the
memberships of each chunk fetched `concurrency` chunks ahead by a small pool.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from ...config import DEFAULT_LOCK_TTL, DEFAULT_PAYMENT_GRACE_DAYS, InactivePolicy, NetworkSettings
from ...encoding import iso_utc as iso
from ...errors import ConfigError, DataError, InputError, WPBridgeError
from ...models import Limitations, Membership, NetworkInfo, Product, ScheduledChange, Site
from ...money import shown_amount
from ...rest.transport import TransportStats
from .. import LocksAPI, MembershipsAPI, PaymentsReadAPI, ProductsAPI, SiteLinksAPI, SuspensionAPI, SwapAPI
from .lock import LockKeeper, LockLost, NoLock, SyncLocked
from .report import ErrorEntry, ErrorStage, ReportHeader, ReportSink, ScheduledEntry, ScheduledStatus, Summary
from .rules import CHUNK, INACTIVE_POLICIES, QuotaMemo, chunks, is_due, join_quotas, overdue_payment
from .stop import STOPPED, StopNow, read_only

log = logging.getLogger("wpbridge.sync")

Row = tuple[Site, Limitations | None, bool]
"""A site, the quota the network holds for it (UM mode: UM's computed limits), and whether the quota list knows
the site at all (a site listed by wu/v2/site that is not a WordPress site of this network is unknown)."""
Chunk = tuple[list[Row], dict[int, Membership]]
"""Up to 100 rows and the memberships they name."""


# --------------------------------------------------------------------------- the network, as sync uses it


class SyncNetwork(Protocol):
    """The network as sync uses it, by manager (the `*API` protocols of `workflows`; a `network.Network`, and the
    unit tests' in-memory network). `sites.links_problem`, `quotas.suspend` and `schedule.apply` are plugin-stub's
    UM-mode routes, called by `um.UMFlavor` only."""

    settings: NetworkSettings

    @property
    def stats(self) -> TransportStats: ...

    @property
    def unreadable(self) -> list[DataError]:
        """Records a listing skipped (each names its id and field); the run reports each."""
        ...

    def info(self) -> NetworkInfo: ...

    @property
    def products(self) -> ProductsAPI: ...

    @property
    def sites(self) -> SiteLinksAPI: ...

    @property
    def memberships(self) -> MembershipsAPI: ...

    @property
    def quotas(self) -> SuspensionAPI: ...

    @property
    def schedule(self) -> SwapAPI: ...

    @property
    def locks(self) -> LocksAPI: ...

    @property
    def payments(self) -> PaymentsReadAPI: ...


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

T = TypeVar("T")


@dataclass
class SyncOutcome:
    header: ReportHeader
    summary: Summary
    finished_at: str
    fatal: str | None = None
    """Why the run stopped before the end (lock held, lock lost, a list that could not be read), else None."""
    interrupted: bool = False
    """The run was asked to stop (`should_stop`: SIGTERM, Ctrl-C) and stopped at a safe point."""
    signal: str | None = None
    """The signal that stopped it (SIGTERM, SIGINT), told by the CLI."""

    @property
    def interrupted_by(self) -> str | None:
        """`interrupted` as the report file and `-o json` both spell it: null, or the signal's name ("yes" when
        the stop came from elsewhere)."""
        return (self.signal or "yes") if self.interrupted else None

    @property
    def exit_code(self) -> int:
        return self.summary.exit_code


class Interrupted(WPBridgeError):
    """The run was asked to stop (a signal): raised at the next safe point, between writes."""


def scheduled_entry(change: ScheduledChange, before: dict[str, Any] | None, status: ScheduledStatus,
                    currency: str | None = None) -> ScheduledEntry:
    """The report's entry of a due scheduled change (`before`: the membership's values of the fields it sets);
    amounts shown with the currency's decimals (UM's stored `58.0000` is `58.00`), as all output shows them."""
    return ScheduledEntry(membership_id=change.membership_id, scheduled_for=iso(change.scheduled_for),
                          before=_amounts_shown(before, currency), after=_amounts_shown(dict(change.target), currency)
                          or {}, status=status)


_AMOUNTS = ("amount", "initial_amount")


def _amounts_shown(values: dict[str, Any] | None, currency: str | None) -> dict[str, Any] | None:
    if values is None:
        return None
    out = dict(values)
    for key in _AMOUNTS:
        if isinstance(out.get(key), str | int | Decimal) and not isinstance(out.get(key), bool):
            with suppress(ArithmeticError):
                out[key] = f"{shown_amount(Decimal(str(out[key])), currency):f}"
    return out


# --------------------------------------------------------------------------- the seam


class SyncFlavor(Protocol):
    """What one flavor of network does in a run (the run calls these in this order; every write is the flavor's).

    `begin` before anything is read (a flavor may refuse to start: raise a WPBridgeError), `scheduled` for each due
    scheduled change with its membership as read now (None: it does not exist), `site` for each site of the walk
    with the memberships of its chunk, `end` once the walk is over (what a flavor holds back is sent there)."""

    def begin(self, run: Run) -> None: ...

    def scheduled(self, run: Run, change: ScheduledChange, membership: Membership | None) -> None: ...

    def site(self, run: Run, row: Row, members: Mapping[int, Membership]) -> None: ...

    def end(self, run: Run) -> None: ...


# --------------------------------------------------------------------------- the run


@dataclass
class Run:
    """One sync run (see the package docstring): reporting, the lock, the summary and the walks; `flavor` decides."""

    network: SyncNetwork
    options: SyncOptions
    sink: ReportSink
    flavor: SyncFlavor
    progress: Callable[[int], None] | None = None
    should_stop: Callable[[], bool] | None = None
    summary: Summary = field(default_factory=Summary)
    catalog: list[Product] = field(default_factory=list)
    batch_limit: int = 25
    overlay: dict[int, dict[str, Any]] = field(default_factory=dict)
    """Dry run: the target of each due change that would be applied, laid over its membership for the walk."""
    lock: LockKeeper | NoLock = field(default_factory=NoLock)
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
        fatal, interrupted = self._guarded()
        self._report_unreadable()
        self.summary.elapsed_seconds = round(time.monotonic() - clock, 3)
        self.summary.requests = self.network.stats.requests - requests_before
        self.summary.exit_code = 1 if self.summary.errors else 0
        return SyncOutcome(header, self.summary, iso(datetime.now(UTC)), fatal, interrupted)

    def _guarded(self) -> tuple[str | None, bool]:
        """The run, under the lock unless a dry run: (why it stopped before the end, whether it was asked to)."""
        try:
            self.safe_point()  # a signal before the run began: stop before the lock is taken
            if self.only:
                with self.reading():
                    self._check_only()
            if self.options.dry_run:
                self._work()
            else:
                with LockKeeper(self.network.locks, self.options.lock_ttl) as keeper:
                    self.lock = keeper
                    self._work()
        except (InputError, ConfigError):
            raise
        except SyncLocked as exc:
            self.error("lock", exc)
            return str(exc), False
        except Interrupted as exc:
            return str(exc), True
        except StopNow:  # a signal while the run was only reading: given up at once (nothing half written)
            return f"sync {STOPPED} to finish", True
        except WPBridgeError as exc:
            self.error("lock" if isinstance(exc, LockLost) else "read", exc)
            return f"sync stopped: {exc}", False
        return None, False

    def _report_unreadable(self) -> None:
        """Records a listing skipped (never written): each an error of the run, once."""
        seen: set[str] = set()
        for unreadable in list(self.network.unreadable):
            if str(unreadable) not in seen:  # a record listed twice (two chunks of sites) is reported once
                seen.add(str(unreadable))
                self.error("read", unreadable)

    def safe_point(self) -> None:
        """Between writes: stop here when asked to, or when the lock is no longer this run's."""
        if self.should_stop is not None and self.should_stop():
            raise Interrupted("sync interrupted: stopped at a safe point (what was written is reported; the rest"
                              " was not sent); run it again to finish")
        self.lock.check()

    def reading(self) -> AbstractContextManager[None]:
        """A read-only stretch: a stop signal there ends the run at once (stop.StopRequest), not at a safe point."""
        return read_only(self.should_stop)

    def _reads(self, items: Iterator[T]) -> Iterator[T]:
        """`items`, each one fetched in a read-only stretch (what the caller does with it may write)."""
        while True:
            with self.reading():
                item = next(items, None)
            if item is None:
                return
            yield item

    def _work(self) -> None:
        with self.reading():
            info = self.network.info()
            self.batch_limit = max(1, min(info.batch_limit, self.options.batch_size or 10**6))
            self.quota_of = QuotaMemo(um_version=info.um_version)  # the merge rules of the network's UM release
            self.flavor.begin(self)
            self.catalog = self.network.products.catalog()
        for change, membership in self._reads(self._due_changes()):
            self.flavor.scheduled(self, change, membership)
        for rows, members in self._reads(self._filtered_chunks() if self.only else self._all_chunks()):
            self.safe_point()
            for row in rows:
                self.flavor.site(self, row, members)
            if self.progress:
                self.progress(len(rows))
        self.flavor.end(self)
        with self.reading():
            self._pending_payments()

    def _check_only(self) -> None:
        found = {m.id for m in self.network.memberships.list(id=sorted(self.only))}
        unreadable = {e.record_id for e in self.network.unreadable}
        missing = sorted(self.only - found - unreadable)  # an unreadable one exists: reported at the end, exit 1
        if missing:
            raise InputError(f"--only-membership {missing[0]}: no membership with this id", field="only_membership",
                             record_id=missing[0])

    # ------------------------------------------------------------------ reporting helpers (the flavors' too)

    def error(self, stage: ErrorStage, exc: WPBridgeError | str, *, blog_id: int | None = None,
              membership_id: int | None = None) -> None:
        self.summary.errors += 1
        if isinstance(exc, str):
            entry = ErrorEntry(stage=stage, message=exc, blog_id=blog_id, membership_id=membership_id)
        else:
            entry = ErrorEntry(stage=stage, message=str(exc), blog_id=blog_id, membership_id=membership_id,
                               status=exc.status, code=exc.code)
        log.info("%s%s: %s", stage, f" (site {blog_id})" if blog_id else "", entry.message)
        self.sink.error(entry)

    def pause(self) -> None:
        """After a write step: the `step_delay` knob (tests and demos make a run slow enough to kill)."""
        if self.options.step_delay > 0:
            time.sleep(self.options.step_delay)

    # ------------------------------------------------------------------ 1. scheduled changes that are due

    def _due_changes(self) -> Iterator[tuple[ScheduledChange, Membership | None]]:
        """The scheduled changes due by `now`, each with its membership as read now (None: it does not exist), a
        safe point before each. Materialised first: clearing changes while paging through their list would shift
        the pages. Only the changes due by `now` are held (a day's worth of downgrades), never the memberships."""
        now, only = self.options.now, self.only
        due = [c for c in self.network.schedule.list(due_before=now) if is_due(c, now, only)]
        self.summary.scheduled_changes_due = len(due)
        for chunk in chunks(due, CHUNK):
            self.safe_point()
            current = {m.id: m for m in self.network.memberships.list(id=[c.membership_id for c in chunk])}
            for change in chunk:
                self.safe_point()
                yield change, current.get(change.membership_id)

    # ------------------------------------------------------------------ 2. every site, 100 at a time

    def _members(self, rows: Iterable[Row]) -> dict[int, Membership]:
        ids = sorted({site.membership_id for site, _, _ in rows if site.membership_id is not None})
        return {m.id: m for m in self.network.memberships.list(id=ids)} if ids else {}

    def _all_chunks(self) -> Iterator[Chunk]:
        """Sites joined with their quotas, 100 at a time, with their memberships fetched `concurrency` chunks
        ahead by a small pool (the two list streams page concurrently by themselves)."""
        pairs = join_quotas(self.network.sites.list(), self.network.quotas.list())
        ahead = max(1, self.network.settings.concurrency)
        window: deque[tuple[list[Row], Future[dict[int, Membership]]]] = deque()
        with ThreadPoolExecutor(max_workers=ahead, thread_name_prefix="wpbridge-sync") as pool:
            try:
                for rows in chunks(pairs, CHUNK):
                    window.append((rows, pool.submit(self._members, rows)))
                    if len(window) > ahead:
                        done, future = window.popleft()
                        yield done, future.result()
                while window:
                    done, future = window.popleft()
                    yield done, future.result()
            finally:
                for _, future in window:
                    future.cancel()

    def _filtered_chunks(self) -> Iterator[Chunk]:
        """`--only-membership`: the sites of those memberships, with their quotas read by id."""
        sites = sorted((s for mid in sorted(self.only) for s in self.network.sites.list(membership_id=mid)),
                       key=lambda s: s.blog_id)
        for group in chunks(sites, CHUNK):
            stored = dict(self.network.quotas.list([s.blog_id for s in group]))
            rows = [(s, stored.get(s.blog_id), s.blog_id in stored) for s in group]
            yield rows, self._members(rows)

    # ------------------------------------------------------------------ 3. change payments left unpaid

    def _pending_payments(self) -> None:
        """One read of the network's pending payments; each change payment past the grace is a finding. A list
        that cannot be read is an error of its own: the rest of the run stands."""
        self.safe_point()
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
            self.error("payments", f"could not read the pending payments: {exc}")
