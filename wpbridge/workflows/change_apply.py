"""Plan changes, step 3: plan the absolute writes of a quote, make them, and read them back (`apply`).

The quote (`change_quote`) decides what the membership becomes; this module turns it into absolute writes through
a `NetworkWriter`, makes them and reads them back.

Why apply is safe to re-run (scripts, crashes):
- Add-on quantities in a request are the TOTAL the membership should hold (`extra-storage:2` = hold 2), not a
  number to buy: the cart buys only the difference, so a second identical request buys nothing. A plain "buy 2
  more" could not be told apart from a retry.
- An upgrade or add-on purchase writes the membership's absolute new state (`Quote.target`), then reconciles each
  site's quota with the membership's effective limitations, writing only the sites that differ. After the
  membership write the same request quotes as `no_change` (the membership already is in that state), and a
  `no_change` apply still reconciles the quotas: so a run that died between the two writes is finished by the
  next one, and a run after a complete one writes nothing.
- A downgrade only stores the scheduled change (absolute PUT, one per membership); the same one already stored
  is not written again.
- Everything written is read back and compared (`ApplyResult.verification`).

UM mode (plugin-stub reports `mode: "um"`; Ultimate Multisite is the system of record and the enforcer):
- An upgrade or add-on purchase writes only the membership's absolute new state (`PUT /wu/v2/membership/{id}`,
  as UM's checkout leaves it; never `status`). UM computes every site's limits from it; no quota is written.
- A downgrade is UM's own scheduled swap (plugin-stub builds UM's Cart and calls `Membership::schedule_swap`).
- The read-back compares UM's own computed limits of each of the membership's sites with
  `effective_limitations` of the new state, and the stored swap with the quote (the fields UM's swap sets).

One change at a time per membership (both modes): the quote, the writes and the read-back run under the server's
lock `membership-{id}`; a second `apply` on the same membership waits for it, then quotes what the first one left
(so two concurrent add-on purchases both land). The read-back catches a write lost to anyone else.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from ..billing import TaxLocation
from ..billing.payment import settled_state
from ..billing.result import Policy
from ..encoding import dumps, iso_utc
from ..errors import Conflict, WPBridgeError
from ..limits import differing_modules, effective_limitations
from ..managers.memberships import membership_route
from ..managers.payments import change_payment_route, payment_route
from ..managers.quotas import quota_route
from ..managers.schedule import scheduled_change_route
from ..models import Limitations, Membership, ScheduledChange
from ..money import round_money
from ..payment_models import Collect, Payment, PaymentChange
from . import NetworkWriter
from .change_payment import PaymentDecision, payment_summary, pending_change_payments, plan_payment, with_money
from .change_removal import QuoteResult, RemovalMode, quote
from .change_request import AddonRequest, PeriodRequest, forced_body
from .change_view import (
    change_title,
    membership_changes,
    product_name,
    quota_changes,
    show_value,
    state_differences,
    um_difference,
)
from .membership_state import with_state

WriteKind = Literal["membership", "site_quota", "scheduled_change", "payment", "payment_cancel", "payment_settle",
                    "membership_restore"]


ApplyStatus = Literal["applied", "scheduled", "unchanged", "blocked", "dry_run", "declined", "failed"]


@dataclass(frozen=True)
class Write:
    """One absolute write: the request that carries it, what it changes (human lines) and the body sent."""

    kind: WriteKind
    record_id: int
    method: str
    path: str
    changes: tuple[str, ...]
    body: Any

    def describe(self) -> str:
        return f"{self.method} {self.path}: " + ("; ".join(self.changes) or "(same state)")

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "record_id": self.record_id, "method": self.method, "path": self.path,
                "changes": list(self.changes), "body": self.body}


@dataclass(frozen=True)
class Check:
    """One read-back comparison after writing."""

    what: str
    ok: bool
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"what": self.what, "ok": self.ok, "detail": self.detail}


@dataclass
class ApplyResult:
    """What `apply` decided and did: the planned writes, those performed, those that failed, the read-back."""

    status: ApplyStatus
    quote: QuoteResult
    message: str
    planned: list[Write] = field(default_factory=list)
    performed: list[Write] = field(default_factory=list)
    failed: list[tuple[Write, str]] = field(default_factory=list)
    verification: list[Check] = field(default_factory=list)
    money: PaymentDecision | None = None
    payment: Payment | None = None
    """The payment of this change (made now, or found again on a rerun); None when none is (see `money`)."""

    @property
    def ok(self) -> bool:
        """The request is carried out (or already was) and everything written reads back as intended."""
        return self.status in ("applied", "scheduled", "unchanged", "dry_run") and not self.failed and all(
            c.ok for c in self.verification
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "ok": self.ok,
            "message": self.message,
            "quote": self.quote.as_dict(),
            "planned": [w.as_dict() for w in self.planned],
            "performed": [w.as_dict() for w in self.performed],
            "failed": [{**w.as_dict(), "error": err} for w, err in self.failed],
            "verification": [c.as_dict() for c in self.verification],
            "collect": self.money.collect if self.money else None,
            "payment": payment_summary(self.payment),
            "waived": str(self.money.waived) if self.money and self.money.waived is not None else None,
            "payment_notes": list(self.money.notes) if self.money else [],
        }


Confirm = Callable[[QuoteResult, list[Write]], bool]
Notify = Callable[[QuoteResult, list[Write]], None]


AfterWrite = Callable[[Write], None]


LOCK_TTL = 300
LOCK_WAIT_SECONDS = 60.0


@contextmanager
def membership_lock(network: NetworkWriter, membership_id: int, *, wait: float = LOCK_WAIT_SECONDS,
                    ttl: int = LOCK_TTL) -> Iterator[str]:
    """Hold the server's lock `membership-{id}` (waiting up to `wait` seconds for another run to finish)."""
    name, owner = f"membership-{membership_id}", f"wpbridge-change-{uuid.uuid4()}"
    deadline = time.monotonic() + wait
    delay = 0.1
    while True:
        try:
            network.locks.acquire(name, owner, ttl)
            break
        except Conflict as exc:
            if time.monotonic() >= deadline:
                raise Conflict(f"membership {membership_id} is being changed by another run ({exc.message}); "
                               "try again when it has finished", status=409, code="wpbridge_locked",
                               record_id=membership_id) from None
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
    try:
        yield owner
    finally:
        with suppress(WPBridgeError):  # it lapses by itself after `ttl`
            network.locks.release(name, owner)


