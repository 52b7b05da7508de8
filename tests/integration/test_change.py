"""`wpbridge change options|quote|apply` end to end against the real sandbox (WordPress + plugin-stub).

Every test that writes works on a member of its own (`new_member`), so the tests do not depend on each other.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from tests.integration.change_support import (
    Member,
    Rest,
    network,
    new_member,
    run,
    run_json,
    server_state,
    today_at,
)
from wpbridge.billing import Cart, quote_change
from wpbridge.limits import differing_modules, effective_limitations
from wpbridge.models import Limitations
from wpbridge.sandbox import SandboxInfo
from wpbridge.workflows import change as flow

MAIN = ("--um-version", "2.4.13-beta.1")  # UM main's add-on carts: only the add-ons are charged

# --------------------------------------------------------------------------- options


def test_options_of_a_free_member_offer_premium_not_basic(sandbox: SandboxInfo) -> None:
    member = new_member(sandbox, "free")
    data = run_json(sandbox, "change", "options", str(member.membership_id))
    plans = {p["slug"]: p for p in data["plans"]}
    assert set(plans) == {"free", "premium"}
    assert plans["free"]["relation"] == "current" and plans["free"]["current"] is True
    assert plans["premium"]["relation"] == "upgrade"
    assert Decimal(plans["premium"]["amount"]) == Decimal("39")
    assert {"1 year"} <= {f"{p['duration']} {p['duration_unit']}" for p in plans["premium"]["prices"]}
    assert {a["slug"] for a in data["addons"]} == {"unlimited-visits", "extra-storage", "site-setup"}

    table = run(sandbox, "change", "options", str(member.membership_id))
    assert table.exit_code == 0
    assert "premium" in table.stdout and "basic" not in table.stdout.split("Add-ons")[0]

    csv_out = run(sandbox, "change", "options", str(member.membership_id), "--output", "csv")
    assert csv_out.exit_code == 0
    header, *rows = csv_out.stdout.strip().splitlines()
    assert header.split(",")[:3] == ["kind", "id", "slug"]
    assert sum(1 for r in rows if r.startswith("plan,")) == 2


# --------------------------------------------------------------------------- quotes


def test_upgrade_mid_cycle_credit_to_the_cent(sandbox: SandboxInfo) -> None:
    """Basic ($15/month) renewed 12 days ago -> Premium, priced at a fixed moment: the CLI's credit and due now
    are the pricing engine's to the cent, and the engine's equal UM's formula worked out here by hand."""
    member = new_member(sandbox, "basic", created=75, renewed=12)
    at = today_at(6)
    data = run_json(sandbox, "change", "quote", str(member.membership_id), "--plan", "premium", "--at", at.isoformat())
    net = network(sandbox)
    membership = net.memberships.get(member.membership_id)
    catalog = net.products.catalog()
    premium = next(p for p in catalog if p.slug == "premium")
    engine = quote_change(membership, catalog, Cart(plan_id=premium.id), now=at,
                          usage=net.usage.get(member.blog_ids))
    assert data["kind"] == "upgrade" == engine.kind
    assert Decimal(data["credit"]) == engine.credit
    assert Decimal(data["due_now"]) == engine.due_now
    assert Decimal(data["recurring_total"]) == engine.recurring_total == Decimal("39.00")
    # by hand: whole days left in the period x 15 / 30.4375, rounded half up
    assert membership.date_expiration is not None
    days = (membership.date_expiration - at).days
    by_hand = (Decimal(days) * Decimal(15) / Decimal("30.4375")).quantize(Decimal("0.01"))
    assert days > 0 and Decimal(data["credit"]) == by_hand
    assert Decimal(data["due_now"]) == Decimal("39.00") - by_hand
    assert [line["type"] for line in data["lines"]] == ["product", "credit"]


def test_quote_table_and_csv_and_no_change(sandbox: SandboxInfo) -> None:
    member = new_member(sandbox, "basic", created=75, renewed=12)
    mid = str(member.membership_id)
    table = run(sandbox, "change", "quote", mid, "--plan", "basic")
    assert table.exit_code == 0
    assert "No change: This cart proposes no changes to the current membership." in table.stdout
    nothing = run_json(sandbox, "change", "quote", mid)
    assert nothing["kind"] == "no_change" and nothing["lines"] == []
    csv_out = run(sandbox, "change", "quote", mid, "--addon", "extra-storage:2", "--output", "csv", *MAIN)
    assert csv_out.exit_code == 0
    lines = csv_out.stdout.strip().splitlines()
    assert lines[0].startswith("kind,type,product_id,title,quantity,unit_price,total,currency,credit,due_now,")
    assert any(ln.startswith("addon,product,") and ",2,5.00,10.00,USD,0.00,10.00," in ln for ln in lines)
    assert not any(",summary," in ln for ln in lines)  # one table: lines, each with the quote's totals


