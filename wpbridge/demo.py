"""The main job, end to end on a real local network (`make demo`, i.e. `python -m wpbridge.demo`).

Starts a throw-away WordPress multisite with the example network (`wpbridge.sandbox`), then, through the same
workflows the `wpbridge change` commands use:
1. a Free member's options: Premium offered (same plan group), Basic not;
2. a mid-cycle upgrade (Basic -> Premium, renewed 12 days ago): the quote with its credit, then applied;
3. the new quota enforced by WordPress: a Free site refuses its 11th post, is upgraded, and accepts it;
4. the same upgrade applied again: "already in that state", nothing written;
5. a downgrade scheduled for the period end (nothing else changes now); and one blocked by the site's posts.
The sandbox is stopped (and its directory removed) at the end, also on failure. Exit 0 when every step showed
what it should.
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import requests

from .cli.change import apply_text, options_text, quote_text, writes_text
from .cli.read import quota_summary
from .config import load_settings
from .errors import WPBridgeError
from .network import Network
from .sandbox import FLAVORS, SandboxInfo, down, um_plugin_path, up
from .workflows import change, payments


class DemoFailure(Exception):
    """A step did not show what it should: the demo stops and says which."""


def _say(text: str = "") -> None:
    print(text, flush=True)


def _step(title: str) -> None:
    _say()
    _say(f"== {title} " + "=" * max(0, 100 - len(title)))


def _expect(ok: bool, what: str) -> None:
    if not ok:
        raise DemoFailure(what)


def _membership_of(sb: SandboxInfo, username: str) -> tuple[int, list[int]]:
    for customer in sb.info["seeded"]["customers"]:
        if customer["username"] == username:
            return int(customer["membership_id"]), [int(b) for b in customer["blog_ids"]]
    raise DemoFailure(f"the example seed has no customer {username!r}")


def _show_writes(quote: change.QuoteResult, writes: list[change.Write]) -> bool:
    _say(writes_text(writes))
    return True  # the demo confirms; `wpbridge change apply` asks unless --yes


class _Posts:
    """WordPress's own REST API on one site, as the site's super admin (application password)."""

    def __init__(self, sb: SandboxInfo, path: str) -> None:
        self.url = f"{sb.url}{path.rstrip('/')}/wp-json/wp/v2/posts"
        self.http = requests.Session()
        self.http.trust_env = False
        self.http.auth = (sb.user, sb.app_password)

    def publish(self, title: str) -> requests.Response:
        return self.http.post(self.url, json={"title": title, "content": "demo", "status": "publish"}, timeout=60)


def now() -> datetime:
    """The demo's clock (the imperative shell): read at each step, as the CLI does without --at."""
    return datetime.now(UTC)


def _post_limit(net: Network, blog_id: int) -> str:
    return quota_summary(dict(net.quotas.list([blog_id])).get(blog_id))


def _upgrade_on_stub(sb: SandboxInfo, net: Network, alice: int, blog_id: int) -> None:
    """Stub flavor: plugin-stub enforces the quota wpbridge writes, so WordPress itself refuses the 11th post."""
    site = net.sites.get(blog_id)
    _step(f"3. The new quota, enforced by WordPress on Alice's site {site.path}")
    _say(f"quota now: {_post_limit(net, blog_id)}")
    posts = _Posts(sb, site.path)
    count = net.usage.get([blog_id])[blog_id].post_types or {}
    have = count.get("post", 0)
    for i in range(have, 10):
        _expect(posts.publish(f"Post {i + 1}").status_code == 201, f"post {i + 1} (under the Free limit) refused")
    _say(f"published posts up to Free's limit: 10 (the site had {have})")
    refused = posts.publish("Post 11")
    _expect(refused.status_code == 403, f"the 11th post should be refused on Free, got {refused.status_code}")
    _say(f"11th post -> {refused.status_code} {refused.json().get('code')}: {refused.json().get('message')}")
    _say()
    upgrade = change.apply(net, alice, now=now(), plan="premium", confirm=_show_writes)
    _say(apply_text(upgrade))
    _expect(upgrade.ok, f"Alice's upgrade failed: {upgrade.message}")
    _say(f"quota now: {_post_limit(net, blog_id)}")
    accepted = posts.publish("Post 11")
    _expect(accepted.status_code == 201, f"the 11th post should be accepted on Premium, got {accepted.status_code}")
    _say(f"11th post -> {accepted.status_code} created (id {accepted.json().get('id')}): the new limit is live")


