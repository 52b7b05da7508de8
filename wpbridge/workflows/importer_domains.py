"""`wpbridge import` of the domains mapped to the sites (issue 22): UM's Domain records, carried with their site.

An export of an Ultimate Multisite network has a `domains` section: every Domain record (`elena.example` on blog 9:
active, primary, secure, stage), by the source's blog ids. Each is imported onto the target's copy of its site,
after the sites are written, and matched on the target by its name (hosts compare without case):

- `create`: no record of that name on the target (written as the source had it: a `done` domain is not checked
  again by UM; one still `checking-dns` goes on being checked there);
- `unchanged` / `conflict` / `update` (`--update`): the target maps it to the same site, with the same or other
  flags and stage;
- `conflict`, never resolved by `--update`: the target maps it to another site (an import never moves a domain), or
  the domain's site is itself a conflict (another membership's site, another customer's record).

What is not carried is named in the plan and the report's `not_kept`: a domain of a site the import leaves out (the
main site, a site of no membership), every domain when the target keeps none (plugin-stub alone: said when its
site is imported, not again on a re-run), a name that is
not a domain UM keeps, and (refused, never written) the target network's own host, a name under it or a site's
host on it: mapped to a customer's site, it would take the network or that site over. UM's own record of a
subdomain site's host (UM 2.4's source makes one when a subdomain site is created,
`Domain_Manager::create_domain_record_for_site`) is not carried: it names the source network's host, and the
target's UM would make its own for the site it creates.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from ..managers.domains import WRITTEN
from ..mapped_domains import MappedDomain
from .importer_codes import write_step
from .importer_records import Issue, SrcSite, unique_records

if TYPE_CHECKING:
    from .importer_apply import Applier
    from .importer_plan import Action, Plan, Step
    from .importer_target import TargetState

UM_DOMAIN_RE = re.compile(r"^(?!-)(?:(?:[a-zA-Z\d][a-zA-Z\d-]{0,61})?[a-zA-Z\d]\.){1,126}(?!\d+)[a-zA-Z\d]{1,63}$")
"""UM's `domain` validation rule (inc/helpers/validation-rules/class-domain.php): what a Domain record may name."""


class DomainsAPI(Protocol):
    """`net.domains` as an import reads and writes it (`managers/domains.py`)."""

    @property
    def kept(self) -> bool: ...

    def all(self) -> list[MappedDomain]: ...

    def create(self, blog_id: int, domain: str, fields: Mapping[str, Any]) -> MappedDomain: ...

    def update(self, domain_id: int, current: MappedDomain, fields: Mapping[str, Any]) -> MappedDomain: ...


@dataclass
class SrcDomain:
    """A domain of the file and the file's site it is mapped to (None: a site the import leaves out)."""

    domain: MappedDomain
    site: SrcSite | None
    where: str

    @property
    def fields(self) -> dict[str, Any]:
        return {k: getattr(self.domain, k) for k in WRITTEN}


@dataclass
class SrcDomains:
    domains: list[SrcDomain] = field(default_factory=list)


# --------------------------------------------------------------------------- reading the file


def read_domains(data: Mapping[str, Any], sites: Sequence[SrcSite], issues: list[Issue]) -> SrcDomains | None:
    """The export's `domains` section, each record with the file's site it names (`sites`: the file's sites as
    read, with their source blog ids); None when the file has no such section. A record that cannot be read, or a
    domain given twice, is an issue."""
    records = unique_records(data, "domains", MappedDomain, key=lambda d: d.domain, name=lambda d: d.domain,
                             field="domain", issues=issues)
    if records is None:
        return None
    by_blog = {s.blog_id: s for s in sites if s.blog_id is not None}
    own_hosts = {(raw.get("blog_id"), str(raw.get("domain") or "").lower())
                 for raw in data.get("sites") or [] if isinstance(raw, dict)}
    out = SrcDomains()
    for where, domain in records:
        if (domain.blog_id, domain.domain) in own_hosts:
            continue  # UM's record of the site's own host: the target's UM makes its own for its copy of the site
        out.domains.append(SrcDomain(domain, by_blog.get(domain.blog_id), where))
    return out


def read_target_domains(domains: DomainsAPI, target: TargetState) -> None:
    """The target's mapped domains into `target` (read once, before the plan); None when it keeps none."""
    target.domains = domains.all() if domains.kept else None


# --------------------------------------------------------------------------- the plan


