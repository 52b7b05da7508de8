"""`net.usage`: what each site uses now (posts by type, disk, users by role, visits, custom domains), from
plugin-stub's `GET /wpbridge/v1/usage`."""

from __future__ import annotations

from collections.abc import Iterable

from ..models import SiteUsage, parse
from ..rest.transport import route
from .base import CHUNK, COMPANION, Context, chunks, joined


class UsageManager:
    """The sites' usage of one network."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def get(self, blog_ids: Iterable[int]) -> dict[int, SiteUsage]:
        """What each site uses now, 100 sites per request; unknown sites are left out."""
        out: dict[int, SiteUsage] = {}
        for chunk in chunks(blog_ids, CHUNK):
            data = self._ctx.transport.get(route(COMPANION, "usage"), {"blog_ids": joined(chunk)}).data
            rows = data.get("usage") if isinstance(data, dict) else data
            for row in rows or []:
                usage = parse(SiteUsage, row)
                out[usage.blog_id] = usage
        return out

