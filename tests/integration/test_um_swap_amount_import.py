"""An import restores an add-on removal UM had scheduled with the amount the source stored (issue 21 item 4: a
migration loses nothing). UM prices a removal when it is scheduled (`wu_get_membership_product_price`: the add-on
less the membership's code, plus tax, as of that day); on the target those conditions may no longer hold (the code
deleted, taxes switched off since), so the import's PUT (`force`, as only `import` and `change apply --force` send
it) stores the source's amount. Without force UM's own price stands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.integration.stub_api_support import Api
from tests.integration.um_support import new_um_member
from wpbridge.sandbox import SandboxInfo

ROUTE = "/wp-json/wpbridge/v1/memberships/{}/scheduled-change"


def _put(api: Api, mid: int, extra_storage: int, *, force: bool, amount: str) -> dict[str, object]:
    when = (datetime.now(UTC) + timedelta(days=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    target = {"plan_id": 3, "addon_products": {str(extra_storage): 0}, "amount": amount}
    body: dict[str, object] = {"scheduled_for": when, "target": target}
    if force:
        body["force"] = True
    reply: dict[str, object] = api.ok("PUT", ROUTE.format(mid), json=body)
    return reply


def test_an_imported_removal_keeps_the_source_amount_and_um_prices_the_others(um_sandbox: SandboxInfo) -> None:
    api = Api(um_sandbox.url, (um_sandbox.api_key, um_sandbox.api_secret))
    ids: dict[str, int] = um_sandbox.info["seeded"]["products"]
    assert ids["premium"] == 3
    priced = new_um_member(um_sandbox, "premium", addons={"extra-storage": 1})
    kept = new_um_member(um_sandbox, "premium", addons={"extra-storage": 1})
    # Without force UM prices the removal itself: 39 + 5 held, 5 off = 39.
    by_um = _put(api, priced.membership_id, ids["extra-storage"], force=False, amount="37.5")
    assert float(by_um["target"]["amount"]) == 39.0  # type: ignore[index]
    # An import (force) restores the amount the source stored, though UM would price it 39 here today.
    restored = _put(api, kept.membership_id, ids["extra-storage"], force=True, amount="37.5")
    assert float(restored["target"]["amount"]) == 37.5  # type: ignore[index]
    read = api.ok("GET", ROUTE.format(kept.membership_id))
    assert float(read["target"]["amount"]) == 37.5
