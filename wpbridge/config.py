"""Network profiles: a TOML file of `[networks.NAME]` tables, environment overrides, secrets from a helper.

Shaped like python-gitlab's config: one file, several named networks, a `default`, and the secret kept out of the
file when the user wants (`api_secret_env` names an environment variable, `api_secret_command` runs a password
manager). Where a value comes from, highest first: the command line (`overrides`), the environment
(`WPBRIDGE_URL`, `WPBRIDGE_API_KEY`, `WPBRIDGE_API_SECRET`, which suffice without any file), the file.

Every mistake stops with one `ConfigError` line naming the file, the table and the key, because a sync job run
from cron must say exactly what to fix. No secret value is ever put into a message.
"""

from __future__ import annotations

import difflib
import ipaddress
import logging
import os
import shlex
import stat
import subprocess
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)
from pydantic import ValidationError as PydanticValidationError

from .errors import SECRETS, ConfigError

log = logging.getLogger("wpbridge.config")

DEFAULT_CONFIG_PATH = "~/.config/wpbridge/config.toml"
ENV_CONFIG, ENV_NETWORK = "WPBRIDGE_CONFIG", "WPBRIDGE_NETWORK"
ENV_VALUES = {"url": "WPBRIDGE_URL", "api_key": "WPBRIDGE_API_KEY", "api_secret": "WPBRIDGE_API_SECRET"}
SECRET_SOURCES = ("api_secret", "api_secret_env", "api_secret_command")
CREDENTIAL_KEYS = ("api_key", "api_secret")
SECRET_COMMAND_TIMEOUT = 30.0
DEFAULT_CONNECT_TIMEOUT = 10.0


def _timeout(value: Any) -> Any:
    """`timeout = 30` (read timeout; connect at most 10 s) or `timeout = [5, 30]` (connect, read)."""
    if isinstance(value, bool):
        raise ValueError("must be a number of seconds or [connect, read]")
    if isinstance(value, int | float):
        return (min(DEFAULT_CONNECT_TIMEOUT, float(value)), float(value))
    if isinstance(value, list | tuple) and len(value) == 2 and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in value
    ):
        return (float(value[0]), float(value[1]))
    raise ValueError("must be a number of seconds or [connect, read]")


