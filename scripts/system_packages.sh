#!/usr/bin/env bash
# The system tests run real servers and a real browser from Debian's packages: PostgreSQL and Redis for the
# distributed test (tests/system/test_distributed.py: CeleryExecutor), headless Chromium and its driver for
# the UI test (tests/system/test_ui_browser.py). The PyPI parts come with the venv (the extras).
# `make test` runs this first: as root (CI, a fresh machine) a missing binary is installed; elsewhere it
# says what to install, and the test skips (it fails rather than skip as root without them).
set -euo pipefail
have_initdb() { command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; }
if ! have_initdb || ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql redis-server
  else
    echo "note: postgresql and redis-server are missing and cannot be installed here:" \
      "the distributed system test will be skipped (apt-get install postgresql redis-server)" >&2
  fi
fi
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium chromium-driver
  else
    echo "note: chromium and chromium-driver are missing and cannot be installed here:" \
      "the UI browser test will be skipped (apt-get install chromium chromium-driver)" >&2
  fi
fi