def test_quote_blocked_is_exit_0_and_apply_blocked_is_exit_3(sandbox: SandboxInfo) -> None:
    """Premium with 11 posts on its site cannot move to Free (10 posts): the message names site, count, limit."""
    member = new_member(sandbox, "premium", created=40, renewed=5)
    rest = Rest(sandbox)
    for i in range(10):  # + WordPress's "Hello world!" = 11 published posts
        assert rest.create_post(member.site_urls[0], f"post {i}").status_code == 201
    before = server_state(sandbox, member)
    quote = run(sandbox, "change", "quote", str(member.membership_id), "--plan", "free")
    assert quote.exit_code == 0
    assert "Blocked:" in quote.stdout
    blog = member.blog_ids[0]
    assert f"Site {blog}" in quote.stdout and "has 11 posts" in quote.stdout and "limited to 10 posts" in quote.stdout
    assert "trash 1 post" in quote.stdout
    applied = run(sandbox, "change", "apply", str(member.membership_id), "--plan", "free", "--yes",
                  "--output", "json")
    assert applied.exit_code == 3
    assert json.loads(applied.stdout)["status"] == "blocked"
    assert server_state(sandbox, member) == before


# --------------------------------------------------------------------------- apply


def _posts_allowed(rest: Rest, member: Member) -> int:
    """Publish posts until WordPress refuses one; returns how many were accepted."""
    for accepted in range(30):
        resp = rest.create_post(member.site_urls[0], f"fill {accepted}")
        if resp.status_code != 201:
            assert resp.status_code == 403 and resp.json()["code"] == "wpbridge_quota_exceeded"
            return accepted
    raise AssertionError("WordPress never refused a post")


def test_upgrade_apply_enforced_by_wordpress_and_second_apply_is_a_no_op(sandbox: SandboxInfo) -> None:
    member = new_member(sandbox, "free")
    rest = Rest(sandbox)
    site = member.site_urls[0]
    assert _posts_allowed(rest, member) == 9  # Free: 10 posts, "Hello world!" is one
    refused = rest.create_post(site, "over the Free limit")
    assert refused.status_code == 403

    result = run(sandbox, "change", "apply", str(member.membership_id), "--plan", "premium", "--yes")
    assert result.exit_code == 0, result.output
    assert "Applied: upgrade" in result.stdout
    assert f"PUT /wpbridge/v1/sites/{member.blog_ids[0]}/quota" in result.stdout
    assert "post_types.post: 10 -> 1000" in result.stdout
    assert "verified: membership" in result.stdout

    accepted = rest.create_post(site, "over the old limit, under Premium's")
    assert accepted.status_code == 201, accepted.text[:300]
    state = server_state(sandbox, member)
    assert int(state["membership"]["plan_id"]) == rest.product_ids()["premium"]
    assert Decimal(state["membership"]["amount"]) == Decimal(39)

    again = run(sandbox, "change", "apply", str(member.membership_id), "--plan", "premium", "--yes",
                "--output", "json")
    assert again.exit_code == 0
    data = json.loads(again.stdout)
    assert data["status"] == "unchanged" and data["performed"] == [] and data["planned"] == []
    assert "already in that state" in data["message"]
    assert server_state(sandbox, member) == state


def test_addon_purchase_with_quantity(sandbox: SandboxInfo) -> None:
    member = new_member(sandbox, "basic", created=75, renewed=12)
    mid = str(member.membership_id)
    data = run_json(sandbox, "change", "apply", mid, "--addon", "extra-storage:2", "--yes", *MAIN)
    assert data["status"] == "applied" and data["ok"] is True
    quote = data["quote"]
    assert quote["kind"] == "addon"
    assert Decimal(quote["due_now"]) == Decimal("10.00") and Decimal(quote["credit"]) == 0
    assert Decimal(quote["recurring_total"]) == Decimal("25.00")
    assert [w["kind"] for w in data["performed"]] == ["payment", "membership", "site_quota"]
    assert data["payment"]["status"] == "pending" and Decimal(data["payment"]["total"]) == Decimal("10.00")
    state = server_state(sandbox, member)
    ids = Rest(sandbox).product_ids()
    assert {int(k): v for k, v in state["membership"]["addon_products"].items()} == {ids["extra-storage"]: 2}
    quota = Limitations.model_validate(state["quotas"][member.blog_ids[0]])
    assert quota.disk_space is not None and quota.disk_space.limit == 1000 + 2 * 1000

    # the quantity is the total to hold: asking for 3 buys one more, asking for 3 again buys nothing
    more = run_json(sandbox, "change", "quote", mid, "--addon", "extra-storage:3", *MAIN)
    assert more["kind"] == "addon" and Decimal(more["due_now"]) == Decimal("5.00")
    assert any("adds 1 to reach 3" in n for n in more["notes"])
    same = run_json(sandbox, "change", "apply", mid, "--addon", "extra-storage:2", "--yes", *MAIN)
    assert same["status"] == "unchanged" and same["performed"] == []


