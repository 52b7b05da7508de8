"""`sync` on a network in stub mode: wpbridge is the judge. A due scheduled change is written to its membership
then cleared; every site whose stored quota differs from its target (`rules.plan_site`) gets it, in batches of
the server's batch limit, and what was written is read back (one request per 100 sites)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from ...errors import DataError, WPBridgeError
from ...models import Limitations, Membership, ScheduledChange
from ..membership_state import with_state
from .core import Row, Run, scheduled_entry
from .report import ChangeEntry
from .rules import CHUNK, SKIP_REASONS, QuotaChange, already_applied, plan_site


class StubFlavor:
    """Writes memberships and quotas (see the module docstring). Holds the quota writes not sent yet and the
    written quotas not read back yet: both bounded (a batch, 100 sites)."""

    def __init__(self) -> None:
        self.pending: dict[int, QuotaChange] = {}
        self.to_verify: dict[int, Limitations] = {}

    def begin(self, run: Run) -> None:
        pass

    def end(self, run: Run) -> None:
        self._flush(run)
        self._verify(run)

    # ------------------------------------------------------------------ 1. scheduled changes that are due

    def scheduled(self, run: Run, change: ScheduledChange, membership: Membership | None) -> None:
        mid, target = change.membership_id, dict(change.target)
        if membership is None:
            run.error("scheduled_change", f"membership {mid} has a due scheduled change but does not exist",
                      membership_id=mid)
            run.sink.scheduled(scheduled_entry(change, None, "failed"))
            return
        data, currency = membership.model_dump(mode="json"), membership.currency
        before = {key: data.get(key) for key in target}
        if run.options.dry_run:
            run.overlay[mid] = target
            run.sink.scheduled(scheduled_entry(change, before, "would-apply", currency))
            return
        if not already_applied(membership, target):
            try:
                run.network.memberships.update(mid, target)
            except WPBridgeError as exc:
                run.error("scheduled_change", exc, membership_id=mid)
                run.sink.scheduled(scheduled_entry(change, before, "failed", currency))
                return
            run.summary.memberships_updated += 1
            run.pause()
        run.summary.scheduled_changes_applied += 1
        run.sink.scheduled(scheduled_entry(change, before, "applied", currency))
        try:
            run.network.schedule.delete(mid)
        except WPBridgeError as exc:
            run.error("scheduled_change", f"membership {mid}: applied but not cleared ({exc}); the next run"
                      " clears it without writing it again", membership_id=mid)
            return
        run.summary.scheduled_changes_cleared += 1

    # ------------------------------------------------------------------ 2. quotas

    def site(self, run: Run, row: Row, members: Mapping[int, Membership]) -> None:
        site, current, known = row
        run.summary.sites_checked += 1
        membership = members.get(site.membership_id) if site.membership_id is not None else None
        if membership is not None and membership.id in run.overlay:
            membership = with_state(membership, run.overlay[membership.id])
        if not known:  # listed by wu/v2/site but not a WordPress site of this network (a stale UM record)
            run.summary.sites_skipped += 1
            return
        try:
            change, reason = plan_site(site, current, membership, run.catalog, run.options.inactive_policy,
                                       run.quota_of)
        except WPBridgeError as exc:
            run.error("membership", exc, blog_id=site.blog_id, membership_id=site.membership_id)
            return
        if change is None:
            if reason in SKIP_REASONS:
                run.summary.sites_skipped += 1
            return
        run.summary.changes += 1
        self.pending[site.blog_id] = change
        if len(self.pending) >= run.batch_limit:
            self._flush(run)

    def _flush(self, run: Run) -> None:
        """Send the pending quota changes (one batch), record each outcome, and read back every 100 written."""
        if not self.pending:
            return
        batch, self.pending = self.pending, {}
        run.safe_point()
        if run.options.dry_run:
            for change in batch.values():
                run.sink.change(_entry(change, "would-write"))
            return
        outcomes = self._write_batch(run, batch)
        for bid, change in batch.items():
            self._record(run, change, outcomes.get(bid, DataError(f"site {bid}: the batch reply left this write"
                                                                  " out")))
        run.pause()
        if len(self.to_verify) >= CHUNK:
            self._verify(run)

    @staticmethod
    def _write_batch(run: Run, batch: Mapping[int, QuotaChange]) -> dict[int, WPBridgeError | None]:
        """{blog_id: None (written) or the error}; a batch that failed whole (after the REST layer's retries, the
        only ones) fails every item with its error."""
        try:
            result = run.network.quotas.put_many({bid: c.after for bid, c in batch.items()})
        except WPBridgeError as exc:
            return dict.fromkeys(batch, exc)
        return {item.key: (None if item.ok else item.error) for item in result}

    def _record(self, run: Run, change: QuotaChange, err: WPBridgeError | None) -> None:
        if err is None:
            run.summary.quota_writes += 1
            run.sink.change(_entry(change, "written"))
            self.to_verify[change.blog_id] = change.after
        else:
            run.error("quota_write", err, blog_id=change.blog_id, membership_id=change.membership_id)
            run.sink.change(_entry(change, "failed"))

    def _verify(self, run: Run) -> None:
        """Read back what was written (one request per 100 sites) and report every site that differs."""
        if not self.to_verify:
            return
        expected, self.to_verify = self.to_verify, {}
        try:
            mismatches = run.network.quotas.verify(expected)
        except WPBridgeError as exc:
            run.error("verify", f"could not read back {len(expected)} written quotas: {exc}")
            return
        run.summary.verified += len(expected) - len(mismatches)
        for mismatch in mismatches:
            run.error("verify", f"read back after writing: {mismatch}", blog_id=mismatch.blog_id)


def _entry(change: QuotaChange, status: Literal["written", "failed", "would-write"]) -> ChangeEntry:
    return ChangeEntry(
        blog_id=change.blog_id, membership_id=change.membership_id, reason=change.reason,
        before=change.before.to_wire() if change.before is not None else None, after=change.after.to_wire(),
        status=status,
    )
