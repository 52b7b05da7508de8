"""Read commands: `check`, `products list`, `sites list`, `memberships list|show`, `export`.

Thin: each parses its options, reads through a `NetworkReader` (the live network, or a snapshot with `--snapshot`)
or a workflow, and renders rows (table/csv) or records (json).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import click

from ..billing import CatalogIndex
from ..errors import InputError, NotFound
from ..managers.customers import customer_email, customer_id_of, is_customer_id
from ..models import Limitations, Membership, Product, Site, SiteUsage
from ..money import round_money
from ..safe_files import config_file, refuse_inputs
from ..workflows import NetworkReader
from ..workflows import change as change_flow
from ..workflows.check import check_network
from ..workflows.snapshot import export_snapshot, write_snapshot
from .common import (
    EXIT_FAILED,
    EXIT_OK,
    FIELDS,
    emit,
    emit_list,
    handle_errors,
    model_fields,
    network_options,
    open_network,
    open_source,
    output_fields,
    snapshot_option,
)
from .output import fmt_billing, fmt_date, fmt_money, fmt_period, render_pairs, render_table

# --------------------------------------------------------------------------- quota and usage in one line


def _entries(limit: dict[str, Any]) -> str:
    parts = []
    for name, entry in limit.items():
        if not entry.enabled:
            parts.append(f"{name} none")
        elif entry.number is None:
            continue
        else:
            parts.append(f"{name} {'unlimited' if entry.number == 0 else entry.number}")
    return ", ".join(parts)


def _amounts(limits: Limitations) -> list[str]:
    """The numeric modules: disk, visits, sites (0 is unlimited)."""
    parts = []
    for name, module, unit in (("disk", limits.disk_space, " MB"), ("visits", limits.visits, "/month"),
                               ("sites", limits.sites, "")):
        if module is not None and module.enabled and module.limit is not None:
            parts.append(f"{name} {'unlimited' if module.limit == 0 else f'{module.limit}{unit}'}")
    return parts


def _per_kind(limits: Limitations) -> list[str]:
    """The modules counted per post type and per role."""
    return [f"{name}: {_entries(module.limit)}" for name, module in (("posts", limits.post_types),
                                                                      ("users", limits.users))
            if module is not None and module.enabled and module.limit]


def _domains(limits: Limitations) -> list[str]:
    dm = limits.domain_mapping
    if dm is None or not dm.enabled or dm.limit is None:
        return []
    shown = "unlimited" if dm.limit is True else ("none" if dm.limit is False or dm.limit == 0 else dm.limit)
    return [f"custom domains {shown}"]


def quota_summary(limits: Limitations | None) -> str:
    """A quota in one readable line ('-' when the site has none): what WordPress enforces on the site."""
    if limits is None:
        return "-"
    return "; ".join([*_amounts(limits), *_per_kind(limits), *_domains(limits)]) or "no limits"


def usage_summary(usage: SiteUsage | None) -> str:
    if usage is None:
        return "-"
    parts = []
    if usage.post_types:
        parts.append("posts: " + ", ".join(f"{k} {v}" for k, v in sorted(usage.post_types.items())))
    if usage.disk_used_mb is not None:
        parts.append(f"disk {usage.disk_used_mb} MB")
    if usage.users:
        parts.append("users: " + ", ".join(f"{k} {v}" for k, v in sorted(usage.users.items())))
    if usage.visits_this_month is not None:
        parts.append(f"visits {usage.visits_this_month} this month")
    if usage.custom_domains is not None:
        parts.append(f"custom domains {usage.custom_domains}")
    return "; ".join(parts) or "nothing measured"


def addons_text(idx: CatalogIndex, addons: dict[int, int]) -> str:
    return ", ".join(f"{qty} x {change_flow.product_name(idx, pid)}" for pid, qty in addons.items()) or "-"


# --------------------------------------------------------------------------- check


def run_check(network_name: str | None, config_path: str | None) -> dict[str, Any]:
    """`wpbridge check` (the workflow is `workflows.check.check_network`)."""
    net = open_network(network_name, config_path)
    try:
        return check_network(net)
    finally:
        net.close()


def customer_filter(source: NetworkReader, key: str | None) -> int | None:
    """`--customer ID|EMAIL` as a customer id (None: no filter). An id is checked to exist (one request): an
    unknown one is an error, as an unknown email is, not an empty listing."""
    if key is None:
        return None
    customer_id = customer_id_of(key, source.customers.list)
    if is_customer_id(key):
        try:
            source.customers.get(customer_id)
        except NotFound:
            raise InputError(f"Invalid value for '--customer': customer {customer_id} does not exist",
                             field="customer", record_id=customer_id) from None
    return customer_id


def emails_by_id(source: NetworkReader) -> dict[int, str]:
    """Every customer's email by customer id (the memberships table's `email`)."""
    return {c.id: email for c in source.customers.list() if (email := customer_email(c))}


def report_unreadable(source: NetworkReader) -> int:
    """Name on stderr every record a listing had to skip (id and field); EXIT_FAILED when there was one."""
    skipped = list(source.unreadable)
    for err in skipped:
        click.echo(f"error: skipped a record that cannot be read: {err}", err=True)
    return EXIT_FAILED if skipped else EXIT_OK


def _check_text(r: dict[str, Any]) -> str:
    def yes(v: bool) -> str:
        return "yes" if v else "NO"

    plugin = "-"
    if r["mode"]:
        plugin = f"{r['plugin_version']} ({r['mode']} mode), WordPress {r['wp_version'] or '?'}"
        if r.get("um_version"):
            plugin += f", Ultimate Multisite {r['um_version']}"
    skew = "-" if r["clock_skew_seconds"] is None else f"{r['clock_skew_seconds']:+.1f} s (server - local)"
    pairs = [("network", r["network"]), ("url", r["url"]), ("reachable", yes(r["reachable"])),
             ("authenticated", yes(r["authenticated"])), ("plugin", plugin),
             ("batch limit", r["batch_limit"] or "-"), ("server time", fmt_date(r["server_time"], seconds=True)),
             ("clock skew", skew), ("secret", r.get("secret_fingerprint") or "-"),
             ("site links", "-" if r.get("site_links") is None else yes(r["site_links"])),
             ("usable", yes(r["usable"]))]
    lines = [render_pairs(pairs)]
    lines += [f"problem: {p}" for p in r["problems"]] + [f"warning: {w}" for w in r["warnings"]]
    return "\n".join(lines)


# --------------------------------------------------------------------------- rows


def product_row(p: Product) -> dict[str, Any]:
    return {
        "id": p.id, "slug": p.slug, "name": p.name, "type": p.type, "group": p.product_group or "",
        "order": p.list_order, "amount": round_money(p.amount, p.currency), "currency": p.currency,
        "period": fmt_billing(p.recurring, p.duration, p.duration_unit),
        "setup_fee": round_money(p.setup_fee, p.currency), "active": p.active,
        "variations": ", ".join(f"{round_money(v.amount, p.currency)}/{fmt_period(v.duration, v.duration_unit)}"
                                for v in p.price_variations),
    }


def membership_row(m: Membership, idx: CatalogIndex) -> dict[str, Any]:
    plan = idx.get(m.plan_id)
    return {
        "id": m.id, "customer": m.customer_id, "status": m.status, "plan": plan.slug if plan else m.plan_id,
        "addons": addons_text(idx, m.addon_products) if m.addon_products else None,
        "amount": round_money(m.amount, m.currency),
        "currency": m.currency,
        "period": fmt_billing(m.recurring, m.duration, m.duration_unit), "expires": m.date_expiration,
    }


def _detail_text(d: change_flow.MembershipDetail) -> str:
    m, idx = d.membership, d.catalog
    pairs = [
        ("membership", f"{m.id} (customer {m.customer_id}), {m.status}"),
        ("plan", change_flow.product_name(idx, m.plan_id)),
        ("add-ons", addons_text(idx, m.addon_products)),
        ("amount", f"{fmt_money(m.amount, m.currency)} every {fmt_period(m.duration, m.duration_unit)}"
                   if m.recurring else f"{fmt_money(m.amount, m.currency)} once (not recurring)"),
        ("initial amount", fmt_money(m.initial_amount, m.currency)),
        ("created", fmt_date(m.date_created)), ("renewed", fmt_date(m.date_renewed)),
        ("expires", fmt_date(m.date_expiration)), ("trial ends", fmt_date(m.date_trial_end)),
        ("effective quota", quota_summary(d.effective)),
    ]
    if d.scheduled is not None:
        then = change_flow.with_state(m, d.scheduled.target)  # what it leaves: plan, add-ons (a removal), amount
        pairs.append(("scheduled change", f"to {change_flow.product_name(idx, then.plan_id)} at "
                                          f"{fmt_date(d.scheduled.scheduled_for)}: add-ons "
                                          f"{addons_text(idx, then.addon_products)}, "
                                          f"{fmt_money(then.amount, m.currency)}"))
    else:
        pairs.append(("scheduled change", "-"))
    lines = [render_pairs(pairs), "", f"sites ({len(d.sites)}):"]
    for s in d.sites:
        lines.append(f"  {s.site.blog_id}  {s.site.domain}{s.site.path}  {s.site.title}")
        lines.append(render_pairs([
            ("quota", quota_summary(s.quota) + ("" if s.in_sync else "  (differs from the membership's)")),
            ("usage", usage_summary(s.usage)),
        ], indent="      "))
    return "\n".join(lines)


def _detail_rows(d: change_flow.MembershipDetail) -> list[dict[str, Any]]:
    return [
        {"blog_id": s.site.blog_id, "url": f"{s.site.domain}{s.site.path}", "title": s.site.title,
         "membership": d.membership.id, "plan": change_flow.product_name(d.catalog, d.membership.plan_id),
         "quota": quota_summary(s.quota) if s.quota is not None else None, "quota_in_sync": s.in_sync,
         "usage": usage_summary(s.usage) if s.usage is not None else None}
        for s in d.sites
    ]


def _filtered(items: Iterable[Product], group: str | None, type_: str | None) -> list[Product]:
    """The products of `group` (in any letter case; a group no product has is refused naming the groups there
    are) and `type_`, plans first in list order."""
    items = list(items)
    if group:
        groups = sorted({p.product_group for p in items if p.product_group})
        if group.casefold() not in {g.casefold() for g in groups}:
            raise InputError(f"Invalid value for '--group': no product is in the group {group!r}"
                             f" (groups: {', '.join(groups) or 'none'}; '' for products in none)", field="group")
    out = []
    for p in items:
        if group is not None and (p.product_group or "").casefold() != group.casefold():
            continue
        if type_ is not None and p.type != type_:
            continue
        out.append(p)
    return sorted(out, key=lambda p: (p.type != "plan", p.list_order, p.id))


# --------------------------------------------------------------------------- the fields of each output

CHECK_KEYS = ("network", "url", "reachable", "authenticated", "mode", "plugin_version", "wp_version", "um_version",
              "batch_limit", "server_time", "clock_skew_seconds", "site_links", "usable", "problems", "warnings",
              "secret_fingerprint")
"""`check -o json`'s keys (workflows/check.py)."""
PRODUCT_COLUMNS = ("id", "slug", "name", "type", "group", "order", "amount", "currency", "period", "setup_fee",
                   "active", "variations")
