"""`wpbridge import` of the domains mapped to the sites (issue 22): reading an export's `domains` section (UM's
Domain records, as UM's REST gives them: every value a string) and the plan: create on the target's copy of the site,
unchanged / conflict / update on the same site, never moved from another site, what is not carried named."""

from __future__ import annotations

import json
from typing import Any

import pytest

from wpbridge.managers.flavor import STUB, UM
from wpbridge.mapped_domains import MappedDomain
from wpbridge.models import Membership
from wpbridge.sandbox.example import example_catalog
from wpbridge.workflows.importer_domains import domains_not_kept
from wpbridge.workflows.importer_json import read_json
from wpbridge.workflows.importer_plan import Plan, TargetState, build_plan, not_kept_summary
from wpbridge.workflows.snapshot import Snapshot

CATALOG = example_catalog()
SOURCE = "https://old.example"


def domain(**kw: Any) -> dict[str, Any]:
    """A record as UM 2.4.12's `GET /wu/v2/domain` gives it (measured: strings everywhere)."""
    base: dict[str, Any] = {"id": "1", "model": "domain", "blog_id": "9", "domain": "Elena.Example",
                            "active": "1", "primary_domain": "1", "secure": "0", "stage": "done"}
    base.update(kw)
    return base


def export(domains: list[dict[str, Any]] | None) -> str:
    data: dict[str, Any] = {
        "format": "wpbridge-snapshot", "version": 1, "source_url": SOURCE,
        "catalog": [p.model_dump(mode="json") for p in CATALOG],
        "customers": [{"id": 7, "user_email": "ann@example.com", "user_login": "ann1"}],
        "memberships": [{"id": 70, "customer_id": 7, "plan_id": 3, "status": "active", "amount": "39"}],
        "sites": [
            {"blog_id": 1, "domain": "old.example", "path": "/", "type": "main", "title": "Main"},
            {"blog_id": 9, "domain": "old.example", "path": "/ann/", "membership_id": 70, "customer_id": 7,
             "title": "Ann", "type": "customer_owned"},
        ],
        "scheduled_changes": [],
    }
    if domains is not None:
        data["domains"] = domains
    return json.dumps(data)


def target(held: list[MappedDomain] | None = (), flavor: Any = UM,  # type: ignore[assignment]
           site: int | None = None, site_membership: int | None = None) -> TargetState:
    """A target network; `site`: it holds /ann/ already as that blog id, linked to `site_membership`."""
    known = site_membership is not None
    sites = {("net.example", "/ann/"): {"blog_id": site, "domain": "net.example", "path": "/ann/", "title": "Ann",
                                        "type": "customer_owned", "membership_id": site_membership}} if site else {}
    return TargetState(flavor=flavor, domain="net.example", path="/", subdomain=False, catalog=CATALOG,
                       customers=[{"id": 7, "email": "ann@example.com", "username": "ann1"}] if known else [],
                       memberships={}, keys={}, sites=sites, scheduled={},
                       domains=None if held is None else list(held))


def plan_of(text: str, t: TargetState, *, update: bool = False) -> Plan:
    src = read_json(text)
    assert src.issues == []
    return build_plan(src, t, update=update)


def steps(plan: Plan) -> list[tuple[str, str]]:
    return [(s.key, s.action) for s in plan.steps if s.kind == "domain"]


def held(**kw: Any) -> MappedDomain:
    return MappedDomain.model_validate({**domain(id=40, blog_id=33, domain="elena.example"), **kw})


def test_umss_strings_are_read_and_the_record_follows_its_site() -> None:
    src = read_json(export([domain()]))
    assert src.domains is not None
    [sd] = src.domains.domains
    assert sd.domain == MappedDomain(id=1, blog_id=9, domain="elena.example", active=True, primary_domain=True,
                                     secure=False, stage="done")
    assert sd.site is not None and sd.site.blog_id == 9 and sd.site.path == "/ann/"


def test_an_export_without_domains_leaves_them_alone() -> None:
    src = read_json(export(None))
    assert src.domains is None
    assert steps(build_plan(src, target([held(blog_id=5)]))) == []


def test_a_fresh_target_creates_it_after_its_site() -> None:
    plan = plan_of(export([domain()]), target())
    assert steps(plan) == [("elena.example", "create")]
    kinds = [s.kind for s in plan.steps]
    assert kinds.index("site") < kinds.index("domain")
    assert plan.of("domain")[0].note == "primary domain of its site"


def test_the_same_domain_on_the_same_site_is_unchanged_and_a_difference_a_conflict_unless_update() -> None:
    t = target([held()], site=33, site_membership=None)
    plan = plan_of(export([domain()]), t)
    # the site exists but is not linked to the file's membership: the site is a conflict, so is nothing of its
    # domain's that would need a write; the same record is still unchanged
    assert steps(plan) == [("elena.example", "unchanged")]
    other = plan_of(export([domain(stage="checking-dns", secure="1")]), t)
    [step] = other.of("domain")
    assert step.action == "conflict" and step.differences == {"stage": ("done", "checking-dns"),
                                                              "secure": (False, True)}


