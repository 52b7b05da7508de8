"""What every network command shares: --network/--config/--output options, opening the network, error exits.

Exit codes: 0 ok; 1 some work failed (server errors, items that failed); 2 configuration or usage mistakes
(ConfigError, InputError, click usage errors); 3 the request was refused by the domain rules (a blocked change).
A WPBridgeError is printed as one line on stderr, never as a stack trace.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..encoding import to_jsonable
from ..errors import AuthError, ConfigError, InputError, WPBridgeError, scrub
from ..models import parse_utc
from .output import FORMATS, human, iso_moments, present_money, render_csv, render_json, render_table, render_yaml
from .signals import Interrupted, default_handlers, interrupted_by

if TYPE_CHECKING:
    from ..network import Network
    from ..workflows import NetworkReader

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BLOCKED = 0, 1, 2, 3
OFFLINE_NOTE = "wpbridge.offline"


@dataclass
class GlobalOptions:
    """--network, --config and --output given before the command (`wpbridge -o json products list`), as
    python-gitlab takes them; the same options after the command win."""

    network: str | None = None
    config: str | None = None
    output: str | None = None
    fields: str | None = None


OUTPUT_HELP = "Output format: table (default), json, csv or yaml. --format is WP-CLI's name for it."
FIELDS_HELP = "Only these fields, in this order (comma-separated, as WP-CLI's --fields)."
FIELDS = "wpbridge.fields"


def global_options(func: F) -> F:
    """Adds --network, --config and --output to the top-level group; they are kept in `ctx.obj`."""

    def keep(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        options = ctx.ensure_object(GlobalOptions)
        setattr(options, str(param.name), value)
        return value

    func = click.option("--fields", "fields", default=None, metavar="A,B,C", expose_value=False, callback=keep,
                        help=FIELDS_HELP)(func)
    func = click.option("--output", "--format", "-o", "output", type=click.Choice(FORMATS), default=None,
                        expose_value=False, callback=keep, help=OUTPUT_HELP)(func)
    func = click.option("--config", "config", type=click.Path(dir_okay=False), default=None, expose_value=False,
                        callback=keep, help=CONFIG_HELP)(func)
    func = click.option("--network", "network", default=None, expose_value=False, callback=keep,
                        help="Network name in the config file.")(func)
    return func


CONFIG_HELP = "Config file (default: $WPBRIDGE_CONFIG, then ~/.config/wpbridge/config.toml)."


def network_options(func: F) -> F:
    """Adds --network, --config and --output to a command (also accepted before the command, on the group); the
    command receives `network_name`, `config_path` and `output` with the group's values filled in."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context(silent=True)
        given = ctx.find_object(GlobalOptions) if ctx is not None else None
        if given is not None:
            kwargs["network_name"] = kwargs.get("network_name") or given.network
            kwargs["config_path"] = kwargs.get("config_path") or given.config
            kwargs["output"] = kwargs.get("output") or given.output
        kwargs["output"] = kwargs.get("output") or "table"
        fields = kwargs.pop("fields", None) or (given.fields if given is not None else None)
        if ctx is not None and fields:
            ctx.meta[FIELDS] = parse_fields(fields)
        return func(*args, **kwargs)

    out: Any = wrapper
    out = click.option("--fields", "fields", default=None, metavar="A,B,C", help=FIELDS_HELP)(out)
    out = click.option("--output", "--format", "-o", "output", type=click.Choice(FORMATS), default=None,
                       help=OUTPUT_HELP)(out)
    out = click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
                       help=CONFIG_HELP)(out)
    out = click.option("--network", "network_name", default=None, help="Network name in the config file.")(out)
    return out  # type: ignore[no-any-return]


def parse_fields(text: str) -> list[str]:
    fields = [f.strip() for f in text.split(",") if f.strip()]
    if not fields:
        raise click.BadParameter("give field names separated by commas, e.g. id,status", param_hint="'--fields'")
    return fields


class _Stopped(BaseException):
    """An Interrupted carried past click's own KeyboardInterrupt handling (which prints an empty line first)."""

    def __init__(self, signal: Interrupted) -> None:
        super().__init__(signal.name)
        self.signal = signal