def test_downgrade_is_scheduled_not_applied(sandbox: SandboxInfo) -> None:
    member = new_member(sandbox, "premium", created=40, renewed=5)
    before = server_state(sandbox, member)
    data = run_json(sandbox, "change", "apply", str(member.membership_id), "--plan", "free", "--yes")
    assert data["status"] == "scheduled" and data["quote"]["kind"] == "downgrade"
    assert Decimal(data["quote"]["due_now"]) == 0
    assert [w["kind"] for w in data["performed"]] == ["scheduled_change"]
    after = server_state(sandbox, member)
    assert after["membership"] == before["membership"]
    assert after["quotas"] == before["quotas"]
    assert after["scheduled"] is not None
    expiration = flow.parse_at(before["membership"]["date_expiration"])
    assert flow.parse_at(after["scheduled"]["scheduled_for"]) == expiration
    assert int(after["scheduled"]["target"]["plan_id"]) == Rest(sandbox).product_ids()["free"]
    shown = run(sandbox, "memberships", "show", str(member.membership_id))
    assert "scheduled change  to Free at" in shown.stdout

    again = run_json(sandbox, "change", "apply", str(member.membership_id), "--plan", "free", "--yes")
    assert again["status"] == "unchanged" and "already scheduled" in again["message"]
    assert server_state(sandbox, member) == after


def test_crash_after_membership_write_then_rerun_finishes(sandbox: SandboxInfo) -> None:
    member = new_member(sandbox, "free", sites=2)
    net = network(sandbox)

    class Crash(Exception):
        pass

    def crash_after_membership(write: flow.Write) -> None:
        if write.kind == "membership":
            raise Crash

    with pytest.raises(Crash):
        flow.apply(net, member.membership_id, now=today_at(6), plan="premium", after_write=crash_after_membership)
    half = server_state(sandbox, member)
    ids = Rest(sandbox).product_ids()
    assert int(half["membership"]["plan_id"]) == ids["premium"]
    membership = net.memberships.get(member.membership_id)
    catalog = net.products.catalog()
    stale = [b for b in member.blog_ids
             if differing_modules(effective_limitations(membership, catalog, net.sites.get(b)),
                            Limitations.model_validate(half["quotas"][b]))]
    assert stale == list(member.blog_ids)  # the quotas are still Free's

    rerun = run_json(sandbox, "change", "apply", str(member.membership_id), "--plan", "premium", "--yes")
    assert rerun["status"] == "applied" and rerun["quote"]["kind"] == "no_change"
    assert "already in that state" in rerun["message"]
    assert sorted(w["record_id"] for w in rerun["performed"]) == sorted(member.blog_ids)
    assert all(w["kind"] == "site_quota" for w in rerun["performed"])
    assert all(c["ok"] for c in rerun["verification"])
    done = server_state(sandbox, member)
    assert done["membership"] == half["membership"]
    for b in member.blog_ids:
        assert not differing_modules(effective_limitations(membership, catalog, net.sites.get(b)),
                               Limitations.model_validate(done["quotas"][b]))
    third = run_json(sandbox, "change", "apply", str(member.membership_id), "--plan", "premium", "--yes")
    assert third["status"] == "unchanged" and third["performed"] == []


def test_failed_quota_write_exits_1_and_a_rerun_completes(sandbox: SandboxInfo) -> None:
    member = new_member(sandbox, "free")
    rest = Rest(sandbox)
    rest.faults(member.blog_ids, 500)
    try:
        failed = run(sandbox, "change", "apply", str(member.membership_id), "--plan", "premium", "--yes",
                     "--output", "json")
    finally:
        rest.faults([])
    assert failed.exit_code == 1
    data = json.loads(failed.stdout)
    assert data["status"] == "failed" and [w["kind"] for w in data["failed"]] == ["site_quota"]
    assert [w["kind"] for w in data["performed"]] == ["payment", "membership"]
    rerun = run_json(sandbox, "change", "apply", str(member.membership_id), "--plan", "premium", "--yes")
    assert rerun["status"] == "applied" and [w["kind"] for w in rerun["performed"]] == ["site_quota"]


