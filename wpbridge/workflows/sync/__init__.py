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

The package: `core` (the run: lock, safe points, the walks, the report; `SyncFlavor` is the seam), `stub` and `um`
(what each flavor of network does with a due change and a site; `run_sync` picks one with the network's
`managers.flavor.Flavor`, chosen once from `info()`),
`rules` (pure: a site's target quota, the merge join, due-ness) and `lock` (the lock keeper).
"""

from __future__ import annotations

from collections.abc import Callable

from ...managers.flavor import flavor_of
from .core import Interrupted, Run, SyncFlavor, SyncNetwork, SyncOptions, SyncOutcome
from .lock import LOCK_NAME, LockKeeper, LockLost, SyncLocked
from .report import NullSink, ReportSink
from .rules import (
    CHUNK,
    INACTIVE_POLICIES,
    INACTIVE_STATUSES,
    SKIP_REASONS,
    SUSPENDED_QUOTA,
    QuotaChange,
    QuotaMemo,
    already_applied,
    chunks,
    is_due,
    join_quotas,
    overdue_payment,
    plan_site,
    target_quota,
)
from .stop import StopNow, StopRequest, read_only
from .stub import StubFlavor
from .um import UMFlavor


def run_sync(network: SyncNetwork, options: SyncOptions, *, sink: ReportSink | None = None,
             progress: Callable[[int], None] | None = None,
             should_stop: Callable[[], bool] | None = None) -> SyncOutcome:
    """One sync run. Raises InputError for a bad `only_memberships`; every other failure is in the outcome.

    `should_stop()` is asked at every safe point (between writes, between chunks of sites); once it says True the
    run stops there: what was written is reported, the changes not yet sent are not, the lock is released and the
    outcome is marked `interrupted`. The flavor is chosen here, once: on a network in UM mode the run is
    `um.UMFlavor`'s (UM computes and enforces limits; nothing is reconciled), else `stub.StubFlavor`'s."""
    stub: SyncFlavor = StubFlavor()
    try:
        with read_only(should_stop):
            flavor = flavor_of(network.info()).pick(stub=stub, um=UMFlavor())
    except StopNow:
        flavor = stub  # never used: the run stops at its first safe point
    return Run(network, options, sink or NullSink(), flavor, progress, should_stop).execute()


__all__ = [
    "CHUNK",
    "INACTIVE_POLICIES",
    "INACTIVE_STATUSES",
    "LOCK_NAME",
    "SKIP_REASONS",
    "SUSPENDED_QUOTA",
    "Interrupted",
    "LockKeeper",
    "LockLost",
    "QuotaChange",
    "QuotaMemo",
    "Run",
    "StopNow",
    "StopRequest",
    "StubFlavor",
    "SyncFlavor",
    "SyncLocked",
    "SyncNetwork",
    "SyncOptions",
    "SyncOutcome",
    "UMFlavor",
    "already_applied",
    "chunks",
    "is_due",
    "join_quotas",
    "overdue_payment",
    "plan_site",
    "run_sync",
    "target_quota",
]
