"""The UM flavor of the sandbox: the real Ultimate Multisite, active with plugin-stub in UM mode, seeded with the
same example network as the stub flavor (through UM's own functions, sites linked through UM's blogmeta)."""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from wpbridge.models import Membership, parse, parse_many
from wpbridge.sandbox import SandboxInfo
from wpbridge.sandbox.mariadb import DB_NAME, DB_PASSWORD, DB_USER
from wpbridge.sandbox.seed import EXAMPLE_MEMBERS, membership_body

PINNED = ("url", "api_key", "api_secret", "user", "app_password", "dir")


def get(sandbox: SandboxInfo, path: str, **params: Any) -> requests.Response:
    http = requests.Session()
    http.trust_env = False
    return http.get(f"{sandbox.url}/wp-json{path}", params=params, auth=(sandbox.api_key, sandbox.api_secret),
                    timeout=60)


def sql(sandbox: SandboxInfo, query: str) -> list[list[str]]:
    """Rows of a query on the sandbox's own database (through its private socket)."""
    out = subprocess.run(["mariadb", "-S", sandbox.info["db_socket"], "-u", DB_USER, f"-p{DB_PASSWORD}", DB_NAME,
                          "-N", "-B", "-e", query], capture_output=True, text=True, check=True, timeout=30)
    return [line.split("\t") for line in out.stdout.splitlines()]


def test_the_real_um_answers_and_plugin_stub_is_in_um_mode(um_sandbox: SandboxInfo) -> None:
    public = um_sandbox.public()
    assert all(public[k] for k in PINNED)
    assert public["flavor"] == "ultimate-multisite"
    assert public["um_version"] == "2.4.12"
    assert Path(public["docroot"], "wp-content/plugins/ultimate-multisite/ultimate-multisite.php").is_file()
    auth = get(um_sandbox, "/wu/v2/auth")
    assert auth.status_code == 200 and auth.json()["message"] == "Welcome to our API"  # UM's own, not the stub's
    info = get(um_sandbox, "/wpbridge/v1/info").json()
    assert info["mode"] == "um"
    wrong = requests.get(f"{um_sandbox.url}/wp-json/wu/v2/auth", auth=(um_sandbox.api_key, "wrong"), timeout=30)
    assert wrong.status_code in (401, 403)


def test_um_main_build_reports_its_version(um_main_sandbox: SandboxInfo) -> None:
    assert um_main_sandbox.info["um_version"] == "2.4.13-beta.1"
    assert get(um_main_sandbox, "/wu/v2/auth").status_code == 200
    assert get(um_main_sandbox, "/wpbridge/v1/info").json()["mode"] == "um"


def test_um_memberships_are_exactly_the_seed_plan(um_sandbox: SandboxInfo) -> None:
    """The same story as the stub flavor: every membership equals what seed.py computes, stored by UM itself."""
    seeded = um_sandbox.info["seeded"]
    base = datetime.fromisoformat(seeded["base"])
    got = {m.id: m for m in parse_many(Membership, get(um_sandbox, "/wu/v2/membership", number=100).json())}
    assert len(got) == len(EXAMPLE_MEMBERS) == 12
    for member, record in zip(EXAMPLE_MEMBERS, seeded["customers"], strict=True):
        assert record["username"] == member.username
        expected = parse(Membership, {"id": record["membership_id"],
                                      **membership_body(member, base, seeded["products"], record["customer_id"])})
        mine = got[record["membership_id"]]
        for field in ("customer_id", "plan_id", "addon_products", "amount", "initial_amount", "duration",
                      "duration_unit", "recurring", "status", "date_created", "date_renewed", "date_expiration",
                      "date_trial_end"):
            assert getattr(mine, field) == getattr(expected, field), f"{member.username}: {field}"


def test_um_sites_are_linked_through_blogmeta_as_um_links_them(um_sandbox: SandboxInfo) -> None:
    """UM's REST returns null links (reference §9.1); the links live in blogmeta, and the main site has none."""
    seeded = um_sandbox.info["seeded"]
    rows = sql(um_sandbox, "SELECT blog_id, meta_key, meta_value FROM wp_blogmeta WHERE meta_key IN "
                           "('wu_membership_id','wu_customer_id','wu_type')")
    meta: dict[int, dict[str, str]] = {}
    for blog_id, key, value in rows:
        meta.setdefault(int(blog_id), {})[key] = value
    expected = {blog: {"wu_membership_id": str(c["membership_id"]), "wu_customer_id": str(c["customer_id"]),
                       "wu_type": "customer_owned"}
                for c in seeded["customers"] for blog in c["blog_ids"]}
    assert meta == expected
    assert 1 not in meta
    assert len(expected) == sum(len(m.sites) for m in EXAMPLE_MEMBERS)
    site = get(um_sandbox, f"/wu/v2/site/{seeded['customers'][0]['blog_ids'][0]}").json()
    assert site["membership_id"] is None  # UM's REST really does not say: wpbridge must not read it there


def test_um_products_carry_the_example_limitations_and_variations(um_sandbox: SandboxInfo) -> None:
    ids = um_sandbox.info["seeded"]["products"]
    rows = sql(um_sandbox, f"SELECT meta_key FROM wp_wu_productmeta WHERE wu_product_id = {int(ids['premium'])}")
    keys = {r[0] for r in rows}
    assert {"wu_limitations", "price_variations"} <= keys


@pytest.mark.parametrize("bad, message", [
    ({}, "--um-plugin PATH or set $WPBRIDGE_UM_PLUGIN"),
    ({"um_plugin": "/nonexistent/um.zip"}, "no such file"),
    ({"um_plugin": __file__}, "expected a directory, a .zip or a .tar.xz"),
])
def test_um_flavor_refuses_a_missing_or_wrong_build_before_starting(bad: dict[str, str], message: str,
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path) -> None:
    from wpbridge.sandbox import SandboxUsageError, up

    monkeypatch.delenv("WPBRIDGE_UM_PLUGIN", raising=False)
    with pytest.raises(SandboxUsageError, match=message.replace("$", r"\$").replace(".", r"\.")):
        up(tmp_path / "sb", flavor="ultimate-multisite", **bad)  # type: ignore[arg-type]
    assert not (tmp_path / "sb").exists()  # nothing claimed, nothing started


def test_in_um_mode_ums_own_api_credentials_open_the_companion_routes(um_sandbox: SandboxInfo) -> None:
    """A real UM network has one API key pair, UM's: plugin-stub in UM mode accepts it without its own."""
    saved = sql(um_sandbox, "SELECT meta_key, meta_value FROM wp_sitemeta WHERE meta_key IN "
                            "('wpbridge_api_key','wpbridge_api_secret')")
    assert len(saved) == 2
    sql(um_sandbox, "DELETE FROM wp_sitemeta WHERE meta_key IN ('wpbridge_api_key','wpbridge_api_secret')")
    try:
        assert get(um_sandbox, "/wpbridge/v1/info").status_code == 200  # UM's pair (the sandbox gave UM the same)
        wrong = requests.get(f"{um_sandbox.url}/wp-json/wpbridge/v1/info", auth=(um_sandbox.api_key, "nope"),
                             timeout=30)
        assert wrong.status_code in (401, 403)
    finally:
        for key, value in saved:
            sql(um_sandbox, f"INSERT INTO wp_sitemeta (site_id, meta_key, meta_value) VALUES (1, '{key}', '{value}')")
    assert get(um_sandbox, "/wpbridge/v1/info").status_code == 200
