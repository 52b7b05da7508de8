"""Issue 20, what was left of the second security pass: each test reproduces a way in that worked on main and
failed before its fix (item 7: no quota for the main site; item 5: UM swaps to another group's plan; item 4: a
request whose declared body never arrives). The stub network (`sandbox`) and the real Ultimate Multisite 2.4.12
(`um_sandbox`); each test makes its own records and leaves the shared networks as it found them.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.stub_api_support import Api

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