class OneLineErrors(click.Group):
    """The top-level group: a usage mistake (unknown option, bad value, missing argument) is one line on stderr
    naming the option, `error: ...`, exit 2, in the same style as every other error (no usage block)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        scrub_logs()
        try:
            with default_handlers():  # Ctrl-C / SIGTERM: one line, 128 + the signal (signals.py)
                return super().main(*args, **kwargs)
        except (Interrupted, _Stopped, click.Abort) as err:
            stop = err.signal if isinstance(err, _Stopped) else interrupted_by(err)
            if stop is None:
                click.echo("aborted", err=True)
                sys.exit(EXIT_FAILED)
            click.echo(f"wpbridge: interrupted ({stop.name}); stopped at once", err=True)
            sys.exit(stop.exit_code)
        except click.exceptions.Exit as done:
            sys.exit(done.exit_code)
        except click.exceptions.NoArgsIsHelpError as err:  # `wpbridge` or a group alone: its help, as click does
            err.show()
            sys.exit(err.exit_code)
        except click.ClickException as err:
            hint = ""
            if isinstance(err, click.UsageError) and err.ctx is not None:
                hint = f" (see: {' '.join(['wpbridge', *err.ctx.command_path.split()[1:]])} --help)"
            click.echo(human(scrub(f"error: {err.format_message()}{hint}"), keep=""), err=True)
            sys.exit(err.exit_code)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Interrupted as stop:
            raise _Stopped(stop) from None


def at_option(help: str) -> Callable[[F], F]:
    """`--at ISO8601` (the moment a command acts at; parsed, so the command receives a datetime or None), with
    `--now` as a hidden alias (sync's former name for it)."""

    def stash(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
        if value is not None:
            ctx.meta["wpbridge.at"] = value

    def parse(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
        text = value if value is not None else ctx.meta.get("wpbridge.at")
        try:
            return parse_moment(text, "--at") if text is not None else None
        except click.BadParameter as err:
            raise click.BadParameter(err.message, ctx=ctx, param=param) from None

    def decorate(func: F) -> F:
        func = click.option("--at", "at", default=None, metavar="ISO8601", callback=parse, help=help)(func)
        return click.option("--now", default=None, hidden=True, is_eager=True, expose_value=False,
                            callback=stash)(func)

    return decorate


def parse_moment(text: str, option: str) -> datetime:
    """A moment given on the command line (`--at`): ISO 8601, UTC when it has no offset. Parsed by
    `models.parse_utc`, the one date parser; a bad value is a usage error naming the option."""
    try:
        moment = parse_utc(text.strip())
    except ValueError:
        moment = None
    if moment is None:
        raise click.BadParameter(f"{text!r} is not an ISO 8601 date-time (e.g. 2026-05-01T12:00:00Z)",
                                 param_hint=option)
    return moment


def interactive() -> bool:
    """A person can answer a question: stdin is a terminal (else a command that asks says to pass --yes)."""
    return sys.stdin.isatty()


def open_network(network_name: str | None, config_path: str | None) -> Network:
    from ..network import Network

    return Network.from_config(network=network_name, config_path=config_path)


def exit_code_for(err: WPBridgeError) -> int:
    return EXIT_USAGE if isinstance(err, ConfigError | InputError) else EXIT_FAILED


OPTION_OF_FIELD = {"plan": "--plan", "addons": "--addon", "period": "--period", "at": "--at",
                   "only_membership": "--only-membership"}
"""The command-line option behind an InputError's `field`: a bad value is reported naming it, as click does."""


def error_line(err: WPBridgeError) -> str:
    """The one line a WPBridgeError becomes on stderr: scrubbed of every secret, control characters escaped."""
    return human(scrub(_error_line(err)), keep="")


def _error_line(err: WPBridgeError) -> str:
    if isinstance(err, AuthError):
        return f"error: authentication failed: {err}"
    option = OPTION_OF_FIELD.get(err.field or "") if isinstance(err, InputError) else None
    if option is not None and option not in str(err):
        return f"error: Invalid value for '{option}': {err}"
    return f"error: {err}"


_LOG_FACTORY = "wpbridge.scrubbing"


def scrub_logs() -> None:
    """Every log record of a `wpbridge.*` logger is scrubbed of the secrets once formatted (idempotent)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, _LOG_FACTORY, False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if record.name.startswith("wpbridge"):
            with contextlib.suppress(TypeError, ValueError):  # a malformed call: left to logging to report
                record.msg, record.args = scrub(record.getMessage()), None
        return record

    setattr(factory, _LOG_FACTORY, True)
    logging.setLogRecordFactory(factory)


def handle_errors(func: F) -> F:
    """Turns a WPBridgeError into one line on stderr and its exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except WPBridgeError as err:
            click.echo(error_line(err), err=True)
            sys.exit(exit_code_for(err))

    return wrapper  # type: ignore[return-value]


def emit(output: str, *, rows: Sequence[Mapping[str, Any]] | None = None, data: Any = None,
         columns: Sequence[str] | None = None, text: str | None = None) -> None:
    """Print a result: `data` (any JSON-able value, default `rows`) for json and yaml; `rows` for table/csv.

    `text` replaces the table rendering when a command has a richer human layout (not with --fields: the rows
    then). A result read from a snapshot is followed by a note on stderr saying so, and from when.
    """
    fields = _fields()
    if output in ("json", "yaml"):
        value = _shown(data if data is not None else list(rows or []), fields)
        click.echo(scrub(render_json(value) if output == "json" else render_yaml(value)))
    else:
        click.echo(scrub(_rendered_rows(output, rows or [], columns, text, fields)))
    _offline_note()


def emit_list(output: str, records: Iterable[T], *, row: Callable[[T], Mapping[str, Any]],
              data: Callable[[T], Any], columns: Sequence[str] | None = None) -> None:
    """Print a listing as `emit` would print `[data(r) for r in records]` (json, yaml) or their rows (table, csv),
    the same text, but json and yaml one record at a time as the records are read: a listing of 10,000 memberships
    is never held whole (nor its text). The table and csv hold the rows only (a table needs every width first)."""
    if output not in ("json", "yaml"):
        emit(output, rows=[row(r) for r in records], columns=columns)
        return
    fields = _fields()
    first = True
    for record in records:
        value = _shown(data(record), fields)
        if output == "json":
            text = ("[\n" if first else ",\n") + "\n".join("  " + line for line in render_json(value).split("\n"))
        else:
            text = ("" if first else "\n") + render_yaml([value])
        click.echo(scrub(text), nl=False)
        first = False
    click.echo("[]" if first else ("\n]" if output == "json" else ""))
    _offline_note()


def _fields() -> Sequence[str] | None:
    """The command's `--fields` (None: all)."""
    ctx = click.get_current_context(silent=True)
    return ctx.meta.get(FIELDS) if ctx is not None else None


def _shown(data: Any, fields: Sequence[str] | None) -> Any:
    """A result's JSON-able value as json and yaml show it: amounts in their currency's decimals, moments `...Z`,
    cut to `fields`."""
    value = iso_moments(present_money(to_jsonable(data)))
    return _only_fields(value, fields) if fields else value


def _offline_note() -> None:
    """After a result read from a snapshot: the note saying so, and from when, on stderr."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.meta.get(OFFLINE_NOTE):
        click.echo(human(ctx.meta[OFFLINE_NOTE], keep=""), err=True)


def _rendered_rows(output: str, rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None, text: str | None,
                   fields: Sequence[str] | None) -> str:
    if fields:
        columns = _checked_columns(rows, columns, fields)
    shown = [present_money(r) for r in rows]
    if output == "csv":
        return render_csv(shown, columns)
    return human(text, keep="\n\t") if text is not None and not fields else render_table(shown, columns)


def check_fields_first(known: Sequence[str]) -> None:
    """For a command that writes: `--fields` checked against the fields its output will have before anything is
    done (the output comes after the writes, too late for a usage error)."""
    ctx = click.get_current_context(silent=True)
    fields = ctx.meta.get(FIELDS) if ctx is not None else None
    unknown = [f for f in fields or [] if f not in known]
    if unknown:
        _refuse_fields(unknown, known)


Known = Sequence[str] | Callable[[Mapping[str, Any]], Sequence[str]]
"""The fields of an output: a list, or a function of the command's options (`export --out`, `sync --all-networks`)."""


def output_fields(rows: Known, data: Known) -> Callable[[F], F]:
    """Declares the fields of a command's output: `rows` in a table or CSV, `data` (its top-level keys) in json or
    yaml. `--fields` is then checked against them before the command reads or writes anything: a field the output
    does not have is one line naming the fields it has, exit 2. Goes under `handle_errors`."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            known = data if kwargs.get("output") in ("json", "yaml") else rows
            check_fields_first(known(kwargs) if callable(known) else known)
            return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def model_fields(model: Any, *, without: Sequence[str] = ()) -> tuple[str, ...]:
    """The keys of a pydantic model's `model_dump` (its fields), in order, less `without`."""
    return tuple(k for k in model.model_fields if k not in without)


def _refuse_fields(unknown: Sequence[str], known: Sequence[str]) -> None:
    raise InputError(f"Invalid value for '--fields': no field {', '.join(map(repr, unknown))} in this output"
                     f" (fields: {', '.join(known) or 'none'})", field="fields")


def _checked_columns(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None,
                     fields: Sequence[str]) -> list[str]:
    known = list(columns or [])
    for row in rows:
        known += [k for k in row if k not in known]
    unknown = [f for f in fields if f not in known]
    if unknown and rows:
        _refuse_fields(unknown, known)
    return list(fields)


def _only_fields(value: Any, fields: Sequence[str]) -> Any:
    """The objects of a JSON result (a list of objects, or one object) cut to `fields`, in their order."""
    items = value if isinstance(value, list) else [value]
    objects = [v for v in items if isinstance(v, dict)]
    if not objects:
        return value
    known: list[str] = []
    for obj in objects:
        known += [k for k in obj if k not in known]
    unknown = [f for f in fields if f not in known]
    if unknown:
        _refuse_fields(unknown, known)
    cut = [{f: v.get(f) for f in fields} if isinstance(v, dict) else v for v in items]
    return cut if isinstance(value, list) else cut[0]


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

        offline = Snapshot.load(snapshot)
        when = offline.exported_at.strftime("%Y-%m-%d %H:%M UTC") if offline.exported_at else "an unknown time"
        source = f" of {offline.source_url}" if offline.source_url else ""
        ctx = click.get_current_context(silent=True)
        if ctx is not None:  # said after the result (emit), so that an error stays one line
            ctx.meta[OFFLINE_NOTE] = f"offline: from the snapshot {snapshot}{source}, exported {when}"
        return offline
    return open_network(network_name, config_path)
