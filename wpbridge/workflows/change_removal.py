"""Plan changes: a request that holds FEWER of an add-on (`--addon extra-storage:0`, or `:1` when holding 2),
priced and carried out as Ultimate Multisite's own screens remove one (`billing.addon_removal`).

- `period_end` (the default; UM's customer account page): UM's scheduled swap at `date_expiration` (stub mode:
  wpbridge's scheduled change, applied by `sync`), the amount lowered from then on, nothing due, no refund; the
  sites keep the add-on's quota until then.
- `now` / `now_keep_amount` (UM's network-admin membership screen, "Update Pricing" on / off): the membership
  written now; the quotas follow at once (stub: written; UM: UM computes them and they are read back).

UM's change form (its Cart) only adds add-ons, so a removal never mixes with a plan, a period or add-ons to buy:
such a request is one InputError line saying to make the removal a change of its own."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from ..billing import Cart, CatalogIndex
from ..billing.addon_removal import REMOVAL_MODES, RemovalMode, RemovalTaxes, RemovedAddon, quote_addon_removal
from ..billing.gateways import gateway_effect
from ..billing.taxes import renewal_tax_location
from ..errors import InputError
from ..limits import effective_limitations
from ..managers.flavor import flavor_of
from ..models import Membership, ScheduledChange
from ..money import round_money
from . import NetworkReader
from .change_quote import QuoteResult, load_membership, own_code, owned_sites
from .change_quote import quote as quote_cart
from .change_request import AddonRequest, PeriodRequest, resolve_addons
from .change_view import quota_changes
from .membership_state import with_state

__all__ = ["REMOVAL_MODES", "QuoteResult", "RemovalMode", "quote", "quote_removal", "removal_request"]

REMOVAL_WORDS: dict[str, str] = {
    "period_end": "at the end of the period paid for, as UM's account page removes it",
    "now": "now, as UM's network-admin membership screen removes it (Update Pricing on)",
    "now_keep_amount": "now, the amount kept, as UM's network-admin membership screen removes it (Update Pricing off)",
}


def quote(network: NetworkReader, membership_id: int, *, now: datetime, plan: str | int | None = None,
          addons: AddonRequest = None, period: PeriodRequest = None, removal: RemovalMode = "period_end",
          um_version: str | None = None, base: Membership | None = None, **options: Any) -> QuoteResult:
    """`change_quote.quote`, or the removal of add-ons when the request holds fewer of one than the membership does
    (`removal`: how, see the module docstring). The other `options` are `change_quote.quote`'s."""
    if not addons:
        return quote_cart(network, membership_id, now=now, plan=plan, addons=addons, period=period,
                          um_version=um_version, base=base, **options)
    if now.tzinfo is None:
        raise InputError("now: a timezone-aware date-time is required", field="now")
    membership = base if base is not None else load_membership(network, membership_id)
    idx = CatalogIndex(network.products.catalog())
    keep = removal_request(membership, idx, plan, addons, period)
    if keep is None:
        return quote_cart(network, membership_id, now=now, plan=plan, addons=addons, period=period,
                          um_version=um_version, base=membership, **options)
    if options.get("discount_code") is not None:
        raise InputError("--discount-code: a removal charges nothing (UM lowers the amount by the add-on's price "
                         "with the membership's own code)", field="discount_code", record_id=membership.id)
    return quote_removal(network, membership, idx, keep, now=now, mode=removal, um_version=um_version)


def removal_request(membership: Membership, idx: CatalogIndex, plan: str | int | None, addons: AddonRequest,
                    period: PeriodRequest) -> dict[int, int] | None:
    """{product_id: quantity to keep} when the request holds fewer of an add-on than the membership does, else
    None. Mixed with anything else (a plan, a period, more of another add-on): an InputError saying what to do."""
    wanted = resolve_addons(idx, addons)
    fewer = {pid: qty for pid, (_, qty) in wanted.items() if qty < membership.addon_products.get(pid, 0)}
    if not fewer:
        return None
    more = [p.name for pid, (p, qty) in wanted.items() if qty > membership.addon_products.get(pid, 0)]
    names = ", ".join(idx.require(pid, "addons").slug + f":{qty}" for pid, qty in fewer.items())
    if plan is not None or period is not None or more:
        other = "a plan" if plan is not None else "a period" if period is not None else f"more {', '.join(more)}"
        raise InputError(
            f"add-ons {names}: removing an add-on is a change of its own (UM removes one from the account page, "
            f"never with its change form), and this request also asks for {other}: make the removal first "
            f"(wpbridge change apply {membership.id} --addon {names.replace(', ', ' --addon ')}), then the rest",
            field="addons", record_id=membership.id)
    return fewer


