# firehose_digest: `make demo` and `make test` work on a fresh Debian 12 with python3-venv and make.
VENV ?= .venv
PY := $(VENV)/bin/python
# One venv; each target installs only the extras it needs, once per change of
# pyproject.toml: the demo needs gunicorn, not the test and bench tools (300 MB).
EXTRAS_demo := demo
EXTRAS_test := test
EXTRAS_bench := test,bench
# Debian packages the integration tests and the demo drive: command=package (chromium:
# tests/integration/test_browser.py loads pages with it, headless; firefox-esr and
# libnss3-tools' certutil: tests/integration/test_firefox.py; WebKitGTK's WebDriver and an
# X server for it: tests/integration/test_webkit.py; haproxy, caddy, varnish:
# tests/integration/test_fronts.py).
SERVERS := nginx=nginx-core h2o=h2o apache2=apache2 haproxy=haproxy caddy=caddy varnishd=varnish nghttp=nghttp2-client h2load=nghttp2-client openssl=openssl curl=curl chromium=chromium firefox-esr=firefox-esr certutil=libnss3-tools WebKitWebDriver=webkit2gtk-driver Xvfb=xvfb
# What examples/demo.py drives: the demo installs these alone (no browser).
DEMO_SERVERS := nginx=nginx-core nghttp=nghttp2-client openssl=openssl curl=curl
# Where Debian puts nginx, apache2, haproxy and varnishd: on root's PATH, not on a user's.
# They are looked for there too, as examples/demo.py and the integration tests look.
SBIN := /usr/sbin:/sbin

.PHONY: devenv servers demo-servers lint test test-pythons demo bench clean

$(VENV)/.installed-%: pyproject.toml
	test -x $(PY) || { python3 -m venv $(VENV) && $(PY) -m pip install -q --upgrade pip; }
	$(PY) -m pip install -q -e '.[$(EXTRAS_$*)]'
	touch $@

devenv: $(VENV)/.installed-test

# Installs the missing servers with apt-get when run as root (CI); otherwise says what
# is missing, and the integration tests skip (or fail, under CI=true), or the demo leaves
# out what it would show with them.
servers demo-servers:
	@PATH="$$PATH:$(SBIN)"; missing=""; for pair in $(if $(filter demo-servers,$@),$(DEMO_SERVERS),$(SERVERS)); do \
	  command -v $${pair%%=*} >/dev/null 2>&1 || missing="$$missing $${pair#*=}"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else echo "not root, not installing:$$missing ($(if $(filter demo-servers,$@),the demo skips what needs them,integration tests will skip))"; fi

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check firehose_digest tests bench examples
	$(VENV)/bin/ruff format --check firehose_digest tests bench examples
	$(VENV)/bin/mypy --strict firehose_digest tests bench examples

# Workers for pytest-xdist: CI's machine has 2 cores. tests/integration/workers.py keeps
# each integration module on one worker and the browsers' modules on the same one.
TEST_WORKERS ?= 2
test: $(VENV)/.installed-test servers lint
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup

# The unit suite on the other Pythons pyproject.toml claims, each found on PATH (one that
# runs: a pyenv shim may not) or under pyenv, in a venv of its own ($(VENV)-3.x); one not
# found is said and skipped. CI's Debian 12 has 3.11 alone: what only 3.10 or 3.13 shows
# is found here.
PYTHONS ?= 3.10 3.12 3.13
test-pythons:
	@for v in $(PYTHONS); do \
	  py=""; for candidate in $$(command -v python$$v) "$$HOME"/.pyenv/versions/$$v.*/bin/python; do \
	    "$$candidate" -c "" 2>/dev/null && { py=$$candidate; break; }; done; \
	  if [ -z "$$py" ]; then echo "python$$v: not found, skipped"; continue; fi; \
	  echo "python$$v: $$py"; \
	  test -x $(VENV)-$$v/bin/python || "$$py" -m venv $(VENV)-$$v || exit 1; \
	  $(VENV)-$$v/bin/python -m pip install -q -e '.[test]' || exit 1; \
	  $(VENV)-$$v/bin/python -m pytest -q -n $(TEST_WORKERS) --ignore=tests/integration || exit 1; \
	done

demo: $(VENV)/.installed-demo demo-servers
	$(PY) -m examples.demo

bench: $(VENV)/.installed-bench servers
	$(PY) -m bench

clean:
	rm -rf $(VENV) $(VENV)-3.* .pytest_cache .mypy_cache .ruff_cache .hypothesis