def _quota_plan(network: NetworkWriter, q: QuoteResult, new_state: Membership) -> tuple[list[Write],
                                                                                     dict[int, Limitations]]:
    """The quota writes that bring each site of the membership to its effective limitations (only differences),
    and every site's expected quota (for the read-back). No quota is written where the network computes them
    (UM mode)."""
    expected = {s.blog_id: effective_limitations(new_state, q.catalog, site=s, um_version=q.quote.um_version)
                for s in q.sites}
    if q.flavor.computes_limits:
        return [], expected
    held = dict(network.quotas.list(list(expected))) if expected else {}
    writes = []
    for blog_id, want in expected.items():
        have = held.get(blog_id)
        if differing_modules(want, have):
            writes.append(Write("site_quota", blog_id, "PUT", quota_route(blog_id),
                                quota_changes(have, want), want.to_wire()))
    return writes, expected


def _same_target(a: Mapping[str, Any], b: Mapping[str, Any], base: Membership,
                 only: tuple[str, ...] | None = None) -> bool:
    """Two target states are the same when they leave the membership the same (compared as models, so wire
    spellings such as '39.00' and '39.0000' or a date's format do not count); `only`: compare just these keys."""
    keys = set(only) if only is not None else set(a) | set(b)
    a = {k: v for k, v in a.items() if k in keys}
    b = {k: v for k, v in b.items() if k in keys}
    left, right = with_state(base, a), with_state(base, b)
    return all(getattr(left, k, None) == getattr(right, k, None) for k in keys)


