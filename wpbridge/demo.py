"""The main job, end to end on a real local network (`make demo`, i.e. `python -m wpbridge.demo`).

Starts a throw-away WordPress multisite with the example network (`wpbridge.sandbox`), then, through the same
workflows the `wpbridge change` commands use:
1. a Free member's options: Premium offered (same plan group), Basic not;
2. a mid-cycle upgrade (Basic -> Premium, renewed 12 days ago): its price in words, then applied;
3. the new quota enforced by WordPress: a Free site refuses its 11th post, is upgraded, and accepts it (on the
   real UM: WordPress refuses an upload over UM's disk limit, then takes it after the upgrade);
4. the same upgrade applied again: "already in that state", nothing written;
5. a downgrade scheduled for the period end (nothing else changes now); and one blocked by the site's posts.
Each change's price is said in words before its writes are shown (`price_story`). The sandbox is stopped (and its
directory removed) at the end, also on failure. Exit 0 when every step showed what it should.
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import requests

from .cli.change import apply_text, options_text, writes_text
from .cli.read import quota_summary
from .config import load_settings
from .errors import WPBridgeError
from .money import round_money
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


def _money(amount: Decimal, currency: str) -> str:
    return f"{round_money(amount, currency)} {currency}"


def price_story(r: change.QuoteResult) -> str:
    """A change's price in a network owner's words (what `change quote` shows as a table)."""
    q, idx, m = r.quote, r.catalog, r.membership
    new, old = change.product_name(idx, q.new_plan_id), change.product_name(idx, m.plan_id)
    every = f"a {q.duration_unit}" if q.duration == 1 else f"every {q.duration} {q.duration_unit}s"
    renews = f"{_money(q.recurring_total, q.currency)} {every}"
    if q.kind == "downgrade" and q.scheduled_for is not None:
        kept = " (the add-ons held are kept, and billed with it)" if m.addon_products else ""
        return (f"Price: nothing is due now. On {q.scheduled_for:%Y-%m-%d}, when the period paid for ends, the "
                f"membership moves to {new}{kept} and renews at {renews}; until then nothing changes.")
    if q.kind not in ("upgrade", "addon"):
        return f"Price: nothing to pay ({q.message or q.kind})."
    story = f"Price: {new} costs {renews}."
    if q.credit > 0:
        story += f" The unused part of the {old} period already paid is worth {_money(q.credit, q.currency)},"
        story += f" so {_money(q.due_now, q.currency)} is due now"
    else:
        story += f" {_money(q.due_now, q.currency)} is due now"
    when = f" from {q.next_charge_at:%Y-%m-%d}" if q.next_charge_at is not None else ""
    return story + f"; then {renews}{when}."


def _show_writes(quote: change.QuoteResult, writes: list[change.Write]) -> bool:
    _say(price_story(quote))
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

    def upload(self, name: str, data: bytes) -> requests.Response:
        """A media upload (POST /wp/v2/media), as the block editor sends one."""
        headers = {"Content-Type": "image/png", "Content-Disposition": f"attachment; filename={name}"}
        return self.http.post(self.url.replace("/wp/v2/posts", "/wp/v2/media"), data=data, timeout=60,
                              headers=headers)


PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000b49444154789c63"
                    "60000200000500017a5eab3f0000000049454e44ae426082")
"""A 1 x 1 pixel PNG: the file the demo uploads."""


def _fill_uploads(sb: SandboxInfo, blog_id: int, megabytes: int) -> Path:
    """Make a site's upload folder count `megabytes` (a sparse file: it takes no disk space), as a site that has
    used up its disk quota. WordPress sums the folder's file sizes."""
    folder = Path(sb.info["docroot"]) / "wp-content" / "uploads" / "sites" / str(blog_id)
    folder.mkdir(parents=True, exist_ok=True)
    filler = folder / "demo-full-disk.bin"
    with filler.open("wb") as fh:
        fh.truncate(megabytes * 1024 * 1024)
    return filler


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
    disk = before.disk_space.limit if before is not None and before.disk_space is not None else None
    _expect(isinstance(disk, int) and disk > 0, f"UM should limit Alice's disk on Free, got {disk}")
    assert isinstance(disk, int)
    posts = _Posts(sb, site.path)
    _fill_uploads(sb, blog_id, disk)
    refused = posts.upload("logo.png", PNG)
    _say(f"Alice's uploads fill her {disk} MB; she uploads a logo and WordPress refuses it at UM's limit: "
         f"upload -> {refused.status_code} {refused.json().get('code')}: {refused.json().get('message')}")
    _expect(refused.status_code == 400, f"the upload over UM's disk limit should be refused, got {refused.status_code}")
    _say()
    upgrade = change.apply(net, alice, now=now(), plan="premium", confirm=_show_writes)
    _say(apply_text(upgrade))
    _expect(upgrade.ok, f"Alice's upgrade failed: {upgrade.message}")
    after = dict(net.quotas.list([blog_id])).get(blog_id)
    _say(f"UM's limits now: {quota_summary(after)}")
    posts_after = after.post_types.limit.get("post") if after and after.post_types and after.post_types.limit else None
    _expect(posts_after is not None and posts_after.number == 1000,
            f"UM should compute Premium's 1,000 posts for Alice's site, got {posts_after}")
    _say("-> one membership write; UM recomputed the site's limits itself (no quota was written).")
    accepted = posts.upload("logo.png", PNG)
    _expect(accepted.status_code == 201, f"the upload should be accepted on Premium, got {accepted.status_code}")
    _say(f"The same logo again: upload -> {accepted.status_code} created (id {accepted.json().get('id')}): "
         "UM's new disk limit is live")
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
    _expect(quote.kind == "upgrade" and quote.quote.credit > 0, "expected an upgrade with a credit")
    result = change.apply_quote(net, quote, confirm=_show_writes)
    _say(apply_text(result))
    _expect(result.ok and result.status == "applied", f"the upgrade was not applied: {result.message}")
    _expect(result.payment is not None and result.payment.total == quote.quote.due_now
            and result.payment.status == "pending", "the upgrade's due now should be invoiced as a pending payment")
    assert result.payment is not None
    _say()
    _say(f"Bruno pays the {_money(result.payment.total, result.payment.currency)} by bank transfer; the owner "
         f"records it (wpbridge payments settle {result.payment.id} --reference ...):")
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
    _say(apply_text(again))
    _expect(again.status == "unchanged" and not again.performed, "the second apply should write nothing")

    _step(f"5. Downgrades: Carla (Premium + add-ons, membership {carla}) to Free, scheduled for the period end")
    down_quote = change.quote(net, carla, now=now(), plan="free")
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
    _say(f"Refused, nothing written: {blocked.message}")
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
