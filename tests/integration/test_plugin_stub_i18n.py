"""What a WordPress reviewer checks file by file in plugin-stub (a static check of the PHP sources, no sandbox):
every message given to an error, a refusal, a 400 (Invalid) or wp_die() is translatable through __() or
esc_html__() with the plugin's text domain (`wpbridge-stub`), which the plugin declares and loads; and every file
exits when loaded outside WordPress."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PLUGIN = Path(__file__).resolve().parents[2] / "plugin-stub"
FILES = sorted([PLUGIN / "wpbridge-stub.php", *(PLUGIN / "includes").glob("*.php")])

# A message argument written as a bare string literal or an interpolated string, i.e. not translatable.
BARE = [
    re.compile(r"new Invalid\(\s*[^,]+,\s*['\"]"),
    re.compile(r"\berror\(\s*['\"][^'\"]+['\"],\s*['\"]"),
    re.compile(r"\brefused\(\s*['\"]"),
    re.compile(r"\bwp_die\(\s*['\"]"),
]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_message_is_translatable(path: Path) -> None:
    bare = [f"{path.name}:{n}: {line.strip()}" for n, line in enumerate(path.read_text().splitlines(), 1)
            if any(rx.search(line) for rx in BARE)]
    assert not bare, "\n".join(bare)


def test_the_text_domain_is_declared_and_loaded() -> None:
    main = (PLUGIN / "wpbridge-stub.php").read_text()
    assert "Text Domain: wpbridge-stub" in main and "load_plugin_textdomain( 'wpbridge-stub'" in main
    domains = set()
    for path in FILES:
        domains |= set(re.findall(r"__\(\s*'(?:[^'\\]|\\.)*',\s*'([^']+)'\s*\)", path.read_text()))
    assert domains == {"wpbridge-stub"}, domains


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_file_exits_when_loaded_outside_wordpress(path: Path) -> None:
    assert "if ( ! defined( 'ABSPATH' ) ) {\n\texit;\n}" in path.read_text()
    assert "if ( ! defined( 'WP_UNINSTALL_PLUGIN' ) ) {\n\texit;\n}" in (PLUGIN / "uninstall.php").read_text()
