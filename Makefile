# Two entry points do all set-up on a fresh Debian machine (run as root for the Debian packages):
#   make demo   - start a sandbox network with the example data and walk through a customer's plan change
#                 (make demo-um: the same on the real Ultimate Multisite)
#   make test   - the whole test suite (unit + integration against a real WordPress multisite)
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# libnss-myhostname: the subdomain sandboxes' *.localhost hosts resolve here (its postinst adds `myhostname` to the
# hosts: line of /etc/nsswitch.conf; `apt-get remove libnss-myhostname` takes it out again).
# systemd: `systemd-analyze verify` and `systemd-creds` check the shipped units (tests/unit/test_deploy.py).
DEBIAN_PACKAGES := wordpress php php8.2-fpm php-cli php-mysql nginx mariadb-server-core mariadb-client-core \
	php8.2-bcmath php8.2-mbstring libnss-myhostname systemd
# What `python3 -m venv` needs on a bare Debian (python3 itself and ensurepip); only installed when PY lacks them.
PYTHON_DEBIAN_PACKAGES := python3 python3-venv

# Shell command: apt-get install $(1) when any of them is missing (root), else a clear message naming them.
# policy-rc.d keeps the packages' postinst from starting system daemons (nginx on 0.0.0.0:80) meanwhile.
define apt_ensure
{ missing=""; for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; done; \
  if [ -n "$$missing" ]; then \
    if [ "$$(id -u)" != 0 ]; then echo "missing Debian packages:$$missing; run as root, or: sudo apt-get install -y --no-install-recommends$$missing" >&2; exit 1; fi; \
    echo "installing Debian packages:$$missing"; log=$$(mktemp /tmp/wpbridge-apt.XXXXXX); added=""; \
    if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; added=1; fi; \
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 $(1); } >$$log 2>&1; rc=$$?; \
    if [ -n "$$added" ]; then rm -f /usr/sbin/policy-rc.d; fi; \
    if [ $$rc != 0 ]; then tail -n 20 $$log >&2; echo "apt-get failed (log: $$log)" >&2; exit $$rc; fi; \
  fi; }
endef

.PHONY: demo demo-um test test-unit lint venv debian-packages python-packages bench clean plugin-zip

$(BIN)/wpbridge: pyproject.toml | python-packages
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

venv: $(BIN)/wpbridge

# A Python that can make a venv (a bare Debian has no python3, and no ensurepip without python3-venv).
python-packages:
	@$(PY) -c 'import ensurepip, venv' >/dev/null 2>&1 || $(call apt_ensure,$(PYTHON_DEBIAN_PACKAGES))

# The real WordPress the integration tests run against (the sandbox also installs these itself when root).
debian-packages:
	@$(call apt_ensure,$(DEBIAN_PACKAGES))

demo: venv debian-packages
	$(BIN)/python -m wpbridge.demo

# The same story on the real Ultimate Multisite (UM_PLUGIN: a directory, .zip or .tar.xz; default
# $WPBRIDGE_UM_PLUGIN, else the 2.4.12 build in ../shared/ultimate-multisite/).
demo-um: venv debian-packages
	$(BIN)/python -m wpbridge.demo --flavor ultimate-multisite $(if $(UM_PLUGIN),--um-plugin $(UM_PLUGIN))

test: venv debian-packages
	$(BIN)/python -m pytest -q

# The unit tests alone: no WordPress, no Debian packages, well under a minute.
test-unit: venv
	$(BIN)/python -m pytest -q tests/unit

# PHP: `php -l` on every PHP file, then PHP_CodeSniffer with the committed ruleset phpcs.xml.dist.
PHP_LINT_PACKAGES := php-cli php-codesniffer
PHP_FILES = $(shell find plugin-stub wpbridge bench tests -name '*.php' -not -path '*/node_modules/*' | sort)

lint: venv
	$(BIN)/ruff check wpbridge tests bench
	$(BIN)/mypy --strict wpbridge
	@$(call apt_ensure,$(PHP_LINT_PACKAGES))
	@for f in $(PHP_FILES); do php -d display_errors=stderr -l "$$f" >/dev/null || exit 1; done; echo "php -l: $(words $(PHP_FILES)) files OK"
	phpcs --standard=phpcs.xml.dist -q --no-colors

bench: venv debian-packages
	$(BIN)/python bench/pricing.py

# The WordPress side as a network owner installs it: dist/wpbridge.zip, one top directory wpbridge/ (main file
# wpbridge.php, `Plugin Name: wpbridge`) built from plugin-stub/ (README "Install on your network"). Python's
# standard library only: no venv needed.
plugin-zip:
	$(PY) -m wpbridge.plugin_zip dist/wpbridge.zip

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
