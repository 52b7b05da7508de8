"""`wpbridge import` of discount codes (issue 19): reading an export's codes and its memberships' own codes, and
the plan: matched by code as UM matches (upper-cased), create / unchanged / conflict / update, allowed products by
slug, what Ultimate Multisite cannot hold named, a membership's code as its own step."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from wpbridge.managers.flavor import STUB, UM
from wpbridge.models import DiscountCode, Membership, Product
from wpbridge.sandbox.example import example_catalog
from wpbridge.workflows.importer_codes import codes_not_kept
from wpbridge.workflows.importer_json import read_json
from wpbridge.workflows.importer_plan import Plan, TargetState, build_plan, not_kept_summary

CATALOG = example_catalog()
SOURCE = "https://old.example"


def code(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": 4, "code": "Save10", "name": "Ten off", "description": "launch", "type": "percentage",
                            "value": "10.0000", "setup_fee_type": "absolute", "setup_fee_value": "5.0000", "uses": 2,
                            "max_uses": 9, "active": True, "limit_products": True, "allowed_products": [3, 5],
                            "limit_billing_periods": False, "allowed_billing_periods": [],
                            "date_start": "2026-01-01T00:00:00Z", "date_expiration": None}
    base.update(kw)
    return base


def export(codes: list[dict[str, Any]] | None, member_code: Any = "SAVE10") -> str:
    data: dict[str, Any] = {
        "format": "wpbridge-snapshot", "version": 1, "source_url": SOURCE,
        "catalog": [p.model_dump(mode="json") for p in CATALOG],
        "customers": [{"id": 7, "user_email": "ann@example.com", "user_login": "ann1"}],
        "memberships": [{"id": 70, "customer_id": 7, "plan_id": 3, "status": "active", "amount": "39",
                         "discount_code": member_code}],
        "sites": [], "scheduled_changes": [],
    }
    if codes is not None:
        data["discount_codes"] = codes
    return json.dumps(data)


def target(codes: list[DiscountCode] = (), membership_codes: dict[int, str] | None = None,  # type: ignore[assignment]
           flavor: Any = STUB, catalog: list[Product] = CATALOG, known: bool = False) -> TargetState:
    members = {70: Membership.model_validate({"id": 70, "customer_id": 7, "plan_id": 3, "status": "active",
                                               "amount": "39"})} if known else {}
    return TargetState(flavor=flavor, domain="net.example", path="/", subdomain=False, catalog=catalog,
                       customers=[{"id": 7, "email": "ann@example.com", "username": "ann1"}] if known else [],
                       memberships=members, keys={f"{SOURCE}/membership/70": 70} if known else {}, sites={},
                       scheduled={}, discount_codes=list(codes), membership_codes=membership_codes or {})


def plan_of(text: str, t: TargetState, *, update: bool = False) -> Plan:
    src = read_json(text)
    assert src.issues == []
    return build_plan(src, t, update=update)


def steps(plan: Plan, kind: str) -> list[tuple[str, str]]:
    return [(s.key, s.action) for s in plan.steps if s.kind == kind]


def test_every_field_and_the_memberships_code_are_read() -> None:
    src = read_json(export([code()]))
    assert src.discount_codes is not None
    [sc] = src.discount_codes.codes
    assert (sc.code.value, sc.code.setup_fee_type, sc.code.max_uses, sc.code.description) == (
        Decimal(10), "absolute", 9, "launch")
    assert sc.products == ["premium", "extra-storage"] and sc.dropped == []
    assert src.discount_codes.memberships == {f"{SOURCE}/membership/70": "SAVE10"}
    # the stub's REST gives the code's object: read as its code
    obj = read_json(export([code()], member_code=code()))
    assert obj.discount_codes is not None
    assert obj.discount_codes.memberships == {f"{SOURCE}/membership/70": "Save10"}


def test_an_export_without_codes_leaves_them_alone() -> None:
    src = read_json(export(None))
    assert src.discount_codes is None
    plan = build_plan(src, target(membership_codes={70: "OTHER"}, known=True))
    assert steps(plan, "discount_code") == [] and steps(plan, "membership_code") == []


def test_a_fresh_target_creates_the_code_and_sets_the_memberships() -> None:
    plan = plan_of(export([code()]), target())
    assert steps(plan, "discount_code") == [("Save10", "create")]
    assert steps(plan, "membership_code") == [(f"{SOURCE}/membership/70", "create")]
    kinds = [s.kind for s in plan.steps]
    assert kinds.index("discount_code") < kinds.index("customer")  # after products, before the memberships


def test_codes_are_matched_as_um_matches_them_and_compared_by_slug() -> None:
    # the target's ids differ (premium 30, extra-storage 50): the same code by slug is unchanged
    moved = [p.model_copy(update={"id": p.id * 10}) for p in CATALOG]
    held = DiscountCode.model_validate(code(id=11, code="SAVE10", allowed_products=[50, 30]))
    plan = plan_of(export([code()]), target([held], {70: "save10"}, catalog=moved, known=True))
    [step] = plan.of("discount_code")  # found without case; only its spelling differs
    assert (step.target_id, step.differences) == (11, {"code": ("SAVE10", "Save10")})
    assert steps(plan, "membership_code") == []  # the membership's code is the same code
    same = DiscountCode.model_validate(code(id=11, allowed_products=[50, 30]))
    plan = plan_of(export([code()]), target([same], {70: "SAVE10"}, catalog=moved, known=True))
    assert steps(plan, "discount_code") == [("Save10", "unchanged")]


def test_a_different_code_is_a_conflict_unless_update() -> None:
    held = DiscountCode.model_validate(code(id=11, value="15", allowed_products=[3]))
    plan = plan_of(export([code()]), target([held]))
    [step] = plan.of("discount_code")
    assert step.action == "conflict" and step.target_id == 11
    assert step.differences == {"value": (Decimal(15), Decimal(10)),
                                "allowed_products": (["premium"], ["extra-storage", "premium"])}
    assert plan_of(export([code()]), target([held]), update=True).of("discount_code")[0].action == "update"


def test_what_um_cannot_hold_is_named() -> None:
    long = code(code="A" * 25)
    plan = plan_of(export([long], member_code="A" * 25), target(flavor=UM))
    [step] = plan.of("discount_code")
    assert step.action == "conflict" and "2 to 20 letters" in step.note and step.note.startswith("not imported")
    [mstep] = plan.of("membership_code")
    assert mstep.action == "conflict" and "not imported" in mstep.note
    assert plan_of(export([long], member_code="A" * 25), target()).of("discount_code")[0].action == "create"
    assert [line.split(": not imported")[0] for line in not_kept_summary(plan)] == [
        f"discount code {'A' * 25}", f"membership code {SOURCE}/membership/70"]  # the report's not_kept


def test_a_product_not_in_the_file_is_dropped_and_named() -> None:
    src = read_json(export([code(allowed_products=[3, 99])]))
    assert src.discount_codes is not None and src.discount_codes.codes[0].dropped == [99]
    step = build_plan(src, target()).of("discount_code")[0]
    assert step.action == "create" and "allowed product 99" in step.note


def test_a_memberships_code_that_differs_is_a_conflict_or_cleared_on_update() -> None:
    plan = plan_of(export([code()], member_code=None), target(membership_codes={70: "OLD"}, known=True))
    [step] = plan.of("membership_code")
    assert step.action == "conflict" and step.differences == {"discount_code": ("OLD", None)}
    plan = plan_of(export([code()], member_code=None), target(membership_codes={70: "OLD"}, known=True),
                   update=True)
    assert plan.of("membership_code")[0].action == "update"


def test_a_code_given_twice_is_an_issue() -> None:
    src = read_json(export([code(), code(id=5, code="SAVE10")]))
    assert [(i.where, i.field) for i in src.issues] == [("discount_codes[1] (SAVE10)", "code")]


def test_a_memberships_code_that_no_longer_exists_is_named() -> None:
    plan = plan_of(export([code()], member_code="GONE"), target())
    [step] = plan.of("membership_code")
    assert step.action == "unchanged" and "GONE is neither in the file nor on the network" in step.note
    assert step.note.startswith("not kept") and any("GONE" in line for line in codes_not_kept(plan))
    held = DiscountCode.model_validate(code(id=3, code="GONE"))
    assert plan_of(export([code()], member_code="GONE"), target([held])).of("membership_code")[0].action == "create"


def test_a_deleted_code_is_named_once_not_on_every_rerun() -> None:
    """The membership was imported without the code its source had deleted (named then); a re-run, where the
    target holds the membership, has nothing to write and nothing to say about it."""
    first = plan_of(export([code()], member_code="GONE"), target())
    assert [s.note.startswith("not kept") for s in first.of("membership_code")] == [True]
    again = plan_of(export([code()], member_code="GONE"), target(known=True))
    assert again.of("membership_code") == []
