"""What every network command shares: --network/--config/--output options, opening the network, error exits.

Exit codes: 0 ok; 1 some work failed (server errors, items that failed); 2 configuration or usage mistakes
(ConfigError, InputError, click usage errors); 3 the request was refused by the domain rules (a blocked change).
A WPBridgeError is printed as one line on stderr, never as a stack trace.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..errors import AuthError, ConfigError, InputError, WPBridgeError
from .output import FORMATS, render_csv, render_json, render_table

if TYPE_CHECKING:
    from ..network import Network
    from ..workflows import NetworkReader

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BLOCKED = 0, 1, 2, 3


def network_options(func: F) -> F:
    """Adds --network, --config and --output to a command."""
    func = click.option(
        "--output", "-o", "output", type=click.Choice(FORMATS), default="table", show_default=True,
        help="Output format.",
    )(func)
    func = click.option(
        "--config", "config_path", type=click.Path(dir_okay=False), default=None,
        help="Config file (default: $WPBRIDGE_CONFIG, then ~/.config/wpbridge/config.toml).",
    )(func)
    func = click.option("--network", "network_name", default=None, help="Network name in the config file.")(func)
    return func


def open_network(network_name: str | None, config_path: str | None) -> Network:
    from ..network import Network

    return Network.from_config(network=network_name, config_path=config_path)


def exit_code_for(err: WPBridgeError) -> int:
    return EXIT_USAGE if isinstance(err, ConfigError | InputError) else EXIT_FAILED


def handle_errors(func: F) -> F:
    """Turns a WPBridgeError into one line on stderr and its exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except WPBridgeError as err:
            prefix = "authentication failed: " if isinstance(err, AuthError) else "error: "
            click.echo(f"{prefix}{err}", err=True)
            sys.exit(exit_code_for(err))

    return wrapper  # type: ignore[return-value]


def emit(output: str, *, rows: Sequence[Mapping[str, Any]] | None = None, data: Any = None,
         columns: Sequence[str] | None = None, text: str | None = None) -> None:
    """Print a result: `data` (any JSON-able value, default `rows`) for json; `rows` for table/csv.

    `text` replaces the table rendering when a command has a richer human layout.
    """
    if output == "json":
        click.echo(render_json(data if data is not None else list(rows or [])))
    elif output == "csv":
        click.echo(render_csv(list(rows or []), columns))
    else:
        click.echo(text if text is not None else render_table(list(rows or []), columns))


def snapshot_option(func: F) -> F:
    """Adds --snapshot FILE: work offline from a file written by `wpbridge export` (read and quote commands)."""
    return click.option(
        "--snapshot", "snapshot", type=click.Path(dir_okay=False), default=None,
        help="Work offline from a snapshot written by `wpbridge export` (no network access).",
    )(func)


def open_source(network_name: str | None, config_path: str | None, snapshot: str | None) -> NetworkReader:
    """The snapshot when one is given, else the configured network."""
    if snapshot is not None:
        from ..workflows.snapshot import Snapshot

        return Snapshot.load(snapshot)
    return open_network(network_name, config_path)
