"""`wpbridge sandbox up|down`: a throw-away WordPress multisite on 127.0.0.1 with plugin-stub, for trials and tests.

`up` prints one JSON object on stdout (the pinned keys url, api_key, api_secret, user, app_password, dir, then
port, seed, test_mode, flavor, um_version (UM flavor), docroot, ready_seconds); progress goes to stderr. The JSON
holds the sandbox's credentials by design: they open a local throw-away network and are what the caller asked
for. Exit codes: 0 ok, 1 the start failed (nothing is left running), 2 a usage mistake (used dir, busy port, bad
value, no UM build for --flavor ultimate-multisite).
"""

from __future__ import annotations

import json

import click

from .common import handle_errors


@click.group("sandbox")
def sandbox() -> None:
    """A throw-away WordPress multisite on 127.0.0.1 (Debian's wordpress, PHP 8.2, MariaDB) with plugin-stub."""


@sandbox.command("up")
@click.option("--dir", "dir_", type=click.Path(file_okay=False), default=None,
              help="New or empty directory for everything (default: a fresh /tmp/wpbridge-sandbox-*).")
@click.option("--port", default="auto", show_default=True, help="Port on 127.0.0.1: 'auto' or a number.")
@click.option("--sites", type=click.IntRange(1, 100), default=3, show_default=True,
              help="Sites before seeding, the main site included (/, /site2/, ...).")
@click.option("--seed", type=click.Choice(["example", "none"]), default=None,
              help="'example' (the default; 'none' with --no-plugin): the example catalog, 12 customers,"
                   " memberships, sites and quotas (README).")
@click.option("--flavor", type=click.Choice(["stub", "ultimate-multisite"]), default="stub", show_default=True,
              help="'stub': plugin-stub imitates Ultimate Multisite; 'ultimate-multisite': the real UM from "
                   "--um-plugin, with plugin-stub in UM mode (companion routes only).")
@click.option("--um-plugin", type=click.Path(), default=None, envvar="WPBRIDGE_UM_PLUGIN", show_envvar=True,
              help="Ultimate Multisite as a directory, a .zip or a .tar.xz (as released), for --flavor "
                   "ultimate-multisite.")
@click.option("--test-mode/--no-test-mode", default=True, show_default=True,
              help="Define WPBRIDGE_TEST_MODE (plugin-stub's test-only switches).")
@click.option("--subdomains", is_flag=True,
              help="A subdomain multisite: sites at siteN.wpbridge.localhost:PORT (*.localhost made to resolve"
                   " here: libnss-myhostname).")
@click.option("--plugin/--no-plugin", default=True, show_default=True,
              help="Install plugin-stub; --no-plugin: WordPress (or UM) alone, to install dist/wpbridge.zip as a"
                   " network owner does (README 'Install on your network'); seeds nothing.")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines on stderr.")
@handle_errors
def up(dir_: str | None, port: str, sites: int, seed: str | None, flavor: str, um_plugin: str | None,
       test_mode: bool, subdomains: bool, plugin: bool, quiet: bool) -> None:
    """Start a sandbox and print its URL and credentials as JSON."""
    from ..sandbox import runner

    def progress(message: str) -> None:
        if not quiet:
            click.echo(f"[sandbox] {message}", err=True)

    if flavor == "stub":
        um_plugin = None  # $WPBRIDGE_UM_PLUGIN set for other commands must not turn a stub sandbox into an error
    info = runner.up(dir_, port=port, sites=sites, seed=seed or ("example" if plugin else "none"), flavor=flavor,
                     um_plugin=um_plugin, test_mode=test_mode, plugin=plugin, subdomains=subdomains, log=progress)
    click.echo(json.dumps(info.public(), indent=2))


@sandbox.command("down")
@click.option("--dir", "dir_", type=click.Path(file_okay=False), required=True, help="The sandbox's directory.")
@click.option("--purge", is_flag=True, help="Also delete the directory (database, WordPress copy, logs).")
@handle_errors
def down(dir_: str, purge: bool) -> None:
    """Stop exactly the processes `up` started in DIR (by recorded pid)."""
    from ..sandbox import runner

    click.echo(json.dumps(runner.down(dir_, purge=purge), indent=2))


def register(main: click.Group) -> None:
    """Add this family's commands to the top-level group."""
    main.add_command(sandbox)