def quote_removal(network: NetworkReader, membership: Membership, idx: CatalogIndex, keep: dict[int, int], *,
                  now: datetime, mode: RemovalMode, um_version: str | None) -> QuoteResult:
    """Price the removal (`billing.addon_removal`) with what the apply needs: the sites, the scheduled change, the
    flavor and what the membership's gateway is told."""
    info = network.info()
    flavor = flavor_of(info)
    scheduled = network.schedule.get(membership.id)
    notes: list[str] = []
    base, keep = _on_scheduled(membership, scheduled, mode, keep, notes)
    release = um_version if um_version is not None else info.um_version
    base, code_notes = own_code(network, _named_code(network, base))  # the code's record, as the network holds it
    notes += code_notes
    removal = quote_addon_removal(base, list(idx), keep, now=now, mode=mode, um_version=release,
                                  taxes=_removal_taxes(network, membership))
    q = removal.quote
    sites = owned_sites(network, membership.id)
    notes += _removal_notes(base, removal.removed, mode)
    if any(e.code == "invalid-date" for e in q.errors):
        notes.append(f"membership {membership.id} has no expiration date, so there is no period end to remove it at "
                     "(UM's account page fails the same way): remove it now instead (--remove-now)")
    if q.target is not None:
        notes += _quota_notes(membership, idx, q.target, q.scheduled_for, release)
        if scheduled is not None:
            q = q.model_copy(update={"target": {**scheduled.target, **q.target}})
    effect = gateway_effect(membership, q.target) if q.target is not None and flavor.tells_gateways else None
    if effect is not None and effect.refusal and mode == "period_end":
        # UM's account page tells the gateway itself and ignores its answer: the removal is scheduled all the same
        notes.append(f"{effect.gateway} will refuse the new amount ({effect.refusal.rstrip('.')}); UM's account "
                     "page schedules the removal all the same, so the gateway keeps billing the old amount until "
                     "it is changed there")
        effect = dataclasses.replace(effect, refusal=None)
    if effect is not None and effect.action:
        notes.append(f"billed by {effect.gateway}: {effect.action}")
    return QuoteResult(membership, idx, sites, {}, Cart(), q, now.astimezone(UTC), notes, scheduled, effect,
                       flavor)


def _named_code(network: NetworkReader, m: Membership) -> Membership:
    """The membership with its own code named: UM's REST reads it as null (it is membership meta), the companion's
    `GET /wpbridge/v1/memberships/discount-codes` has it (`net.discount_codes.membership_codes`)."""
    api = network.discount_codes
    if m.discount_code is not None or api is None:
        return m
    name = api.membership_codes().get(m.id)
    return m.model_copy(update={"discount_code": name}) if name else m


def _removal_taxes(network: NetworkReader, m: Membership) -> RemovalTaxes | None:
    """The taxes UM's price of the add-on carries (`wu_get_membership_product_price` builds its Cart at the
    billing address: country, state, city), None when the network collects none (or an offline snapshot)."""
    api = network.taxes
    if api is None or not m.customer_id:
        return None
    settings = api.settings()
    if not settings.enabled:
        return None
    facts = api.customer(m.customer_id)
    address = facts.billing_address
    where = renewal_tax_location(facts.billing_country, str(address.get("billing_state") or ""),
                                 str(address.get("billing_city") or ""))
    return settings, where, facts.tax_exempt


def _removal_notes(m: Membership, removed: Sequence[RemovedAddon], mode: RemovalMode) -> list[str]:
    notes = []
    first = next(iter(m.addon_products), None)
    for r in removed:
        off = "is kept" if mode == "now_keep_amount" else f"falls by {round_money(r.amount_off, m.currency)}"
        notes.append(f"removes {r.removed} x {r.product.name} (holds {r.held}, keeps {r.keep}) {REMOVAL_WORDS[mode]}"
                     f"; the amount {off}")
        if r.product.id != first:
            notes.append(f"UM's own screens would remove nothing here ({r.product.name} is not the membership's first "
                         "add-on: UM reads the first one's quantity, docs/ultimate-multisite.md §4.6); wpbridge "
                         "removes it")
    return notes


def _on_scheduled(membership: Membership, scheduled: ScheduledChange | None, mode: RemovalMode,
                  keep: dict[int, int], notes: list[str]) -> tuple[Membership, dict[int, int]]:
    """The state the removal starts from: the membership, or, when a change is scheduled, the state it leaves (UM's
    account page applies the scheduled swap first, then removes); a removal now is refused then (the scheduled
    change would bring the add-on back: UM's admin screen does not look at it)."""
    if scheduled is None:
        return membership, keep
    when = f"{scheduled.scheduled_for:%Y-%m-%d %H:%M} UTC"
    if mode != "period_end":
        raise InputError(
            f"membership {membership.id} has a change scheduled for {when}; an add-on removed now would come "
            "back when it applies (it rebuilds the add-ons): remove it at the period end instead (without "
            "--remove-now), which adds the removal to that change, or cancel the scheduled change first",
            field="addons", record_id=membership.id)
    base = with_state(membership, scheduled.target)
    notes.append(f"added to the change scheduled for {when} (as UM's account page does)")
    return base, {pid: qty for pid, qty in keep.items() if qty < base.addon_products.get(pid, 0)}  # {}: done


def _quota_notes(m: Membership, idx: CatalogIndex, target: dict[str, Any], scheduled_for: datetime | None,
                 release: str | None) -> list[str]:
    """What the membership's quota becomes (per membership; each site's own overrides still apply)."""
    before = effective_limitations(m, idx, um_version=release)
    after = effective_limitations(with_state(m, target), idx, um_version=release)
    changes = [c for c in quota_changes(before, after) if not c.startswith("(")]
    if not changes:
        return []
    when = f"from {scheduled_for:%Y-%m-%d %H:%M} UTC (until then its sites keep it)" if scheduled_for else "now"
    return [f"quota {when}: " + "; ".join(changes)]
