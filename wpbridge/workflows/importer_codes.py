"""`wpbridge import` of discount codes (issue 19): the file's codes, every field, and each membership's own code.

An export written since codes are exported has a `discount_codes` section (every code with every field) and
gives each membership's own code (`discount_code`: the code, or null). Codes are matched by their code as UM
matches them (upper-cased: UM's Cart upper-cases what it is given; MySQL compares without case); a code's allowed
products are the file's product ids, carried as slugs and written as the target's ids. An export without the
section carries no codes, and the import leaves the target's codes and the memberships' codes alone.

The plan names what the target cannot hold: on Ultimate Multisite a code must be 2 to 20 letters, digits, - or _
and its name at least 2 characters (Discount_Code::validation_rules()): such a code is a conflict, not written
(and a membership's code that is not written is left alone, said in its note). An allowed product that is not in
the file's catalog is dropped from the code and named in the step's note.

Codes are written after the products (their allowed products must exist) through `net.discount_codes`
(plugin-stub's `wpbridge/v1/discount-codes`, which reads every write back); the memberships' codes after the
memberships (`wpbridge/v1/memberships/{id}/discount-code`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import WPBridgeError
from ..managers.discount_codes import WRITABLE, code_body
from ..models import DiscountCode, Membership
from .importer_records import Issue, unique_records

if TYPE_CHECKING:
    from .importer_apply import Applier
    from .importer_plan import Action, Plan, Step
    from .importer_target import TargetState

COMPARED = tuple(f for f in WRITABLE if f != "allowed_products")
"""The fields compared and written as given; allowed products are compared and written by slug."""
UM_CODE_RE = re.compile(r"^[A-Za-z0-9_-]{2,20}$")


class CodesAPI(Protocol):
    """`net.discount_codes` as an import reads and writes it (`managers/discount_codes.py`)."""

    def all(self) -> list[DiscountCode]: ...

    def membership_codes(self) -> dict[int, str]: ...

    def create(self, body: Mapping[str, Any]) -> dict[str, Any]: ...

    def update(self, code_id: int, body: Mapping[str, Any]) -> dict[str, Any]: ...

    def set_membership_code(self, membership_id: int, code: str | None) -> str | None: ...


@dataclass
class SrcCode:
    """A code of the file: its fields as the file gives them, its allowed products as slugs."""

    code: DiscountCode
    products: list[str]
    where: str
    dropped: list[int] = field(default_factory=list)
    """Allowed product ids of the file that its catalog does not have (left out, named in the plan)."""

    @property
    def key(self) -> str:
        return self.code.code.upper()


@dataclass
class SrcCodes:
    """The file's codes and its memberships' own codes (membership source key -> code, None for none)."""

    codes: list[SrcCode] = field(default_factory=list)
    memberships: dict[str, str | None] = field(default_factory=dict)


# --------------------------------------------------------------------------- reading the file


def read_codes(data: Mapping[str, Any], product_slugs: Mapping[int, str], member_keys: Mapping[int, str],
               issues: list[Issue]) -> SrcCodes | None:
    """The export's `discount_codes` section and its memberships' codes; None when the file has no such section
    (written before codes were exported). A code that cannot be read, or appears twice, is an issue."""
    records = unique_records(data, "discount_codes", DiscountCode, key=lambda c: c.code.upper(),
                             name=lambda c: c.code, shown=lambda c: repr(c.code), field="code", issues=issues,
                             note=" (codes are compared without case)")
    if records is None:
        return None
    out = SrcCodes()
    for where, code in records:
        slugs = [product_slugs[p] for p in code.allowed_products if p in product_slugs]
        dropped = [p for p in code.allowed_products if p not in product_slugs]
        out.codes.append(SrcCode(code, slugs, where, dropped))
    for raw in data.get("memberships") or []:
        mid = raw.get("id") if isinstance(raw, dict) else None
        if isinstance(mid, int) and mid in member_keys:
            out.memberships[member_keys[mid]] = code_name(raw.get("discount_code"))
    return out


def code_name(value: Any) -> str | None:
    """A membership's `discount_code` as an export gives it (the code, UM's object, or nothing) as its code."""
    if isinstance(value, Mapping):
        value = value.get("code")
    return value.strip() or None if isinstance(value, str) else None


def read_target_codes(codes: CodesAPI, target: TargetState) -> None:
    """The target's codes and its memberships' codes, into `target` (read once, before the plan)."""
    target.discount_codes = codes.all()
    target.membership_codes = codes.membership_codes()


# --------------------------------------------------------------------------- the plan


def cannot_hold(code: DiscountCode, flavor_name: str) -> str | None:
    """Why the target cannot hold the code (None: it can): UM's own rules (Discount_Code::validation_rules())."""
    if flavor_name != "um":
        return None
    if not UM_CODE_RE.fullmatch(code.code):
        return f"Ultimate Multisite keeps codes of 2 to 20 letters, digits, - or _ (this one is {code.code!r})"
    if len(code.name.strip() or code.code) < 2:
        return "Ultimate Multisite requires a name of at least 2 characters"
    return None


