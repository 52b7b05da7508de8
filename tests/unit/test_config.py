"""Network profiles: lookup, precedence, secrets, and one clear line for every mistake."""

from __future__ import annotations

import logging
import os
import shutil
import sys
from pathlib import Path

import pytest

from wpbridge.config import NetworkSettings, load_settings
from wpbridge.errors import ConfigError

SECRET = "S3CRET-sentinel-7d1f0a9b"
EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


TWO = f"""
default = "prod"

[networks.prod]
url = "https://prod.example.com/"
api_key = "prodkey"
api_secret = "{SECRET}"
timeout = 12
per_page = 50

[networks.local]
url = "http://127.0.0.1:8081/wp-json"
api_key = "localkey"
api_secret_env = "LOCAL_SECRET"
concurrency = 2

[sync]
whatever = 1
"""


def test_file_default_network_and_normalised_values(tmp_path: Path, home: Path) -> None:
    path = write(tmp_path / "c.toml", TWO)
    s = load_settings(config_path=str(path), env={"HOME": str(home)})
    assert (s.name, s.url, s.api_key, s.per_page) == ("prod", "https://prod.example.com", "prodkey", 50)
    assert s.api_secret.get_secret_value() == SECRET
    assert s.timeout == (10.0, 12.0) and s.verify is True and s.rest_root == "https://prod.example.com/wp-json"
    assert f"config {path}: [networks.prod]" == s.source


def test_named_network_secret_from_env_variable_and_wp_json_stripped(tmp_path: Path, home: Path) -> None:
    path = write(tmp_path / "c.toml", TWO)
    s = load_settings("local", str(path), env={"HOME": str(home), "LOCAL_SECRET": "from-env"})
    assert s.url == "http://127.0.0.1:8081" and s.concurrency == 2
    assert s.api_secret.get_secret_value() == "from-env"


def test_precedence_command_line_over_environment_over_file(tmp_path: Path, home: Path) -> None:
    path = write(tmp_path / "c.toml", TWO)
    env = {"HOME": str(home), "WPBRIDGE_URL": "https://env.example.com", "WPBRIDGE_API_SECRET": "env-secret"}
    s = load_settings(config_path=str(path), env=env)
    assert s.url == "https://env.example.com" and s.api_key == "prodkey"
    assert s.api_secret.get_secret_value() == "env-secret"
    s = load_settings(config_path=str(path), env=env, overrides={"url": "https://cli.example.com", "per_page": 7})
    assert s.url == "https://cli.example.com" and s.per_page == 7
    with pytest.raises(ConfigError, match=r"^command line: key 'per_page'"):
        load_settings(config_path=str(path), env=env, overrides={"per_page": 0})


def test_environment_network_and_config_variables(tmp_path: Path, home: Path) -> None:
    path = write(tmp_path / "c.toml", TWO)
    s = load_settings(env={"HOME": str(home), "WPBRIDGE_CONFIG": str(path), "WPBRIDGE_NETWORK": "local",
                           "LOCAL_SECRET": "x1"})
    assert s.name == "local"
    # --network beats WPBRIDGE_NETWORK
    assert load_settings("prod", env={"HOME": str(home), "WPBRIDGE_CONFIG": str(path),
                                      "WPBRIDGE_NETWORK": "local"}).name == "prod"


def test_default_location_under_home(home: Path) -> None:
    (home / ".config/wpbridge").mkdir(parents=True)
    write(home / ".config/wpbridge/config.toml", TWO)
    assert load_settings(env={"HOME": str(home)}).name == "prod"


def test_environment_alone_suffices(home: Path) -> None:
    env = {"HOME": str(home), "WPBRIDGE_URL": "https://env.example.com", "WPBRIDGE_API_KEY": "k",
           "WPBRIDGE_API_SECRET": SECRET}
    s = load_settings(env=env)
    assert (s.name, s.url, s.api_key, s.source) == ("env", "https://env.example.com", "k", "environment")


