"""`wpbridge import`, step 2: read the target network and decide, record by record, what the import does.

Every record of the source is matched on its natural key (product slug; customer email, then username; site
domain + path; membership and payment: the source key the target keeps next to it) and gets one action:

- `create`: not on the target;
- `unchanged`: on the target with the same values (only the fields the file gives are compared);
- `conflict`: on the target with different values: reported, left alone (unless `--update`);
- `update`: a conflict that `--update` resolves by writing the file's values.

The plan is made from one read of the target, before anything is written; `--dry-run` prints it. Quotas (stub
mode) are planned for the sites that exist already; those of sites created by this run are computed after them.

Payments: every field of the file's payment is carried (status, amounts, line items, invoice number, gateway,
gateway payment id, dates, the plan change it pays for) except what the target cannot hold, which the step names
in its note (`not kept: ...`): on Ultimate Multisite a payment's hash (its pay link) is derived from the payment's
own id; the stub keeps invoice numbers as numbers only. `date_modified` is the target's own (not compared).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from ..encoding import dumps, to_jsonable
from ..limits import differing_modules, effective_limitations
from ..models import Limitations, Membership, Product, Site
from ..money import shown_amount
from ..payment_models import Payment
from .importer_codes import codes_not_kept, plan_codes, plan_membership_codes
from .importer_compare import (
    NOT_KEPT,
    Differences,
    change_with_ids,
    customer_differences,
    membership_differences,
    payment_differences,
    payment_kept_fields,
    payment_not_kept,
    product_differences,
    same,
    scheduled_target,
    site_differences,
)
from .importer_domains import domains_not_kept, plan_domains
from .importer_input import Issue, Source, SrcCustomer, SrcMembership, SrcPayment, SrcProduct, SrcScheduled, SrcSite
from .importer_target import ImportTarget, TargetCustomer, TargetSite, TargetState, read_target, read_target_payments
from .importer_taxes import address_keys, held_address, held_trial, not_kept_lines, plan_taxes

Action = Literal["create", "update", "unchanged", "conflict"]
Kind = Literal["product", "discount_code", "customer", "taxes", "membership", "membership_code", "site", "domain",
               "scheduled_change", "quota", "payment"]
KINDS: tuple[Kind, ...] = ("product", "discount_code", "customer", "taxes", "membership", "membership_code", "site",
                           "domain", "scheduled_change", "quota", "payment")
ACTIVE_STATUSES = frozenset({"pending", "trialing", "active", "on-hold"})
NO_DIFFERENCES: dict[str, tuple[Any, Any]] = {}
"""The differences of every step that has none (one dict, not one per step of a million-row file): never changed."""


# --------------------------------------------------------------------------- the plan


@dataclass(slots=True)  # a few per row of the file: no __dict__ each
class Step:
    """One record of the import and what happens to it."""

    kind: Kind
    key: str
    """The natural key shown to the user (slug, email, source key, domain+path)."""
    action: Action
    where: str = ""
    target_id: int | None = None
    differences: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    """field -> (the target's value, the file's value), for conflicts and updates."""
    src: Any = None
    note: str = ""

    def describe(self) -> str:
        ident = f" #{self.target_id}" if self.target_id is not None else ""
        head = f"{self.action} {self.kind.replace('_', ' ')} {self.key}{ident}"
        if self.differences:
            diffs = "; ".join(f"{k}: {_show(a)} -> {_show(b)}" for k, (a, b) in sorted(self.differences.items()))
            head += f" ({diffs})"
        if self.note:
            head += f" [{self.note}]"
        return head + (f" ({self.where})" if self.where and self.action != "unchanged" else "")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "key": self.key, "action": self.action, "id": self.target_id}
        if self.where:
            out["where"] = self.where
        if self.differences:
            out["differences"] = {k: {"target": _shown_value(a), "file": _shown_value(b)}
                                  for k, (a, b) in sorted(self.differences.items())}
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class Plan:
    source: Source
    target: TargetState
    update: bool
    steps: list[Step] = field(default_factory=list)

    def of(self, kind: Kind, *actions: Action) -> list[Step]:
        return [s for s in self.steps if s.kind == kind and (not actions or s.action in actions)]

    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for s in self.steps:
            out.setdefault(s.kind, {}).setdefault(s.action, 0)
            out[s.kind][s.action] += 1
        return out

    @property
    def writes_planned(self) -> int:
        return sum(1 for s in self.steps if s.action in ("create", "update"))

    @property
    def conflicts(self) -> list[Step]:
        return [s for s in self.steps if s.action == "conflict"]


QuotaReader = Callable[[list[int]], Iterable[tuple[int, Limitations | None]]]


def build_plan(source: Source, target: TargetState, *, update: bool = False,
               quota_reader: QuotaReader | None = None) -> Plan:
    """The plan of an import; `quota_reader` (e.g. `net.quotas.list`) reads the stored quotas of the sites that
    exist already (where wpbridge writes them: a flavor that does not compute limits, stub mode)."""
    plan = Plan(source, target, update)
    _Planner(plan, quota_reader).run()
    return plan


class _Planner:
    def __init__(self, plan: Plan, quota_reader: QuotaReader | None) -> None:
        self.plan = plan
        self.quota_reader = quota_reader
        self.t = plan.target
        self.src = plan.source
        self.by_slug = self.t.by_slug
        self.by_id = self.t.by_id
        self.customer_ids: dict[str, int | None] = {}
        """customer key -> target id (None: created by this run)."""
        self.membership_ids: dict[str, int | None] = {}
        self.payment_ids: dict[str, int | None] = {}
        self.blocked: set[str] = set()
        """Customer and membership keys of the file whose record on the network is another customer's: nothing of
        them is written (their memberships, sites, scheduled changes and payments are conflicts too)."""
        self.src_plans: dict[str, str] | None = None
        """membership key -> the file's plan slug (read when a scheduled change needs it)."""
        self.src_products: dict[str, SrcProduct] = {}
        self.by_email: dict[str, TargetCustomer] | None = None
        self.by_username: dict[str, TargetCustomer] | None = None

    def add(self, kind: Kind, key: str, differences: dict[str, tuple[Any, Any]], *, where: str, target_id: int | None,
            src: Any, note: str = "") -> Step:
        if target_id is None:
            action: Action = "create"
        elif not differences:
            action = "unchanged"
        else:
            action = "update" if self.plan.update else "conflict"
        step = Step(kind, key, action, where, target_id, differences or NO_DIFFERENCES, src, note)
        self.plan.steps.append(step)
        return step

    def run(self) -> None:
        for p in _product_order(self.src.products):
            self.product(p)
        plan_codes(self.plan, Step)
        for c in self.src.customers:
            self.customer(c)
        for m in self.src.memberships:
            self.membership(m)
        plan_membership_codes(self.plan, self.membership_ids, Step)
        for s in self.src.sites:
            self.site(s)
        plan_domains(self.plan, Step)  # each follows its site's step
        for sc in self.src.scheduled:
            self.scheduled(sc)
        if not self.t.flavor.computes_limits:
            self.quotas()
        for sp in self.src.payments:
            self.payment(sp)
        plan_taxes(self.plan, self.add)  # last: it names, in each step's note, what the target cannot hold

    # ------------------------------------------------------------------ products

    def product(self, p: SrcProduct) -> None:
        have = self.by_slug.get(p.slug)
        diffs: dict[str, tuple[Any, Any]] = {}
        if have is not None:
            diffs = product_differences(have, p, self.by_id)
        self.add("product", p.slug, diffs, where=p.where, target_id=have.id if have else None, src=p)

    # ------------------------------------------------------------------ customers

    def customer(self, c: SrcCustomer) -> None:
        if self.by_email is None or self.by_username is None:
            self.by_email, self.by_username = self.t.customer_by_email(), self.t.customer_by_username()
        have = self.by_email.get(c.key)
        diffs: Differences = {}
        note = ""
        if have is None and c.username:
            have = self.by_username.get(c.username)
            if have is not None:
                diffs["email"] = (have.email, c.email)
                note = "found by username; an email is not changed by an import"
        if have is not None:
            diffs.update(customer_differences(have, c))
            held_address(diffs, address_keys(self.t))
            held_trial(diffs, self.t.flavor)
            if "username" in diffs:
                note = "a username cannot be changed"
        step = self.add("customer", c.email, diffs, where=c.where, target_id=have.id if have else None, src=c,
                        note=note)
        if step.action in ("update", "conflict") and ("email" in diffs or "username" in diffs):
            step.action = "conflict"  # never resolved by --update: the identity itself differs
            self.blocked.add(c.key)  # and never used: that record is another customer's (issue 20, item 16)
            self.customer_ids[c.key] = None
            return
        self.customer_ids[c.key] = step.target_id

    # ------------------------------------------------------------------ memberships

    def membership(self, m: SrcMembership) -> None:
        if m.customer in self.blocked:
            self._blocked("membership", m.key, m, f"its customer {m.customer} is a conflict (another customer's)")
            return
        target_id = self.t.keys.get(m.key)
        have = self.t.memberships.get(target_id) if target_id is not None else None
        diffs: Differences = {}
        customer_id = self.customer_ids.get(m.customer)
        if have is not None:
            if have.customer_id != customer_id:  # another customer's, or the file's customer is new: never moved
                wanted = customer_id if customer_id is not None else f"new ({m.customer})"
                diffs["customer"] = (have.customer_id, wanted)
            diffs.update(membership_differences(have, m, self.by_id))
        step = self.add("membership", m.key, diffs, where=m.where, target_id=have.id if have else None, src=m)
        if "customer" in diffs:
            step.action = "conflict"
            step.note = "the target's membership with this source key belongs to another customer; never moved"
            self.blocked.add(m.key)
            self.membership_ids[m.key] = None
            return
        self.membership_ids[m.key] = step.target_id

    def _blocked(self, kind: Kind, key: str, src: Any, why: str) -> None:
        """A record that depends on another customer's: a conflict, with nothing to write (issue 20, item 16)."""
        self.plan.steps.append(Step(kind, key, "conflict", src.where, None, {}, src, f"not imported: {why}"))
        self.blocked.add(key)

    # ------------------------------------------------------------------ sites

    def site(self, s: SrcSite) -> None:
        domain, path = self.t.site_address(s)
        if s.membership in self.blocked:
            self._blocked("site", f"{domain}{path}", s, f"its membership {s.membership} is a conflict")
            return
        have = self.t.site_at(domain, path)
        if have is not None and have.pending:
            have = None  # an earlier run's create of this site is finishing (or died before linking): ensure it
        member_id = self.membership_ids.get(s.membership)
        diffs, note = self._site_differences(have, s, member_id) if have is not None else ({}, "")
        moved = have is not None and have.membership_id is not None and have.membership_id != member_id
        if moved:
            note = "the site belongs to another membership; an import never moves it"
        step = self.add("site", f"{domain}{path}", diffs, where=s.where, target_id=have.blog_id if have else None,
                        src=s, note=note)
        if have is not None and (have.type == "main" or moved) and step.action == "update":
            step.action = "conflict"  # never resolved by --update (issue 20, item 16)

    @staticmethod
    def _site_differences(have: TargetSite, s: SrcSite, member_id: int | None) -> tuple[Differences, str]:
        diffs: Differences = {}
        note = ""
        if have.membership_id != member_id or have.membership_id is None:
            diffs["membership"] = (have.membership_id, member_id if member_id is not None else f"new ({s.membership})")
            note = "the site exists and is not linked to this membership"
        diffs.update(site_differences(have, s.title, s.type))
        if have.type == "main":
            note = "the main site is never linked to a membership"
        return diffs, note

    # ------------------------------------------------------------------ scheduled changes

    def scheduled(self, sc: SrcScheduled) -> None:
        if sc.membership in self.blocked:
            self._blocked("scheduled_change", sc.membership, sc, f"its membership {sc.membership} is a conflict")
            return
        member_id = self.membership_ids.get(sc.membership)
        have = self.t.scheduled.get(member_id) if member_id is not None else None
        diffs: Differences = {}
        if have is not None:
            if not same(have.scheduled_for, sc.scheduled_for):
                diffs["scheduled_for"] = (have.scheduled_for, sc.scheduled_for)
            want = scheduled_target(sc.target, self.by_slug)
            if want is not None:
                held = self.t.flavor.swap_keys or want.keys()  # UM's swap sets initial_amount and recurring itself
                for k in sorted(set(want) & set(held)):  # what the file gives and the network can hold
                    if not same(have.target.get(k), want.get(k)):
                        diffs[f"target.{k}"] = (have.target.get(k), want.get(k))
        step = self.add("scheduled_change", sc.membership, diffs, where=sc.where,
                        target_id=member_id if have is not None else None, src=sc)
        if step.action in ("create", "update") and self.t.flavor.offers_swaps_by_group:
            self._kept_as_given(step, sc)

    def _kept_as_given(self, step: Step, sc: SrcScheduled) -> None:
        """A change the source network accepted is stored as it was (the import forces it); where the target would
        not offer it (UM's Change form), the step's note and a warning say so."""
        if self.src_plans is None:
            self.src_plans = {m.key: m.plan for m in self.src.memberships}
            self.src_products = {p.slug: p for p in self.src.products}
        reasons = swap_not_offered(self.src_plans.get(sc.membership), sc.target, self._product_view)
        if not reasons:
            return
        step.note = ("kept as the source had it, though Ultimate Multisite would not offer it here: "
                     + "; ".join(why for _, why in reasons))
        self.src.warnings.append(Issue(sc.where, reasons[0][0], f"warning: {step.note}"))

    def _product_view(self, slug: str) -> tuple[str, bool, set[str]] | None:
        """A product as the target will have it: (plan group, active, its add-ons' slugs); None: unknown."""
        have = self.by_slug.get(slug)
        if have is not None:
            addons = {self.by_id[a].slug for a in have.available_addons if a in self.by_id}
            return have.product_group or "", bool(have.active), addons
        p = self.src_products.get(slug)
        if p is None:
            return None
        return p.product.product_group or "", bool(p.product.active), set(p.addon_slugs)

    # ------------------------------------------------------------------ payments

    def payment(self, sp: SrcPayment) -> None:
        if sp.customer in self.blocked or (sp.membership is not None and sp.membership in self.blocked):
            self._blocked("payment", sp.key, sp, "its customer or membership is a conflict")
            return
        target_id = self.t.payment_keys.get(sp.key)
        have = self.t.payments.get(target_id) if target_id is not None else None
        diffs: Differences = {}
        if have is not None:
            diffs.update(self._payment_owners(have, sp))
            diffs.update(payment_differences(have, sp, self.by_id, self.t.flavor))
        lost = payment_not_kept(sp, self.t.flavor)
        note = "not kept: " + "; ".join(words for _, words in lost) if lost and (have is None or diffs) else ""
        step = self.add("payment", sp.key, diffs, where=sp.where, target_id=have.id if have else None, src=sp,
                        note=note)
        if "customer" in diffs or "membership" in diffs:
            step.action = "conflict"  # never resolved by --update: the payment is someone else's
            step.note = "the target's payment with this source key belongs to another customer or membership"
        self.payment_ids[sp.key] = step.target_id

    def _payment_owners(self, have: Payment, sp: SrcPayment) -> Differences:
        """The customer, membership and parent of the target's payment, where they are not the file's."""
        diffs: Differences = {}
        customer_id = self.customer_ids.get(sp.customer)
        if customer_id is not None and have.customer_id != customer_id:
            diffs["customer"] = (have.customer_id, customer_id)
        if sp.membership is not None:
            member_id = self.membership_ids.get(sp.membership)
            if member_id is not None and have.membership_id != member_id:
                diffs["membership"] = (have.membership_id, member_id)
        elif have.membership_id is not None:
            diffs["membership"] = (have.membership_id, None)
        if sp.parent is not None and self.payment_ids.get(sp.parent) not in (None, have.parent_id):
            diffs["parent"] = (have.parent_id, self.payment_ids.get(sp.parent))
        return diffs

    # ------------------------------------------------------------------ quotas (stub mode)

    def quotas(self) -> None:
        """Quotas of the file's sites that exist already and whose membership is unchanged or updated; sites
        created by this run get theirs after they exist (`importer_apply`)."""
        wanted: dict[int, tuple[Site, Membership]] = {}
        # the steps of sites the target has (a fresh target: none), not an index of every step of a big file
        steps = {s.key: s for s in self.plan.steps if s.kind == "site" and s.target_id is not None}
        for s in self.src.sites:
            domain, path = self.t.site_address(s)
            site_step = steps.get(f"{domain}{path}")
            member_id = self.membership_ids.get(s.membership)
            if site_step is None or site_step.target_id is None or member_id is None:
                continue
            if site_step.action == "conflict":
                continue
            membership = self.t.memberships.get(member_id)
            if membership is None:
                continue
            site = Site(blog_id=site_step.target_id, membership_id=member_id, customer_id=membership.customer_id,
                        domain=domain, path=path, type=s.type, limitations=s.limitations or Limitations())
            wanted[site.blog_id] = (site, membership)
        if not wanted:
            return
        current = dict(self.quota_reader(list(wanted))) if self.quota_reader is not None else {}
        for blog_id, (site, membership) in wanted.items():
            step = quota_step(site, membership, self.t.catalog, current.get(blog_id))
            if step is not None:
                self.plan.steps.append(step)