def plan_domains(plan: Plan, step_type: type[Step]) -> None:
    """A step per domain of the file (after the sites: each follows its site's step). `step_type`: importer_plan's
    Step (given, so that this module does not import the planner, which imports it)."""
    src = plan.source.domains
    if src is None:
        return
    held = {d.domain: d for d in plan.target.domains} if plan.target.domains is not None else None
    site_steps = {id(s.src): s for s in plan.of("site")}
    taken = _network_hosts(plan.target)
    for sd in src.domains:
        site_step = site_steps.get(id(sd.site)) if sd.site is not None else None
        if held is None and site_step is not None and site_step.action != "create":
            continue  # named when its site was imported: a re-run has nothing new to say (as a deleted code)
        decided = _not_carried(sd, site_step, held, taken)
        if decided is None:
            assert held is not None and site_step is not None
            decided = _compared(sd, site_step, held.get(sd.domain.domain), plan.update)
        action, have, diffs, note = decided
        plan.steps.append(step_type("domain", sd.domain.domain, action, sd.where, have.id if have else None,
                                    diffs, (sd, have), note))


Decision = tuple["Action", MappedDomain | None, dict[str, tuple[Any, Any]], str]
"""(action, the target's record, differences, note) of one domain."""


def _host(domain: str) -> str:
    return domain.rsplit(":", 1)[0].lower() if domain.rsplit(":", 1)[-1].isdigit() else domain.lower()


def _network_hosts(target: TargetState) -> tuple[str, set[str]]:
    """(the target network's own host, the hosts of its sites), without ports: names a mapped domain must not take."""
    return _host(target.domain), {_host(domain) for domain, _ in target.sites}


def _not_carried(sd: SrcDomain, site_step: Step | None, held: Mapping[str, MappedDomain] | None,
                 taken: tuple[str, set[str]]) -> Decision | None:
    """The decision on a domain that cannot be written whatever the target holds, or None."""
    if held is None:
        return "unchanged", None, {}, ("not kept: the network keeps no mapped domains (it runs without Ultimate"
                                       " Multisite)")
    name = sd.domain.domain
    if not UM_DOMAIN_RE.fullmatch(name):
        return "conflict", None, {}, f"not imported: {name!r} is not a domain name Ultimate Multisite keeps"
    network, sites = taken
    if name == network or name.endswith("." + network) or name in sites:
        # mapping the network's own host, a name under it or another site's host to this site would take it over
        return "conflict", None, {}, (f"not imported: {name} is the network's own host, a name under it or a site's"
                                      " host on the network; an import never maps it to a site")
    if sd.site is None or site_step is None:
        return "unchanged", None, {}, (f"not kept: its site (blog_id {sd.domain.blog_id}) is not imported (the main"
                                       " site, a site of no membership, or a record left out)")
    return None


def _compared(sd: SrcDomain, site_step: Step, have: MappedDomain | None, update: bool) -> Decision:
    """The decision on a domain whose site is imported, from the target's record of that name (None: none)."""
    site_conflict = f"not imported: its site {site_step.key} is a conflict"
    if have is None:
        if site_step.action == "conflict":
            return "conflict", None, {}, site_conflict
        return "create", None, {}, "primary domain of its site" if sd.domain.primary_domain else ""
    if site_step.target_id is None or have.blog_id != site_step.target_id:
        return "conflict", have, {"site": (have.blog_id, site_step.key)}, (
            f"the network maps it to site {have.blog_id}; an import never moves a domain")
    diffs = {k: (getattr(have, k), v) for k, v in sd.fields.items() if getattr(have, k) != v}
    if not diffs:
        return "unchanged", have, {}, ""
    if update and site_step.action != "conflict":
        return "update", have, diffs, ""
    return "conflict", have, diffs, site_conflict if site_step.action == "conflict" else ""


def domains_not_kept(plan: Plan) -> list[str]:
    """The report's `not_kept` lines of the domains."""
    return [f"domain {s.key}: {s.note}" for s in plan.of("domain") if s.note.startswith(("not kept", "not imported"))]


# --------------------------------------------------------------------------- writing


def apply_domains(applier: Applier, domains: DomainsAPI) -> None:
    """Create or update the planned domains on the target's copies of their sites (after the sites phase)."""
    blog_of = {(site.domain, site.path): site.blog_id for site, _ in applier.sites}
    for step in applier.plan.of("domain", "create", "update"):
        sd, have = step.src
        blog_id = blog_of.get(applier.t.site_address(sd.site)) if sd.site is not None else None
        if blog_id is None:
            applier.skip(step, "its site was not imported")
            continue
        if have is None:
            write_step(applier, step, partial(_created, domains, blog_id, sd))
        else:
            write_step(applier, step, partial(_updated, domains, have, sd))


def _created(domains: DomainsAPI, blog_id: int, sd: SrcDomain) -> dict[str, Any]:
    return domains.create(blog_id, sd.domain.domain, sd.fields).model_dump(mode="json")


def _updated(domains: DomainsAPI, have: MappedDomain, sd: SrcDomain) -> dict[str, Any]:
    assert have.id is not None
    return domains.update(have.id, have, sd.fields).model_dump(mode="json")
