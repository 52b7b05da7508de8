"""Plan changes for one membership, end to end: `options`, `quote`, `apply` (and `describe`, what it holds now).

The work is split by concern: `change_request` (parsing a request into a Cart), `change_quote` (reading and
pricing), `change_apply` (planning, writing, read-back), `change_view` (how it reads to a person). This module
keeps `describe` and re-exports the public names, so `workflows.change.apply(...)` etc. keep working."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..billing import CatalogIndex
from ..limits import differing_modules, effective_limitations
from ..models import Limitations, Membership, ScheduledChange, Site, SiteUsage
from . import NetworkReader
from .change_apply import (
    AfterWrite,
    ApplyResult,
    ApplyStatus,
    Check,
    Confirm,
    Write,
    WriteKind,
    apply,
    apply_quote,
    plan_writes,
)
from .change_quote import OptionsResult, QuoteResult, load_membership, options, owned_sites
from .change_removal import REMOVAL_MODES, RemovalMode, quote
from .change_request import (
    FORCE_HINT,
    INPUT_ERROR_CODES,
    UNITS,
    AddonRequest,
    PeriodRequest,
    find_product,
    parse_addon,
    parse_at,
    parse_period,
)
from .change_view import product_name, product_ref, quota_changes, state_differences
from .membership_state import with_state

__all__ = [
    "FORCE_HINT", "INPUT_ERROR_CODES", "REMOVAL_MODES", "UNITS", "AddonRequest", "AfterWrite", "ApplyResult",
    "ApplyStatus", "Check", "Confirm", "MembershipDetail", "OptionsResult", "PeriodRequest", "QuoteResult",
    "RemovalMode", "SiteDetail", "Write", "WriteKind", "apply", "apply_quote", "describe", "find_product",
    "load_membership", "options", "owned_sites", "parse_addon", "parse_at", "parse_period", "plan_writes",
    "product_name", "product_ref", "quota_changes", "quote", "state_differences", "with_state",
]


@dataclass(frozen=True)
class SiteDetail:
    site: Site
    quota: Limitations | None
    expected: Limitations
    usage: SiteUsage | None

    @property
    def in_sync(self) -> bool:
        return not differing_modules(self.expected, self.quota)


@dataclass(frozen=True)
class MembershipDetail:
    """A membership with its plan, add-ons, sites (stored and expected quota, usage) and scheduled change."""

    membership: Membership
    catalog: CatalogIndex
    effective: Limitations
    sites: list[SiteDetail]
    scheduled: ScheduledChange | None

    def as_dict(self) -> dict[str, Any]:
        m, idx = self.membership, self.catalog
        return {
            "membership": m.model_dump(mode="json"),
            "plan": product_ref(idx, m.plan_id),
            "addons": [{**product_ref(idx, pid), "quantity": qty} for pid, qty in m.addon_products.items()],
            "effective_quota": self.effective.to_wire(),
            "sites": [
                {
                    "blog_id": d.site.blog_id, "domain": d.site.domain, "path": d.site.path, "title": d.site.title,
                    "quota": d.quota.to_wire() if d.quota is not None else None,
                    "quota_in_sync": d.in_sync,
                    "usage": d.usage.model_dump(mode="json") if d.usage is not None else None,
                }
                for d in self.sites
            ],
            "scheduled_change": self.scheduled.model_dump(mode="json") if self.scheduled is not None else None,
        }


def describe(network: NetworkReader, membership_id: int) -> MembershipDetail:
    """Everything `memberships show` prints, read in a handful of requests."""
    m = load_membership(network, membership_id)
    idx = CatalogIndex(network.products.catalog())
    sites = owned_sites(network, m.id)
    ids = [s.blog_id for s in sites]
    quotas = dict(network.quotas.list(ids)) if ids else {}
    usage = network.usage.get(ids) if ids else {}
    release = network.info().um_version  # UM's merge rules differ by release
    details = [SiteDetail(s, quotas.get(s.blog_id), effective_limitations(m, idx, site=s, um_version=release),
                          usage.get(s.blog_id)) for s in sites]
    return MembershipDetail(m, idx, effective_limitations(m, idx, um_version=release), details,
                            network.schedule.get(m.id))
