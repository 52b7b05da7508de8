"""Requests per second of plugin-stub on a throw-away sandbox, measured with `ab` (apache2-utils).

    python plugin-stub/tools/bench.py DIR [REQUESTS]

DIR holds a running sandbox (`wpbridge sandbox up --dir DIR`; its sandbox.json gives the URL and credentials).
The script ADDS data to it: one customer with 100 memberships, and sites up to 25 besides the main one. It then
measures, at concurrency 1 and 4: a 100-item `GET /wu/v2/membership` page, a batch of 25 quota writes
(`POST /batch/v1`), and core's `GET /wp/v2/users/me` as a baseline of the machine.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import requests


def main() -> None:
    info = json.loads((Path(sys.argv[1]) / "sandbox.json").read_text())
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    url, key, secret = info["url"], info["api_key"], info["api_secret"]
    s = requests.Session()
    s.auth = (key, secret)
    t = uuid.uuid4().hex[:8]
    plan = s.post(f"{url}/wp-json/wu/v2/product", json={"slug": f"bench-{t}", "type": "plan", "amount": "10",
                                                          "duration_unit": "month"}, timeout=30).json()
    cust = s.post(f"{url}/wp-json/wu/v2/customer", json={"username": f"bench{t}", "email": f"bench{t}@example.com"},
                  timeout=30).json()
    for i in range(100):
        s.post(f"{url}/wp-json/wu/v2/membership", timeout=30, json={
            "customer_id": cust["id"], "plan_id": plan["id"], "status": "active", "amount": str(i)}).raise_for_status()
    sites = [x["blog_id"] for x in s.get(f"{url}/wp-json/wu/v2/site", params={"per_page": 100}, timeout=30).json()
             if x["blog_id"] != 1]
    for i in range(max(0, 25 - len(sites))):
        sites.append(s.post(f"{url}/wp-json/wu/v2/site", json={"path": f"/bench{t}{i}/", "title": "bench"},
                            timeout=60).json()["blog_id"])
    quota = {"disk_space": {"enabled": True, "limit": 100}, "visits": {"enabled": True, "limit": 1000},
             "post_types": {"enabled": True, "limit": {"post": {"enabled": True, "number": 10}}},
             "users": {"enabled": True, "limit": {"editor": {"enabled": True, "number": 3}}}}
    body = {"validation": "require-all-validate", "requests": [
        {"method": "PUT", "path": f"/wpbridge/v1/sites/{b}/quota", "body": quota} for b in sites[:25]]}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(body, f)
    page = f"{url}/wp-json/wu/v2/membership?per_page=100&customer_id={cust['id']}&orderby=id&order=ASC"
    runs = [
        ("100-item membership page", ["-A", f"{key}:{secret}", page]),
        ("batch of 25 quota writes", ["-A", f"{key}:{secret}", "-p", f.name, "-T", "application/json",
                                      f"{url}/wp-json/batch/v1"]),
        ("core users/me (baseline)", ["-A", f"{info['user']}:{info['app_password']}", f"{url}/wp-json/wp/v2/users/me"]),
    ]
    for label, args in runs:
        for c in (1, 4):
            out = subprocess.run(["ab", "-q", "-n", str(n), "-c", str(c), *args], capture_output=True, text=True,
                                 check=True).stdout
            rps = re.search(r"Requests per second:\s+([\d.]+)", out)
            bad = re.search(r"Non-2xx responses:\s+(\d+)", out)
            print(f"{label:28} c={c}: {rps.group(1) if rps else '?':>7} req/s"
                  + (f"  ({bad.group(1)} non-2xx!)" if bad else ""))
    Path(f.name).unlink()


if __name__ == "__main__":
    main()