def plan_writes(network: NetworkWriter, q: QuoteResult) -> tuple[list[Write], dict[int, Limitations], str]:
    """The writes `apply` would make for this quote (reads only), the expected quotas, and what they achieve."""
    kind, target, m, plan = q.quote.kind, q.quote.target, q.membership, product_name(q.catalog, q.quote.new_plan_id)
    if kind == "blocked":
        return [], {}, q.message
    if kind == "downgrade" and q.quote.scheduled_for is not None and target is not None:
        change = ScheduledChange(membership_id=m.id, scheduled_for=q.quote.scheduled_for, target=target,
                                 note=f"{change_title(q, target, f'downgrade to {plan}')} (wpbridge)")
        if q.scheduled is not None and q.scheduled.scheduled_for == change.scheduled_for and _same_target(
            q.scheduled.target, target, m, q.flavor.swap_keys
        ):
            return [], {}, (f"already scheduled: {change_title(q, target, plan)} from "
                            f"{change.scheduled_for:%Y-%m-%d %H:%M} UTC; nothing written")
        replaces = " (replaces the change scheduled before)" if q.scheduled is not None else ""
        body, forced = forced_body(change.model_dump(mode="json", include={"scheduled_for", "target", "note"}), q.quote)
        write = Write("scheduled_change", m.id, "PUT", scheduled_change_route(m.id),
                      (f"at {change.scheduled_for:%Y-%m-%d %H:%M:%S} UTC{replaces}",
                       *membership_changes(q, target), *forced), body)
        return [write], {}, (f"{change_title(q, target, f'downgrade to {plan}')} scheduled for "
                             f"{change.scheduled_for:%Y-%m-%d %H:%M} UTC (due now 0)")
    writes: list[Write] = []
    new_state = m
    if kind != "no_change" and target is not None:
        writes.append(Write("membership", m.id, "PUT", membership_route(m.id), membership_changes(q, target),
                            dict(target)))
        new_state = with_state(m, target)
    quota_writes, expected = _quota_plan(network, q, new_state)
    writes += quota_writes
    if kind == "no_change":
        what = f"membership {m.id} is already in that state"
        if q.flavor.computes_limits:
            what += "; Ultimate Multisite computes its sites' limits; nothing written"
        else:
            what += (f"; {len(quota_writes)} site quota(s) to bring in line" if quota_writes
                     else "; its sites' quotas match; nothing written")
    else:
        what = change_title(q, target, f"{kind} of membership {m.id} to {plan}")
    return writes, expected, what


def apply(
    network: NetworkWriter,
    membership_id: int,
    *,
    now: datetime,
    plan: str | int | None = None,
    addons: AddonRequest = None,
    period: PeriodRequest = None,
    policy: Policy = "ultimate-multisite",
    force: bool = False,
    um_version: str | None = None,
    dry_run: bool = False,
    confirm: Confirm | None = None,
    after_write: AfterWrite | None = None,
    collect: Collect | None = None,
    reference: str = "",
    replace_pending: bool = False,
    notify: Notify | None = None,
    discount_code: str | None = None,
    removal: RemovalMode = "period_end",
    location: TaxLocation | None = None,
) -> ApplyResult:
    """Quote the change, then carry it out (see the module docstring) unless `dry_run` or `confirm` says no.

    `collect`: how the due now is collected (`invoice`, the default when there is one; `paid` with `reference`;
    `none` waives it); `replace_pending` undoes an earlier change whose payment is still pending (else refused).
    `confirm(quote, writes)` is asked before anything is written (not asked when there is nothing to write), and
    before the server's lock is taken (a person may take longer than the lock lives): under the lock the change is
    quoted again and written only if it is still exactly what was confirmed. `notify(quote, writes)` is told the
    writes under the lock, right before they are made, without asking (`--yes`).
    `after_write(write)` is called after each write succeeds (progress reporting; tests inject crashes there);
    `removal` how add-ons held fewer are removed (workflows.change_removal); `location` where the change is taxed
    (`--country`, as `quote`'s), told to UM's Cart of the payment.
    """
    def priced(base: Membership | None = None) -> QuoteResult:
        return quote(network, membership_id, now=now, plan=plan, addons=addons, period=period, policy=policy,
                     force=force, um_version=um_version, base=base, discount_code=discount_code, removal=removal,
                     location=location)

    def run(preview: bool) -> ApplyResult:
        q = priced()
        if q.kind == "blocked":
            return ApplyResult("blocked", q, q.message or "the change is blocked")
        if q.gateway is not None and q.gateway.refusal:
            return ApplyResult("blocked", q, f"membership {membership_id}: {q.gateway.refusal} Nothing written.")
        money = plan_payment(q, pending_change_payments(network.payments, membership_id), collect=collect,
                             reference=reference, replace_pending=replace_pending)
        undone = money.restore
        if undone is not None and undone.wpbridge is not None:
            before = {k: v for k, v in undone.wpbridge.before.items() if k != "status"}
            if preview:
                q = priced(with_state(q.membership, before))
                money = plan_payment(q, [], collect=collect, reference=reference, replace_pending=False)
                money = replace(money, notes=["priced from the membership as it was before the unpaid change it "
                                              "replaces (that change is undone first)", *money.notes])
            else:
                _undo(network, q, undone, before, after_write)
                return run(preview)
        return apply_quote(network, q, dry_run=preview, after_write=after_write, money=money,
                           confirm=None if preview or notify is None else _announcing(notify))

    if dry_run:
        return run(True)
    if confirm is None:
        with membership_lock(network, membership_id):
            return run(False)
    # Ask first, without holding the server's lock (it would lapse while a person decides), then take the lock and
    # write only if the change is still exactly what was confirmed (else another run changed the membership meanwhile).
    shown = run(True)
    if shown.status != "dry_run":
        return shown
    if not confirm(shown.quote, shown.planned):
        return replace_result(shown, "declined", "not confirmed: nothing written")
    with membership_lock(network, membership_id):
        again = run(True)
        if again.status != "dry_run" or _writes_of(again) != _writes_of(shown):
            return replace_result(again, "declined", f"membership {membership_id} changed while the change was "
                                  "being confirmed: nothing written; quote it again")
        return run(False)