def _upgrade_on_um(sb: SandboxInfo, net: Network, alice: int, blog_id: int) -> None:
    """UM flavor: wpbridge writes only the membership; Ultimate Multisite computes (and enforces) the site's limits
    from it at once, which the apply reads back."""
    site = net.sites.get(blog_id)
    _step(f"3. The new limits, computed by Ultimate Multisite for Alice's site {site.path}")
    before = dict(net.quotas.list([blog_id])).get(blog_id)
    _say(f"UM's limits now: {quota_summary(before)}")
    upgrade = change.apply(net, alice, now=now(), plan="premium", confirm=_show_writes)
    _say(apply_text(upgrade))
    _expect(upgrade.ok, f"Alice's upgrade failed: {upgrade.message}")
    after = dict(net.quotas.list([blog_id])).get(blog_id)
    _say(f"UM's limits now: {quota_summary(after)}")
    posts_after = after.post_types.limit.get("post") if after and after.post_types and after.post_types.limit else None
    _expect(posts_after is not None and posts_after.number == 1000,
            f"UM should compute Premium's 1,000 posts for Alice's site, got {posts_after}")
    _say("-> one membership write; UM recomputed the site's limits itself (no quota was written).")
    posts = _Posts(sb, site.path)
    count = net.usage.get([blog_id])[blog_id].post_types or {}
    for i in range(count.get("post", 0), 11):
        _expect(posts.publish(f"Post {i + 1}").status_code == 201, f"post {i + 1} (under Premium's limit) refused")
    _say("Alice publishes 11 posts (Premium allows 1,000).")


