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
from collections.abc import Iterator, Mapping, Sequence
from typing import Literal

from ..encoding import iso_utc as iso
from ..errors import Conflict, DataError, NotFound, WPBridgeError
from ..limits import differing_modules
from ..models import Limitations, Membership, Site
from .membership_state import with_state
from .sync import (
    CHUNK,
    INACTIVE_STATUSES,
    SUSPENDED_QUOTA,
    QuotaMemo,
    _Run,
    chunks,
    join_quotas,
)
from .sync_report import ChangeEntry, ScheduledEntry

log = logging.getLogger("wpbridge.sync")

Row = tuple[Site, Limitations | None, bool]


class UMRun(_Run):
    """One sync run on a network in UM mode (see the module docstring); reporting, lock and summary are
    `sync._Run`'s."""

    def _work(self) -> None:
        problem = self.network.site_links_problem()  # type: ignore[attr-defined]
        if problem is not None:
            raise DataError(f"{problem}; nothing written")
        self.quota_of = QuotaMemo(um_version=self.network.info().um_version)  # UM's merge rules differ by release
        self.catalog = self.network.catalog()
        self._apply_overdue_swaps()
        self._compare_sites()

    # ------------------------------------------------------------------ 1. UM's overdue scheduled swaps

    def _apply_overdue_swaps(self) -> None:
        for change, membership in self._due_changes():
            mid, target = change.membership_id, dict(change.target)
            before = None
            if membership is not None:
                data = membership.model_dump(mode="json")
                before = {key: data.get(key) for key in target}
            when = iso(change.scheduled_for)
            if self.options.dry_run:
                self.overlay[mid] = target
                self.sink.scheduled(ScheduledEntry(mid, when, before, target, "would-apply"))
                continue
            try:
                self.network.apply_scheduled_change(mid)  # type: ignore[attr-defined]
            except NotFound:
                log.info("membership %s: its swap was applied meanwhile (by UM's own cron)", mid)
                continue
            except Conflict as exc:
                if exc.code == "wpbridge_not_due":  # the server's clock is behind ours: UM applies it later
                    log.info("membership %s: swap not due yet on the server's clock", mid)
                    continue
                self._error("scheduled_change", exc, membership_id=mid)
                self.sink.scheduled(ScheduledEntry(mid, when, before, target, "failed"))
                continue
            except WPBridgeError as exc:
                self._error("scheduled_change", exc, membership_id=mid)
                self.sink.scheduled(ScheduledEntry(mid, when, before, target, "failed"))
                continue
            self.summary.scheduled_changes_applied += 1
            self.summary.scheduled_changes_cleared += 1
            self.summary.memberships_updated += 1
            self.sink.scheduled(ScheduledEntry(mid, when, before, target, "applied"))
            self._pause()

    # ------------------------------------------------------------------ 2. UM's limits vs wpbridge's

    def _rows(self) -> Iterator[list[Row]]:
        if self.only:
            sites = sorted((s for mid in sorted(self.only) for s in self.network.sites(membership_id=mid)),
                           key=lambda s: s.blog_id)
            for group in chunks(sites, CHUNK):
                held = dict(self.network.site_quotas([s.blog_id for s in group]))
                yield [(s, held.get(s.blog_id), s.blog_id in held) for s in group]
            return
        yield from chunks(join_quotas(self.network.sites(), self.network.site_quotas()), CHUNK)

    def _compare_sites(self) -> None:
        for chunk in self._rows():
            self._safe_point()
            ids = sorted({s.membership_id for s, _, _ in chunk if s.membership_id is not None})
            members = {m.id: m for m in self.network.memberships(id=ids)} if ids else {}
            for site, um_limits, known in chunk:
                self._consider_um(site, um_limits, known, members)
            if self.progress:
                self.progress(len(chunk))

    def _consider_um(self, site: Site, um_limits: Limitations | None, known: bool,
                     members: Mapping[int, Membership]) -> None:
        self.summary.sites_checked += 1
        mid = site.membership_id
        if mid is None or not known or not site.belongs_to(mid):
            self.summary.sites_skipped += 1  # the safety invariant: unknown link, not customer-owned, main site
            return
        membership = members.get(mid)
        if membership is None:
            self.summary.sites_skipped += 1  # no such membership (or unreadable: reported at the end)
            return
        previewed = mid in self.overlay  # dry run: a swap UM has not applied yet; its limits are not compared
        if previewed:
            membership = with_state(membership, self.overlay[mid])
        inactive = membership.status in INACTIVE_STATUSES
        if inactive and self.options.inactive_policy == "suspend" and not site.suspended:
            self._suspension(site, membership, True, um_limits)
            return
        if not inactive and site.suspended:
            self._suspension(site, membership, False, um_limits)
            return
        if previewed:
            return
        try:
            expected = self.quota_of(membership, self.catalog, site)
        except WPBridgeError as exc:
            self._error("membership", exc, blog_id=site.blog_id, membership_id=mid)
            return
        if um_limits == expected or not differing_modules(expected, um_limits):
            return
        self.summary.differences += 1
        self.sink.change(ChangeEntry(site.blog_id, mid, "um-differs",
                                     um_limits.to_wire() if um_limits is not None else None, expected.to_wire(),
                                     "differs"))

    # ------------------------------------------------------------------ 3. the inactive-membership policy

    def _suspension(self, site: Site, membership: Membership, suspend: bool, um_limits: Limitations | None) -> None:
        reason: Literal["suspended", "restored"] = "suspended" if suspend else "restored"
        after = SUSPENDED_QUOTA if suspend else Limitations()
        before = um_limits.to_wire() if um_limits is not None else None
        self.summary.changes += 1
        if self.options.dry_run:
            self.sink.change(ChangeEntry(site.blog_id, membership.id, reason, before, after.to_wire(),
                                         "would-write"))
            return
        try:
            self.network.put_site_suspension(site.blog_id, suspend,  # type: ignore[attr-defined]
                                             SUSPENDED_QUOTA if suspend else None)
        except WPBridgeError as exc:
            self._error("quota_write", exc, blog_id=site.blog_id, membership_id=membership.id)
            self.sink.change(ChangeEntry(site.blog_id, membership.id, reason, before, after.to_wire(), "failed"))
            return
        self.summary.quota_writes += 1
        self.sink.change(ChangeEntry(site.blog_id, membership.id, reason, before, after.to_wire(), "written"))
        self._pause()


__all__: Sequence[str] = ("UMRun",)