def code_differences(have: DiscountCode, want: SrcCode, slug_of: Mapping[int, str]) -> dict[str, tuple[Any, Any]]:
    """field -> (the target's value, the file's value) of every field that differs (allowed products by slug)."""
    w = want.code.model_copy(update={"name": want.code.name or want.code.code})
    diffs = {f: (getattr(have, f), getattr(w, f)) for f in COMPARED if getattr(have, f) != getattr(w, f)}
    held = sorted(slug_of.get(p, f"#{p}") for p in have.allowed_products)
    if held != sorted(want.products):
        diffs["allowed_products"] = (held, sorted(want.products))
    return diffs


def plan_codes(plan: Plan, step_type: type[Step]) -> None:
    """A step per code of the file: create, unchanged, conflict or update (`--update`); a code the target cannot
    hold is a conflict with the reason in its note. `step_type`: importer_plan's Step (given, so that this module
    does not import the planner, which imports it)."""
    codes = plan.source.discount_codes
    if codes is None:
        return
    t = plan.target
    slug_of = {p.id: p.slug for p in t.catalog}
    held = {c.code.upper(): c for c in t.discount_codes}
    for sc in codes.codes:
        have = held.get(sc.key)
        note = f"not kept: allowed product {', '.join(map(str, sc.dropped))} (not in the file's catalog)" \
            if sc.dropped else ""
        why = cannot_hold(sc.code, t.flavor.name)
        if why is not None:
            plan.steps.append(step_type("discount_code", sc.code.code, "conflict", sc.where,
                                        have.id if have else None, {}, sc, f"not imported: {why}"))
            continue
        diffs = code_differences(have, sc, slug_of) if have is not None else {}
        action: Action = "create" if have is None else "unchanged" if not diffs else \
            "update" if plan.update else "conflict"
        plan.steps.append(step_type("discount_code", sc.code.code, action, sc.where, have.id if have else None,
                                    diffs, sc, note))


def plan_membership_codes(plan: Plan, membership_ids: Mapping[str, int | None],
                          step_type: type[Step]) -> None:
    """A step per membership of the file whose own code differs from the target's (a new membership: one with a
    code); nothing for memberships the file gives no code and the target has none."""
    codes = plan.source.discount_codes
    if codes is None:
        return
    refused = {s.key.upper() for s in plan.of("discount_code", "conflict") if s.note.startswith("not imported")}
    known = {sc.key for sc in codes.codes} | {c.code.upper() for c in plan.target.discount_codes}
    for m in plan.source.memberships:
        if m.key not in codes.memberships or m.key not in membership_ids:
            continue
        want = codes.memberships[m.key]
        target_id = membership_ids[m.key]
        have = plan.target.membership_codes.get(target_id) if target_id is not None else None
        if (have or "").upper() == (want or "").upper():
            continue
        decided = _membership_code_action(target_id, want, refused, known, plan.update)
        if decided is None:
            continue
        action, note = decided
        plan.steps.append(step_type("membership_code", m.key, action, m.where, target_id,
                                    {"discount_code": (have, want)} if target_id is not None else {},
                                    (m.key, want), note))