def run(sb: SandboxInfo, net: Network) -> None:
    alice, alice_sites = _membership_of(sb, "alice")
    bruno, _ = _membership_of(sb, "bruno")
    carla, _ = _membership_of(sb, "carla")

    _step(f"1. What Alice (Free, membership {alice}) is offered")
    opts = change.options(net, alice)
    _say(options_text(opts))
    slugs = {p.product.slug for p in opts.options.plans}
    _expect("premium" in slugs and "basic" not in slugs, f"expected Premium offered and Basic not, got {slugs}")
    _say("-> Premium is offered (same plan group 'High End'); Basic is not (no group).")

    _step(f"2. Bruno (Basic, renewed 12 days ago, membership {bruno}) upgrades to Premium mid-cycle")
    quote = change.quote(net, bruno, now=now(), plan="premium")
    _say(quote_text(quote))
    _expect(quote.kind == "upgrade" and quote.quote.credit > 0, "expected an upgrade with a credit")
    result = change.apply_quote(net, quote, confirm=_show_writes)
    _say(apply_text(result))
    _expect(result.ok and result.status == "applied", f"the upgrade was not applied: {result.message}")
    _expect(result.payment is not None and result.payment.total == quote.quote.due_now
            and result.payment.status == "pending", "the upgrade's due now should be invoiced as a pending payment")
    assert result.payment is not None
    _say()
    _say(f"Bruno pays the {result.payment.total} {result.payment.currency} by bank transfer; the owner records it "
         f"(wpbridge payments settle {result.payment.id} --reference ...):")
    settled = payments.settle(net, result.payment.id, now=now(), reference="transfer 2026-118")
    _say(settled.message)
    _expect(settled.settled and settled.payment.status == "completed", "the payment should be completed")
    twice = payments.settle(net, result.payment.id, now=now())
    _say(f"settling it again: {twice.message}")
    _expect(not twice.settled, "settling twice must change nothing")

    if sb.info.get("flavor") == "ultimate-multisite":
        _upgrade_on_um(sb, net, alice, alice_sites[0])
    else:
        _upgrade_on_stub(sb, net, alice, alice_sites[0])

    _step("4. The same upgrade again: nothing to do")
    again = change.apply(net, alice, now=now(), plan="premium", confirm=_show_writes)
    _say(quote_text(again.quote))
    _say(apply_text(again))
    _expect(again.status == "unchanged" and not again.performed, "the second apply should write nothing")

    _step(f"5. Downgrades: Carla (Premium + add-ons, membership {carla}) to Free, scheduled for the period end")
    down_quote = change.quote(net, carla, now=now(), plan="free")
    _say(quote_text(down_quote))
    scheduled = change.apply_quote(net, down_quote, confirm=_show_writes)
    _say(apply_text(scheduled))
    _expect(scheduled.status == "scheduled" and down_quote.quote.due_now == 0, "expected a scheduled downgrade")
    still = net.memberships.get(carla)
    _expect(still.plan_id == down_quote.membership.plan_id, "the downgrade must not change the membership now")
    _say(f"Carla's membership is unchanged until {still.date_expiration:%Y-%m-%d}: still on "
         f"{change.product_name(down_quote.catalog, still.plan_id)}.")
    _say()
    _say("Alice, now on Premium with 11 posts, asks to go back to Free (10 posts):")
    blocked = change.quote(net, alice, now=now(), plan="free")
    _say(quote_text(blocked))
    _expect(blocked.kind == "blocked", "expected the downgrade to be blocked by the site's posts")


def main(argv: list[str] | None = None) -> int:
    """`python -m wpbridge.demo [--flavor stub|ultimate-multisite] [--um-plugin PATH]` (the UM build defaults to
    $WPBRIDGE_UM_PLUGIN, else the 2.4.12 build in ../shared/ultimate-multisite/)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m wpbridge.demo", description=__doc__.split("\n")[0])
    parser.add_argument("--flavor", choices=FLAVORS, default="stub")
    parser.add_argument("--um-plugin", default=None, help="Ultimate Multisite: a directory, .zip or .tar.xz")
    args = parser.parse_args(argv)
    um_plugin = args.um_plugin
    if args.flavor == "ultimate-multisite" and not um_plugin and not os.environ.get("WPBRIDGE_UM_PLUGIN"):
        um_plugin = um_plugin_path()  # None: up() names what is missing
    workdir = Path(tempfile.mkdtemp(prefix="wpbridge-demo-"))
    what = "the real Ultimate Multisite" if args.flavor == "ultimate-multisite" else "plugin-stub"
    _say(f"Starting a throw-away WordPress multisite with {what} and the example network (about 10 s)...")
    try:
        sb = up(dir=workdir / "sandbox", seed="example", flavor=args.flavor, um_plugin=um_plugin,
                log=lambda msg: print(f"  [sandbox] {msg}", flush=True))
    except WPBridgeError as err:
        print(f"demo: the sandbox could not start: {err}", file=sys.stderr)
        return 1
    try:
        settings = load_settings(env={"WPBRIDGE_URL": sb.url, "WPBRIDGE_API_KEY": sb.api_key,
                                      "WPBRIDGE_API_SECRET": sb.api_secret})
        with Network(settings) as net:
            run(sb, net)
    except (DemoFailure, WPBridgeError) as err:
        print(f"demo: FAILED: {err}", file=sys.stderr)
        return 1
    finally:
        down(sb.dir, purge=True)
        workdir.rmdir()
    _step("Done")
    _say("The same steps from a terminal: wpbridge change options|quote|apply MEMBERSHIP ... (see README).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