def test_nothing_configured_names_the_file_and_the_variables(home: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(env={"HOME": str(home), "WPBRIDGE_URL": "https://x.example.com"})
    msg = str(err.value)
    assert "config.toml does not exist" in msg and "WPBRIDGE_API_KEY" in msg and "WPBRIDGE_API_SECRET" in msg
    assert "WPBRIDGE_URL," not in msg


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[networks.prod]\nurl = "https://a.example.com"\napi_key = "k"\napi_secret = "s"\ntimout = 3\n',
         "[networks.prod]: unknown key 'timout' (did you mean 'timeout'?)"),
        ('[networks.prod]\nurl = "https://a.example.com"\napi_key = "k"\napi_secret = "s"\nper_page = "10"\n',
         "[networks.prod]: key 'per_page': Input should be a valid integer (got '10')"),
        ('[networks.prod]\nurl = "https://a.example.com"\napi_key = "k"\napi_secret = "s"\nper_page = 500\n',
         "[networks.prod]: key 'per_page': Input should be less than or equal to 100"),
        ('[networks.prod]\nurl = "https://a.example.com"\napi_key = "k"\napi_secret = "s"\ntimeout = "x"\n',
         "[networks.prod]: key 'timeout': must be a number of seconds or [connect, read]"),
        ('[networks.prod]\nurl = "https://a.example.com"\napi_secret = "s"\n',
         "[networks.prod]: missing key 'api_key'"),
        ('[networks.prod]\napi_key = "k"\napi_secret = "s"\n', "[networks.prod]: missing key 'url'"),
        ('[networks.prod]\nurl = "https://a.example.com"\napi_key = "k"\n',
         "[networks.prod]: missing key 'api_secret (or api_secret_env / api_secret_command)'"),
        ('[networks.prod]\nurl = "ftp://a.example.com"\napi_key = "k"\napi_secret = "s"\n',
         "[networks.prod]: key 'url': must be an http(s):// URL"),
        ('[networks.prod]\nurl = "https://u:p@a.example.com"\napi_key = "k"\napi_secret = "s"\n',
         "[networks.prod]: key 'url': must not hold credentials"),
        ('[networks.prod]\nurl = "https://a.example.com"\napi_key = "k"\napi_secret = "s"\napi_secret_env = "X"\n',
         "[networks.prod]: keys 'api_secret' and 'api_secret_env' exclude each other"),
        ('[networks.prod]\nurl = "https://a.example.com"\napi_key = "k"\napi_secret_env = "NOPE_UNSET"\n',
         "[networks.prod]: key 'api_secret_env': the environment variable it names is not set"),
        ('default = "staging"\n[networks.prod]\nurl = "https://a.example.com"\napi_key = "k"\napi_secret = "s"\n',
         "key 'default' names 'staging' but there is no [networks.staging]"),
        ('defualt = "prod"\n[networks.prod]\nurl = "https://a.example.com"\napi_key = "k"\napi_secret = "s"\n',
         "unknown top-level key 'defualt'"),
        ('[networks]\nprod = 3\n', "[networks.prod] must be a table"),
        ('[networks.prod\nurl = 1\n', "not valid TOML"),
        ('[networks.a]\nurl = "https://a.example.com"\napi_key = "k"\napi_secret = "s"\n'
         '[networks.b]\nurl = "https://b.example.com"\napi_key = "k"\napi_secret = "s"\n',
         "several networks and no default"),
    ],
)
def test_each_bad_config_is_one_line_naming_file_table_and_key(
    tmp_path: Path, home: Path, text: str, expected: str
) -> None:
    path = write(tmp_path / "bad.toml", text)
    with pytest.raises(ConfigError) as err:
        load_settings(config_path=str(path), env={"HOME": str(home)})
    msg = str(err.value)
    assert expected in msg, msg
    assert str(path) in msg and "\n" not in msg
    assert "'s'" not in msg  # the secret's value never shows


def test_unknown_network_lists_the_known_ones(tmp_path: Path, home: Path) -> None:
    path = write(tmp_path / "c.toml", TWO)
    with pytest.raises(ConfigError, match=r"unknown network 'staging' .*known: local, prod"):
        load_settings("staging", str(path), env={"HOME": str(home)})
    with pytest.raises(ConfigError, match="unknown network 'staging': no config file"):
        load_settings("staging", env={"HOME": str(home)})


