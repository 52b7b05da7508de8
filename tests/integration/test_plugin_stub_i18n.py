"""What a WordPress reviewer checks file by file in plugin-stub (a static check of the PHP sources, no sandbox):
every message given to an error, a refusal, a 400 (Invalid) or wp_die() is translatable through __() or
esc_html__() with the plugin's text domain (`wpbridge-stub`), which the plugin declares and loads; every translated
string with a placeholder has a `/* translators: */` comment on the line above it (WordPress.WP.I18n, which Debian's
PHP_CodeSniffer does not ship); and every file exits when loaded outside WordPress."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PLUGIN = Path(__file__).resolve().parents[2] / "plugin-stub"
FILES = sorted([PLUGIN / "wpbridge-stub.php", *(PLUGIN / "includes").glob("*.php")])
ALL_PHP = sorted(PLUGIN.rglob("*.php"))

# A translated string literal (first argument of __() or esc_html__()) and a printf placeholder in it.
GETTEXT = re.compile(r"(?:esc_html__|esc_html_e|esc_attr__|_e|__)\(\s*(['\"])((?:\\.|(?!\1).)*)\1")
PLACEHOLDER = re.compile(r"%(?:\d+\\?\$)?[sdfF]")

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


@pytest.mark.parametrize("path", ALL_PHP, ids=lambda p: p.name)
def test_every_string_with_a_placeholder_has_a_translators_comment(path: Path) -> None:
    lines = path.read_text().splitlines()
    missing = []
    for n, line in enumerate(lines):
        match = GETTEXT.search(line)
        if match and PLACEHOLDER.search(match.group(2)):
            above = next((p.strip() for p in reversed(lines[:n]) if p.strip()), "")
            if not above.startswith("/* translators:"):
                missing.append(f"{path.name}:{n + 1}: {line.strip()}")
    assert not missing, "\n".join(missing)


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