def test_dry_run_and_declined_write_nothing(sandbox: SandboxInfo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("wpbridge.cli.change.interactive", lambda: True)  # a person answers the question
    member = new_member(sandbox, "free")
    before = server_state(sandbox, member)
    mid = str(member.membership_id)
    dry = run(sandbox, "change", "apply", mid, "--plan", "premium", "--dry-run")
    assert dry.exit_code == 0
    assert "Writes (3):" in dry.stdout and f"PUT /wu/v2/membership/{mid}" in dry.stdout
    assert f"POST /wpbridge/v1/memberships/{mid}/payments" in dry.stdout
    assert "Dry run:" in dry.stdout
    declined = run(sandbox, "change", "apply", mid, "--plan", "premium", input="n\n")
    assert declined.exit_code == 1
    assert "Write these changes?" in declined.stderr and "Declined" in declined.stdout
    assert server_state(sandbox, member) == before
    assert run_json(sandbox, "payments", "list", "--membership", mid) == []  # no payment either
    confirmed = run(sandbox, "change", "apply", mid, "--plan", "premium", input="y\n")
    assert confirmed.exit_code == 0 and "Applied: upgrade" in confirmed.stdout


# --------------------------------------------------------------------------- bad input: exit 2, nothing written

BAD_INPUTS: list[tuple[list[str], str]] = [
    (["--plan", "gold"], "unknown plan 'gold'"),
    (["--plan", "basic"], "plan 'basic' is not offered to membership"),
    (["--plan", "unlimited-visits"], "is a package, not a plan"),
    (["--addon", "no-such-addon"], "unknown add-on 'no-such-addon'"),
    (["--plan", "premium", "--period", "1-year"], "period '1-year': expected N:UNIT"),
    (["--plan", "premium", "--period", "1:fortnight"], "period '1:fortnight'"),
    (["--plan", "premium", "--period", "1:week"], "does not exist for the selected duration"),
    (["--plan", "premium", "--at", "yesterday"], "not an ISO 8601 date-time"),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUTS, ids=[" ".join(a) for a, _ in BAD_INPUTS])
def test_bad_input_is_one_line_exit_2_nothing_written(sandbox: SandboxInfo, args: list[str], message: str) -> None:
    member = new_member(sandbox, "free")
    before = server_state(sandbox, member)
    for command in ("quote", "apply"):
        extra = ["--yes"] if command == "apply" else []
        result = run(sandbox, "change", command, str(member.membership_id), *args, *extra)
        assert result.exit_code == 2, result.output
        assert message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert server_state(sandbox, member) == before


def test_addon_not_offered_refused_unless_forced(sandbox: SandboxInfo) -> None:
    member = new_member(sandbox, "basic", created=75, renewed=12)  # Basic offers extra-storage and site-setup
    before = server_state(sandbox, member)
    refused = run(sandbox, "change", "apply", str(member.membership_id), "--addon", "unlimited-visits", "--yes")
    assert refused.exit_code == 2
    assert "Unlimited visits is not offered as an add-on of Basic" in refused.stderr and "--force" in refused.stderr
    assert server_state(sandbox, member) == before
    forced = run_json(sandbox, "change", "quote", str(member.membership_id), "--addon", "unlimited-visits",
                      "--force")
    assert forced["kind"] == "addon" and any(n.startswith("forced:") for n in forced["notes"])


def test_plan_outside_group_names_the_reason_and_force_quotes_it(sandbox: SandboxInfo) -> None:
    member = new_member(sandbox, "free")
    refused = run(sandbox, "change", "quote", str(member.membership_id), "--plan", "basic")
    assert refused.exit_code == 2
    assert "Basic has no plan group, and the current plan Free is in group 'High End'" in refused.stderr
    forced = run_json(sandbox, "change", "quote", str(member.membership_id), "--plan", "basic", "--force")
    assert forced["kind"] == "upgrade" and forced["new"]["plan"]["slug"] == "basic"


def test_unknown_membership_exit_2(sandbox: SandboxInfo) -> None:
    for command in (["options"], ["quote", "--plan", "premium"], ["apply", "--plan", "premium", "--yes"]):
        result = run(sandbox, "change", command[0], "987654", *command[1:])
        assert result.exit_code == 2
        assert result.stderr.strip() == "error: membership 987654 does not exist"


def test_python_api_quote_matches_cli(sandbox: SandboxInfo) -> None:
    member = new_member(sandbox, "basic", created=75, renewed=12)
    at = today_at(6)
    api = flow.quote(network(sandbox), member.membership_id, now=at, plan="basic", period="1:month",
                     addons={"extra-storage": 1})
    cli: Any = run_json(sandbox, "change", "quote", str(member.membership_id), "--addon", "extra-storage",
                        "--at", at.isoformat())
    assert api.kind == cli["kind"] == "addon"
    assert str(api.quote.due_now) == cli["due_now"]
