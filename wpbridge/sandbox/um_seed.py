"""The example network in the UM flavor: the same story as the stub flavor's seed, written through UM's own PHP.

Why not through UM's REST: it refuses a membership `status` (400 `rest_not_in_enum`, reference §9.1), takes only
integer product amounts and cannot link a site to a membership; UM's PHP functions (recipe/um-seed.php) store
everything exactly as UM does. The spec comes from example.py (catalog) and seed.py (customers, memberships,
dates), so both flavors read the same story; only the ids may differ (`sandbox.json` -> `seeded`).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .example import EXAMPLE_PRODUCTS
from .seed import EXAMPLE_MEMBERS, customer_body, membership_body, seed_base
from .wordpress import random_token, run_php


def seed_spec(base: datetime) -> dict[str, Any]:
    """The JSON that recipe/um-seed.php writes; product slugs stand for UM's ids."""
    slugs = {p["slug"]: p["slug"] for p in EXAMPLE_PRODUCTS}
    members = []
    for member in EXAMPLE_MEMBERS:
        membership = membership_body(member, base, slugs, 0)  # slugs stand for ids: PHP maps them
        membership.pop("customer_id")
        members.append({
            "username": member.username,
            "email": f"{member.username}@example.com",
            "password": random_token(24),
            "name": member.name,
            "first_name": member.name.split()[0],
            "last_name": member.name.split()[-1],
            "plan": member.plan,
            "customer": customer_body(member, base, 0),
            "membership": membership,
            "sites": [{"path": f"/{slug}/", "title": slug.replace("-", " ").title()} for slug in member.sites],
        })
    return {"products": EXAMPLE_PRODUCTS, "members": members}


def seed_example_um(root: Path, base_env: dict[str, str], now: datetime | None = None) -> dict[str, Any]:
    """Write the example network into the sandbox in `root`; returns what sandbox.json keeps under `seeded`."""
    base = seed_base(now or datetime.now(UTC))
    spec_file = root / "tmp" / "um-seed.json"
    fd = os.open(spec_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # holds the users' passwords
    with os.fdopen(fd, "w") as fh:
        json.dump(seed_spec(base), fh)
    try:
        made = run_php(root, "um-seed.php", {**base_env, "UM_SEED_FILE": str(spec_file)})
    finally:
        spec_file.unlink(missing_ok=True)
    return {"base": base.isoformat(), "products": made["products"], "customers": made["customers"]}


MAPPED_SITE = "elena-blog"
"""The UM site of a subdomain sandbox that gets a mapped domain (`up --subdomains`, UM flavor)."""
MAPPED_DOMAIN = "elena-blog.localhost"
"""Its mapped domain: a `.localhost` name (resolved here as the sandbox's own hosts are) outside the network's host,
served through the front, which passes it to WordPress without the port (front.mapped_host)."""


def map_domain(root: Path, base_env: dict[str, str]) -> dict[str, Any]:
    """UM's domain mapping on the sandbox in `root`: UM's sunrise.php in wp-content with SUNRISE defined, and a
    Domain record (active, primary) mapping MAPPED_DOMAIN to the site MAPPED_SITE; returns {domain, blog_id,
    domain_id} (what sandbox.json keeps under `mapped_domain`)."""
    docroot = Path(base_env["WP_DOCROOT"])
    sunrise = docroot / "wp-content" / "plugins" / "ultimate-multisite" / "sunrise.php"
    (docroot / "wp-content" / "sunrise.php").write_bytes(sunrise.read_bytes())
    config = docroot / "wp-config-multisite.php"
    config.write_text(config.read_text(encoding="utf-8") + "define( 'SUNRISE', true ); // UM's domain mapping\n",
                      encoding="utf-8")
    made = run_php(root, "um-map-domain.php", {**base_env, "UM_MAP_SITE": MAPPED_SITE,
                                               "UM_MAP_DOMAIN": MAPPED_DOMAIN})
    return {"domain": str(made["domain"]), "blog_id": int(made["blog_id"]), "domain_id": int(made["domain_id"])}
