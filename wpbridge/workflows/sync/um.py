"""`sync` in UM mode: Ultimate Multisite is the system of record and the enforcer, so a run writes almost nothing.

What one run does, in order (under the same network lock as a stub-mode sync; a dry run takes none and writes
nothing):
1. Checks that the sites' membership links can be read (plugin-stub's `GET /wpbridge/v1/sites`). If they cannot,
   the run stops before any write: a site whose link is unknown is never touched (DESIGN §3.3).
2. Applies UM's scheduled swaps that are overdue (networks whose WP-cron does not run): each through UM's own
   swap code (`POST .../scheduled-change/apply`: `Membership_Manager::async_membership_swap`), never by writing
   the membership itself. UM deletes the swap once applied, so a rerun finds nothing due.
3. Walks every site (blog_id order, 100 per request, with UM's computed limits of the same sites from
   `GET /wpbridge/v1/quotas`, and the memberships of each 100 sites in one request) and reports every
   customer-owned site whose limits computed by UM differ from `effective_limitations` (both values:
   `before` = UM's, `after` = wpbridge's; status `differs`). Nothing is written for them: UM is the judge.
4. Applies the inactive-membership policy: with `suspend`, a site of an expired or cancelled membership gets the
   suspended limits as its own UM override (plugin-stub's `PUT .../suspension`, which keeps the site's previous
   override aside); a suspended site whose membership is active again gets its previous override back. With
   `keep` nothing is written. Both writes are absolute, so a rerun writes nothing new.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Literal

from ...errors import Conflict, DataError, NotFound, WPBridgeError
from ...limits import differing_modules
from ...models import Limitations, Membership, ScheduledChange, Site
from ..membership_state import with_state
from .core import Row, Run, scheduled_entry
from .report import ChangeEntry, ChangeStatus
from .rules import INACTIVE_STATUSES, SUSPENDED_QUOTA

log = logging.getLogger("wpbridge.sync")


class UMFlavor:
    """One sync run's decisions on a network in UM mode (see the module docstring); the walks, the lock, the
    report and the summary are `core.Run`'s."""

    def begin(self, run: Run) -> None:
        problem = run.network.sites.links_problem()
        if problem is not None:
            raise DataError(f"{problem}; nothing written")

    def end(self, run: Run) -> None:
        pass

    # ------------------------------------------------------------------ 1. UM's overdue scheduled swaps

    def scheduled(self, run: Run, change: ScheduledChange, membership: Membership | None) -> None:
        mid, target = change.membership_id, dict(change.target)
        before, currency = None, membership.currency if membership is not None else None
        if membership is not None:
            data = membership.model_dump(mode="json")
            before = {key: data.get(key) for key in target}
        if run.options.dry_run:
            run.overlay[mid] = target
            run.sink.scheduled(scheduled_entry(change, before, "would-apply", currency))
            return
        try:
            run.network.schedule.apply(mid)
        except NotFound:
            log.info("membership %s: its swap was applied meanwhile (by UM's own cron)", mid)
            return
        except Conflict as exc:
            if exc.code == "wpbridge_not_due":  # the server's clock is behind ours: UM applies it later
                log.info("membership %s: swap not due yet on the server's clock", mid)
                run.summary.scheduled_changes_not_due_on_server += 1
                return
            run.error("scheduled_change", exc, membership_id=mid)
            run.sink.scheduled(scheduled_entry(change, before, "failed", currency))
            return
        except WPBridgeError as exc:
            run.error("scheduled_change", exc, membership_id=mid)
            run.sink.scheduled(scheduled_entry(change, before, "failed", currency))
            return
        run.summary.scheduled_changes_applied += 1
        run.summary.scheduled_changes_cleared += 1
        run.summary.memberships_updated += 1
        run.sink.scheduled(scheduled_entry(change, before, "applied", currency))
        run.pause()

    # ------------------------------------------------------------------ 2. UM's limits vs wpbridge's

    def site(self, run: Run, row: Row, members: Mapping[int, Membership]) -> None:
        site, um_limits, known = row
        run.summary.sites_checked += 1
        mid = site.membership_id
        membership = members.get(mid) if mid is not None else None
        if mid is None or not known or not site.belongs_to(mid) or membership is None:
            # the safety invariant (unknown link, not customer-owned, main site), or no such membership (or an
            # unreadable one: reported at the end)
            run.summary.sites_skipped += 1
            return
        previewed = mid in run.overlay  # dry run: a swap UM has not applied yet; its limits are not compared
        if previewed:
            membership = with_state(membership, run.overlay[mid])
        if self._policy(run, site, membership, um_limits) or previewed:
            return
        try:
            expected = run.quota_of(membership, run.catalog, site)
        except WPBridgeError as exc:
            run.error("membership", exc, blog_id=site.blog_id, membership_id=mid)
            return
        if um_limits == expected or not differing_modules(expected, um_limits):
            return
        run.summary.differences += 1
        run.sink.change(ChangeEntry(blog_id=site.blog_id, membership_id=mid, reason="um-differs",
                                    before=um_limits.to_wire() if um_limits is not None else None,
                                    after=expected.to_wire(), status="differs"))

    # ------------------------------------------------------------------ 3. the inactive-membership policy

    def _policy(self, run: Run, site: Site, membership: Membership, um_limits: Limitations | None) -> bool:
        """Suspend a site of an inactive membership (policy `suspend`), or restore a suspended one whose
        membership is active again; True when it did (the site's limits are then not compared)."""
        inactive = membership.status in INACTIVE_STATUSES
        if inactive and run.options.inactive_policy == "suspend" and not site.suspended:
            self._suspension(run, site, membership, True, um_limits)
            return True
        if not inactive and site.suspended:
            self._suspension(run, site, membership, False, um_limits)
            return True
        return False

    @staticmethod
    def _suspension(run: Run, site: Site, membership: Membership, suspend: bool,
                    um_limits: Limitations | None) -> None:
        reason: Literal["suspended", "restored"] = "suspended" if suspend else "restored"
        after = SUSPENDED_QUOTA if suspend else Limitations()
        before = um_limits.to_wire() if um_limits is not None else None
        run.summary.changes += 1

        def entry(status: ChangeStatus) -> ChangeEntry:
            return ChangeEntry(blog_id=site.blog_id, membership_id=membership.id, reason=reason, before=before,
                               after=after.to_wire(), status=status)

        if run.options.dry_run:
            run.sink.change(entry("would-write"))
            return
        try:
            run.network.quotas.suspend(site.blog_id, suspend, SUSPENDED_QUOTA if suspend else None)
        except WPBridgeError as exc:
            run.error("quota_write", exc, blog_id=site.blog_id, membership_id=membership.id)
            run.sink.change(entry("failed"))
            return
        run.summary.quota_writes += 1
        run.sink.change(entry("written"))
        run.pause()
