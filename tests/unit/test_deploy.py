"""deploy/: the systemd units and the Kubernetes CronJob work as shipped (issue 22, "Run it as a service").

The units are checked by `systemd-analyze verify` (instantiated for a network, their ExecStart's program made
resolvable in a temporary directory), the manifest is parsed and checked for what the README promises, and the
command lines of both are parsed by the real `wpbridge sync` command (an option they use must exist).
"""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from wpbridge.cli import main
from wpbridge.config import NetworkSettings, load_settings

ROOT = Path(__file__).resolve().parents[2]
SYSTEMD = ROOT / "deploy" / "systemd"
SERVICE = SYSTEMD / "wpbridge-sync@.service"
TIMER = SYSTEMD / "wpbridge-sync@.timer"
CRONJOB = ROOT / "deploy" / "kubernetes" / "cronjob.yaml"
README = ROOT / "README.md"
BINARY = "/usr/local/bin/wpbridge"

REQUEST_DEADLINE = NetworkSettings.model_fields["request_deadline"].default
RETRY_DEADLINE = NetworkSettings.model_fields["retry_deadline"].default
STOP_NEEDS = REQUEST_DEADLINE + RETRY_DEADLINE
"""The longest a SIGTERM may wait for the run's next safe point with the default settings."""


def unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A unit file as {section: {key: [values in order]}} (continuation lines joined, repeated keys kept)."""
    text = re.sub(r"\\\n\s*", " ", path.read_text())
    out: dict[str, dict[str, list[str]]] = {}
    section = ""
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            out.setdefault(section, {})
            continue
        key, _, value = line.partition("=")
        out[section].setdefault(key.strip(), []).append(value.strip())
    return out


def seconds(value: str) -> float:
    units = {"s": 1, "min": 60, "m": 60, "h": 3600}
    match = re.fullmatch(r"(\d+)\s*(s|min|m|h)?", value)
    assert match, value
    return int(match.group(1)) * units[match.group(2) or "s"]


def sync_args(argv: list[str]) -> click.Context:
    """Parse a `wpbridge sync ...` command line with the real command (nothing runs): unknown options fail."""
    assert argv[0] == "sync", argv
    command = main.commands["sync"]
    return command.make_context("sync", list(argv[1:]), resilient_parsing=False)


# --------------------------------------------------------------------------- systemd


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    program = tmp_path / "bin" / "wpbridge"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\nexit 0\n")
    program.chmod(0o755)
    service = SERVICE.read_text()
    assert BINARY in service
    (tmp_path / "wpbridge-sync@production.service").write_text(service.replace(BINARY, str(program)))
    shutil.copy(TIMER, tmp_path / "wpbridge-sync@production.timer")
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", "./wpbridge-sync@production.service",
         "./wpbridge-sync@production.timer"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    # verify exits 0 on a line it ignores ("Failed to parse ..., ignoring"): any output is a finding
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_service_is_hardened_and_stops_at_a_safe_point() -> None:
    service = unit(SERVICE)["Service"]
    assert service["Type"] == ["oneshot"]
    assert service.get("DynamicUser") == ["yes"] or service.get("User", [""])[0] not in ("", "root")
    assert service["ProtectSystem"] == ["strict"]
    assert service["NoNewPrivileges"] == ["yes"]
    assert service["ProtectHome"] == ["yes"]
    assert service["CapabilityBoundingSet"] == [""]
    assert service["KillSignal"] == ["SIGTERM"]
    assert seconds(service["TimeoutStopSec"][0]) > STOP_NEEDS
    # it writes only under its state directory, which exists for it
    assert "wpbridge/%i" in service["StateDirectory"][0].split()
    assert "ReadWritePaths" not in service


def test_service_reads_config_and_secret_from_the_places_the_readme_names() -> None:
    service = unit(SERVICE)["Service"]
    assert service["Environment"] == ["WPBRIDGE_CONFIG=/etc/wpbridge/config.toml"]
    assert service["LoadCredential"] == ["api_secret:/etc/wpbridge/credentials/%i"]
    readme = README.read_text()
    for place in ("/etc/wpbridge/config.toml", "/etc/wpbridge/credentials/", 'systemd-creds cat api_secret',
                  "/var/lib/wpbridge/metrics/"):
        assert place in readme
    # no secret is put on the command line or in the environment
    assert not any("SECRET" in value.upper() for value in service["Environment"])


def test_service_command_line_is_a_valid_sync() -> None:
    service = unit(SERVICE)["Service"]
    argv = shlex.split(service["ExecStart"][0])
    assert argv[0] == BINARY
    ctx = sync_args(argv[1:])
    assert ctx.params["network_name"] == "%i"
    assert ctx.params["log_format"] == "json"
    assert ctx.params["metrics_path"] == "/var/lib/wpbridge/metrics/%i.prom"
    assert ctx.params["report_path"] == "/var/lib/wpbridge/%i/report.json"
    state = service["StateDirectory"][0].split()
    assert {"wpbridge/%i", "wpbridge/metrics"} <= set(state)


def test_timer_starts_the_service_of_its_instance() -> None:
    timer = unit(TIMER)
    assert timer["Timer"]["Unit"] == ["wpbridge-sync@%i.service"]
    assert timer["Timer"]["OnCalendar"]
    assert timer["Timer"]["Persistent"] == ["yes"] or timer["Timer"]["Persistent"] == ["true"]
    assert timer["Install"]["WantedBy"] == ["timers.target"]


# --------------------------------------------------------------------------- Kubernetes


def manifests() -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for doc in yaml.safe_load_all(CRONJOB.read_text()):
        out.setdefault(doc["kind"], []).append(doc)
    return out


def test_cronjob_runs_one_network_at_a_time_with_secrets_from_a_secret() -> None:
    docs = manifests()
    (cron,) = docs["CronJob"]
    assert cron["apiVersion"] == "batch/v1"
    spec = cron["spec"]
    assert spec["concurrencyPolicy"] == "Forbid"
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["terminationGracePeriodSeconds"] > STOP_NEEDS
    (container,) = pod["containers"]
    ctx = sync_args(container["args"])
    network = ctx.params["network_name"]
    assert network and cron["metadata"]["labels"]["wpbridge/network"] == network
    assert ctx.params["log_format"] == "json"
    env = {e["name"]: e for e in container["env"]}
    secret_ref = env["WPBRIDGE_API_SECRET"]["valueFrom"]["secretKeyRef"]
    assert secret_ref["name"] in {s["metadata"]["name"] for s in docs["Secret"]}
    assert not any("value" in e and "SECRET" in e["name"] for e in container["env"])
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False and security["readOnlyRootFilesystem"] is True
    assert pod["securityContext"]["runAsNonRoot"] is True


def test_cronjob_config_map_is_a_valid_config_for_its_network(tmp_path: Path) -> None:
    docs = manifests()
    (cron,) = docs["CronJob"]
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    mount = next(m for m in container["volumeMounts"] if m["mountPath"] == str(Path(env["WPBRIDGE_CONFIG"]).parent))
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    (config_map,) = [c for c in docs["ConfigMap"] if c["metadata"]["name"] == volume["configMap"]["name"]]
    config = tmp_path / "config.toml"
    config.write_text(config_map["data"][Path(env["WPBRIDGE_CONFIG"]).name])
    network = sync_args(container["args"]).params["network_name"]
    settings = load_settings(network, config, env={"WPBRIDGE_API_SECRET": "from-the-secret"})
    assert settings.name == network
    assert settings.api_secret.get_secret_value() == "from-the-secret"
    assert "api_secret" not in config.read_text()


# --------------------------------------------------------------------------- README


def test_readme_explains_which_to_pick() -> None:
    readme = README.read_text()
    match = re.search(r"^## Running sync as a service\n(.*?)(?=^## )", readme, re.S | re.M)
    assert match, "README has no '## Running sync as a service' section"
    section = match.group(1)
    for name in ("deploy/systemd/wpbridge-sync@.service", "deploy/systemd/wpbridge-sync@.timer",
                 "deploy/kubernetes/cronjob.yaml", "crontab", "--metrics", "--log-format json",
                 "--all-networks", "TimeoutStopSec", "request_deadline"):
        assert name in section, name
    assert "Which to pick" in section


def test_configparser_reads_the_units() -> None:
    """Plain INI as systemd writes it (a stray character would be taken by systemd as a key it ignores)."""
    for path in (SERVICE, TIMER):
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read_string(path.read_text())
        assert parser.sections()


@pytest.mark.skipif(shutil.which("systemd-creds") is None, reason="systemd-creds is not installed")
def test_the_secret_of_the_unit_reaches_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's table (`api_secret_command = "systemd-creds cat api_secret"`) reads the credential the unit
    loads (systemd puts it in $CREDENTIALS_DIRECTORY, 0400)."""
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "api_secret").write_text("from-the-credential\n")
    (credentials / "api_secret").chmod(0o400)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    config = tmp_path / "config.toml"
    config.write_text('[networks.production]\nurl = "https://network.example.com"\napi_key = "k"\n'
                      'api_secret_command = "systemd-creds cat api_secret"\n')
    settings = load_settings("production", config, env={})
    assert settings.api_secret.get_secret_value() == "from-the-credential"
