# Two entry points do all set-up on a fresh Debian machine (run as root for the Debian packages):
#   make demo   - start a sandbox network with the example data and walk through a customer's plan change
#   make test   - the whole test suite (unit + integration against a real WordPress multisite)
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEBIAN_PACKAGES := wordpress php php8.2-fpm php-cli php-mysql nginx mariadb-server-core mariadb-client-core

.PHONY: demo test lint venv debian-packages bench clean

$(BIN)/wpbridge: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

venv: $(BIN)/wpbridge

# The real WordPress the integration tests run against (the sandbox also installs these itself when root).
debian-packages:
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; added=1; fi; \
	  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(DEBIAN_PACKAGES) >/dev/null; rc=$$?; \
	  [ -n "$$added" ] && rm -f /usr/sbin/policy-rc.d; exit $$rc; \
	fi

demo: venv debian-packages
	$(BIN)/python -m wpbridge.demo

test: venv debian-packages
	$(BIN)/python -m pytest -q

lint: venv
	$(BIN)/ruff check wpbridge tests bench
	$(BIN)/mypy --strict wpbridge

bench: venv debian-packages
	$(BIN)/python bench/pricing.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