def test_missing_explicit_file_is_an_error(tmp_path: Path, home: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope.toml \(from --config\) does not exist"):
        load_settings(config_path=str(tmp_path / "nope.toml"), env={"HOME": str(home)})
    with pytest.raises(ConfigError, match=r"nope.toml \(from WPBRIDGE_CONFIG\) does not exist"):
        load_settings(env={"HOME": str(home), "WPBRIDGE_CONFIG": str(tmp_path / "nope.toml")})


@pytest.mark.parametrize("url", ["http://prod.example.com", "http://10.0.0.5:8080", "http://127.example.com"])
def test_plain_http_to_a_non_loopback_host_is_refused(tmp_path: Path, home: Path, url: str) -> None:
    path = write(tmp_path / "c.toml", f'[networks.p]\nurl = "{url}"\napi_key = "k"\napi_secret = "s"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(config_path=str(path), env={"HOME": str(home)})
    assert "[networks.p]: key 'url': http:// sends the API secret in clear" in str(err.value)
    assert "allow_insecure = true" in str(err.value)
    path.write_text(path.read_text() + "allow_insecure = true\n")
    assert load_settings(config_path=str(path), env={"HOME": str(home)}).url == url


@pytest.mark.parametrize("url", ["http://127.0.0.1:8081", "http://localhost", "http://[::1]:9000", "http://127.1.2.3"])
def test_plain_http_to_loopback_is_fine(url: str) -> None:
    assert NetworkSettings(url=url, api_key="k", api_secret=SECRET).url == url


def test_env_url_over_http_is_refused_naming_the_variable(home: Path) -> None:
    env = {"HOME": str(home), "WPBRIDGE_URL": "http://example.com", "WPBRIDGE_API_KEY": "k",
           "WPBRIDGE_API_SECRET": SECRET}
    with pytest.raises(ConfigError, match="environment variable WPBRIDGE_URL: key 'url': http://"):
        load_settings(env=env)


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_secret_in_a_file_readable_by_others_warns(tmp_path: Path, home: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    path = write(tmp_path / "c.toml", TWO, mode=0o644)
    with caplog.at_level(logging.WARNING, logger="wpbridge.config"):
        load_settings(config_path=str(path), env={"HOME": str(home)})
    assert "readable by group/others (mode 0644)" in caplog.text and f"chmod 600 {path}" in caplog.text
    assert SECRET not in caplog.text
    caplog.clear()
    path.chmod(0o600)
    with caplog.at_level(logging.WARNING, logger="wpbridge.config"):
        load_settings(config_path=str(path), env={"HOME": str(home)})
    assert caplog.text == ""


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_readable_file_without_a_secret_does_not_warn(tmp_path: Path, home: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    text = '[networks.p]\nurl = "https://a.example.com"\napi_key = "k"\napi_secret_env = "S"\n'
    path = write(tmp_path / "c.toml", text, mode=0o644)
    with caplog.at_level(logging.WARNING, logger="wpbridge.config"):
        load_settings(config_path=str(path), env={"HOME": str(home), "S": "v"})
    assert caplog.text == ""


def _command_config(tmp_path: Path, command: str) -> Path:
    return write(tmp_path / "c.toml",
                 f"[networks.p]\nurl = \"https://a.example.com\"\napi_key = \"k\"\napi_secret_command = {command}\n")


def test_secret_command_first_line_is_the_secret(tmp_path: Path, home: Path) -> None:
    path = _command_config(tmp_path, f"['{sys.executable}', '-c', 'print(\"{SECRET}\"); print(\"junk\")']")
    s = load_settings(config_path=str(path), env={"HOME": str(home)})
    assert s.api_secret.get_secret_value() == SECRET
    assert SECRET not in repr(s) and SECRET not in str(s)


def test_secret_command_failing_names_table_key_and_status(tmp_path: Path, home: Path) -> None:
    script = write(tmp_path / "helper.py", "import sys\nprint('visible-stdout')\n"
                   "sys.stderr.write('vault is sealed\\n')\nsys.exit(3)\n")
    path = _command_config(tmp_path, f'["{sys.executable}", "{script}"]')
    with pytest.raises(ConfigError) as err:
        load_settings(config_path=str(path), env={"HOME": str(home)})
    msg = str(err.value)
    assert f"config {path}: [networks.p]: key 'api_secret_command'" in msg
    assert "failed with exit status 3" in msg  # its output may hold the secret: not shown (issue 20, item 11)
    assert "vault is sealed" not in msg and "visible-stdout" not in msg


def test_secret_command_not_found_or_silent(tmp_path: Path, home: Path) -> None:
    path = _command_config(tmp_path, '"no-such-helper-xyz show prod"')
    with pytest.raises(ConfigError, match=r"\[networks.p\]: key 'api_secret_command': command not found"):
        load_settings(config_path=str(path), env={"HOME": str(home)})
    true = shutil.which("true")
    assert true is not None
    path = _command_config(tmp_path, f'"{true}"')
    with pytest.raises(ConfigError, match="printed nothing"):
        load_settings(config_path=str(path), env={"HOME": str(home)})


def test_secret_command_not_run_when_the_environment_gives_the_secret(tmp_path: Path, home: Path) -> None:
    path = _command_config(tmp_path, '"no-such-helper-xyz"')
    s = load_settings(config_path=str(path), env={"HOME": str(home), "WPBRIDGE_API_SECRET": "e"})
    assert s.api_secret.get_secret_value() == "e"


def test_repr_and_str_never_show_key_or_secret() -> None:
    s = NetworkSettings(url="https://a.example.com", api_key="KEY-sentinel-123", api_secret=SECRET)
    for text in (repr(s), str(s)):
        assert SECRET not in text and "KEY-sentinel-123" not in text and "a.example.com" in text


def test_timeout_pair_and_ca_bundle(tmp_path: Path, home: Path) -> None:
    bundle = write(tmp_path / "ca.pem", "x")
    path = write(tmp_path / "c.toml", f'[networks.p]\nurl = "https://a.example.com"\napi_key = "k"\n'
                                      f'api_secret = "s"\ntimeout = [3, 45]\nca_bundle = "{bundle}"\n')
    s = load_settings(config_path=str(path), env={"HOME": str(home)})
    assert s.timeout == (3.0, 45.0) and s.verify == str(bundle)
    path.write_text(path.read_text().replace(str(bundle), str(tmp_path / "missing.pem")))
    with pytest.raises(ConfigError, match=r"\[networks.p\]: key 'ca_bundle': .*missing.pem does not exist"):
        load_settings(config_path=str(path), env={"HOME": str(home)})


def test_example_config_loads_every_network(home: Path) -> None:
    env = {"HOME": str(home), "WPBRIDGE_SANDBOX_SECRET": "x", "WPBRIDGE_API_SECRET": "y"}
    prod = load_settings(config_path=str(EXAMPLE), env=env)
    assert prod.name == "production" and prod.timeout == (5.0, 30.0) and prod.user_agent
    sandbox = load_settings("sandbox", str(EXAMPLE), env={"HOME": str(home), "WPBRIDGE_SANDBOX_SECRET": "x"})
    assert sandbox.url == "http://127.0.0.1:8081" and sandbox.api_secret.get_secret_value() == "x"


@pytest.mark.parametrize(("table", "message"), [
    ("[network.p]", "unknown table [network] (did you mean [networks.p]?)"),
    ("[netwrks.p]", "unknown table [netwrks] (did you mean [networks.p]?)"),
    ("[logging]", "unknown table [logging] (known: [networks], [sync])"),
])
def test_a_misspelled_table_is_named_not_ignored(tmp_path: Path, home: Path, table: str, message: str) -> None:
    """Issue 21 item 8: `[network.p]` (for [networks.p]) was silently ignored; `--network p` then said unknown."""
    cfg = write(tmp_path / "c.toml", TWO + f"\n{table}\nurl = \"https://p.example.com\"\n")
    with pytest.raises(ConfigError) as err:
        load_settings(network="prod", config_path=cfg, env={"HOME": str(home)})
    assert str(err.value) == f"config {cfg}: {message}"