def _membership_code_action(target_id: int | None, want: str | None, refused: set[str], known: set[str],
                            update: bool) -> tuple[Action, str] | None:
    """What to do with a membership's code (None: nothing, and nothing to say)."""
    if want is not None and want.upper() in refused:
        return "conflict", f"not imported: the code {want} is not imported"
    if want is not None and want.upper() not in known and target_id is not None:
        return None  # a code the source deleted, named when the membership was imported: nothing to say again
    if want is not None and want.upper() not in known:
        # A code deleted on the source since the membership took it: the source itself no longer has it, so there
        # is nothing to hold; the membership is imported without it and the report names it (not a conflict that
        # would stop every other record of the migration).
        return "unchanged", (f"not kept: the code {want} is neither in the file nor on the network (deleted since"
                             " the membership took it); the membership is imported without it")
    return ("create" if target_id is None else "update" if update else "conflict"), ""


def codes_not_kept(plan: Plan) -> list[str]:
    """The report's `not_kept` lines of the codes: a code (or a membership's code) the target cannot hold, a code
    written without an allowed product the file's catalog does not have."""
    return [f"{s.kind.replace('_', ' ')} {s.key}: {s.note}" for s in plan.steps
            if s.kind in ("discount_code", "membership_code") and s.note.startswith(("not kept", "not imported"))]


# --------------------------------------------------------------------------- writing


def apply_codes(applier: Applier, codes: CodesAPI) -> None:
    """Create or update the planned codes, their allowed products as the target's ids."""
    for step in applier.plan.of("discount_code", "create", "update"):
        sc: SrcCode = step.src
        missing = [s for s in sc.products if s not in applier.product_ids]
        if missing:
            applier.skip(step, f"allowed product {', '.join(missing)} is not on the network")
            continue
        body = code_body(sc.code.model_copy(update={"name": sc.code.name or sc.code.code}), COMPARED)
        body["allowed_products"] = [applier.product_ids[s] for s in sc.products]
        send = partial(codes.create, body) if step.target_id is None else partial(codes.update, step.target_id, body)
        write_step(applier, step, send)


def apply_membership_codes(applier: Applier, codes: CodesAPI) -> None:
    """Set or clear the planned memberships' own codes (after the memberships and the codes are written)."""
    failed = {key.upper() for kind, key in applier.failed if kind == "discount_code"}
    for step in applier.plan.of("membership_code", "create", "update"):
        key, want = step.src
        membership: Membership | None = applier.memberships.get(key)
        if membership is None:
            applier.skip(step, f"its membership {key} was not imported")
            continue
        if want is not None and want.upper() in failed:
            applier.skip(step, f"its code {want} was not imported")
            continue
        write_step(applier, step, partial(_set_membership_code, codes, membership.id, want))


def _set_membership_code(codes: CodesAPI, membership_id: int, code: str | None) -> dict[str, Any]:
    return {"id": membership_id, "discount_code": codes.set_membership_code(membership_id, code)}


def write_step(applier: Applier, step: Any, send: Callable[[], dict[str, Any]]) -> None:
    """Send one write of `step` (unless the import was interrupted) and record its outcome; a WPBridgeError is the
    step's failure, not the run's."""
    if applier.should_stop():
        applier.out.interrupted = True
        applier.skip(step, "not sent: the import was interrupted (SIGTERM / Ctrl-C); run it again to finish")
        return
    try:
        data = send()
    except WPBridgeError as exc:
        applier.record(step, "failed", error=str(exc), http=exc)
    else:
        applier.record(step, "done", target_id=int(data.get("id") or 0) or None)
    applier.progress(1)