def _announcing(notify: Notify) -> Confirm:
    def told(q: QuoteResult, writes: list[Write]) -> bool:
        notify(q, writes)
        return True
    return told


def replace_result(result: ApplyResult, status: ApplyStatus, message: str) -> ApplyResult:
    """The same result with another status and message (what was planned stays, nothing was performed)."""
    return ApplyResult(status, result.quote, message, planned=result.planned, money=result.money,
                       payment=result.payment)


def _writes_of(result: ApplyResult) -> list[tuple[str, int, str, str]]:
    """The planned writes as compared between what a person confirmed and what is about to be written."""
    return [(w.kind, w.record_id, w.path, dumps(w.body, sort_keys=True)) for w in result.planned]


def _undo(network: NetworkWriter, q: QuoteResult, payment: Payment, before: dict[str, Any],
          after_write: AfterWrite | None) -> None:
    m = q.membership
    undo_unpaid_change(network, m.id, payment, before)
    if after_write is not None:
        after_write(Write("membership_restore", m.id, "PUT", membership_route(m.id),
                          (f"undo the change of payment #{payment.id}",), before))


def undo_unpaid_change(network: NetworkWriter, membership_id: int, payment: Payment,
                       before: dict[str, Any] | None = None) -> Payment:
    """Undo the change an unpaid payment was made for (the membership back to its state before it, without
    `status`, which the change never wrote), then cancel the payment: in this order, so a crash in between leaves
    a payment whose change is not written (cancelled by the next change), never a written change without its
    payment. Call it under the membership's lock."""
    if before is None:
        before = {k: v for k, v in (payment.wpbridge.before if payment.wpbridge else {}).items() if k != "status"}
    if before:
        network.memberships.update(membership_id, before)
    return network.payments.cancel(payment.id).payment


def apply_quote(
    network: NetworkWriter,
    q: QuoteResult,
    *,
    dry_run: bool = False,
    confirm: Confirm | None = None,
    after_write: AfterWrite | None = None,
    money: PaymentDecision | None = None,
) -> ApplyResult:
    """Carry out a quote made by `quote()` (against the same network, just before), with the money decided by
    `plan_payment` (None: decided here, the default collection). Takes no lock: between that quote and these writes
    another run may change the membership (its write would be lost, though the read-back reports it); `apply()`
    quotes and writes under the membership's lock."""
    if q.kind == "blocked":
        return ApplyResult("blocked", q, q.message or "the change is blocked")
    if money is None:
        money = plan_payment(q, pending_change_payments(network.payments, q.membership.id), collect=None,
                             reference="", replace_pending=False)
    writes, expected, what = plan_writes(network, q)
    writes = _money_writes(q, money, writes)
    what = with_money(what, money)
    if not writes:
        return ApplyResult("unchanged", q, what, money=money, payment=money.existing)
    if dry_run:
        return ApplyResult("dry_run", q, f"{what}; {len(writes)} write(s) not made", planned=writes, money=money,
                           payment=money.existing)
    if confirm is not None and not confirm(q, writes):
        return ApplyResult("declined", q, "not confirmed: nothing written", planned=writes, money=money)
    return _carry_out(network, q, ApplyResult("applied", q, what, planned=writes, money=money,
                                              payment=money.existing), expected, after_write)