SITE_COLUMNS = ("blog_id", "url", "title", "membership", "customer", "type")
MEMBERSHIP_COLUMNS = ("id", "customer", "email", "status", "plan", "addons", "amount", "currency", "period",
                      "expires")
DETAIL_COLUMNS = ("blog_id", "url", "title", "membership", "plan", "quota", "quota_in_sync", "usage")
DETAIL_KEYS = ("membership", "plan", "addons", "effective_quota", "sites", "scheduled_change")
EXPORT_COLUMNS, EXPORT_KEYS = ("section", "records"), ("file", "records", "unreadable")


def _export_fields(keys: tuple[str, ...]) -> Callable[[Mapping[str, Any]], tuple[str, ...]]:
    """export's summary has fields only with --out (the snapshot on stdout is written whole: --fields refused)."""

    def known(options: Mapping[str, Any]) -> tuple[str, ...]:
        ctx = click.get_current_context(silent=True)
        if options.get("out") is None and ctx is not None and ctx.meta.get(FIELDS):
            raise InputError("Invalid value for '--fields': export writes its snapshot whole; --fields cuts the"
                             " summary of an export to a file (add --out FILE)", field="fields")
        return keys

    return known


# --------------------------------------------------------------------------- registration


def register(main: click.Group) -> None:
    """Add this family's commands to the top-level group."""

    @main.command("check")
    @network_options
    @handle_errors
    @output_fields(("check", "value"), CHECK_KEYS)
    def check(network_name: str | None, config_path: str | None, output: str) -> None:
        """Is the network usable? Reachable, authenticated, plugin mode and version, server clock skew.

        Exit 0 only when wpbridge can work with it.
        """
        result = run_check(network_name, config_path)
        rows = [{"check": k, "value": v} for k, v in result.items() if k not in ("problems", "warnings")]
        rows += [{"check": "problem", "value": p} for p in result["problems"]]
        emit(output, rows=rows, data=result, text=_check_text(result))
        sys.exit(EXIT_OK if result["usable"] else EXIT_FAILED)

    @main.group("products")
    def products() -> None:
        """The network's catalog: plans, packages and services."""

    @products.command("list")
    @click.option("--group", default=None, help="Only this plan group ('' for products with none).")
    @click.option("--type", "type_", type=click.Choice(["plan", "package", "service"]), default=None,
                  help="Only this product type.")
    @snapshot_option
    @network_options
    @handle_errors
    @output_fields(PRODUCT_COLUMNS, model_fields(Product))
    def products_list(group: str | None, type_: str | None, snapshot: str | None, network_name: str | None,
                      config_path: str | None, output: str) -> None:
        """List products with prices, periods, plan group and list order."""
        source = open_source(network_name, config_path, snapshot)
        items = _filtered(source.products.catalog(), group, type_)
        emit(output, rows=[product_row(p) for p in items], data=[p.model_dump(mode="json") for p in items])
        sys.exit(report_unreadable(source))

    @main.group("sites")
    def sites() -> None:
        """The network's customer sites."""

    @sites.command("list")
    @click.option("--customer", "customer", metavar="ID|EMAIL", default=None,
                  help="Only this customer's sites (an id, or an email in any letter case).")
    @click.option("--membership", "membership_id", type=int, default=None, help="Only this membership's sites.")
    @snapshot_option
    @network_options
    @handle_errors
    @output_fields(SITE_COLUMNS, model_fields(Site))
    def sites_list(customer: str | None, membership_id: int | None, snapshot: str | None,
                   network_name: str | None, config_path: str | None, output: str) -> None:
        """List sites with their membership and customer."""
        source = open_source(network_name, config_path, snapshot)
        customer_id = customer_filter(source, customer)
        emit_list(output, source.sites.list(customer_id=customer_id, membership_id=membership_id),
                  row=lambda s: {"blog_id": s.blog_id, "url": f"{s.domain}{s.path}", "title": s.title,
                                 "membership": s.membership_id, "customer": s.customer_id, "type": s.type},
                  data=lambda s: s.model_dump(mode="json"), columns=SITE_COLUMNS)
        sys.exit(report_unreadable(source))

    @main.group("memberships")
    def memberships() -> None:
        """Customers' memberships: plan, add-ons, amount, period, status."""

    @memberships.command("list")
    @click.option("--status", type=click.Choice(["pending", "trialing", "active", "on-hold", "expired",
                                                 "cancelled"]), default=None, help="Only this status.")
    @click.option("--customer", "customer", metavar="ID|EMAIL", default=None,
                  help="Only this customer's memberships (an id, or an email in any letter case).")
    @snapshot_option
    @network_options
    @handle_errors
    @output_fields(MEMBERSHIP_COLUMNS, model_fields(Membership))
    def memberships_list(status: str | None, customer: str | None, snapshot: str | None,
                         network_name: str | None, config_path: str | None, output: str) -> None:
        """List memberships (with each customer's email)."""
        source = open_source(network_name, config_path, snapshot)
        customer_id = customer_filter(source, customer)
        idx = CatalogIndex(source.products.catalog())
        emails = emails_by_id(source) if output not in ("json", "yaml") else {}
        emit_list(output, source.memberships.list(status=status, customer_id=customer_id),
                  row=lambda m: {**membership_row(m, idx), "email": emails.get(m.customer_id)},
                  data=lambda m: m.model_dump(mode="json"), columns=MEMBERSHIP_COLUMNS)
        sys.exit(report_unreadable(source))

    @memberships.command("show")
    @click.argument("membership_id", type=int, metavar="ID")
    @snapshot_option
    @network_options
    @handle_errors
    @output_fields(DETAIL_COLUMNS, DETAIL_KEYS)
    def memberships_show(membership_id: int, snapshot: str | None, network_name: str | None,
                         config_path: str | None, output: str) -> None:
        """One membership: plan, add-ons, amounts, dates, sites (quota, usage), effective quota, scheduled change."""
        detail = change_flow.describe(open_source(network_name, config_path, snapshot), membership_id)
        emit(output, rows=_detail_rows(detail), data=detail.as_dict(), text=_detail_text(detail))

    @main.command("export")
    @click.option("--out", "out", type=click.Path(dir_okay=False), default=None,
                  help="Write the snapshot to this file (default: standard output).")
    @network_options
    @handle_errors
    @output_fields(_export_fields(EXPORT_COLUMNS), _export_fields(EXPORT_KEYS))
    def export(out: str | None, network_name: str | None, config_path: str | None, output: str) -> None:
        """A JSON snapshot of the network: catalog, customers, memberships, sites, quotas, usage, scheduled changes,
        payments, discount codes, taxes and mapped domains.

        Any read or quote command works offline from it with --snapshot FILE.
        """
        if out is None and output in ("csv", "yaml"):  # the snapshot on stdout is JSON, whatever -o says
            raise InputError(f"Invalid value for '--output': export writes its snapshot as JSON; -o {output} only"
                             " formats the summary of an export to a file (add --out FILE)", field="output")
        if out is not None:
            refuse_inputs(out, [config_file(config_path)], option="--out")
        net = open_network(network_name, config_path)
        now = datetime.now(UTC)
        if out is None:
            write_snapshot(net, sys.stdout, now=now, source_url=net.settings.url)
            sys.exit(report_unreadable(net))
        counts = export_snapshot(net, out, now=now, source_url=net.settings.url)
        rows = [{"section": k, "records": v} for k, v in counts.items()]
        skipped = [str(e) for e in net.unreadable]
        emit(output, rows=rows, data={"file": out, "records": counts, "unreadable": skipped},
             text=f"wrote {out}\n" + render_table(rows))
        sys.exit(report_unreadable(net))