def quota_step(site: Site, membership: Membership, catalog: Sequence[Product],
               current: Limitations | None) -> Step | None:
    """The quota write a site needs (None: none). Active memberships: the effective quota when it differs;
    expired or cancelled ones: only a site without any quota gets one (a suspension written by `sync` stays)."""
    if membership.status not in ACTIVE_STATUSES and current is not None:
        return None
    want = effective_limitations(membership, catalog, site)
    if current is not None and not differing_modules(current, want):
        return None
    action: Action = "create" if current is None else "update"
    modules = ", ".join(differing_modules(current, want)) or "none"
    step = Step("quota", f"site {site.blog_id}", action, "", site.blog_id, {}, (site, want), note=f"modules: {modules}")
    return step


ProductView = Callable[[str], "tuple[str, bool, set[str]] | None"]


def swap_not_offered(plan: str | None, target: Mapping[str, Any], view: ProductView) -> list[tuple[str, str]]:
    """Why UM's swap route would refuse a scheduled change unless forced (plugin-stub's um_put_swap: a plan of
    another plan group than the current plan's or inactive; an add-on inactive or not offered by the new plan), as
    (field, reason); empty: it would take it. `plan` is the membership's plan slug, `target` by slug."""
    new_slug = str(target.get("plan") or plan or "")
    new = view(new_slug)
    if new is None:
        return []
    reasons: list[tuple[str, str]] = []
    current = view(plan) if plan is not None else None
    if new_slug != plan:
        if not new[1]:
            reasons.append(("target.plan_id", f"plan {new_slug!r} is inactive"))
        elif current is not None and current[0] != new[0]:
            reasons.append(("target.plan_id", f"plan {new_slug!r} {_group(new[0])}, the membership's plan {plan!r}"
                                              f" {_group(current[0])}"))
    for slug, qty in dict(target.get("addons") or {}).items():
        addon = view(slug)
        if int(qty) <= 0 or addon is None:
            continue
        if not addon[1]:
            reasons.append(("target.addon_products", f"add-on {slug!r} is inactive"))
        elif slug not in new[2]:
            reasons.append(("target.addon_products", f"add-on {slug!r} is not offered by plan {new_slug!r}"))
    return reasons


