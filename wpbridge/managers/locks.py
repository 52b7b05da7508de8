"""`net.locks`: plugin-stub's named locks (`wpbridge/v1/locks/{name}`): one sync at a time, one change at a time
per membership."""

from __future__ import annotations

from typing import Any

from ..errors import Conflict
from ..rest.transport import route
from .base import COMPANION, Context, as_dict


class LockManager:
    """The named locks of one network (each held by an owner for a time to live, in seconds)."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def acquire(self, name: str, owner: str, ttl: int) -> dict[str, Any]:
        """Take or refresh a named lock; Conflict (with `data['owner']`, `data['expires_at']`) when another owner
        holds it. Resending is safe: the same owner only refreshes its own lock."""
        try:
            data = self._ctx.transport.request("POST", route(COMPANION, "locks", name),
                                               json_body={"owner": owner, "ttl": ttl}, idempotent=True).data
        except Conflict as exc:
            holder, until = exc.data.get("owner"), exc.data.get("expires_at")
            exc.message = f"lock '{name}' is held by another run ({holder}) until {until}"
            raise
        return as_dict(data)

    def release(self, name: str, owner: str) -> None:
        self._ctx.transport.request("DELETE", route(COMPANION, "locks", name), params={"owner": owner})
