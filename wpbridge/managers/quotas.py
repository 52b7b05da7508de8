"""`net.quotas`: each site's stored quota (plugin-stub's `wpbridge/v1/sites/{id}/quota` and `wpbridge/v1/quotas`;
in UM mode the limits UM computed for the site), written singly or through `/batch/v1`, and UM mode's suspension
of a site."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..limits import differing_modules
from ..models import Limitations, LimitationsField, WireModel, parse
from ..rest.batch import BatchItem, BatchResult, run_batch
from ..rest.transport import route
from .base import CHUNK, COMPANION, Context, chunks, joined


class SiteQuota(WireModel):
    """One row of `GET /wpbridge/v1/quotas`: a site and its effective quota (None: none written)."""

    blog_id: int
    quota: LimitationsField | None = None


@dataclass(frozen=True)
class Mismatch:
    """A site whose stored quota differs from what was expected (`actual` None: no quota or no such site)."""

    blog_id: int
    expected: Limitations
    actual: Limitations | None
    modules: tuple[str, ...]

    def __str__(self) -> str:
        if self.actual is None:
            return f"site {self.blog_id}: no quota stored"
        return f"site {self.blog_id}: quota differs in {', '.join(self.modules)}"


def quota_route(blog_id: int) -> str:
    """The route of one site's quota (`GET`, and `PUT` of its absolute value)."""
    return route(COMPANION, "sites", blog_id, "quota")


class QuotaManager:
    """The sites' quotas of one network."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def get(self, blog_id: int) -> Limitations:
        data = self._ctx.transport.get(quota_route(blog_id)).data
        return parse(SiteQuota, {"blog_id": blog_id, "quota": data or {}}).quota or Limitations()

    def list(self, blog_ids: Iterable[int] | None = None) -> Iterator[tuple[int, Limitations | None]]:
        """Every site's stored quota (None when none was written), paginated; or those of `blog_ids`."""
        if blog_ids is None:
            yield from self._rows({})
            return
        for chunk in chunks(blog_ids, CHUNK):
            yield from self._rows({"blog_ids": joined(chunk)})

    def _rows(self, params: Mapping[str, Any]) -> Iterator[tuple[int, Limitations | None]]:
        for row in self._ctx.companion_rows("quotas", params=params, id_key="blog_id"):
            quota = parse(SiteQuota, row)
            yield quota.blog_id, quota.quota

    def put(self, blog_id: int, limits: Limitations) -> Limitations:
        """PUT one site's absolute quota (safe to resend)."""
        data = self._ctx.transport.request("PUT", quota_route(blog_id), json_body=limits.to_wire()).data
        return parse(SiteQuota, {"blog_id": blog_id, "quota": data or {}}).quota or Limitations()

    def put_many(self, quotas: Mapping[int, Limitations], *, batch_limit: int | None = None) -> BatchResult:
        """Write many sites' quotas through `/batch/v1`, in chunks of the server's batch limit (or a smaller
        `batch_limit`); a result per site, in the order given."""
        items = [BatchItem(blog_id, "PUT", quota_route(blog_id), limits.to_wire())
                 for blog_id, limits in quotas.items()]
        limit = self._ctx.batch_limit()
        return run_batch(self._ctx.transport, items, limit=min(limit, batch_limit) if batch_limit else limit)

    def verify(self, expected: Mapping[int, Limitations]) -> builtins.list[Mismatch]:
        """Read the quotas back and list the sites whose stored quota differs from `expected`."""
        actual = dict(self.list(expected.keys()))
        out = []
        for blog_id, want in expected.items():
            have = actual.get(blog_id)
            differ = differing_modules(want, have)
            if differ:
                out.append(Mismatch(blog_id, want, have, differ))
        return out

    def suspend(self, blog_id: int, suspended: bool, limits: Limitations | None = None) -> None:
        """UM mode: suspend a site (its own UM override becomes `limits`; the one it had is kept aside) or lift
        the suspension (the kept override comes back). Absolute, so safe to resend."""
        body: dict[str, Any] = {"suspended": suspended}
        if suspended:
            body["limitations"] = (limits or Limitations()).to_wire()
        self._ctx.transport.request("PUT", route(COMPANION, "sites", blog_id, "suspension"), json_body=body)