def _carry_out(network: NetworkWriter, q: QuoteResult, result: ApplyResult, expected: Mapping[int, Limitations],
               after_write: AfterWrite | None) -> ApplyResult:
    """Make the planned writes in order, then read everything back. A refused membership write stops there and
    cancels the change's payment (nothing half-written)."""
    writes, what = result.planned, result.message
    for write in writes:
        if write.kind == "site_quota":
            continue  # in one batch below
        try:
            _perform(network, q, write, result)
        except WPBridgeError as err:
            if write.kind != "membership":
                raise
            return _refused(network, result, write, err)
        result.performed.append(write)
        if after_write is not None:
            after_write(write)
    _write_quotas(network, [w for w in writes if w.kind == "site_quota"], expected, result, after_write)
    result.verification = _verify(network, q, result, expected)
    if result.failed or not all(c.ok for c in result.verification):
        result.status = "failed"
        result.message = f"{what}: " + "; ".join(
            [f"{w.describe()} failed: {err}" for w, err in result.failed]
            + [f"{c.what}: {c.detail}" for c in result.verification if not c.ok]
        )
    return result


def _refused(network: NetworkWriter, result: ApplyResult, write: Write, err: WPBridgeError) -> ApplyResult:
    """The membership write was refused (e.g. by its gateway in UM's save): its payment is cancelled."""
    _cancel_after_failure(network, result, err)
    result.failed.append((write, str(err)))
    result.status = "failed"
    result.message = f"{result.message}: {write.describe()} failed: {err}" + (
        f"; payment #{result.payment.id} cancelled, nothing else written" if result.payment else "")
    return result


def _perform(network: NetworkWriter, q: QuoteResult, write: Write, result: ApplyResult) -> None:
    """Make one write (not a site quota: those go in one batch); what it returns lands in `result`."""
    if write.kind == "payment_cancel":
        network.payments.cancel(write.record_id)
    elif write.kind == "payment":
        result.payment = network.payments.create_for_change(q.membership.id, write.body).payment
    elif write.kind == "membership":
        network.memberships.update(write.record_id, write.body)
    elif write.kind == "scheduled_change":
        network.schedule.put(ScheduledChange.model_validate({"membership_id": write.record_id, **write.body}),
                             force=write.body.get("force") is True)
        result.status = "scheduled"
    elif write.kind == "payment_settle":
        pid = write.record_id or (result.payment.id if result.payment is not None else 0)
        result.payment = network.payments.settle(pid, membership=write.body["membership"], settled_at=q.now,
                                                 reference=write.body["reference"]).payment


def _cancel_after_failure(network: NetworkWriter, result: ApplyResult, err: WPBridgeError) -> None:
    """The membership write failed: the payment made for it must not stay (cancelled; best effort, reported)."""
    if result.payment is None or not result.payment.is_open:
        return
    try:
        result.payment = network.payments.cancel(result.payment.id).payment
    except WPBridgeError as cancel_err:
        result.verification.append(Check(f"payment #{result.payment.id}", False,
                                         f"the change failed ({err}) and its payment could not be cancelled: "
                                         f"{cancel_err}; cancel it: wpbridge payments cancel {result.payment.id}"))


def _money_writes(q: QuoteResult, money: PaymentDecision, writes: list[Write]) -> list[Write]:
    """The change's writes with its money's: cancels first, the payment before the membership, settling last."""
    m = q.membership
    out = [Write("payment_cancel", p.id, "POST", payment_route(p.id, "cancel"),
                 (f"cancel payment #{p.id} ({round_money(p.total, p.currency)} {p.currency}): its change "
                  "was never written",), {})
           for p in money.cancel]
    if money.body is not None:
        body = money.body
        how = "an invoice to pay" if money.collect == "invoice" else f"paid ({body['reference']})"
        out.append(Write("payment", m.id, "POST", change_payment_route(m.id),
                         (f"payment of {body['total']} {body['currency']}: {how}",), body))
    out += writes
    settle = _settle_write(q, money)
    return out + ([settle] if settle is not None else [])


def _settle_write(q: QuoteResult, money: PaymentDecision) -> Write | None:
    """Settling the change's payment: at once for `--collect paid` (the payment made now, or found again), or a
    paid change's payment whose settling a crash cut short (`money.settle`)."""
    if money.collect == "paid":
        change = money.existing.wpbridge if money.existing is not None else None
        status_before = change.status_before if change is not None else q.membership.status
        record = PaymentChange(change_key=money.change_key or "", status_before=status_before)
        reference = (money.body or {}).get("reference") or (change.reference if change else "")
        pid, state_of_membership = (money.existing.id if money.existing is not None else 0), q.new_state()
    elif money.settle is not None and money.settle.wpbridge is not None:
        record, reference = money.settle.wpbridge, money.settle.wpbridge.reference
        pid, state_of_membership = money.settle.id, q.membership
    else:
        return None
    state = settled_state(record, duration=state_of_membership.duration,
                          duration_unit=state_of_membership.duration_unit,
                          lifetime=state_of_membership.is_lifetime, settled_at=q.now)
    return Write("payment_settle", pid, "POST", payment_route(pid or None, "settle"),
                 (f"settle it: membership {', '.join(f'{k} {v}' for k, v in state.items())}",),
                 {"membership": state, "reference": reference})