def _group(group: str) -> str:
    return f"is in group {group!r}" if group else "has no plan group"


def _product_order(products: Sequence[SrcProduct]) -> list[SrcProduct]:
    """Add-ons before the plans that offer them: layers of products whose add-ons come earlier."""
    remaining = list(products)
    done: set[str] = set()
    ordered: list[SrcProduct] = []
    while remaining:
        layer = [p for p in remaining if all(a in done or a == p.slug for a in p.addon_slugs)]
        if not layer:  # a cycle: take the rest as they are (their add-ons are set when they all exist)
            layer = remaining
        ordered.extend(layer)
        done.update(p.slug for p in layer)
        remaining = [p for p in remaining if p.slug not in done]
    return ordered


def not_kept_summary(plan: Plan) -> list[str]:
    """One line per reason: how many payments this import writes without something the target cannot hold."""
    counts: dict[str, int] = {}
    for step in plan.of("payment", "create", "update"):
        for reason, _ in payment_not_kept(step.src, plan.target.flavor):
            counts[reason] = counts.get(reason, 0) + 1
    lines = [f"{n} payment{'s' if n != 1 else ''}: not kept: {NOT_KEPT[r]}" for r, n in counts.items()]
    return lines + not_kept_lines(plan) + codes_not_kept(plan) + domains_not_kept(plan)


def _shown_value(v: Any) -> Any:
    """A difference's value for the report: an amount with its currency's decimals, as every output shows it."""
    return f"{shown_amount(v):f}" if isinstance(v, Decimal) else to_jsonable(v)


def _show(v: Any) -> str:
    if isinstance(v, Decimal):  # an amount as UM stores it (58.0000) shown as every amount: 58.00
        return f"{shown_amount(v):f}"
    j = to_jsonable(v)
    return j if isinstance(j, str) else dumps(j, separators=(",", ":"))


__all__ = [
    "KINDS",
    "ImportTarget",
    "Kind",
    "Plan",
    "Step",
    "TargetState",
    "build_plan",
    "change_with_ids",
    "not_kept_summary",
    "payment_kept_fields",
    "quota_step",
    "read_target",
    "read_target_payments",
    "same",
    "scheduled_target",
    "swap_not_offered",
]