def test_update_writes_the_flags_on_a_site_that_is_this_memberships() -> None:
    t = target([held(active="0")], site=33, site_membership=None)
    t.keys[f"{SOURCE}/membership/70"] = 70
    t.memberships[70] = Membership.model_validate({"id": 70, "customer_id": 7, "plan_id": 3, "status": "active",
                                                   "amount": "39"})
    t.customers.append({"id": 7, "email": "ann@example.com", "username": "ann1"})
    t.sites[("net.example", "/ann/")]["membership_id"] = 70
    plan = plan_of(export([domain()]), t, update=True)
    [step] = plan.of("domain")
    assert (step.action, step.target_id, step.differences) == ("update", 40, {"active": (False, True)})


def test_a_domain_the_target_maps_to_another_site_is_never_moved_even_with_update() -> None:
    plan = plan_of(export([domain()]), target([held(blog_id=5)]), update=True)
    [step] = plan.of("domain")
    assert step.action == "conflict" and "never moves a domain" in step.note
    assert step.differences == {"site": (5, "net.example/ann/")}


def test_a_target_without_um_names_every_domain_as_not_kept() -> None:
    plan = plan_of(export([domain()]), target(None, flavor=STUB))
    assert steps(plan) == [("elena.example", "unchanged")]
    assert domains_not_kept(plan) == ["domain elena.example: not kept: the network keeps no mapped domains (it runs"
                                      " without Ultimate Multisite)"]
    assert any(line.startswith("domain elena.example") for line in not_kept_summary(plan))
    assert plan.writes_planned == 3  # the customer, the membership, the site: nothing for the domain
    # a re-run (the site is there, this membership's): nothing new to say
    rerun = target(None, flavor=STUB, site=33, site_membership=70)
    rerun.keys[f"{SOURCE}/membership/70"] = 70
    rerun.memberships[70] = Membership.model_validate({"id": 70, "customer_id": 7, "plan_id": 3, "status": "active",
                                                       "amount": "39"})
    again = plan_of(export([domain()]), rerun)
    assert [s.action for s in again.of("site")] == ["unchanged"] and steps(again) == []


def test_a_domain_of_a_site_the_import_leaves_out_is_named() -> None:
    plan = plan_of(export([domain(blog_id="1", domain="old-main.example")]), target())
    [step] = plan.of("domain")
    assert step.action == "unchanged" and step.note.startswith("not kept: its site (blog_id 1) is not imported")


def test_umss_own_record_of_a_subdomain_sites_host_is_not_carried() -> None:
    # UM 2.4 records a subdomain site's own host as a Domain: it names the source network's host
    text = export([domain(blog_id="1", domain="old.example")])
    src = read_json(text)
    assert src.domains is not None and src.domains.domains == []


def test_a_name_um_would_refuse_is_a_conflict_and_a_duplicate_an_issue() -> None:
    plan = plan_of(export([domain(domain="-bad-.example")]), target())
    [step] = plan.of("domain")
    assert step.action == "conflict" and "not a domain name Ultimate Multisite keeps" in step.note
    twice = read_json(export([domain(), domain(id="2", domain="ELENA.example")]))
    assert [(i.where, i.field) for i in twice.issues] == [("domains[1] (elena.example)", "domain")]


def test_a_snapshot_reads_its_domains_and_one_written_before_them_has_none() -> None:
    data = json.loads(export([domain()]))
    data.update(quotas=[], usage=[], info={"plugin_version": "1", "mode": "um", "server_time": "2026-12-03T00:00:00Z"})
    [record] = Snapshot(data).domains.all()  # type: ignore[union-attr]
    assert (record.blog_id, record.domain, record.primary_domain) == (9, "elena.example", True)
    del data["domains"]
    assert Snapshot(data).domains is None


@pytest.mark.parametrize("name", ["net.example", "shop.net.example", "other.example"])
def test_the_networks_own_host_a_name_under_it_or_a_sites_host_is_never_mapped(name: str) -> None:
    t = target([], site=None)
    t.sites[("other.example:8080", "/")] = {"blog_id": 12, "domain": "other.example:8080", "path": "/",
                                            "title": "Other", "type": "customer_owned", "membership_id": 4}
    plan = plan_of(export([domain(domain=name)]), t, update=True)
    [step] = plan.of("domain")
    assert step.action == "conflict" and "never maps it to a site" in step.note, step
    assert any(line.startswith(f"domain {name}: not imported") for line in domains_not_kept(plan))
