"""Issue 20, what was left of the second security pass: each test reproduces a way in that worked on main and
failed before its fix (item 7: no quota for the main site; item 5: UM swaps to another group's plan; item 4: a
request whose declared body never arrives). The stub network (`sandbox`) and the real Ultimate Multisite 2.4.12
(`um_sandbox`); each test makes its own records and leaves the shared networks as it found them.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.stub_api_support import Api, tag
from tests.integration.test_import import site_key

W = "/wp-json/wpbridge/v1"


def _api(sb: Any) -> Api:
    return Api(sb.url, (sb.api_key, sb.api_secret))


# ------------------------------------------------------------------------ 7. the main site never takes a quota


def test_the_main_site_never_takes_a_quota(any_sandbox: Any) -> None:
    api = _api(any_sandbox)
    main = next(s for s in api.ok("GET", f"{W}/sites", params={"per_page": 100}) if s["is_main"])
    blog = int(main["blog_id"])
    before = api.ok("GET", f"{W}/sites/{blog}/quota")
    quota = {"visits": {"enabled": True, "limit": 7}}
    try:
        resp = api("PUT", f"{W}/sites/{blog}/quota", json=quota)
        assert resp.status_code == 409, (resp.status_code, resp.text[:300])
        assert resp.json()["code"] == "wpbridge_main_site", resp.text[:300]
        assert f"site {blog}" in resp.json()["message"] and "main site" in resp.json()["message"], resp.text[:300]
        batch = api.ok("POST", "/wp-json/batch/v1", json={"requests": [
            {"method": "PUT", "path": f"/wpbridge/v1/sites/{blog}/quota", "body": quota}]})
        assert batch["responses"][0]["status"] == 409, batch
        assert api.ok("GET", f"{W}/sites/{blog}/quota") == before
    finally:  # a quota stored by a failing run would limit the shared network's main site
        if api.ok("GET", f"{W}/sites/{blog}/quota") != before:
            api("DELETE", f"{W}/sites/{blog}/quota")


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_reading_or_deleting_the_main_site_quota_still_works(sandbox: Any, method: str) -> None:
    api = _api(sandbox)
    main = next(s for s in api.ok("GET", f"{W}/sites", params={"per_page": 100}) if s["is_main"])
    assert api(method, f"{W}/sites/{main['blog_id']}/quota").status_code == 200


# ------------------------------------------------ 5. UM swaps to another group's plan only when the request forces


def test_um_swap_to_another_groups_plan_needs_force(um_sandbox: Any) -> None:
    from tests.integration.um_support import new_um_member, um_membership

    ids = um_sandbox.info["seeded"]["products"]
    member = new_um_member(um_sandbox, "premium")  # Premium is in group 'High End'; Basic in none
    api = _api(um_sandbox)
    path = f"{W}/memberships/{member.membership_id}/scheduled-change"
    body = {"scheduled_for": "2031-01-01T00:00:00Z", "target": {"plan_id": ids["basic"]}}
    try:
        resp = api("PUT", path, json=body)
        assert resp.status_code == 400, (resp.status_code, resp.text[:300])
        assert resp.json()["data"]["field"] == "target.plan_id", resp.text[:300]
        assert "group" in resp.json()["message"] and "force" in resp.json()["message"], resp.text[:300]
        assert um_membership(um_sandbox, member.membership_id)["swap_date"] is None
        assert api("PUT", path, json={**body, "force": "yes"}).json()["data"]["field"] == "force"
        api.ok("PUT", path, json={**body, "force": True})
        held = um_membership(um_sandbox, member.membership_id)
        assert held["swap_plan"] == ids["basic"] and held["plan_id"] == ids["premium"], held
    finally:  # no swap left on the shared network
        api("DELETE", path)


def test_change_apply_force_sends_force_and_shows_it_in_the_plan(um_sandbox: Any) -> None:
    from tests.integration.change_support import run
    from tests.integration.um_support import new_um_member, um_membership

    ids = um_sandbox.info["seeded"]["products"]
    member = new_um_member(um_sandbox, "premium", renewed=5)
    mid = str(member.membership_id)
    refused = run(um_sandbox, "change", "apply", mid, "--plan", "basic", "--yes")
    assert refused.exit_code == 2 and "--force" in refused.stderr, refused.output
    try:
        preview = run(um_sandbox, "change", "apply", mid, "--plan", "basic", "--force", "--dry-run")
        assert preview.exit_code == 0, preview.output
        assert "forced (sent with force): Basic is not offered" in preview.output, preview.output
        assert um_membership(um_sandbox, member.membership_id)["swap_date"] is None
        applied = run(um_sandbox, "change", "apply", mid, "--plan", "basic", "--force", "--yes")
        assert applied.exit_code == 0, applied.output
        assert um_membership(um_sandbox, member.membership_id)["swap_plan"] == ids["basic"]
    finally:
        _api(um_sandbox)("DELETE", f"{W}/memberships/{mid}/scheduled-change")


# ------------------------------------------- left to decide: a super admin's email never becomes a customer's


def _customers_of_user(api: Api, user_id: int) -> list[Any]:
    rows = api.ok("GET", f"{W}/import/customers", params={"per_page": 100})
    return [c for c in rows if int(c["user_id"]) == user_id]


def test_an_import_refuses_a_super_admins_email(any_sandbox: Any, tmp_path: Any) -> None:
    from tests.integration.change_support import run

    api = _api(any_sandbox)
    email = any_sandbox.info["admin_email"]
    admin_id = int(api.ok("GET", "/wp-json/wp/v2/users", params={"search": email, "context": "edit"},
                          auth=(any_sandbox.user, any_sandbox.app_password))[0]["id"])
    assert _customers_of_user(api, admin_id) == []
    try:
        resp = api("POST", f"{W}/import/customers", json={"email": email.upper()})
        assert resp.status_code == 409, (resp.status_code, resp.text[:300])
        body = resp.json()
        assert body["code"] == "wpbridge_super_admin" and body["data"]["field"] == "email", body
        assert email in body["message"].lower() and "super admin" in body["message"], body
        csv = tmp_path / "admin.csv"
        csv.write_text(f"email,plan\n{email},basic\n")
        result = run(any_sandbox, "import", str(csv), "--yes")
        assert result.exit_code != 0 and "super admin" in result.output, result.output
        assert "Traceback" not in result.output
        assert _customers_of_user(api, admin_id) == []
    finally:  # the shared network's super admin is left no customer (deleting one keeps its WordPress user)
        for customer in _customers_of_user(api, admin_id):
            api("DELETE", f"/wp-json/wu/v2/customer/{customer['id']}")


# ------------------------------------------ 16. an import never moves a record from one customer to another


def _import(sb: Any, path: Any, *args: str) -> Any:
    from tests.integration.change_support import run

    result = run(sb, "import", str(path), *args)
    assert "Traceback" not in result.output, result.output
    return result


def _owner_rows(sb: Any) -> dict[str, Any]:
    """Who holds what on the network: customers by email, memberships by id, sites by their label's path (`/alice/`,
    also on a subdomain network: site_key)."""
    api = _api(sb)
    customers = {c["email"]: c for c in api.ok("GET", f"{W}/import/customers", params={"per_page": 100})}
    memberships = {m["id"]: m for m in api.ok("GET", "/wp-json/wu/v2/membership", params={"per_page": 100})}
    sites = {site_key(s): s for s in api.ok("GET", f"{W}/sites", params={"per_page": 100})}
    return {"customers": customers, "memberships": memberships, "sites": sites}


def test_a_csv_row_with_another_customers_username_creates_nothing_for_them(sandbox: Any, tmp_path: Any) -> None:
    alice = next(c for c in sandbox.info["seeded"]["customers"] if c["username"] == "alice")
    t = tag()
    csv = tmp_path / "rows.csv"
    csv.write_text(f"email,username,plan,date_expiration,site_path\nnew{t}@example.org,alice,basic,2031-01-01,/n{t}/\n")
    before = _owner_rows(sandbox)
    dry = _import(sandbox, csv, "--dry-run")
    assert "conflict" in dry.output and f"new{t}@example.org" in dry.output, dry.output
    for args in (["--yes"], ["--yes", "--update"]):
        _import(sandbox, csv, *args)
        after = _owner_rows(sandbox)
        assert f"new{t}@example.org" not in after["customers"] and f"/n{t}/" not in after["sites"], args
        assert after["memberships"] == before["memberships"], args  # nothing created for alice, nothing moved
        assert [c["email"] for c in after["customers"].values() if c["id"] == alice["customer_id"]] == [
            c["email"] for c in before["customers"].values() if c["id"] == alice["customer_id"]]


def test_update_never_relinks_another_customers_site(sandbox: Any, tmp_path: Any) -> None:
    alice = next(c for c in sandbox.info["seeded"]["customers"] if c["username"] == "alice")
    before = _owner_rows(sandbox)
    site = next(s for s in before["sites"].values() if s["blog_id"] == alice["blog_ids"][0])
    path = site_key(site)
    t = tag()
    csv = tmp_path / "rows.csv"
    csv.write_text(f"email,plan,date_expiration,site_path\nmover{t}@example.org,basic,2031-01-01,{path}\n")
    dry = _import(sandbox, csv, "--dry-run", "--update")
    assert "conflict" in dry.output and path.strip("/") in dry.output, dry.output
    _import(sandbox, csv, "--yes", "--update")
    after = _owner_rows(sandbox)
    held = after["sites"][path]
    assert (held["membership_id"], held["customer_id"]) == (site["membership_id"], site["customer_id"]), held
    mover = after["customers"].get(f"mover{t}@example.org")
    assert mover is None or all(m["customer_id"] != mover["id"] for m in after["memberships"].values()
                                if m["id"] == site["membership_id"])


def test_a_json_import_never_moves_a_membership_to_another_customer(sandbox: Any, tmp_path: Any) -> None:
    import json
    from datetime import UTC, datetime

    from tests.integration.change_support import network
    from wpbridge.workflows.snapshot import export_snapshot

    exported = tmp_path / "export.json"
    with network(sandbox) as net:
        export_snapshot(net, exported, now=datetime.now(UTC), source_url=sandbox.url)
    data = json.loads(exported.read_text())
    basic = next(p["id"] for p in data["catalog"] if p["slug"] == "basic")
    model_c = next(c for c in data["customers"])
    model_m = next(m for m in data["memberships"] if m["plan_id"] == basic)
    t = tag()
    source = f"https://old-{t}.example"

    def snapshot(customer_id: int, email: str, username: str) -> Any:
        path = tmp_path / f"{username}.json"
        customer = {**model_c, "id": customer_id, "user_id": customer_id, "email": email, "user_email": email,
                    "username": username, "user_login": username}
        membership = {**model_m, "id": 900_001, "customer_id": customer_id}
        path.write_text(json.dumps({**data, "source_url": source, "customers": [customer],
                                    "memberships": [membership], "sites": [], "quotas": [], "usage": [],
                                    "scheduled_changes": [], "payments": []}))
        return path

    first = _import(sandbox, snapshot(501, f"first{t}@example.org", f"first{t}"), "--yes")
    assert first.exit_code == 0, first.output
    owner = _owner_rows(sandbox)["customers"][f"first{t}@example.org"]
    moved = snapshot(502, f"second{t}@example.org", f"second{t}")
    dry = _import(sandbox, moved, "--dry-run", "--update")
    assert "conflict" in dry.output and "another customer" in dry.output, dry.output
    _import(sandbox, moved, "--yes", "--update")
    after = _owner_rows(sandbox)
    mine = [m for m in after["memberships"].values() if m["customer_id"] == owner["id"]]
    assert len(mine) == 1, mine  # still the first customer's
    second = after["customers"].get(f"second{t}@example.org")
    assert second is None or all(m["customer_id"] != second["id"] for m in after["memberships"].values())


# ------------------------------------------- 4. a request whose headers trickle in and whose body never comes


def _raw(sb: Any, head: bytes, *, trickle: bool) -> Any:
    import socket

    conn = socket.create_connection(("127.0.0.1", int(sb.info["port"])), timeout=60)
    if trickle:
        for i in range(len(head)):
            conn.sendall(head[i:i + 1])
    else:
        conn.sendall(head)
    return conn


def _reply(conn: Any) -> bytes:
    import time

    started, data = time.monotonic(), b""
    try:
        while chunk := conn.recv(65536):
            data += chunk
    finally:
        conn.close()
    return data + f"\n(after {time.monotonic() - started:.1f} s)".encode()


def test_a_trickled_request_whose_body_never_comes_times_out_as_408(sandbox: Any) -> None:
    import base64

    api = _api(sandbox)
    blog = int(api.ok("POST", "/wp-json/wu/v2/site", json={"path": f"/t{tag()}/", "title": "trickled"})["blog_id"])
    try:
        api.ok("PUT", f"{W}/sites/{blog}/quota", json={"visits": {"enabled": True, "limit": 5}})
        token = base64.b64encode(f"{sandbox.api_key}:{sandbox.api_secret}".encode()).decode()
        host = sandbox.url.removeprefix("http://")
        head = (f"PUT {W}/sites/{blog}/quota HTTP/1.1\r\nHost: {host}\r\nAuthorization: Basic {token}\r\n"
                "Content-Type: application/json\r\nContent-Length: 60\r\n\r\n").encode()
        no_body = _raw(sandbox, head, trickle=True)  # the headers a byte at a time, the body never
        no_end = _raw(sandbox, head[:-2], trickle=False)  # headers that never end (a slowloris)
        for conn in (no_body, no_end):
            reply = _reply(conn)
            assert reply.startswith(b"HTTP/1.1 408 "), reply[:300]
            assert b" 200 " not in reply.split(b"\r\n", 1)[0], reply[:300]
        assert api.ok("GET", f"{W}/sites/{blog}/quota")["visits"]["limit"] == 5
        assert api.ok("GET", f"{W}/sites/{blog}/quota")  # the server still answers
    finally:
        api("DELETE", f"/wp-json/wu/v2/site/{blog}")


# --------------------------------- 5. anonymous batch items are refused before their arguments are validated


@pytest.mark.parametrize("item", [
    {"method": "PUT", "path": "/wpbridge/v1/sites/2/quota", "body": {"disk_space": "lots"}},
    {"method": "PUT", "path": "/wpbridge/v1/memberships/2/scheduled-change", "body": {"scheduled_for": "x"}},
    {"method": "POST", "path": "/wpbridge/v1/locks/x", "body": {"owner": " ", "ttl": -1}},
], ids=["quota", "scheduled-change", "lock"])
def test_anonymous_batch_items_get_401_not_a_schema(any_sandbox: Any, item: dict[str, Any]) -> None:
    import requests

    resp = requests.post(any_sandbox.url + "/wp-json/batch/v1", json={"requests": [item]}, timeout=30)
    assert resp.status_code in (207, 401), (resp.status_code, resp.text[:300])
    statuses = [r["status"] for r in resp.json().get("responses", [])] or [resp.status_code]
    assert statuses == [401], resp.text[:300]
    for word in ("disk_space", "scheduled_for", "ttl", "owner", "maximum", "type"):
        assert word not in resp.text, (word, resp.text[:300])