class NetworkSettings(BaseModel):
    """Everything needed to talk to one network. `repr`/`str` never show the key or the secret."""

    # Strict per field (a TOML "10" for per_page is a mistake to report, not to coerce); the model itself is not
    # strict so that code may pass the secret as a plain str.
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: StrictStr = "default"
    url: StrictStr
    api_key: StrictStr = Field(repr=False, min_length=1)
    api_secret: SecretStr
    timeout: tuple[StrictFloat, StrictFloat] = (DEFAULT_CONNECT_TIMEOUT, 30.0)
    verify_tls: StrictBool = True
    ca_bundle: StrictStr | None = None
    per_page: StrictInt = Field(default=100, ge=1, le=100)
    concurrency: StrictInt = Field(default=4, ge=1, le=32)
    user_agent: StrictStr | None = None
    allow_insecure: StrictBool = False
    retry_deadline: float = Field(default=60.0, gt=0, strict=True)
    """Seconds a request may spend in retries in all before it gives up."""
    max_retries: StrictInt = Field(default=5, ge=0, le=50)
    request_deadline: float = Field(default=120.0, gt=0, strict=True)
    """Seconds one HTTP request may take in all (connect, headers, body), however steadily the server trickles."""
    max_reply_mb: StrictInt = Field(default=64, ge=1, le=4096)
    """The largest reply accepted, in MiB (decoded); a bigger one is refused while it streams in."""
    source: str = Field(default="code", repr=False)
    """Where the settings came from (a file and table, or the environment), for messages."""

    @field_validator("timeout", mode="before")
    @classmethod
    def _parse_timeout(cls, value: Any) -> Any:
        return _timeout(value)

    @field_validator("timeout")
    @classmethod
    def _positive_timeout(cls, value: tuple[float, float]) -> tuple[float, float]:
        if min(value) <= 0:
            raise ValueError("must be positive")
        return value

    @field_validator("url")
    @classmethod
    def _clean_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s):// URL of the network's main site, e.g. https://example.com")
        if parts.username or parts.password:
            raise ValueError("must not hold credentials; put them in api_key and api_secret")
        if parts.query or parts.fragment:
            raise ValueError("must not have a query string or fragment")
        path = parts.path.rstrip("/")
        if path.endswith("/wp-json"):
            path = path[: -len("/wp-json")]
        return f"{parts.scheme}://{parts.netloc}{path}"

    @field_validator("api_secret")
    @classmethod
    def _non_empty_secret(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value():
            raise ValueError("must not be empty")
        return value

    @model_validator(mode="after")
    def _no_plain_http(self) -> NetworkSettings:
        """Basic auth over plain HTTP sends the secret in clear; only loopback (a local sandbox) is exempt."""
        parts = urlsplit(self.url)
        if parts.scheme == "http" and not self.allow_insecure and not is_loopback(parts.hostname or ""):
            raise ValueError(
                "url: http:// sends the API secret in clear; use https:// or set allow_insecure = true"
            )
        return self

    @property
    def rest_root(self) -> str:
        """The REST API root (`{url}/wp-json`)."""
        return f"{self.url}/wp-json"

    @property
    def verify(self) -> bool | str:
        """What requests' `verify=` takes: the CA bundle path, or the on/off switch."""
        return self.ca_bundle if self.ca_bundle else self.verify_tls


NETWORK_KEYS = frozenset(NetworkSettings.model_fields) - {"name", "source"} | {"api_secret_env", "api_secret_command"}


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# --------------------------------------------------------------------------- loading


def load_settings(
    network: str | None = None,
    config_path: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
) -> NetworkSettings:
    """The settings of one network: `overrides` (command line) > environment > file.

    File lookup: `config_path` (--config), then `$WPBRIDGE_CONFIG`, then `~/.config/wpbridge/config.toml`. The
    first two must exist; the default may be absent when the environment gives URL, key and secret. Network:
    `network`, then `$WPBRIDGE_NETWORK`, then the file's `default`, then the file's only network.
    """
    env = os.environ if env is None else env
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    path, origin = _config_path(config_path, env)
    doc = _read(path, origin)
    from_env = {key: env[var] for key, var in ENV_VALUES.items() if env.get(var)}
    name, table, where = _profile(doc, path, network or env.get(ENV_NETWORK) or None, from_env)
    provenance = _layer(table, where, from_env, overrides)
    _register(table)
    if "api_secret" not in table:
        _resolve_secret(table, provenance, where, env)
        _register(table)
    _require(table, doc is not None, path, where)
    return _build(table, provenance, name or "env", where)


def network_names(config_path: str | os.PathLike[str] | None = None,
                  env: Mapping[str, str] | None = None) -> list[str]:
    """The names of the config file's `[networks.NAME]` tables, in the file's order (`sync --all-networks`)."""
    env = os.environ if env is None else env
    path, origin = _config_path(config_path, env)
    doc = _read(path, origin)
    if doc is None:
        raise ConfigError(f"config {path} does not exist; every network of the config needs [networks.NAME] tables")
    names = list(_networks(doc, path))
    if not names:
        raise ConfigError(f"config {path}: no [networks.NAME] table")
    return names


def _profile(doc: Mapping[str, Any] | None, path: Path, name: str | None,
             from_env: Mapping[str, str]) -> tuple[str | None, dict[str, Any], str]:
    """Which network, its table from the file (a copy) and where that is, for messages."""
    if doc is None:
        if name is not None:
            raise ConfigError(f"unknown network '{name}': no config file ({path} does not exist)")
        return None, {}, "environment"
    networks = _networks(doc, path)
    name = name or _default_name(doc, networks, path)
    if name is None:
        if from_env.keys() >= ENV_VALUES.keys():
            return None, {}, "environment"
        raise ConfigError(
            f"config {path}: several networks and no default: pass --network NAME or set default = \"NAME\""
            if len(networks) > 1 else
            f"config {path}: no [networks.NAME] table, and {', '.join(ENV_VALUES.values())} are not all set"
        )
    if name not in networks:
        known = ", ".join(sorted(networks)) or "none"
        raise ConfigError(f"config {path}: unknown network '{name}' (no [networks.{name}]; known: {known})")
    where = f"config {path}: [networks.{name}]"
    table = dict(networks[name])
    _check_keys(table, where)
    _warn_if_readable(path, networks)
    return name, table, where


def _layer(table: dict[str, Any], where: str, from_env: Mapping[str, str],
           overrides: Mapping[str, Any]) -> dict[str, str]:
    """Put the environment's and the command line's values over the file's (in place); returns where each key
    came from. A secret given there replaces every secret source of the file."""
    provenance = dict.fromkeys(table, where)
    if "api_secret" in from_env or "api_secret" in overrides:
        for key in SECRET_SOURCES:
            table.pop(key, None)
    for key, value in from_env.items():
        table[key] = value
        provenance[key] = f"environment variable {ENV_VALUES[key]}"
    for key, value in overrides.items():
        table[key] = value
        provenance[key] = "command line"
    return provenance


def _register(table: Mapping[str, Any]) -> None:
    """Every credential goes into the one scrubber (`errors.SECRETS`) as soon as it is read, before anything can
    fail and quote it; so does a whole `api_secret_command` (a secret may be written into the command line)."""
    secret = table.get("api_secret")
    SECRETS.add(secret.get_secret_value() if isinstance(secret, SecretStr) else secret if isinstance(secret, str)
                else None)
    key = table.get("api_key")
    if isinstance(key, str) and len(key) >= 8:  # a short key would mangle ordinary words
        SECRETS.add(key)
    command = table.get("api_secret_command")
    if isinstance(command, str):
        SECRETS.add(command)


def _require(table: Mapping[str, Any], had_file: bool, path: Path, where: str) -> None:
    missing = [key for key in ("url", "api_key", "api_secret") if key not in table]
    if not missing:
        return
    if not had_file:
        unset = ", ".join(ENV_VALUES[k] for k in missing)
        raise ConfigError(f"no configuration: {path} does not exist and {unset} not set (see config.example.toml)")
    key = "api_secret (or api_secret_env / api_secret_command)" if missing[0] == "api_secret" else missing[0]
    raise ConfigError(f"{where}: missing key '{key}'")


def _config_path(config_path: str | os.PathLike[str] | None, env: Mapping[str, str]) -> tuple[Path, str | None]:
    if config_path:
        return Path(config_path).expanduser(), "--config"
    if env.get(ENV_CONFIG):
        return Path(env[ENV_CONFIG]).expanduser(), ENV_CONFIG
    home = env.get("HOME")
    default = Path(home, ".config/wpbridge/config.toml") if home else Path(DEFAULT_CONFIG_PATH).expanduser()
    return default, None


def _read(path: Path, origin: str | None) -> dict[str, Any] | None:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        if origin:
            raise ConfigError(f"config {path} (from {origin}) does not exist") from None
        return None
    except IsADirectoryError:
        raise ConfigError(f"config {path} is a directory, not a file") from None
    except PermissionError:
        raise ConfigError(f"config {path} cannot be read (permission denied)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config {path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config {path}: not valid UTF-8 TOML") from None
    except RecursionError:  # tomllib recurses per nested array or inline table
        raise ConfigError(f"config {path}: not valid TOML: values nested too deep") from None


TOP_LEVEL_TABLES = ("networks", "sync")


def _networks(doc: Mapping[str, Any], path: Path) -> dict[str, dict[str, Any]]:
    for key, value in doc.items():
        if key not in ("default", "networks") and not isinstance(value, dict):
            raise ConfigError(f"config {path}: unknown top-level key '{key}' (known: default, networks)")
        if isinstance(value, dict) and key not in TOP_LEVEL_TABLES:  # [network.p]: never silently ignored
            close = difflib.get_close_matches(key, TOP_LEVEL_TABLES, n=1)
            first = next(iter(value), "NAME")
            hint = (f" (did you mean [{close[0]}.{first}]?)" if close else
                    f" (known: {', '.join(f'[{t}]' for t in TOP_LEVEL_TABLES)})")
            raise ConfigError(f"config {path}: unknown table [{key}]{hint}")
    networks = doc.get("networks", {})
    if not isinstance(networks, dict):
        raise ConfigError(f"config {path}: 'networks' must be a table of [networks.NAME] tables")
    for name, table in networks.items():
        if not isinstance(table, dict):
            raise ConfigError(f"config {path}: [networks.{name}] must be a table, not a value")
    return networks


def _default_name(doc: Mapping[str, Any], networks: Mapping[str, Any], path: Path) -> str | None:
    default = doc.get("default")
    if default is not None:
        if not isinstance(default, str):
            raise ConfigError(f"config {path}: key 'default' must be a network name (a string)")
        if default not in networks:
            raise ConfigError(f"config {path}: key 'default' names '{default}' but there is no [networks.{default}]")
        return default
    if len(networks) == 1:
        return next(iter(networks))
    return None


def _check_keys(table: Mapping[str, Any], where: str) -> None:
    for key in table:
        if key not in NETWORK_KEYS:
            close = difflib.get_close_matches(key, sorted(NETWORK_KEYS), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f" (known: {', '.join(sorted(NETWORK_KEYS))})"
            raise ConfigError(f"{where}: unknown key '{key}'{hint}")
    given = [key for key in SECRET_SOURCES if key in table]
    if len(given) > 1:
        raise ConfigError(f"{where}: keys {' and '.join(repr(k) for k in given)} exclude each other; keep one")


def _warn_if_readable(path: Path, networks: Mapping[str, Mapping[str, Any]]) -> None:
    """A file holding a plain `api_secret` must be private to its owner (like ~/.netrc or ~/.ssh keys)."""
    if os.name != "posix" or not any("api_secret" in table for table in networks.values()):
        return
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return
    if mode & 0o077:
        log.warning(
            "config %s holds an API secret and is readable by group/others (mode %04o); run: chmod 600 %s",
            path, mode, path,
        )


def _resolve_secret(table: dict[str, Any], provenance: dict[str, str], where: str, env: Mapping[str, str]) -> None:
    if "api_secret_env" in table:
        var = table.pop("api_secret_env")
        if not isinstance(var, str) or not var:
            raise ConfigError(f"{where}: key 'api_secret_env' must be the name of an environment variable")
        if not env.get(var):  # the name is not echoed: a secret pasted here instead of a name would be printed
            raise ConfigError(f"{where}: key 'api_secret_env': the environment variable it names is not set")
        table["api_secret"] = env[var]
        provenance["api_secret"] = f"{where} (api_secret_env)"
    elif "api_secret_command" in table:
        command = table.pop("api_secret_command")
        table["api_secret"] = _run_secret_command(command, f"{where}: key 'api_secret_command'")
        provenance["api_secret"] = f"{where} (api_secret_command)"


def _run_secret_command(command: Any, where: str) -> str:
    """Run a secret helper (`pass show wp/prod`, a vault CLI...) and take the first line of what it prints.

    No part of the command line and nothing the helper prints is ever put into a message: the command may hold
    the secret itself (pasted in by mistake), and a failing helper may print it on its stderr."""
    if isinstance(command, str):
        try:
            args = shlex.split(command)
        except ValueError as exc:
            raise ConfigError(f"{where}: cannot parse the command line ({str(exc).lower()})") from None
    elif isinstance(command, list) and all(isinstance(a, str) for a in command):
        args = list(command)
    else:
        raise ConfigError(f"{where}: must be a command line (a string or a list of strings)")
    if not args:
        raise ConfigError(f"{where}: is empty")
    try:
        done = subprocess.run(
            args, capture_output=True, text=True, timeout=SECRET_COMMAND_TIMEOUT, check=False, stdin=subprocess.DEVNULL
        )
    except FileNotFoundError:
        raise ConfigError(f"{where}: command not found (its program does not exist)") from None
    except PermissionError:
        raise ConfigError(f"{where}: command not executable (permission denied)") from None
    except subprocess.TimeoutExpired:
        raise ConfigError(f"{where}: the command did not finish within {SECRET_COMMAND_TIMEOUT:g} s") from None
    if done.returncode != 0:
        raise ConfigError(f"{where}: the command failed with exit status {done.returncode} (its output is not "
                          "shown, it may hold the secret: run the command yourself to see why)")
    lines = done.stdout.splitlines()
    secret = lines[0].strip() if lines else ""
    if not secret:
        raise ConfigError(f"{where}: the command printed nothing")
    SECRETS.add(secret)
    return secret


def _build(table: dict[str, Any], provenance: Mapping[str, str], name: str, where: str) -> NetworkSettings:
    if isinstance(table.get("ca_bundle"), str):
        bundle = Path(table["ca_bundle"]).expanduser()
        if not bundle.exists():
            raise ConfigError(f"{provenance.get('ca_bundle', where)}: key 'ca_bundle': {bundle} does not exist")
        table["ca_bundle"] = str(bundle)
    try:
        return NetworkSettings(name=name, source=where, **table)
    except PydanticValidationError as exc:
        raise ConfigError(_invalid(exc, provenance, where)) from None


def _invalid(exc: PydanticValidationError, provenance: Mapping[str, str], where: str) -> str:
    """One line for the first validation error. The value is quoted only when it is a plain scalar of a key that
    holds no credential: a model-level error's input is the whole table (secret included), never shown; a URL is
    shown without its userinfo; the message goes through the scrubber (a secret pasted into another key)."""
    first = exc.errors()[0]
    key = str(first["loc"][0]) if first["loc"] else "url"
    msg = str(first["msg"]).removeprefix("Value error, ")
    if msg.startswith("url: "):
        key, msg = "url", msg[len("url: "):]
    value = first.get("input")
    shown = (first["loc"] and first["type"] != "missing" and key not in CREDENTIAL_KEYS
             and isinstance(value, str | int | float | bool))
    if shown and isinstance(value, str):
        value = without_userinfo(value)
    got = f" (got {value!r})" if shown else ""
    return f"{provenance.get(key, where)}: key '{key}': {msg}{got}"


def without_userinfo(url: str) -> str:
    """`url` with any `user:password@` replaced by `***@` (a password must never be printed)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    host, slash, tail = rest.partition("/")
    if "@" in host:
        host = "***@" + host.rpartition("@")[2]
    return f"{scheme}{sep}{host}{slash}{tail}"


# --------------------------------------------------------------------------- [sync]

InactivePolicy = Literal["keep", "suspend"]
DEFAULT_LOCK_TTL = 300
DEFAULT_PAYMENT_GRACE_DAYS = 7


class SyncSettings(BaseModel):
    """The `[sync]` table (with `[sync.networks.NAME]` over it): settings of `wpbridge sync` runs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    inactive_policy: InactivePolicy = "keep"
    """Sites of expired or cancelled memberships: keep their quota, or write the suspended quota."""
    lock_ttl: StrictInt = Field(default=DEFAULT_LOCK_TTL, ge=5)
    """Seconds; the run's lock is refreshed while it makes progress, and a killed run's lock lapses after this."""
    payment_grace_days: StrictInt = Field(default=DEFAULT_PAYMENT_GRACE_DAYS, ge=0)
    """Days a change's payment may stay pending before a run reports it (a finding: nothing is written)."""


def load_sync_settings(network: str, config_path: str | os.PathLike[str] | None = None,
                       env: Mapping[str, str] | None = None) -> SyncSettings:
    """The `[sync]` settings for `network`, from the same file `load_settings` reads (defaults without one)."""
    env = os.environ if env is None else env
    path, origin = _config_path(config_path, env)
    # A missing file gives the defaults (the network's own settings, read first, say when one was required).
    doc = _read(path, origin) if path.exists() else None
    table = (doc or {}).get("sync", {})
    if not isinstance(table, dict):
        raise ConfigError(f"config {path}: 'sync' must be a table ([sync])")
    merged = {k: v for k, v in table.items() if k != "networks"}
    where = f"config {path}: [sync]"
    per_network = table.get("networks", {})
    if not isinstance(per_network, dict) or not all(isinstance(v, dict) for v in per_network.values()):
        raise ConfigError(f"config {path}: [sync.networks] must hold [sync.networks.NAME] tables")
    if network in per_network:
        merged.update(per_network[network])
        where = f"config {path}: [sync] / [sync.networks.{network}]"
    try:
        return SyncSettings.model_validate(merged)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        if first["type"] == "extra_forbidden":
            known = ", ".join(SyncSettings.model_fields)
            raise ConfigError(f"{where}: unknown key '{key}' (known: {known})") from None
        msg = str(first["msg"]).removeprefix("Value error, ")
        value = first.get("input")  # a number is shown; a string or a table never (it may be a pasted secret)
        got = f" (got {value!r})" if isinstance(value, int | float) else f" (got {_kind(value)})"
        raise ConfigError(f"{where}: key '{key}': {msg}{got}") from None


def _kind(value: Any) -> str:
    kinds: dict[type, str] = {str: "a string", dict: "a table", list: "an array"}
    return kinds.get(type(value), type(value).__name__)
