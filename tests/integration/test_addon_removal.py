"""Removing an add-on (issue 21 item 10) on both flavors, as Ultimate Multisite's own screens do it: at the period
end (UM's account page: its scheduled swap, the amount lowered by UM's own `wu_get_membership_product_price`), or now
(UM's admin membership screen: the membership written, the quotas follow at once). Nothing is charged or refunded."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

from tests.integration.change_support import Rest, new_member, run
from tests.integration.um_support import new_um_member, um_membership, um_php, um_site_limits
from wpbridge.models import parse_utc
from wpbridge.sandbox import SandboxInfo


def is_um(sb: SandboxInfo) -> bool:
    return sb.info.get("flavor") == "ultimate-multisite"


def fresh(sb: SandboxInfo, **kw: Any) -> tuple[int, tuple[int, ...]]:
    """A premium member holding 2 x extra storage (amount 39 + 2 x 5 = 49)."""
    if is_um(sb):
        m = new_um_member(sb, "premium", renewed=5, addons={"extra-storage": 2}, **kw)
        return m.membership_id, m.blog_ids
    s = new_member(sb, "premium", renewed=5, addons={"extra-storage": 2}, **kw)
    return s.membership_id, s.blog_ids


def apply_json(sb: SandboxInfo, *args: str) -> tuple[int, dict[str, Any]]:
    result = run(sb, "change", "apply", *args, "--yes", "--output", "json")
    return result.exit_code, json.loads(result.stdout)


def membership(sb: SandboxInfo, mid: int) -> dict[str, Any]:
    return dict(Rest(sb).api("GET", f"/wu/v2/membership/{mid}"))


def disk_limits(sb: SandboxInfo, blog_ids: tuple[int, ...]) -> list[int]:
    if is_um(sb):
        return [int(um_site_limits(sb, b)["disk_space"]["limit"]) for b in blog_ids]
    return [int(Rest(sb).api("GET", f"/wpbridge/v1/sites/{b}/quota")["disk_space"]["limit"]) for b in blog_ids]


def test_removal_at_the_period_end_is_scheduled_and_lowers_the_amount_as_um(any_sandbox: SandboxInfo) -> None:
    sb = any_sandbox
    mid, blogs = fresh(sb)
    before = membership(sb, mid)
    disk_before = disk_limits(sb, blogs)
    code, out = apply_json(sb, str(mid), "--addon", "extra-storage:0")
    assert code == 0 and out["status"] == "scheduled" and out["ok"], out["message"]
    assert out["payment"] is None and Decimal(out["quote"]["due_now"]) == 0
    assert Decimal(out["quote"]["recurring_total"]) == Decimal("39.00")
    assert "removal of 2 x Extra storage scheduled for" in out["message"]
    # the read-back compared the stored swap (UM: UM's own price of the add-on) with the quote: amount included
    assert all(c["ok"] for c in out["verification"]) and out["verification"]
    assert membership(sb, mid)["addon_products"] == before["addon_products"]  # nothing changes before the date
    assert disk_limits(sb, blogs) == disk_before
    again_code, again = apply_json(sb, str(mid), "--addon", "extra-storage:0")
    assert again_code == 0 and again["status"] == "unchanged" and again["performed"] == []
    # when it is due: the add-on is gone, the amount lower, the quotas follow
    if is_um(sb):
        held = um_membership(sb, mid)
        assert held["swap_date"][:10] == held["date_expiration"][:10] and held["swap_jobs"] == 1
        um_php(sb, "\\WP_Ultimo\\Managers\\Membership_Manager::get_instance()->async_membership_swap( $data );"
                   " return true;", mid)
    else:
        at = parse_utc(before["date_expiration"]) + timedelta(hours=1)
        synced = run(sb, "sync", "--at", at.isoformat(), "--only-membership", str(mid))
        assert synced.exit_code == 0, synced.output
    after = membership(sb, mid)
    assert after["addon_products"] in ({}, []) and Decimal(str(after["amount"])) == Decimal("39")
    assert all(new < old for new, old in zip(disk_limits(sb, blogs), disk_before, strict=True))


def test_removal_now_writes_the_membership_and_the_quotas_follow(any_sandbox: SandboxInfo) -> None:
    sb = any_sandbox
    mid, blogs = fresh(sb)
    disk_before = disk_limits(sb, blogs)
    code, out = apply_json(sb, str(mid), "--addon", "extra-storage:1", "--remove-now")
    assert code == 0 and out["status"] == "applied" and out["ok"], out["message"]
    assert out["payment"] is None and out["performed"][0]["kind"] == "membership"
    after = membership(sb, mid)
    storage = str(Rest(sb).product_ids()["extra-storage"])
    assert {str(k): int(v) for k, v in after["addon_products"].items()} == {storage: 1}
    assert Decimal(str(after["amount"])) == Decimal("44")
    assert all(new < old for new, old in zip(disk_limits(sb, blogs), disk_before, strict=True))


def test_um_takes_the_addons_tax_off_too(um_sandbox: SandboxInfo) -> None:
    """With taxes on (FR 20 %, prices without tax), UM's account page lowers the amount by the add-on's price with
    its tax (`wu_get_membership_product_price` at the billing address): 49 - 2 x 5 x 1.2 = 37; the read-back
    compares UM's stored swap amount with wpbridge's quote."""
    from tests.integration.test_change_taxes import customer_of, set_billing_country, taxes

    mid, _ = fresh(um_sandbox)
    set_billing_country(um_sandbox, customer_of(um_sandbox, mid), "FR")
    with taxes(um_sandbox):
        code, out = apply_json(um_sandbox, str(mid), "--addon", "extra-storage:0")
    assert code == 0 and out["ok"], out["message"]
    assert Decimal(out["quote"]["recurring_total"]) == Decimal("37.00")
    assert Decimal(str(um_membership(um_sandbox, mid)["amount"])) == Decimal("49")  # until the period ends


def test_a_removal_adds_to_the_change_already_scheduled(any_sandbox: SandboxInfo) -> None:
    """As UM's account page: the scheduled swap is applied first, then the add-on removed; one swap holds both.
    Removing now is refused then (the scheduled change would bring the add-on back)."""
    sb = any_sandbox
    mid, _ = fresh(sb)
    code, down = apply_json(sb, str(mid), "--plan", "free")
    assert code == 0 and down["status"] == "scheduled", down["message"]
    now = run(sb, "change", "apply", str(mid), "--addon", "extra-storage:0", "--remove-now", "--yes")
    assert now.exit_code == 2 and "would come back when it applies" in now.stderr
    code, out = apply_json(sb, str(mid), "--addon", "extra-storage:0")
    assert code == 0 and out["status"] == "scheduled" and out["ok"], out["message"]
    assert any("added to the change scheduled for" in n for n in out["quote"]["notes"])
    target = out["performed"][0]["body"]["target"]
    assert int(target["plan_id"]) == Rest(sb).product_ids()["free"] and target["addon_products"] in ({}, [])
    assert Decimal(out["quote"]["recurring_total"]) == 0


def test_the_membership_codes_share_is_taken_off_the_price_removed(any_sandbox: SandboxInfo) -> None:
    """A membership with its own 20 % code: UM's `wu_get_membership_product_price` prices the add-on with it (its
    Cart applies the code to the line: 2 x 5 - 20 % = 8), so the amount falls by 8, not 10 (UM: read back from the
    swap UM stored)."""
    from tests.integration.test_change_member_code import own_code

    sb = any_sandbox
    mid, _ = fresh(sb)
    with own_code(sb, mid):
        code, out = apply_json(sb, str(mid), "--addon", "extra-storage:0")
    assert code == 0 and out["ok"], out["message"]
    assert Decimal(out["quote"]["recurring_total"]) == Decimal("41.00")
    assert any("the amount falls by 8.00" in n for n in out["quote"]["notes"])
