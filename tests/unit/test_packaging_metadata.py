"""pyproject.toml's metadata in the form current setuptools takes without a deprecation warning (issue 21 item 9):
`project.license` an SPDX expression string (PEP 639), not the deprecated `{ text = ... }` table, and a build backend
recent enough to read it (setuptools >= 77)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_the_license_is_an_spdx_string_and_setuptools_reads_it() -> None:
    data = tomllib.loads(PYPROJECT.read_text())
    assert data["project"]["license"] == "GPL-2.0-or-later"
    assert not any(c.startswith("License ::") for c in data["project"].get("classifiers", []))  # PEP 639 forbids both
    [setuptools] = [r for r in data["build-system"]["requires"] if r.startswith("setuptools")]
    match = re.fullmatch(r"setuptools>=(\d+)", setuptools.replace(" ", ""))
    assert match is not None and int(match.group(1)) >= 77, setuptools


def test_an_editable_install_uses_the_quiet_strategy() -> None:
    """setuptools picks the .pth strategy (no notice printed by `pip install -e .`) only for `package-dir = {"" =
    ...}`; the flat layout's default prints "Please be careful with folders..." on every install."""
    data = tomllib.loads(PYPROJECT.read_text())
    assert data["tool"]["setuptools"]["package-dir"] == {"": "."}
    assert data["tool"]["setuptools"]["packages"]["find"]["include"] == ["wpbridge*"]