def _write_quotas(network: NetworkWriter, writes: list[Write], expected: Mapping[int, Limitations],
                  result: ApplyResult, after_write: AfterWrite | None) -> None:
    if not writes:
        return
    outcome = network.quotas.put_many({w.record_id: expected[w.record_id] for w in writes})
    failed = {item.key: item for item in outcome.failed}
    for write in writes:
        item = failed.get(write.record_id)
        if item is None:
            result.performed.append(write)
            if after_write is not None:
                after_write(write)
        else:
            result.failed.append((write, str(item.error) if item.error else f"status {item.status}"))


def _verify(network: NetworkWriter, q: QuoteResult, result: ApplyResult,
            expected: Mapping[int, Limitations]) -> list[Check]:
    """Read back what was written: the membership, the scheduled change, each site's quota (or UM's computed
    limits), the payment."""
    kinds = {w.kind for w in result.performed}
    checks: list[Check] = []
    if "membership" in kinds and q.quote.target is not None:
        checks.append(_verify_membership(network, q))
    if "scheduled_change" in kinds and q.quote.target is not None:
        checks.append(_verify_schedule(network, q))
    computed = q.flavor.computes_limits
    if expected and (any(w.kind == "site_quota" for w in result.planned) or (computed and "membership" in kinds)):
        checks += _verify_quotas(network, expected, computed)
    if kinds & {"payment", "payment_settle"} and result.payment is not None:
        checks.append(_verify_payment(network, q, result))
    return checks


def _verify_membership(network: NetworkWriter, q: QuoteResult) -> Check:
    m, target = q.membership, q.quote.target or {}
    try:
        diff = state_differences(network.memberships.get(m.id), target)
    except WPBridgeError as err:
        return Check(f"membership {m.id}", False, f"could not read it back: {err}")
    detail = "; ".join(f"{k}: server has {show_value(h)}, expected {show_value(w)}" for k, (h, w) in diff.items())
    return Check(f"membership {m.id}", not diff, detail or "reads back as written")


def _verify_schedule(network: NetworkWriter, q: QuoteResult) -> Check:
    m, target = q.membership, q.quote.target or {}
    stored = network.schedule.get(m.id)
    ok = stored is not None and stored.scheduled_for == q.quote.scheduled_for and _same_target(
        stored.target, target, m, q.flavor.swap_keys)
    found = "none" if stored is None else f"{dumps(stored.target, sort_keys=True)} at {iso_utc(stored.scheduled_for)}"
    return Check(f"{q.flavor.scheduled_label} of membership {m.id}", ok,
                 "reads back as written" if ok else f"server has {found}")


def _verify_quotas(network: NetworkWriter, expected: Mapping[int, Limitations], computed: bool) -> list[Check]:
    held = dict(network.quotas.list(list(expected)))
    checks = []
    for blog_id, want in expected.items():
        have = held.get(blog_id)
        differ = differing_modules(want, have)
        if computed:
            checks.append(Check(f"site {blog_id} limits (UM)", not differ,
                                um_difference(have, want) if differ else "UM's computed limits match"))
        else:
            checks.append(Check(f"site {blog_id} quota", not differ,
                                f"differs in {', '.join(differ)}" if differ else "matches the membership"))
    return checks


def _verify_payment(network: NetworkWriter, q: QuoteResult, result: ApplyResult) -> Check:
    """The change's payment reads back with the quote's due now, pending (an invoice) or completed (paid)."""
    assert result.payment is not None
    pid = result.payment.id
    try:
        held = network.payments.get(pid)
    except WPBridgeError as err:
        return Check(f"payment #{pid}", False, f"could not read it back: {err}")
    want = "completed" if result.money is not None and result.money.collect == "paid" else "pending"
    problems = [f"status {held.status}, expected {want}"] if held.status != want else []
    if held.total != q.quote.due_now and result.money is not None and result.money.existing is None:
        problems.append(f"total {held.total}, expected the due now {q.quote.due_now}")
    return Check(f"payment #{pid}", not problems, "; ".join(problems) or
                 f"{want}, {round_money(held.total, held.currency)} {held.currency}")
