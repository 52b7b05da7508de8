"""`net.schedule`: each membership's scheduled change (a downgrade due at the end of its cycle), plugin-stub's
`wpbridge/v1/memberships/{id}/scheduled-change` (in UM mode UM's own scheduled swap)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from ..encoding import iso_utc
from ..errors import NotFound
from ..models import ScheduledChange, parse
from ..rest.batch import BatchItem
from ..rest.transport import route
from .base import COMPANION, Context, as_dict


def scheduled_change_route(membership_id: int) -> str:
    """The route of a membership's scheduled change (`GET`, absolute `PUT`, `DELETE`)."""
    return route(COMPANION, "memberships", membership_id, "scheduled-change")


def put_item(key: Any, membership_id: int, body: Mapping[str, Any]) -> BatchItem:
    """The `/batch/v1` item that stores a membership's scheduled change (`body`: scheduled_for, target, note)."""
    return BatchItem(key, "PUT", scheduled_change_route(membership_id), dict(body))


class ScheduleManager:
    """The scheduled changes of one network."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def get(self, membership_id: int) -> ScheduledChange | None:
        """The membership's scheduled change; None when it has none."""
        try:
            data = self._ctx.transport.get(scheduled_change_route(membership_id)).data
        except NotFound as exc:
            if exc.code == "wpbridge_no_scheduled_change":
                return None
            raise
        return parse(ScheduledChange, data)

    def list(self, *, due_before: datetime | None = None,
             membership_id: int | None = None) -> Iterator[ScheduledChange]:
        params = {"due_before": iso_utc(due_before) if due_before else None, "membership_id": membership_id}
        for item in self._ctx.companion_rows("scheduled-changes", params=params, id_key="membership_id",
                                             sorted_by_key=False, concurrency=1):
            yield parse(ScheduledChange, item)

    def put(self, change: ScheduledChange, *, force: bool = False) -> ScheduledChange:
        """Store the membership's scheduled change (absolute: it replaces the one stored; safe to resend).
        `force` (UM mode): a plan of another group, an inactive plan or an unoffered add-on is stored anyway (sent
        only for `change apply --force`; without it plugin-stub refuses them, 400 naming the field)."""
        body: dict[str, Any] = {"scheduled_for": change.scheduled_for, "target": change.target, "note": change.note}
        if force:
            body["force"] = True
        data = self._ctx.transport.request("PUT", scheduled_change_route(change.membership_id), json_body=body).data
        return parse(ScheduledChange, data)

    def delete(self, membership_id: int) -> None:
        self._ctx.transport.request("DELETE", scheduled_change_route(membership_id))

    def apply(self, membership_id: int) -> dict[str, Any]:
        """UM mode: apply the membership's due scheduled swap through UM's own swap code (plugin-stub's
        `POST .../scheduled-change/apply`). Conflict `wpbridge_not_due` when it is not due yet."""
        return as_dict(self._ctx.transport.request(
            "POST", route(COMPANION, "memberships", membership_id, "scheduled-change", "apply"), json_body={}
        ).data)
